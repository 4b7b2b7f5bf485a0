/**
 * What hospitals and the medical-insurance system deliver through the aggregation channel
 * (kit/ingest.ts): medical visits (health records) and claims. Each is a fact: `created` once,
 * `alreadyPresent` when delivered again, decided by the health-record and claim deciders as
 * `recordMedicalVisit` and `submitClaim` decide them.
 *
 * The mutations take their facts from healthcare's read model; a plan reads the streams those
 * facts are projected from, in the chunk's one read: the patient's person stream (birth date,
 * death and its event) and, for a claim, the patient's health record (that day's visits). The one
 * fact a plan cannot gather from streams is the settled claims with the same fingerprint (an index
 * over every claim): an ingested claim is screened without it, and the duplicate is caught by the
 * re-check `settleClaim` makes before paying (the same rule, one step later).
 */
import { z } from 'zod';
import { factRecord, plannedKind, type Chunk, type RecordPlanner } from '../kit/batchPlan.ts';
import type { IngestKind } from '../kit/ingest.ts';
import { entityIdOf, erased, integer, jsonCell, recordSchema, yuan } from '../kit/ingestSchema.ts';
import { parseMoney } from '../kit/money.ts';
import { personStreamId } from '../population/person/events.ts';
import { personEvolver } from '../population/facts.ts';
import { claimDecider } from './claim/decider.ts';
import { claimStreamId } from './claim/events.ts';
import { eventRefOf, type PersonFacts } from './facts.ts';
import { healthRecordDecider } from './healthRecord/decider.ts';
import { healthRecordStreamId, type HealthRecordEvent } from './healthRecord/events.ts';
import { DEFAULT_SCREENING_LIMITS, type VisitFact } from './screening/rules.ts';

/** The patient as healthcare's read model knows them, from the person stream the chunk read; null when unregistered. */
function personFacts(chunk: Chunk, personId: string): PersonFacts | null {
  const streamId = personStreamId(personId);
  const state = chunk.state(personEvolver, streamId);
  if (state.status === 'UNREGISTERED') return null;
  const death = chunk.history(streamId).find((e) => e.type === 'PersonDeceased');
  return { personId, birthDate: state.person.birthDate, death: state.status === 'DECEASED' && death ? { dateOfDeath: state.dateOfDeath, evidence: eventRefOf(death) } : null };
}

/** A medical visit as `recordMedicalVisit` takes it; `diagnoses` an array (in CSV a cell holding its JSON). */
const visitSchema = recordSchema({
  personId: z.string(),
  hospitalCode: z.string(),
  department: z.string(),
  diagnoses: jsonCell(z.array(z.string())),
  visitedAt: z.string(),
});
export type HealthVisitData = z.output<typeof visitSchema>;

const planVisit: RecordPlanner<HealthVisitData> = (record, now) => {
  const { data } = record;
  return factRecord(healthRecordDecider, healthRecordStreamId(data.personId), [personStreamId(data.personId)], (chunk) => ({
    type: 'recordMedicalVisit' as const,
    data: { personId: data.personId, person: personFacts(chunk, data.personId), visitId: entityIdOf(record, 'health-visits'), hospitalCode: data.hospitalCode, department: data.department, diagnoses: data.diagnoses, visitedAt: data.visitedAt },
    metadata: { now },
  }));
};

/** A claim as `submitClaim` takes it; `items` an array of `{ code, name, quantity, unitPrice }` (in CSV a cell holding its JSON), prices in yuan. */
const claimSchema = recordSchema({
  personId: z.string(),
  hospitalCode: z.string(),
  serviceDate: z.string(),
  items: jsonCell(z.array(z.object({ code: z.string(), name: z.string(), quantity: integer(), unitPrice: yuan() }))),
});
export type ClaimData = z.output<typeof claimSchema>;

const planClaim: RecordPlanner<ClaimData> = (record, now) => {
  const { data } = record;
  const claimId = entityIdOf(record, 'claims');
  const streamId = claimStreamId(claimId);
  const healthRecord = healthRecordStreamId(data.personId);
  return factRecord(claimDecider, streamId, [personStreamId(data.personId), healthRecord], (chunk) => {
    const items = data.items.map(({ code, name, quantity, unitPrice }, i) => ({ code, name, quantity, unitPriceFen: parseMoney(unitPrice, `items[${i}].unitPrice`) }));
    const person = personFacts(chunk, data.personId);
    const visits: VisitFact[] = chunk.history<HealthRecordEvent>(healthRecord).flatMap((e) =>
      e.type === 'MedicalVisitRecorded' && e.data.visitDate === data.serviceDate
        ? [{ visitId: e.data.visitId, hospitalCode: e.data.hospitalCode, visitDate: e.data.visitDate, evidence: eventRefOf(e) }]
        : [],
    );
    const facts = { death: person?.death ?? null, visits, settledClaims: [], limits: DEFAULT_SCREENING_LIMITS };
    return { type: 'submitClaim' as const, data: { claimId, personId: data.personId, hospitalCode: data.hospitalCode, serviceDate: data.serviceDate, items, person, facts }, metadata: { now } };
  });
};

export const healthVisitsKind = plannedKind<HealthVisitData>(
  {
    name: 'health-visits',
    title: '就诊记录 medical visits (health records)',
    resource: 'healthcare.records',
    department: 'health-commission',
    system: 'healthcare.records',
    schema: visitSchema,
  },
  planVisit,
);

export const claimsKind = plannedKind<ClaimData>(
  {
    name: 'claims',
    title: '医保结算申请 medical-insurance claims',
    resource: 'healthcare.claims',
    department: 'healthcare-security',
    system: 'healthcare.claims',
    schema: claimSchema,
  },
  planClaim,
);

export const healthcareIngestKinds: readonly IngestKind[] = [erased(healthVisitsKind), erased(claimsKind)];
