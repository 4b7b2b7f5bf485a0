/**
 * The documents of the `healthcare.views` read model, and the pure fold of a health record's events
 * into what the API shows of it (the projection and `asOf` share it, so both always agree).
 */
import { collectionName } from '../../../projections/types.ts';
import { assertNever } from '../../../events/decider.ts';
import type { Recorded } from '../../../events/types.ts';
import type { ClaimFile, ClaimStatus } from '../claim/decider.ts';
import type { DeathFact, EventRef } from '../facts.ts';
import { eventRefOf } from '../facts.ts';
import type { ExamResultRecorded, HealthRecordEvent, MedicalVisitRecorded, VaccinationRecorded } from '../healthRecord/events.ts';
import type { ScreeningRuleId, SettledClaimFact, VisitFact } from '../screening/rules.ts';

export const HEALTHCARE_PROJECTION = 'healthcare.views';

export interface PersonFactsDoc extends Record<string, unknown> {
  personId: string;
  birthDate: string;
  death: DeathFact | null;
  /** The community the person is registered as living in now. */
  residenceCode: string;
}

/** The population register's facts healthcare decides on (PersonRegistered, ResidenceChanged, PersonDeceased). */
export const PERSONS = collectionName<PersonFactsDoc>('persons');

export type VisitEntry = MedicalVisitRecorded['data'] & { recordedBy: EventRef };
export type ExamEntry = ExamResultRecorded['data'] & { recordedBy: EventRef };
export type VaccinationEntry = VaccinationRecorded['data'] & { recordedBy: EventRef };

export interface RecordView {
  personId: string;
  /** In the order recorded. */
  visits: VisitEntry[];
  exams: ExamEntry[];
  vaccinations: VaccinationEntry[];
  closed: { dateOfDeath: string; closedAt: string; deathEventId: string } | null;
  /** Revision of the record's stream the view reflects. */
  revision: number;
}

export interface RecordDoc extends Record<string, unknown> {
  view: RecordView;
  /** Flat beside the view, each patched only when it changes, so each keeps its own source (provenance). */
  personId: string;
  visitCount: number;
  examCount: number;
  vaccinationCount: number;
  closed: RecordView['closed'];
  revision: number;
}

export const RECORDS = collectionName<RecordDoc>('records');

/** The record's document: its view, and the fields field provenance is kept for. */
export const recordDocOf = (view: RecordView): RecordDoc => ({
  view,
  personId: view.personId,
  visitCount: view.visits.length,
  examCount: view.exams.length,
  vaccinationCount: view.vaccinations.length,
  closed: view.closed,
  revision: view.revision,
});

export interface ExamDoc extends Record<string, unknown> {
  examId: string;
  personId: string;
  examType: string;
  performedAt: string;
  recognizedUntil: string;
  entry: ExamEntry;
}

export const EXAMS = collectionName<ExamDoc>('exams');

export interface VisitDayDoc extends Record<string, unknown> {
  personId: string;
  visitDate: string;
  visits: VisitFact[];
}

/** Visits per person and date, for screening (`<personId>:<YYYY-MM-DD>`). */
export const VISIT_DAYS = collectionName<VisitDayDoc>('visitDays');

export interface SettledDoc extends Record<string, unknown> {
  fingerprint: string;
  claims: SettledClaimFact[];
}

/** Settled claims by fingerprint, for screening. */
export const SETTLED = collectionName<SettledDoc>('settledClaims');

export interface ClaimDoc extends Record<string, unknown> {
  claimId: string;
  personId: string;
  hospitalCode: string;
  serviceDate: string;
  status: ClaimStatus;
  /** True while flags stand on the claim (they stay after review and settlement, as its record). */
  flagged: boolean;
  flagRules: ScreeningRuleId[];
  submittedAt: string;
  fingerprint: string;
  file: ClaimFile;
  revision: number;
  submittedBy: EventRef;
  /** The patient's residence at submission (city, district, street, community), for division figures. */
  divisionCodes: string[];
}

export const CLAIMS = collectionName<ClaimDoc>('claims');

export interface HospitalStatsDoc extends Record<string, unknown> {
  hospitalCode: string;
  claims: number;
  /** Claims held by their first screening. */
  heldAtSubmission: number;
  /** Claims held by a later screening (before settlement, after a death). */
  heldLater: number;
  /** Claims awaiting review now. */
  heldNow: number;
  settled: number;
  rejected: number;
  settledFen: number;
  /** Claims each rule flagged (a claim counts once per rule). */
  flagsByRule: Partial<Record<ScreeningRuleId, number>>;
}

export const HOSPITAL_STATS = collectionName<HospitalStatsDoc>('hospitalStats');

export interface DivisionStatsDoc extends Record<string, unknown> {
  code: string;
  visits: number;
  claims: number;
  /** Claims any rule flagged. */
  flaggedClaims: number;
  /** Claims awaiting review now. */
  heldClaims: number;
}

export const DIVISION_STATS = collectionName<DivisionStatsDoc>('divisionStats');

export const visitDayId = (personId: string, visitDate: string) => `${personId}:${visitDate}`;

export function emptyRecordView(personId: string): RecordView {
  return { personId, visits: [], exams: [], vaccinations: [], closed: null, revision: -1 };
}

/** Folds one recorded event of a health record's stream into its view. */
export function evolveRecordView(view: RecordView | null, recorded: Recorded<HealthRecordEvent>): RecordView {
  const event = recorded;
  const current = view ?? emptyRecordView(event.data.personId);
  const recordedBy = eventRefOf(recorded);
  const next = { ...current, revision: recorded.revision };
  switch (event.type) {
    case 'MedicalVisitRecorded':
      return { ...next, visits: [...current.visits, { ...event.data, recordedBy }] };
    case 'ExamResultRecorded':
      return { ...next, exams: [...current.exams, { ...event.data, recordedBy }] };
    case 'VaccinationRecorded':
      return { ...next, vaccinations: [...current.vaccinations, { ...event.data, recordedBy }] };
    case 'HealthRecordClosed': {
      const { dateOfDeath, closedAt, deathEventId } = event.data;
      return { ...next, closed: { dateOfDeath, closedAt, deathEventId } };
    }
    default:
      return assertNever(event);
  }
}
