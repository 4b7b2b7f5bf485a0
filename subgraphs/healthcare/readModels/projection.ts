/**
 * `healthcare.views`: health records, exam results, claims, the facts screening needs (deaths and
 * birth dates from population events, visits per person and day, settled claims by fingerprint),
 * per-hospital flag statistics and per-division figures. One projection, so a claim, the facts it
 * was screened on and the statistics counting it change in the same transaction and never disagree.
 *
 * Division figures follow the patient's registered residence at the time of the visit or claim.
 */
import { fold } from '../../../events/decider.ts';
import { ERASED } from '../../../events/crypto/personalFields.ts';
import { findAll } from '../../../projections/findAll.ts';
import { ERASURE_EVENT_TYPES, erasesScope, type ErasureEvent } from '../../governance/erasure/events.ts';
import { isEventOf } from '../../../events/typedReads.ts';
import type { Recorded, RecordedEvent } from '../../../events/types.ts';
import { changedFields } from '../../../projections/changedFields.ts';
import type { Collection, DocumentStore, FieldSource, Projection } from '../../../projections/types.ts';
import type { PersonDeceased, PersonRegistered, ResidenceChanged } from '../../population/person/events.ts';
import { divisionFields } from '../../kit/divisions/division.ts';
import { claimDecider, type ClaimFile } from '../claim/decider.ts';
import { CLAIM_EVENT_TYPES, type ClaimEvent } from '../claim/events.ts';
import { eventRefOf } from '../facts.ts';
import { HEALTH_RECORD_EVENT_TYPES, type HealthRecordEvent } from '../healthRecord/events.ts';
import { claimFingerprint } from '../screening/rules.ts';
import {
  CLAIMS, DIVISION_STATS, EXAMS, evolveRecordView, HEALTHCARE_PROJECTION, HOSPITAL_STATS, PERSONS, RECORDS, recordDocOf, SETTLED, VISIT_DAYS,
  visitDayId, type ClaimDoc, type DivisionStatsDoc, type HospitalStatsDoc,
} from './views.ts';

export const POPULATION_EVENT_TYPES = ['PersonRegistered', 'ResidenceChanged', 'PersonDeceased'] as const;

type PopulationEvent = PersonRegistered | ResidenceChanged | PersonDeceased;

function divisionCodesOf(residenceCode: string | undefined): string[] {
  if (!residenceCode) return [];
  const f = divisionFields(residenceCode);
  return [f.cityCode, f.districtCode, f.streetCode, f.communityCode].filter((c): c is string => c !== null);
}

async function bumpDivisions(
  divisions: Collection<DivisionStatsDoc>,
  codes: readonly string[],
  change: Partial<Record<'visits' | 'claims' | 'flaggedClaims' | 'heldClaims', number>>,
  source: FieldSource,
): Promise<void> {
  if (codes.length === 0 || Object.values(change).every((v) => !v)) return;
  const current = await divisions.getMany(codes);
  await Promise.all(
    codes.map((code, i) => {
      const doc = current[i]?.doc ?? { code, visits: 0, claims: 0, flaggedClaims: 0, heldClaims: 0 };
      const next = { ...doc };
      for (const [field, by] of Object.entries(change) as [keyof typeof change, number][]) next[field] += by;
      return divisions.upsert(code, next, source);
    }),
  );
}

async function applyPopulation(event: PopulationEvent, recorded: RecordedEvent, store: DocumentStore, source: FieldSource): Promise<void> {
  const persons = store.collection(PERSONS);
  switch (event.type) {
    case 'PersonRegistered': {
      const d = event.data;
      await persons.upsert(d.personId, { personId: d.personId, birthDate: d.birthDate, death: null, residenceCode: d.residence.divisionCode }, source);
      return;
    }
    case 'ResidenceChanged':
      await persons.patch(event.data.personId, { residenceCode: event.data.residence.divisionCode }, source);
      return;
    case 'PersonDeceased':
      await persons.patch(event.data.personId, { death: { dateOfDeath: event.data.dateOfDeath, evidence: eventRefOf(recorded) } }, source);
      return;
  }
}

async function applyRecord(event: HealthRecordEvent, recorded: Recorded<HealthRecordEvent>, store: DocumentStore, source: FieldSource): Promise<void> {
  const records = store.collection(RECORDS);
  const { personId } = event.data;
  const current = await records.get(personId);
  const after = recordDocOf(evolveRecordView(current?.doc.view ?? null, recorded));
  if (current) await records.patch(personId, changedFields(current.doc, after), source);
  else await records.upsert(personId, after, source);
  if (event.type === 'ExamResultRecorded') {
    const d = event.data;
    await store
      .collection(EXAMS)
      .upsert(d.examId, { examId: d.examId, personId, examType: d.examType, performedAt: d.performedAt, recognizedUntil: d.recognizedUntil, entry: { ...d, recordedBy: eventRefOf(recorded) } }, source);
  }
  if (event.type === 'MedicalVisitRecorded') {
    const d = event.data;
    const days = store.collection(VISIT_DAYS);
    const id = visitDayId(personId, d.visitDate);
    const day = await days.get(id);
    const visit = { visitId: d.visitId, hospitalCode: d.hospitalCode, visitDate: d.visitDate, evidence: eventRefOf(recorded) };
    await days.upsert(id, { personId, visitDate: d.visitDate, visits: [...(day?.doc.visits ?? []), visit] }, source);
    const person = await store.collection(PERSONS).get(personId);
    await bumpDivisions(store.collection(DIVISION_STATS), divisionCodesOf(person?.doc.residenceCode), { visits: 1 }, source);
  }
}

const emptyHospital = (hospitalCode: string): HospitalStatsDoc => ({
  hospitalCode,
  claims: 0,
  heldAtSubmission: 0,
  heldLater: 0,
  heldNow: 0,
  settled: 0,
  rejected: 0,
  settledFen: 0,
  flagsByRule: {},
});

async function applyClaim(event: ClaimEvent, recorded: RecordedEvent, store: DocumentStore, source: FieldSource): Promise<void> {
  const claims = store.collection(CLAIMS);
  const hospitals = store.collection(HOSPITAL_STATS);
  const divisions = store.collection(DIVISION_STATS);
  const { claimId } = event.data;

  if (event.type === 'ClaimSubmitted') {
    const file = fold(claimDecider, [event]) as ClaimFile;
    const person = await store.collection(PERSONS).get(event.data.personId);
    const doc: ClaimDoc = {
      claimId,
      personId: event.data.personId,
      hospitalCode: event.data.hospitalCode,
      serviceDate: event.data.serviceDate,
      status: file.status,
      flagged: false,
      flagRules: [],
      submittedAt: event.data.submittedAt,
      fingerprint: claimFingerprint(event.data),
      file,
      revision: recorded.revision,
      submittedBy: eventRefOf(recorded),
      divisionCodes: divisionCodesOf(person?.doc.residenceCode),
    };
    await claims.upsert(claimId, doc, source);
    const stats = (await hospitals.get(doc.hospitalCode))?.doc ?? emptyHospital(doc.hospitalCode);
    await hospitals.upsert(doc.hospitalCode, { ...stats, claims: stats.claims + 1 }, source);
    await bumpDivisions(divisions, doc.divisionCodes, { claims: 1 }, source);
    return;
  }

  const stored = await claims.get(claimId);
  if (!stored) throw new Error(`${HEALTHCARE_PROJECTION}: ${event.type} for claim ${claimId} before its ClaimSubmitted`);
  const before = stored.doc;
  const file = claimDecider.evolve(before.file, event) as ClaimFile;
  const flagRules = [...new Set(file.flags.map((f) => f.ruleId))];
  await claims.patch(claimId, changedFields(before, { ...before, status: file.status, flagged: flagRules.length > 0, flagRules, file, revision: recorded.revision }), source);

  const wasHeld = before.status === 'HELD';
  const isHeld = file.status === 'HELD';
  const heldChange = (isHeld ? 1 : 0) - (wasHeld ? 1 : 0);
  const stats = (await hospitals.get(before.hospitalCode))?.doc ?? emptyHospital(before.hospitalCode);
  const next: HospitalStatsDoc = { ...stats, heldNow: stats.heldNow + heldChange, flagsByRule: { ...stats.flagsByRule } };
  const raised = flagRules.filter((r) => !before.flagRules.includes(r));
  for (const rule of raised) next.flagsByRule[rule] = (next.flagsByRule[rule] ?? 0) + 1;
  if (event.type === 'ClaimScreened' && isHeld && !wasHeld) {
    if (before.status === 'SUBMITTED') next.heldAtSubmission++;
    else next.heldLater++;
  }
  if (event.type === 'ClaimSettled') {
    next.settled++;
    next.settledFen += event.data.amountFen;
    const settled = store.collection(SETTLED);
    const existing = await settled.get(before.fingerprint);
    const fact = { claimId, fingerprint: before.fingerprint, evidence: [before.submittedBy, eventRefOf(recorded)] };
    await settled.upsert(before.fingerprint, { fingerprint: before.fingerprint, claims: [...(existing?.doc.claims ?? []), fact] }, source);
  }
  if (event.type === 'ClaimRejected') next.rejected++;
  await hospitals.upsert(before.hospitalCode, next, source);
  const newlyFlagged = before.flagRules.length === 0 && flagRules.length > 0 ? 1 : 0;
  await bumpDivisions(divisions, before.divisionCodes, { heldClaims: heldChange, flaggedClaims: newlyFlagged }, source);
}

/**
 * A patient's personal data was erased (all of it, or one resource's by a retention rule): their
 * record and exams (`healthcare.records`) and claims (`healthcare.claims`) show what a rebuild from
 * the log (diagnoses, results and item names reading ERASED) would give; counts and amounts stand.
 */
async function erasePatient(event: ErasureEvent, store: DocumentStore, source: FieldSource): Promise<void> {
  const { subjectId } = event.data;
  if (erasesScope(event, 'healthcare.records')) {
    const records = store.collection(RECORDS);
    const record = (await records.get(subjectId))?.doc;
    if (record) {
      const { view } = record;
      const visits = view.visits.map((v) => ({ ...v, diagnoses: v.diagnoses.map(() => ERASED) }));
      await records.patch(subjectId, { view: { ...view, visits, exams: view.exams.map((e) => ({ ...e, result: ERASED })) } }, source);
    }
    const exams = store.collection(EXAMS);
    for (const exam of await findAll(exams, { where: { personId: subjectId }, first: 500 })) await exams.patch(exam.examId, { entry: { ...exam.entry, result: ERASED } }, source);
  }
  if (!erasesScope(event, 'healthcare.claims')) return;
  const claims = store.collection(CLAIMS);
  for (const claim of await findAll(claims, { where: { personId: subjectId }, first: 500 })) {
    const items = claim.file.claim.items.map((i) => ({ ...i, name: ERASED }));
    await claims.patch(claim.claimId, { file: { ...claim.file, claim: { ...claim.file.claim, items } } }, source);
  }
}

const CLAIM_TYPES = new Set(CLAIM_EVENT_TYPES);
const RECORD_TYPES = new Set(HEALTH_RECORD_EVENT_TYPES);

export const healthcareProjection: Projection = {
  name: HEALTHCARE_PROJECTION,
  // 2: per-field sources (claims patched, records' flat fields) for field provenance.
  version: 2,
  eventTypes: [...POPULATION_EVENT_TYPES, ...HEALTH_RECORD_EVENT_TYPES, ...CLAIM_EVENT_TYPES, ...ERASURE_EVENT_TYPES],
  indexes: [
    { collection: EXAMS, fields: ['personId', 'examType'] },
    { collection: CLAIMS, fields: ['submittedAt'] },
    { collection: CLAIMS, fields: ['status'] },
    { collection: CLAIMS, fields: ['hospitalCode'] },
    { collection: CLAIMS, fields: ['personId'] },
  ],
  async apply(recorded, store) {
    const source = { position: recorded.position, eventId: recorded.eventId };
    if (isEventOf<ErasureEvent>(ERASURE_EVENT_TYPES, recorded)) return erasePatient(recorded, store, source);
    if (isEventOf<ClaimEvent>(CLAIM_TYPES, recorded)) return applyClaim(recorded, recorded, store, source);
    if (isEventOf<HealthRecordEvent>(RECORD_TYPES, recorded)) return applyRecord(recorded, recorded, store, source);
    if (isEventOf<PopulationEvent>(POPULATION_EVENT_TYPES, recorded)) return applyPopulation(recorded, recorded, store, source);
  },
};

