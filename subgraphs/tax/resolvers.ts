/**
 * The tax resolvers: thin. Mutations parse amounts strictly, build the command and run it through
 * taxCommands.ts; their payloads are built from what the command wrote (the read model may lag).
 * Queries read the `tax.register` read models in batches (DataLoader); `asOf` and `history` read
 * the entity's own stream.
 */
import type { RecordedEvent } from '../../events/types.ts';
import type { CollectionName, Doc, Where } from '../../projections/types.ts';
import { commandOptionsOf, newEntityId, type CommandResult } from '../kit/command.ts';
import { arrayConnection, collectionConnection } from '../kit/connections.ts';
import { loader, storedDocLoader, type SubgraphContext } from '../kit/context.ts';
import { provenanceResolvers, type FieldSourceMap } from '../kit/fieldProvenance.ts';
import { streamHistory } from '../kit/history.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { mutationMetadata, type ProvenanceDefaults, type ProvenanceInput } from '../kit/provenance.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import { asOfArguments, stateAsOf, type AsOfArguments } from '../kit/timeTravel.ts';
import { assertDivision, divisionReference, getDivision } from '../kit/divisions/catalog.ts';
import { divisionField } from '../kit/divisions/division.ts';
import { deedTaxDueOn } from './processes/deedTaxDeadlines.ts';
import { addFen, moneyView, parseMoney, subtractFen } from '../kit/money.ts';
import { propertyTransactionStreamId } from './propertyTransaction/events.ts';
import { DIVISION_TOTALS, RISKS, TAX_REGISTER, TAXPAYERS, TRANSACTIONS, type DivisionTotalsDoc, type RiskDoc } from './readModels/taxRegister.ts';
import { foldTransactionView, type TransactionView } from './readModels/transactionView.ts';
import { declareTax, registerTaxpayer, runPropertyTransactionCommand, runTaxpayerCommand } from './taxCommands.ts';
import { TAX_CATALOG, TAX_TYPES, type TaxpayerKind } from './taxTypes.ts';
import type { AmendDeclaration, PayTax } from './taxpayer/commands.ts';
import { taxpayerDecider, type DeclarationRecord, type TaxpayerState } from './taxpayer/decider.ts';
import { taxpayerStreamId, type SubjectRef } from './taxpayer/events.ts';

export interface TaxResolverOptions {
  /** Days after the contract date within which the buyer declares deed tax (as the deadline process uses). */
  deedTaxDeadlineDays: number;
}

type Ctx = SubgraphContext;
type Registered = Extract<TaxpayerState, { status: 'REGISTERED' }>;

/** What registration alone sets shares its source; the totals keep their own; the rest is the state's. */
const TAXPAYER_FIELD_SOURCES: FieldSourceMap = {
  id: ['id'],
  kind: ['subjectKind'],
  legalPerson: ['subjectId'],
  person: ['subjectId'],
  taxpayerNumber: ['subjectId'],
  name: ['subjectId'],
  registeredAt: ['subjectId'],
  divisionCode: ['divisionCode'],
  declaredTotal: ['declaredFen'],
  paidTotal: ['paidFen'],
  outstanding: ['declaredFen', 'paidFen'],
  declarations: ['state'],
};

/** What a `Taxpayer` resolves from: its folded state and the instant it was asked for. */
export interface TaxpayerNode {
  state: Registered;
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

export interface DeclarationNode {
  taxpayer: TaxpayerNode;
  record: DeclarationRecord;
}

/** The resource every tax mutation is granted under (directives.md has no tax.write). */
const WRITE_RESOURCE = 'tax.declarations';
export const TAX_DEPARTMENT: ProvenanceDefaults = { department: 'taxation', system: '金税三期税收管理系统' };
export const HOUSING_DEPARTMENT: ProvenanceDefaults = { department: '市住房和城乡建设局', system: '房屋网签备案系统' };

interface MutationInput {
  expectedRevision?: number | null;
  idempotencyKey?: string | null;
  provenance?: ProvenanceInput | null;
}

const reference = (typename: 'LegalPerson' | 'Person', id: string) => ({ __typename: typename, id });
const subjectOf = (input: { kind: TaxpayerKind; id: string }): SubjectRef => ({ kind: input.kind, id: input.id });
const positions = (events: readonly RecordedEvent[]) => events.map((e) => e.position);
const declarationOrder = (d: DeclarationRecord) => `${d.taxType}:${d.period}:${d.declarationId}`;

function registered(state: TaxpayerState, taxpayerId: string): Registered {
  if (state.status !== 'REGISTERED') throw new Error(`taxpayer ${taxpayerId} is not registered after a successful command`);
  return state;
}

function declarationOf(node: TaxpayerNode, declarationId: string): DeclarationNode {
  const record = node.state.declarations.find((d) => d.declarationId === declarationId);
  if (!record) throw new Error(`declaration ${declarationId} is missing after a successful command`);
  return { taxpayer: node, record };
}

interface RiskFilter {
  status?: 'OPEN' | 'RESOLVED' | null;
  type?: string | null;
  divisionCode?: string | null;
  buyerId?: string | null;
}

function riskWhere(filter: RiskFilter | null | undefined): Where {
  const where: Where = {};
  if (filter?.status) where.status = filter.status;
  if (filter?.type) where.riskType = filter.type;
  if (filter?.buyerId) where.buyerId = filter.buyerId;
  if (filter?.divisionCode) {
    const division = assertDivision(filter.divisionCode, undefined, 'filter.divisionCode');
    where[divisionField(division.level)] = division.code;
  }
  return where;
}

export function createTaxResolvers(runtime: SubgraphRuntime, options: TaxResolverOptions): SubgraphResolvers<Ctx> {
  const { store } = runtime;
  const collection = <T extends Doc>(name: CollectionName<T>) => runtime.readModels.of(TAX_REGISTER).collection(name);

  const taxpayerById = (ctx: Ctx) =>
    loader<string, TaxpayerNode | null>(ctx, 'tax.taxpayer', async (ids) =>
      (await collection(TAXPAYERS).getMany(ids)).map((stored) =>
        stored?.doc.state.status === 'REGISTERED' ? { state: stored.doc.state, asOf: null } : null,
      ),
    );
  const taxpayerProvenance = provenanceResolvers<TaxpayerNode, Ctx>({
    entity: 'Taxpayer',
    store,
    fields: TAXPAYER_FIELD_SOURCES,
    stored: (ctx, node) => storedDocLoader(ctx, 'tax.taxpayerDoc', () => collection(TAXPAYERS)).load(node.state.taxpayer.taxpayerId),
  });
  const taxpayerBySubject = (ctx: Ctx) =>
    loader<string, TaxpayerNode | null>(ctx, 'tax.taxpayerBySubject', async (subjectIds) => {
      const page = await collection(TAXPAYERS).find({ where: { subjectId: { in: [...subjectIds] } }, first: subjectIds.length });
      const bySubject = new Map(page.items.map(({ node }) => [node.doc.subjectId, node.doc.state]));
      return subjectIds.map((id) => {
        const state = bySubject.get(id);
        return state?.status === 'REGISTERED' ? { state, asOf: null } : null;
      });
      // One page answers a batch: keep batches within the read model's page limit.
    }, { maxBatchSize: 500 });
  const transactionById = (ctx: Ctx) =>
    loader<string, TransactionView | null>(ctx, 'tax.transaction', async (ids) =>
      (await collection(TRANSACTIONS).getMany(ids)).map((stored) => stored?.doc ?? null),
    );
  const riskById = (ctx: Ctx) =>
    loader<string, RiskDoc | null>(ctx, 'tax.risk', async (ids) => (await collection(RISKS).getMany(ids)).map((stored) => stored?.doc ?? null));
  const divisionTotals = (ctx: Ctx) =>
    loader<string, DivisionTotalsDoc | null>(ctx, 'tax.divisionTotals', async (codes) =>
      (await collection(DIVISION_TOTALS).getMany(codes)).map((stored) => stored?.doc ?? null),
    );

  async function declarationFor(ctx: Ctx, ref: { taxpayerId: string | null; declarationId: string | null } | null): Promise<DeclarationNode | null> {
    if (!ref?.taxpayerId || !ref.declarationId) return null;
    const taxpayer = await taxpayerById(ctx).load(ref.taxpayerId);
    const record = taxpayer?.state.declarations.find((d) => d.declarationId === ref.declarationId);
    return taxpayer && record ? { taxpayer, record } : null;
  }

  /** The transaction as its stream stands after a command. */
  async function writtenTransaction(transactionId: string): Promise<TransactionView> {
    const view = foldTransactionView(await store.readStream(propertyTransactionStreamId(transactionId)));
    if (!view) throw new Error(`property transaction ${transactionId} has no events after a successful command`);
    return view;
  }

  const totals = (d: readonly DeclarationRecord[]) => ({
    declared: addFen(...d.map((x) => x.taxFen)),
    paid: addFen(...d.map((x) => x.paidFen)),
  });

  function context(ctx: Ctx, defaults: ProvenanceDefaults, input: MutationInput) {
    const now = runtime.now().toISOString();
    return { now, metadata: mutationMetadata(ctx, WRITE_RESOURCE, defaults, input.provenance, now) };
  }

  /** A declaration mutation's payload: the declaration as the taxpayer's stream holds it after the command. */
  function declarationPayload(result: CommandResult<TaxpayerState>, taxpayerId: string, declarationId: string) {
    const node = { state: registered(result.state, taxpayerId), asOf: null };
    return { declaration: declarationOf(node, declarationId), revision: result.revision, positions: positions(result.events), replayed: result.replayed };
  }

  /** Amends or pays a declaration; the command is read from the input once the caller may write. */
  async function changeDeclaration(input: MutationInput, ctx: Ctx, commandOf: () => Pick<AmendDeclaration, 'type' | 'data'> | Pick<PayTax, 'type' | 'data'>) {
    const { now, metadata } = context(ctx, TAX_DEPARTMENT, input);
    const command = commandOf();
    const result = await runTaxpayerCommand(store, { ...command, metadata: { now } }, metadata, commandOptionsOf(input, ctx.caller));
    return declarationPayload(result, command.data.taxpayerId, command.data.declarationId);
  }

  return {
    Query: {
      async taxpayer(_: unknown, args: { id: string } & AsOfArguments, ctx: Ctx): Promise<TaxpayerNode | null> {
        const point = asOfArguments(args);
        if (!point) return taxpayerById(ctx).load(args.id);
        const { state, at, position } = await stateAsOf({ store, streamId: taxpayerStreamId(args.id), decider: taxpayerDecider, asOf: point });
        return state.status === 'REGISTERED' ? { state, asOf: at, asOfPosition: position } : null;
      },
      propertyTransaction: (_: unknown, args: { id: string }, ctx: Ctx) => transactionById(ctx).load(args.id),
      taxRisks: (_: unknown, args: { filter?: RiskFilter | null; first?: number | null; after?: string | null }) =>
        collectionConnection({
          list: 'tax.risks',
          collection: collection(RISKS),
          where: riskWhere(args.filter),
          sortBy: 'flaggedAt',
          direction: 'desc',
          first: args.first ?? null,
          after: args.after ?? null,
          node: (stored) => stored.doc,
        }),
      taxTypes: () => TAX_TYPES.map((code) => TAX_CATALOG[code]),
    },

    Mutation: {
      async registerTaxpayer(_: unknown, { input }: { input: MutationInput & { taxpayerId?: string | null; subject: { kind: TaxpayerKind; id: string } } }, ctx: Ctx) {
        const { now, metadata } = context(ctx, TAX_DEPARTMENT, input);
        const taxpayerId = newEntityId(input.taxpayerId, input, ctx.caller, 'registerTaxpayer');
        const result = await registerTaxpayer(store, { taxpayerId, subject: subjectOf(input.subject) }, { metadata, now, ...commandOptionsOf(input, ctx.caller) });
        return {
          taxpayer: { state: registered(result.state, taxpayerId), asOf: null },
          revision: result.revision,
          positions: positions(result.appended),
          replayed: result.replayed,
        };
      },
      async declareTax(
        _: unknown,
        {
          input,
        }: {
          input: MutationInput & {
            taxpayerId: string;
            declarationId?: string | null;
            taxType: string;
            period: string;
            taxableAmount: string;
            tax: string;
            propertyTransactionId?: string | null;
          };
        },
        ctx: Ctx,
      ) {
        const { now, metadata } = context(ctx, TAX_DEPARTMENT, input);
        const declarationId = newEntityId(input.declarationId, input, ctx.caller, 'declareTax');
        const result = await declareTax(
          store,
          {
            taxpayerId: input.taxpayerId,
            declarationId,
            taxType: input.taxType,
            period: input.period,
            taxableAmountFen: parseMoney(input.taxableAmount, 'taxableAmount'),
            taxFen: parseMoney(input.tax, 'tax'),
            propertyTransactionId: input.propertyTransactionId ?? null,
          },
          { metadata, now, ...commandOptionsOf(input, ctx.caller) },
        );
        return declarationPayload(result, input.taxpayerId, declarationId);
      },
      async amendDeclaration(
        _: unknown,
        { input }: { input: MutationInput & { taxpayerId: string; declarationId: string; taxableAmount: string; tax: string; reason: string } },
        ctx: Ctx,
      ) {
        return changeDeclaration(input, ctx, () => ({
          type: 'amendDeclaration',
          data: {
            taxpayerId: input.taxpayerId,
            declarationId: input.declarationId,
            taxableAmountFen: parseMoney(input.taxableAmount, 'taxableAmount'),
            taxFen: parseMoney(input.tax, 'tax'),
            reason: input.reason,
          },
        }));
      },
      async payTax(
        _: unknown,
        { input }: { input: MutationInput & { taxpayerId: string; declarationId: string; paymentId?: string | null; amount: string } },
        ctx: Ctx,
      ) {
        return changeDeclaration(input, ctx, () => ({
          type: 'payTax',
          data: {
            taxpayerId: input.taxpayerId,
            declarationId: input.declarationId,
            paymentId: newEntityId(input.paymentId, input, ctx.caller, 'payTax'),
            amountFen: parseMoney(input.amount, 'amount'),
          },
        }));
      },
      async recordPropertyTransaction(
        _: unknown,
        {
          input,
        }: {
          input: MutationInput & {
            transactionId?: string | null;
            property: { unitNumber: string; address: string; divisionCode: string };
            seller: { kind: TaxpayerKind; id: string };
            buyer: { kind: TaxpayerKind; id: string };
            price: string;
            contractDate: string;
          };
        },
        ctx: Ctx,
      ) {
        const { now, metadata } = context(ctx, HOUSING_DEPARTMENT, input);
        const transactionId = newEntityId(input.transactionId, input, ctx.caller, 'recordPropertyTransaction');
        const result = await runPropertyTransactionCommand(
          store,
          {
            type: 'recordPropertyTransaction',
            data: {
              transactionId,
              property: { ...input.property },
              seller: subjectOf(input.seller),
              buyer: subjectOf(input.buyer),
              priceFen: parseMoney(input.price, 'price'),
              contractDate: input.contractDate,
            },
            metadata: { now },
          },
          metadata,
          commandOptionsOf(input, ctx.caller),
        );
        return { transaction: await writtenTransaction(transactionId), revision: result.revision, positions: positions(result.events), replayed: result.replayed };
      },
      async recordTaxExemption(
        _: unknown,
        { input }: { input: MutationInput & { transactionId: string; basis: string; documentNo: string; reason: string } },
        ctx: Ctx,
      ) {
        const { now, metadata } = context(ctx, TAX_DEPARTMENT, input);
        const result = await runPropertyTransactionCommand(
          store,
          {
            type: 'recordTaxExemption',
            data: { transactionId: input.transactionId, basis: input.basis, documentNo: input.documentNo, reason: input.reason },
            metadata: { now },
          },
          metadata,
          commandOptionsOf(input, ctx.caller),
        );
        return {
          transaction: await writtenTransaction(input.transactionId),
          revision: result.revision,
          positions: positions(result.events),
          replayed: result.replayed,
        };
      },
    },

    Taxpayer: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => taxpayerById(ctx).load(ref.id),
      id: (n: TaxpayerNode) => n.state.taxpayer.taxpayerId,
      kind: (n: TaxpayerNode) => n.state.taxpayer.subject.kind,
      legalPerson: (n: TaxpayerNode) => (n.state.taxpayer.subject.kind === 'LEGAL_PERSON' ? reference('LegalPerson', n.state.taxpayer.subject.id) : null),
      person: (n: TaxpayerNode) => (n.state.taxpayer.subject.kind === 'PERSON' ? reference('Person', n.state.taxpayer.subject.id) : null),
      taxpayerNumber: (n: TaxpayerNode) => n.state.taxpayer.taxpayerNumber,
      name: (n: TaxpayerNode) => n.state.taxpayer.name,
      divisionCode: (n: TaxpayerNode) => n.state.taxpayer.divisionCode,
      registeredAt: (n: TaxpayerNode) => n.state.taxpayer.registeredAt,
      declaredTotal: (n: TaxpayerNode) => moneyView(totals(n.state.declarations).declared),
      paidTotal: (n: TaxpayerNode) => moneyView(totals(n.state.declarations).paid),
      outstanding: (n: TaxpayerNode) => {
        const { declared, paid } = totals(n.state.declarations);
        return moneyView(subtractFen(declared, paid));
      },
      declarations: (n: TaxpayerNode, args: { taxType?: string | null; first?: number | null; after?: string | null }) =>
        arrayConnection({
          list: 'tax.declarations',
          items: n.state.declarations.filter((d) => !args.taxType || d.taxType === args.taxType).sort((a, b) => (declarationOrder(a) < declarationOrder(b) ? -1 : 1)),
          key: declarationOrder,
          node: (record): DeclarationNode => ({ taxpayer: n, record }),
          first: args.first ?? null,
          after: args.after ?? null,
        }),
      history: (n: TaxpayerNode) => streamHistory(store, taxpayerStreamId(n.state.taxpayer.taxpayerId), n),
      asOf: (n: TaxpayerNode) => n.asOf,
      asOfPosition: (n: TaxpayerNode) => n.asOfPosition ?? null,
      ...taxpayerProvenance,
    },

    TaxDeclaration: {
      id: (d: DeclarationNode) => d.record.declarationId,
      taxpayer: (d: DeclarationNode) => d.taxpayer,
      taxType: (d: DeclarationNode) => d.record.taxType,
      period: (d: DeclarationNode) => d.record.period,
      taxableAmount: (d: DeclarationNode) => moneyView(d.record.taxableAmountFen),
      tax: (d: DeclarationNode) => moneyView(d.record.taxFen),
      paid: (d: DeclarationNode) => moneyView(d.record.paidFen),
      outstanding: (d: DeclarationNode) => moneyView(subtractFen(d.record.taxFen, d.record.paidFen)),
      declaredAt: (d: DeclarationNode) => d.record.declaredAt,
      amendments: (d: DeclarationNode) => d.record.amendments,
      lastAmendedAt: (d: DeclarationNode) => d.record.lastAmendedAt,
      propertyTransaction: (d: DeclarationNode, _: unknown, ctx: Ctx) =>
        d.record.propertyTransactionId === null ? null : transactionById(ctx).load(d.record.propertyTransactionId),
    },

    TaxParty: {
      legalPerson: (p: SubjectRef) => (p.kind === 'LEGAL_PERSON' ? reference('LegalPerson', p.id) : null),
      person: (p: SubjectRef) => (p.kind === 'PERSON' ? reference('Person', p.id) : null),
      taxpayer: (p: SubjectRef, _: unknown, ctx: Ctx) => taxpayerBySubject(ctx).load(p.id),
    },

    PropertyUnit: {
      division: (p: { divisionCode: string }) => divisionReference(p.divisionCode),
    },

    PropertyTransaction: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => transactionById(ctx).load(ref.id),
      property: (t: TransactionView) => t.data.property,
      seller: (t: TransactionView) => t.data.seller,
      buyer: (t: TransactionView) => t.data.buyer,
      price: (t: TransactionView) => moneyView(t.data.priceFen),
      contractDate: (t: TransactionView) => t.data.contractDate,
      deedTaxDueOn: (t: TransactionView) => deedTaxDueOn(t.data.contractDate, options.deedTaxDeadlineDays),
      deedTaxDeclaration: (t: TransactionView, _: unknown, ctx: Ctx) => declarationFor(ctx, t.declaration),
      risk: (t: TransactionView, _: unknown, ctx: Ctx) => (t.riskId === null ? null : riskById(ctx).load(t.riskId)),
      history: (t: TransactionView) => streamHistory(store, propertyTransactionStreamId(t.id)),
    },

    TaxRisk: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => riskById(ctx).load(ref.id),
      type: (r: RiskDoc) => r.riskType,
      transaction: async (r: RiskDoc, _: unknown, ctx: Ctx) => {
        const transaction = await transactionById(ctx).load(r.transactionId);
        if (!transaction) throw new Error(`risk ${r.id} names transaction ${r.transactionId}, which the read model lacks`);
        return transaction;
      },
      buyer: (r: RiskDoc): SubjectRef => ({ kind: r.buyerKind, id: r.buyerId }),
      resolvedByDeclaration: (r: RiskDoc, _: unknown, ctx: Ctx) => declarationFor(ctx, r.resolvedBy),
      exemptionDocumentNo: (r: RiskDoc) => r.resolvedBy?.documentNo ?? null,
    },

    Division: {
      __resolveReference: (ref: { code: string }) => ({ code: ref.code }),
      async tax(division: { code: string }, _: unknown, ctx: Ctx) {
        if (!getDivision(division.code)) return null;
        const doc = await divisionTotals(ctx).load(division.code);
        return { declaredTotal: moneyView(doc?.declaredTotalFen ?? 0), riskOpen: doc?.riskOpen ?? 0 };
      },
    },

    LegalPerson: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      taxpayer: (lp: { id: string }, _: unknown, ctx: Ctx) => taxpayerBySubject(ctx).load(lp.id),
    },

    Person: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      taxpayer: (p: { id: string }, _: unknown, ctx: Ctx) => taxpayerBySubject(ctx).load(p.id),
    },
  };
}

