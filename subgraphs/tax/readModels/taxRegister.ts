/**
 * The tax read models (projection `tax.register`): taxpayers with their folded state (the same
 * `evolve` the command path uses, so a read-model taxpayer and an `asOf` one are built alike),
 * property transactions with their deed-tax standing, tax risks, and per-division totals at every
 * level (city, district, street, community) for `Division.tax`.
 */
import { ERASED } from '../../../events/crypto/personalFields.ts';
import { findAll } from '../../../projections/findAll.ts';
import { ERASURE_EVENT_TYPES, erasesScope, type ErasureEvent } from '../../governance/erasure/events.ts';
import { isEventOf } from '../../../events/typedReads.ts';
import type { Recorded, RecordedEvent } from '../../../events/types.ts';
import { changedFields } from '../../../projections/changedFields.ts';
import { collectionName, singleFieldIndexes, sourceOf, type Collection, type DocumentStore, type FieldSource, type Projection } from '../../../projections/types.ts';
import { divisionFields, type DivisionFields } from '../../kit/divisions/division.ts';
import { addFen, subtractFen } from '../../kit/money.ts';
import type { PropertyTransactionEvent, RiskResolution, TaxRiskType } from '../propertyTransaction/events.ts';
import { evolve, initialState, type TaxpayerState } from '../taxpayer/decider.ts';
import type { SubjectRef, TaxpayerEvent } from '../taxpayer/events.ts';
import { evolveTransactionView, type TransactionView } from './transactionView.ts';

export const TAX_REGISTER = 'tax.register';

export interface TaxpayerDoc extends Record<string, unknown> {
  id: string;
  subjectKind: SubjectRef['kind'];
  subjectId: string;
  divisionCode: string;
  state: TaxpayerState;
  /** Totals of the declarations, in fen; each patched only when it changes, so it keeps its own source. */
  declaredFen?: number;
  paidFen?: number;
}

export const TAXPAYERS = collectionName<TaxpayerDoc>('taxpayers');

export type RiskStatus = 'OPEN' | 'RESOLVED';

export interface RiskDoc extends Record<string, unknown>, DivisionFields {
  id: string;
  riskType: TaxRiskType;
  transactionId: string;
  /** Where the property lies. */
  divisionCode: string;
  status: RiskStatus;
  buyerKind: SubjectRef['kind'];
  buyerId: string;
  dueOn: string;
  deadlineDays: number;
  flaggedAt: string;
  resolvedAt: string | null;
  resolution: RiskResolution | null;
  resolvedBy: { taxpayerId: string | null; declarationId: string | null; documentNo: string | null } | null;
  /** The events that raised and resolved the risk (ids and positions), for its explanation. */
  evidence: { type: string; eventId: string; position: string; recordedAt: string }[];
}

export const RISKS = collectionName<RiskDoc>('risks');

export interface DivisionTotalsDoc extends Record<string, unknown> {
  code: string;
  declaredTotalFen: number;
  riskOpen: number;
}

export const DIVISION_TOTALS = collectionName<DivisionTotalsDoc>('divisions');

export const TRANSACTIONS = collectionName<TransactionView>('transactions');

const evidenceOf = (event: RecordedEvent) => ({ type: event.type, eventId: event.eventId, position: event.position, recordedAt: event.recordedAt });

/** Every level's code a division lies in (itself included). */
function levelCodes(fields: DivisionFields): string[] {
  return [fields.cityCode, fields.districtCode, fields.streetCode, fields.communityCode].filter((c): c is string => c !== null);
}

async function addToDivisions(
  totals: Collection<DivisionTotalsDoc>,
  divisionCode: string,
  change: { declaredFen?: number; risks?: number },
  source: FieldSource,
): Promise<void> {
  for (const code of levelCodes(divisionFields(divisionCode))) {
    const current = (await totals.get(code))?.doc ?? { code, declaredTotalFen: 0, riskOpen: 0 };
    await totals.upsert(
      code,
      { code, declaredTotalFen: addFen(current.declaredTotalFen, change.declaredFen ?? 0), riskOpen: current.riskOpen + (change.risks ?? 0) },
      source,
    );
  }
}

async function applyTaxpayerEvent(recorded: Recorded<TaxpayerEvent>, store: DocumentStore): Promise<void> {
  const event = recorded;
  const source = sourceOf(recorded);
  const taxpayers = store.collection(TAXPAYERS);
  const taxpayerId = event.data.taxpayerId;
  const stored = await taxpayers.get(taxpayerId);
  const state = evolve(stored?.doc.state ?? initialState(), event);
  if (state.status !== 'REGISTERED') return;
  const { taxpayer } = state;
  const totals = store.collection(DIVISION_TOTALS);
  if (event.type === 'TaxDeclared') {
    await addToDivisions(totals, taxpayer.divisionCode, { declaredFen: event.data.taxFen }, source);
  } else if (event.type === 'TaxDeclarationAmended') {
    await addToDivisions(totals, taxpayer.divisionCode, { declaredFen: subtractFen(event.data.taxFen, event.data.previousTaxFen) }, source);
  }
  const after: TaxpayerDoc = {
    id: taxpayerId,
    subjectKind: taxpayer.subject.kind,
    subjectId: taxpayer.subject.id,
    divisionCode: taxpayer.divisionCode,
    state,
    declaredFen: addFen(...state.declarations.map((d) => d.taxFen)),
    paidFen: addFen(...state.declarations.map((d) => d.paidFen)),
  };
  // Patched field by field: what an event did not change keeps the source of the one that did (provenance).
  if (stored) await taxpayers.patch(taxpayerId, changedFields(stored.doc, after), source);
  else await taxpayers.upsert(taxpayerId, after, source);
}

async function applyTransactionEvent(recorded: Recorded<PropertyTransactionEvent>, store: DocumentStore): Promise<void> {
  const event = recorded;
  const source = sourceOf(recorded);
  const transactions = store.collection(TRANSACTIONS);
  const risks = store.collection(RISKS);
  const totals = store.collection(DIVISION_TOTALS);
  const { transactionId } = event.data;
  const transaction = evolveTransactionView((await transactions.get(transactionId))?.doc, recorded);
  if (!transaction) return;
  await transactions.upsert(transactionId, transaction, source);
  const divisionCode = transaction.data.property.divisionCode;
  if (event.type === 'TaxRiskFlagged') {
    const { data } = event;
    await risks.upsert(
      data.riskId,
      {
        id: data.riskId,
        riskType: data.riskType,
        transactionId,
        status: 'OPEN',
        buyerKind: data.buyer.kind,
        buyerId: data.buyer.id,
        dueOn: data.dueOn,
        deadlineDays: data.deadlineDays,
        flaggedAt: data.flaggedAt,
        resolvedAt: null,
        resolution: null,
        resolvedBy: null,
        divisionCode,
        cityCode: transaction.cityCode,
        districtCode: transaction.districtCode,
        streetCode: transaction.streetCode,
        communityCode: transaction.communityCode,
        evidence: [evidenceOf(recorded)],
      },
      source,
    );
    await addToDivisions(totals, divisionCode, { risks: 1 }, source);
  } else if (event.type === 'TaxRiskResolved') {
    const { data } = event;
    const risk = (await risks.get(data.riskId))?.doc;
    if (!risk || risk.status === 'RESOLVED') return;
    await risks.patch(
      data.riskId,
      {
        status: 'RESOLVED',
        resolvedAt: data.resolvedAt,
        resolution: data.resolution,
        resolvedBy: { taxpayerId: data.taxpayerId, declarationId: data.declarationId, documentNo: data.documentNo },
        evidence: [...risk.evidence, evidenceOf(recorded)],
      },
      source,
    );
    await addToDivisions(totals, divisionCode, { risks: -1 }, source);
  }
}

const TAXPAYER_TYPES = new Set<TaxpayerEvent['type']>(['TaxpayerRegistered', 'TaxDeclared', 'TaxDeclarationAmended', 'TaxPaid']);
const TRANSACTION_TYPES = new Set<PropertyTransactionEvent['type']>([
  'PropertyTransactionRecorded',
  'TaxRiskFlagged',
  'DeedTaxDeclarationMatched',
  'TaxExemptionRecorded',
  'TaxRiskResolved',
]);

/** A person's personal data (of all scopes, or of the declarations' by a retention rule) was erased: their taxpayer shows name and number as a rebuild would (ERASED). */
async function eraseTaxpayer(event: ErasureEvent, store: DocumentStore, source: FieldSource): Promise<void> {
  if (!erasesScope(event, 'tax.declarations')) return;
  const { subjectId } = event.data;
  const taxpayers = store.collection(TAXPAYERS);
  for (const doc of await findAll(taxpayers, { where: { subjectId, subjectKind: 'PERSON' }, first: 100 })) {
    if (doc.state.status !== 'REGISTERED') continue;
    const state = { ...doc.state, taxpayer: { ...doc.state.taxpayer, name: ERASED, taxpayerNumber: ERASED } };
    await taxpayers.patch(doc.id, { state }, source);
  }
}

export const taxRegisterProjection: Projection = {
  name: TAX_REGISTER,
  // 2: taxpayers patched field by field, with their totals, for field provenance.
  version: 2,
  eventTypes: [
    ...TAXPAYER_TYPES,
    ...TRANSACTION_TYPES,
    ...ERASURE_EVENT_TYPES,
  ],
  indexes: [
    ...singleFieldIndexes(TAXPAYERS, 'subjectId'),
    ...singleFieldIndexes(TRANSACTIONS, 'buyerId'),
    ...singleFieldIndexes(RISKS, 'flaggedAt', 'status', 'districtCode'),
  ],
  async apply(event, store) {
    if (isEventOf<ErasureEvent>(ERASURE_EVENT_TYPES, event)) await eraseTaxpayer(event, store, sourceOf(event));
    else if (isEventOf<TaxpayerEvent>(TAXPAYER_TYPES, event)) await applyTaxpayerEvent(event, store);
    else if (isEventOf<PropertyTransactionEvent>(TRANSACTION_TYPES, event)) await applyTransactionEvent(event, store);
  },
};
