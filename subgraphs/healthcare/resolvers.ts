/**
 * The healthcare resolvers: thin. Mutations build a command and run it through healthcareCommands.ts
 * (which gathers the facts it needs); queries read the `healthcare.views` read model; `asOf` and
 * `history` read the entity's own stream.
 */
import type { RecordedEvent } from '../../events/types.ts';
import type { Where } from '../../projections/types.ts';
import { chinaDate } from '../kit/calendar.ts';
import { commandOptionsOf, givenFields, newEntityId, type Unstamped } from '../kit/command.ts';
import { arrayConnection, collectionConnection, equalityWhere, type ConnectionArgs } from '../kit/connections.ts';
import { loader, storedDocLoader, type SubgraphContext } from '../kit/context.ts';
import { moneyView, parseMoney } from '../kit/money.ts';
import { provenanceResolvers, type FieldSourceMap } from '../kit/fieldProvenance.ts';
import { streamHistory } from '../kit/history.ts';
import { asOfArguments, readStreamUpTo, resolveAsOf, stateAsOf, type AsOf, type AsOfArguments } from '../kit/timeTravel.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { mutationMetadata, type ProvenanceInput, type ProvenanceDefaults } from '../kit/provenance.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import { divisionReference } from '../kit/divisions/catalog.ts';
import { assertExamType, assertHospital, EXAM_TYPES, getHospital, HOSPITALS, VACCINES, type Hospital } from './catalog.ts';
import { allowedClaimSteps, claimDecider, type ClaimFile, type ClaimStatus } from './claim/decider.ts';
import { claimStreamId, type ReviewFinding } from './claim/events.ts';
import type { EventRef, PersonFacts } from './facts.ts';
import type { HealthRecordCommand } from './healthRecord/commands.ts';
import { healthRecordStreamId, type HealthRecordEvent } from './healthRecord/events.ts';
import { runClaimStep, runHealthRecordCommand, settleClaim, submitClaim } from './healthcareCommands.ts';
import {
  CLAIMS, DIVISION_STATS, EXAMS, evolveRecordView, HEALTHCARE_PROJECTION, HOSPITAL_STATS, RECORDS, type ClaimDoc, type DivisionStatsDoc, 
  type ExamEntry, type HospitalStatsDoc, type RecordDoc, type RecordView, type VaccinationEntry, type VisitEntry,
} from './readModels/views.ts';
import { DEFAULT_SCREENING_LIMITS, SCREENING_RULE_IDS, type ClaimItem, type ScreeningLimits } from './screening/rules.ts';

export interface HealthcareOptions {
  /** The limits claims are screened against. @default DEFAULT_SCREENING_LIMITS */
  limits: ScreeningLimits;
}

/** What a `HealthRecord` resolves from. */
export interface RecordNode {
  view: RecordView;
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

/** What a `Claim` resolves from. */
export interface ClaimNode {
  file: ClaimFile;
  revision: number;
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

const RECORDS_DEPARTMENT: ProvenanceDefaults = { department: 'jinan-health-commission', system: 'healthcare.records' };
const CLAIMS_DEPARTMENT: ProvenanceDefaults = { department: 'jinan-healthcare-security-bureau', system: 'healthcare.claims' };
/** Instants far enough ahead that `MAX - ms` sorts newest first as a fixed-width string. */
const MAX_MS = 8_640_000_000_000_000;

const newestFirstKey = (instant: string, id: string) => `${String(MAX_MS - Date.parse(instant)).padStart(16, '0')}|${id}`;

interface CommonInput {
  expectedRevision?: number | null;
  idempotencyKey?: string | null;
  provenance?: ProvenanceInput | null;
}

const hospitalOf = (code: string): Hospital => {
  const hospital = getHospital(code);
  // Stored events were validated against the catalog; one dropped from it since still shows.
  return hospital ?? { code, name: code, level: 'SECONDARY_A', districtCode: code.slice(1, 7) };
};

const claimNodeOf = (doc: ClaimDoc): ClaimNode => ({ file: doc.file, revision: doc.revision, asOf: null });

const RECORD_FIELD_SOURCES: FieldSourceMap = {
  person: ['personId'],
  visits: ['visitCount'],
  exams: ['examCount'],
  vaccinations: ['vaccinationCount'],
  closed: ['closed'],
  closedAt: ['closed'],
  dateOfDeath: ['closed'],
  revision: ['revision'],
};

/** The claim's fields its document keeps flat; what the submission alone sets shares its source. */
const CLAIM_FIELD_SOURCES: FieldSourceMap = {
  id: ['claimId'],
  person: ['personId'],
  hospital: ['hospitalCode'],
  serviceDate: ['serviceDate'],
  items: ['fingerprint'],
  total: ['fingerprint'],
  submittedAt: ['submittedAt'],
  status: ['status'],
  flags: ['flagRules'],
  revision: ['revision'],
};

interface ClaimFilterArgs {
  status?: ClaimStatus | null;
  hospitalCode?: string | null;
  personId?: string | null;
  flagged?: boolean | null;
}

function whereOf(filter: ClaimFilterArgs | null | undefined): Where {
  const hospitalCode = filter?.hospitalCode ? assertHospital(filter.hospitalCode, 'filter.hospitalCode').code : undefined;
  return { ...equalityWhere(filter, ['status', 'personId', 'flagged']), ...(hospitalCode && { hospitalCode }) };
}

interface VisitInput extends CommonInput {
  personId: string;
  visitId?: string | null;
  hospitalCode: string;
  department: string;
  diagnoses: string[];
  visitedAt: string;
}

interface ExamInput extends CommonInput {
  personId: string;
  examId?: string | null;
  examType: string;
  hospitalCode: string;
  result: string;
  abnormal: boolean;
  performedAt: string;
  recognitionDays?: number | null;
}

interface VaccinationInput extends CommonInput {
  personId: string;
  vaccinationId?: string | null;
  vaccine: string;
  dose: number;
  hospitalCode: string;
  administeredAt: string;
}

interface SubmitInput extends CommonInput {
  claimId?: string | null;
  personId: string;
  hospitalCode: string;
  serviceDate: string;
  /** Unit prices arrive as decimal strings of yuan, like every amount of the graph. */
  items: (Omit<ClaimItem, 'unitPriceFen'> & { unitPrice: string })[];
}

export function healthcareResolvers(runtime: SubgraphRuntime, options: HealthcareOptions = { limits: DEFAULT_SCREENING_LIMITS }): SubgraphResolvers<SubgraphContext> {
  const docs = () => runtime.readModels.of(HEALTHCARE_PROJECTION);
  const now = () => runtime.now().toISOString();

  const recordLoader = (ctx: SubgraphContext) =>
    loader<string, RecordNode | null>(ctx, 'healthcare.records', async (ids) =>
      (await docs().collection(RECORDS).getMany(ids)).map((stored) => (stored ? { view: stored.doc.view, asOf: null } : null)),
    );
  const claimLoader = (ctx: SubgraphContext) =>
    loader<string, ClaimNode | null>(ctx, 'healthcare.claims', async (ids) =>
      (await docs().collection(CLAIMS).getMany(ids)).map((stored) => (stored ? claimNodeOf(stored.doc) : null)),
    );
  /** Stored documents with their per-field sources, for `provenance` only. */
  const storedLoader = <Doc extends Record<string, unknown>>(ctx: SubgraphContext, collection: string, id: string) =>
    storedDocLoader(ctx, `healthcare.stored.${collection}`, () => docs().collection<Doc>(collection)).load(id);
  const recordProvenance = provenanceResolvers<RecordNode, SubgraphContext>({
    entity: 'HealthRecord',
    store: runtime.store,
    fields: RECORD_FIELD_SOURCES,
    stored: (ctx, node) => storedLoader<RecordDoc>(ctx, RECORDS, node.view.personId),
  });
  const claimProvenance = provenanceResolvers<ClaimNode, SubgraphContext>({
    entity: 'Claim',
    store: runtime.store,
    fields: CLAIM_FIELD_SOURCES,
    stored: (ctx, node) => storedLoader<ClaimDoc>(ctx, CLAIMS, node.file.claim.claimId),
  });
  const divisionLoader = (ctx: SubgraphContext) =>
    loader<string, DivisionStatsDoc | null>(ctx, 'healthcare.divisions', async (codes) =>
      (await docs().collection(DIVISION_STATS).getMany(codes)).map((stored) => stored?.doc ?? null),
    );

  async function recordAsOf(personId: string, asOf: AsOf): Promise<RecordNode | null> {
    const point = await resolveAsOf(runtime.store, asOf);
    const events = await readStreamUpTo<HealthRecordEvent>(runtime.store, healthRecordStreamId(personId), point);
    const view = events.reduce<RecordView | null>(evolveRecordView, null);
    return view ? { view, asOf: point.at, asOfPosition: point.position } : null;
  }

  async function record(personId: string, args: AsOfArguments, ctx: SubgraphContext): Promise<RecordNode | null> {
    const point = asOfArguments(args);
    return point ? recordAsOf(personId, point) : recordLoader(ctx).load(personId);
  }

  /** The record as the command left it, from its stream (the read model may lag). */
  async function recordPayload(personId: string, events: readonly RecordedEvent[], replayed: boolean) {
    const view = (await runtime.store.readStream<HealthRecordEvent>(healthRecordStreamId(personId))).reduce<RecordView | null>(evolveRecordView, null);
    if (!view) throw new Error(`health record ${personId} has no events after a successful command`);
    return { healthRecord: { view, asOf: null } satisfies RecordNode, positions: events.map((e) => e.position), replayed };
  }

  /** Adds an entry to the person's health record, the command built from their facts, and answers the record. */
  async function recordEntry(input: CommonInput & { personId: string }, ctx: SubgraphContext, build: (person: PersonFacts | null) => Unstamped<HealthRecordCommand>) {
    const at = now();
    const result = await runHealthRecordCommand(runtime, (person) => ({ ...build(person), metadata: { now: at } }), input.personId, entryMetadata(ctx, input, at), commandOptionsOf(input, ctx.caller));
    return recordPayload(input.personId, result.events, result.replayed);
  }

  function claimPayload(result: { state: ReturnType<typeof claimDecider.initialState> | ClaimFile; events: readonly RecordedEvent[]; revision: number | undefined; replayed: boolean }) {
    if (result.state.status === 'EMPTY' || result.revision === undefined) throw new Error('a claim command succeeded without a claim');
    return { claim: { file: result.state, revision: result.revision, asOf: null } satisfies ClaimNode, positions: result.events.map((e) => e.position), replayed: result.replayed };
  }

  const entryMetadata = (ctx: SubgraphContext, input: CommonInput, at: string) => mutationMetadata(ctx, 'healthcare.records', RECORDS_DEPARTMENT, input.provenance, at);
  const claimMetadata = (ctx: SubgraphContext, input: CommonInput, at: string) => mutationMetadata(ctx, 'healthcare.claims', CLAIMS_DEPARTMENT, input.provenance, at);

  const byNewest = <T>(items: readonly T[], instant: (t: T) => string, id: (t: T) => string, args: ConnectionArgs, list: string) =>
    arrayConnection({
      list,
      items: [...items].sort((a, b) => (newestFirstKey(instant(a), id(a)) < newestFirstKey(instant(b), id(b)) ? -1 : 1)),
      key: (t) => newestFirstKey(instant(t), id(t)),
      node: (t) => t,
      first: args.first,
      after: args.after,
    });

  const evidenceOf = (entry: { recordedBy: EventRef }) => entry.recordedBy;

  return {
    Query: {
      healthRecord: (_root: unknown, args: { personId: string } & AsOfArguments, ctx: SubgraphContext) => record(args.personId, args, ctx),
      async recognizedExamResults(_root: unknown, args: { personId: string; examType: string }) {
        const exam = assertExamType(args.examType);
        const page = await docs()
          .collection(EXAMS)
          .find({
            where: { personId: args.personId, examType: exam.code, recognizedUntil: { gte: chinaDate(now()) } },
            sortBy: 'performedAt',
            direction: 'desc',
            first: 100,
          });
        return page.items.map((item) => item.node.doc.entry);
      },
      async claim(_root: unknown, args: { id: string } & AsOfArguments, ctx: SubgraphContext): Promise<ClaimNode | null> {
        const point = asOfArguments(args);
        if (!point) return claimLoader(ctx).load(args.id);
        const { state, revision, at, position } = await stateAsOf({ store: runtime.store, streamId: claimStreamId(args.id), decider: claimDecider, asOf: point });
        return state.status === 'EMPTY' ? null : { file: state, revision: revision!, asOf: at, asOfPosition: position };
      },
      claims: (_root: unknown, args: { filter?: ClaimFilterArgs | null } & ConnectionArgs) =>
        collectionConnection({
          list: 'healthcare.claims',
          collection: docs().collection(CLAIMS),
          where: whereOf(args.filter),
          sortBy: 'submittedAt',
          direction: 'desc',
          first: args.first,
          after: args.after,
          node: (stored) => claimNodeOf(stored.doc),
        }),
      async hospitalFlagStatistics() {
        const page = await docs().collection(HOSPITAL_STATS).find({ first: 100 });
        const held = (s: HospitalStatsDoc) => s.heldAtSubmission + s.heldLater;
        return page.items.map((i) => i.node.doc).sort((a, b) => held(b) - held(a) || a.hospitalCode.localeCompare(b.hospitalCode));
      },
      hospitals: () => HOSPITALS,
      examTypes: () => EXAM_TYPES,
      vaccines: () => VACCINES,
      screeningRules: () => ({ rules: SCREENING_RULE_IDS, maxItemQuantity: options.limits.maxItemQuantity, maxClaimTotal: moneyView(options.limits.maxClaimTotalFen) }),
    },

    Mutation: {
      recordMedicalVisit: (_root: unknown, { input }: { input: VisitInput }, ctx: SubgraphContext) =>
        recordEntry(input, ctx, (person) => ({
          type: 'recordMedicalVisit',
          data: { personId: input.personId, person, visitId: newEntityId(input.visitId, input, ctx.caller, 'recordMedicalVisit'), hospitalCode: input.hospitalCode, department: input.department, diagnoses: input.diagnoses, visitedAt: input.visitedAt },
        })),
      recordExamResult: (_root: unknown, { input }: { input: ExamInput }, ctx: SubgraphContext) =>
        recordEntry(input, ctx, (person) => ({
          type: 'recordExamResult',
          data: {
            personId: input.personId,
            person,
            examId: newEntityId(input.examId, input, ctx.caller, 'recordExamResult'),
            examType: input.examType,
            hospitalCode: input.hospitalCode,
            result: input.result,
            abnormal: input.abnormal,
            performedAt: input.performedAt,
            ...givenFields({ recognitionDays: input.recognitionDays }),
          },
        })),
      recordVaccination: (_root: unknown, { input }: { input: VaccinationInput }, ctx: SubgraphContext) =>
        recordEntry(input, ctx, (person) => ({
          type: 'recordVaccination',
          data: { personId: input.personId, person, vaccinationId: newEntityId(input.vaccinationId, input, ctx.caller, 'recordVaccination'), vaccine: input.vaccine, dose: input.dose, hospitalCode: input.hospitalCode, administeredAt: input.administeredAt },
        })),
      async submitClaim(_root: unknown, { input }: { input: SubmitInput }, ctx: SubgraphContext) {
        const at = now();
        const items = input.items.map(({ code, name, quantity, unitPrice }, i) => ({ code, name, quantity, unitPriceFen: parseMoney(unitPrice, `items[${i}].unitPrice`) }));
        const claimId = newEntityId(input.claimId, input, ctx.caller, 'submitClaim');
        const result = await submitClaim(
          runtime,
          { claimId, personId: input.personId, hospitalCode: input.hospitalCode, serviceDate: input.serviceDate, items },
          options.limits,
          { metadata: claimMetadata(ctx, input, at), now: at, ...commandOptionsOf(input, ctx.caller) },
        );
        return claimPayload(result);
      },
      async settleClaim(_root: unknown, { input }: { input: CommonInput & { claimId: string } }, ctx: SubgraphContext) {
        const at = now();
        return claimPayload(await settleClaim(runtime, input.claimId, { metadata: claimMetadata(ctx, input, at), now: at, ...commandOptionsOf(input, ctx.caller) }));
      },
      async reviewClaim(_root: unknown, { input }: { input: CommonInput & { claimId: string; finding: ReviewFinding; reviewer: string; note: string } }, ctx: SubgraphContext) {
        const at = now();
        const command = { type: 'reviewClaim' as const, data: { claimId: input.claimId, finding: input.finding, reviewer: input.reviewer, note: input.note }, metadata: { now: at } };
        return claimPayload(await runClaimStep(runtime.store, command, claimMetadata(ctx, input, at), commandOptionsOf(input, ctx.caller)));
      },
      async rejectClaim(_root: unknown, { input }: { input: CommonInput & { claimId: string; reason: string } }, ctx: SubgraphContext) {
        const at = now();
        const command = { type: 'rejectClaim' as const, data: { claimId: input.claimId, reason: input.reason }, metadata: { now: at } };
        return claimPayload(await runClaimStep(runtime.store, command, claimMetadata(ctx, input, at), commandOptionsOf(input, ctx.caller)));
      },
    },

    Person: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      id: (p: { id: string }) => p.id,
      healthRecord: (p: { id: string }, args: AsOfArguments, ctx: SubgraphContext) => record(p.id, args, ctx),
    },

    Division: {
      __resolveReference: (ref: { code: string }) => ({ code: ref.code }),
      async healthcare(d: { code: string }, _args: unknown, ctx: SubgraphContext) {
        const stats = await divisionLoader(ctx).load(d.code);
        return stats ?? { code: d.code, visits: 0, claims: 0, flaggedClaims: 0, heldClaims: 0 };
      },
    },

    HealthRecord: {
      person: (n: RecordNode) => ({ id: n.view.personId }),
      visits: (n: RecordNode, args: ConnectionArgs) => byNewest<VisitEntry>(n.view.visits, (v) => v.visitedAt, (v) => v.visitId, args, 'healthcare.visits'),
      exams: (n: RecordNode, args: ConnectionArgs & { examType?: string | null }) => {
        const type = args.examType ? assertExamType(args.examType).code : null;
        return byNewest<ExamEntry>(type ? n.view.exams.filter((e) => e.examType === type) : n.view.exams, (e) => e.performedAt, (e) => e.examId, args, 'healthcare.exams');
      },
      vaccinations: (n: RecordNode, args: ConnectionArgs) =>
        byNewest<VaccinationEntry>(n.view.vaccinations, (v) => v.administeredAt, (v) => v.vaccinationId, args, 'healthcare.vaccinations'),
      closed: (n: RecordNode) => n.view.closed !== null,
      closedAt: (n: RecordNode) => n.view.closed?.closedAt ?? null,
      dateOfDeath: (n: RecordNode) => n.view.closed?.dateOfDeath ?? null,
      revision: (n: RecordNode) => n.view.revision,
      asOf: (n: RecordNode) => n.asOf,
      asOfPosition: (n: RecordNode) => n.asOfPosition ?? null,
      ...recordProvenance,
      history: (n: RecordNode) => streamHistory(runtime.store, healthRecordStreamId(n.view.personId), n),
    },

    MedicalVisit: {
      id: (v: VisitEntry) => v.visitId,
      hospital: (v: VisitEntry) => hospitalOf(v.hospitalCode),
      evidence: evidenceOf,
    },
    ExamResult: {
      id: (e: ExamEntry) => e.examId,
      examType: (e: ExamEntry) => EXAM_TYPES.find((t) => t.code === e.examType) ?? { code: e.examType, name: e.examType, defaultRecognitionDays: e.recognitionDays },
      hospital: (e: ExamEntry) => hospitalOf(e.hospitalCode),
      evidence: evidenceOf,
    },
    Vaccination: {
      id: (v: VaccinationEntry) => v.vaccinationId,
      vaccine: (v: VaccinationEntry) => VACCINES.find((t) => t.code === v.vaccine) ?? { code: v.vaccine, name: v.vaccine, doses: v.dose, seasonal: false },
      hospital: (v: VaccinationEntry) => hospitalOf(v.hospitalCode),
      evidence: evidenceOf,
    },
    Hospital: {
      district: (h: Hospital) => divisionReference(h.districtCode),
    },

    Claim: {
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => claimLoader(ctx).load(ref.id),
      id: (n: ClaimNode) => n.file.claim.claimId,
      person: (n: ClaimNode) => ({ id: n.file.claim.personId }),
      hospital: (n: ClaimNode) => hospitalOf(n.file.claim.hospitalCode),
      serviceDate: (n: ClaimNode) => n.file.claim.serviceDate,
      items: (n: ClaimNode) => n.file.claim.items,
      total: (n: ClaimNode) => moneyView(n.file.claim.totalFen),
      status: (n: ClaimNode) => n.file.status,
      submittedAt: (n: ClaimNode) => n.file.claim.submittedAt,
      flags: (n: ClaimNode) => n.file.flags,
      screenings: (n: ClaimNode) => n.file.screenings,
      review: (n: ClaimNode) => n.file.review,
      settledAt: (n: ClaimNode) => n.file.settlement?.settledAt ?? null,
      settledAmount: (n: ClaimNode) => (n.file.settlement ? moneyView(n.file.settlement.amountFen) : null),
      rejectedAt: (n: ClaimNode) => n.file.rejection?.rejectedAt ?? null,
      rejectionReason: (n: ClaimNode) => n.file.rejection?.reason ?? null,
      allowedNextSteps: (n: ClaimNode) => allowedClaimSteps(n.file),
      revision: (n: ClaimNode) => n.revision,
      asOf: (n: ClaimNode) => n.asOf,
      asOfPosition: (n: ClaimNode) => n.asOfPosition ?? null,
      ...claimProvenance,
      history: (n: ClaimNode) => streamHistory(runtime.store, claimStreamId(n.file.claim.claimId), n),
    },

    ClaimItem: {
      unitPrice: (item: ClaimItem) => moneyView(item.unitPriceFen),
    },

    HospitalFlagStatistics: {
      hospital: (s: HospitalStatsDoc) => hospitalOf(s.hospitalCode),
      settledAmount: (s: HospitalStatsDoc) => moneyView(s.settledFen),
      heldRate: (s: HospitalStatsDoc) => (s.claims === 0 ? 0 : (s.heldAtSubmission + s.heldLater) / s.claims),
      byRule: (s: HospitalStatsDoc) =>
        SCREENING_RULE_IDS.filter((ruleId) => (s.flagsByRule[ruleId] ?? 0) > 0).map((ruleId) => ({ ruleId, claims: s.flagsByRule[ruleId] ?? 0 })),
    },
  };
}

