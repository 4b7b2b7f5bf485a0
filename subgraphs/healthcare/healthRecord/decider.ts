/**
 * The health record of one person (stream `healthcare.health-record-<personId>`): visits, exam
 * results and vaccinations are appended while the person is alive; the record is closed after the
 * death is registered and accepts nothing more.
 */
import { assertNever, type Decider } from '../../../events/decider.ts';
import { ConflictError, InvalidTransitionError, ValidationError } from '../../../events/errors.ts';
import { addDays, chinaDate, parseInstant } from '../../kit/calendar.ts';
import { assertExamType, assertHospital, assertVaccine, isIcd10Code, MAX_RECOGNITION_DAYS } from '../catalog.ts';
import type { PersonFacts } from '../facts.ts';
import type { HealthRecordCommand } from './commands.ts';
import type { HealthRecordEvent } from './events.ts';

interface Entries {
  personId: string;
  /** Ids of every visit, exam result and vaccination recorded. */
  entryIds: ReadonlySet<string>;
  /** `<vaccine>#<dose>` of each non-seasonal dose given. */
  doses: ReadonlySet<string>;
}

export type HealthRecordState =
  | { status: 'EMPTY' }
  | ({ status: 'OPEN' } & Entries)
  | ({ status: 'CLOSED'; dateOfDeath: string; closedAt: string } & Entries);

const MAX_TEXT = 500;
const MAX_DIAGNOSES = 20;

function requireText(value: string, field: string, max = MAX_TEXT): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  if (trimmed.length > max) throw new ValidationError(`${field} may be at most ${max} characters`, { field });
  return trimmed;
}

/**
 * The instant of an entry, checked against the clock and the person's life: not in the future,
 * not before birth, not after a registered death (the date in China decides, as on a certificate).
 */
function assertLifetimeInstant(instant: string, field: string, now: string, person: PersonFacts | null, personId: string): string {
  if (person === null) {
    throw new ValidationError(`personId ${personId} is not in the population register; register the person first`, { field: 'personId', personId });
  }
  if (person.personId !== personId) throw new Error(`facts of person ${person.personId} passed for ${personId}`);
  const ms = parseInstant(instant, field);
  if (ms > parseInstant(now, 'now')) throw new ValidationError(`${field} ${instant} is in the future`, { field });
  const date = chinaDate(instant, field);
  if (date < person.birthDate) {
    throw new ValidationError(`${field} ${instant} is before the person was born (${person.birthDate})`, { field });
  }
  if (person.death && date > person.death.dateOfDeath) {
    throw new ValidationError(`${field} ${instant} is after the person's registered death (${person.death.dateOfDeath})`, {
      field,
      deathEventId: person.death.evidence.eventId,
    });
  }
  return new Date(ms).toISOString();
}

/** Refuses an entry to a closed record, or one whose id (in `field`) the record holds already; answers the record's entries. */
function assertNewEntry(state: HealthRecordState, command: string, personId: string, entryId: string, field: string): Entries {
  if (state.status === 'CLOSED') throw new InvalidTransitionError(command, `CLOSED (death registered ${state.dateOfDeath})`, []);
  const entries = state.status === 'OPEN' ? state : { personId, entryIds: new Set<string>(), doses: new Set<string>() };
  requireText(entryId, field, 100);
  if (entries.entryIds.has(entryId)) {
    throw new ConflictError(`${field} ${entryId} is already in the health record of person ${entries.personId}`, { field });
  }
  return entries;
}

function decide(command: HealthRecordCommand, state: HealthRecordState): HealthRecordEvent[] {
  const { now } = command.metadata;
  switch (command.type) {
    case 'recordMedicalVisit': {
      const d = command.data;
      assertNewEntry(state, command.type, d.personId, d.visitId, 'visitId');
      assertHospital(d.hospitalCode);
      const department = requireText(d.department, 'department', 50);
      if (d.diagnoses.length === 0) throw new ValidationError('diagnoses must name at least one ICD-10 code', { field: 'diagnoses' });
      if (d.diagnoses.length > MAX_DIAGNOSES) throw new ValidationError(`at most ${MAX_DIAGNOSES} diagnoses per visit`, { field: 'diagnoses' });
      const diagnoses = d.diagnoses.map((code) => code.trim().toUpperCase());
      const bad = diagnoses.find((code) => !isIcd10Code(code));
      if (bad !== undefined) {
        throw new ValidationError(`diagnosis "${bad}" is not an ICD-10 code: write a letter, two digits and an optional subdivision, as in J18.9 or I10`, {
          field: 'diagnoses',
        });
      }
      if (new Set(diagnoses).size !== diagnoses.length) throw new ValidationError('diagnoses lists a code twice', { field: 'diagnoses' });
      const visitedAt = assertLifetimeInstant(d.visitedAt, 'visitedAt', now, d.person, d.personId);
      return [
        {
          type: 'MedicalVisitRecorded',
          data: { visitId: d.visitId, personId: d.personId, hospitalCode: d.hospitalCode, department, diagnoses, visitedAt, visitDate: chinaDate(visitedAt) },
        },
      ];
    }
    case 'recordExamResult': {
      const d = command.data;
      assertNewEntry(state, command.type, d.personId, d.examId, 'examId');
      const exam = assertExamType(d.examType);
      assertHospital(d.hospitalCode);
      const result = requireText(d.result, 'result', 2000);
      const recognitionDays = d.recognitionDays ?? exam.defaultRecognitionDays;
      if (!Number.isInteger(recognitionDays) || recognitionDays < 1 || recognitionDays > MAX_RECOGNITION_DAYS) {
        throw new ValidationError(`recognitionDays must be a whole number from 1 to ${MAX_RECOGNITION_DAYS}, got ${recognitionDays}`, {
          field: 'recognitionDays',
        });
      }
      const performedAt = assertLifetimeInstant(d.performedAt, 'performedAt', now, d.person, d.personId);
      return [
        {
          type: 'ExamResultRecorded',
          data: {
            examId: d.examId,
            personId: d.personId,
            examType: exam.code,
            hospitalCode: d.hospitalCode,
            result,
            abnormal: d.abnormal,
            performedAt,
            recognitionDays,
            recognizedUntil: addDays(chinaDate(performedAt), recognitionDays),
          },
        },
      ];
    }
    case 'recordVaccination': {
      const d = command.data;
      const entries = assertNewEntry(state, command.type, d.personId, d.vaccinationId, 'vaccinationId');
      const vaccine = assertVaccine(d.vaccine);
      assertHospital(d.hospitalCode);
      if (!Number.isInteger(d.dose) || d.dose < 1 || d.dose > vaccine.doses) {
        throw new ValidationError(`dose must be from 1 to ${vaccine.doses} for ${vaccine.code} (${vaccine.name}), got ${d.dose}`, { field: 'dose' });
      }
      if (!vaccine.seasonal && entries.doses.has(`${vaccine.code}#${d.dose}`)) {
        throw new ConflictError(`dose ${d.dose} of ${vaccine.code} is already in the health record of person ${d.personId}`, { field: 'dose' });
      }
      const administeredAt = assertLifetimeInstant(d.administeredAt, 'administeredAt', now, d.person, d.personId);
      return [
        {
          type: 'VaccinationRecorded',
          data: { vaccinationId: d.vaccinationId, personId: d.personId, vaccine: vaccine.code, dose: d.dose, hospitalCode: d.hospitalCode, administeredAt },
        },
      ];
    }
    case 'closeHealthRecord': {
      // Closing twice is a replay of the same death: nothing more to record.
      if (state.status === 'CLOSED') return [];
      const { personId, death } = command.data;
      return [
        {
          type: 'HealthRecordClosed',
          data: { personId, reason: 'DECEASED', dateOfDeath: death.dateOfDeath, deathEventId: death.evidence.eventId, closedAt: new Date(parseInstant(now, 'now')).toISOString() },
        },
      ];
    }
    default:
      return assertNever(command);
  }
}

function withEntry(state: HealthRecordState, personId: string, entryId: string, dose?: string): HealthRecordState {
  const base: Entries = state.status === 'EMPTY' ? { personId, entryIds: new Set(), doses: new Set() } : state;
  const entryIds = new Set(base.entryIds).add(entryId);
  const doses = dose === undefined ? base.doses : new Set(base.doses).add(dose);
  if (state.status === 'CLOSED') return { ...state, entryIds, doses };
  return { status: 'OPEN', personId: base.personId, entryIds, doses };
}

function evolve(state: HealthRecordState, event: HealthRecordEvent): HealthRecordState {
  switch (event.type) {
    case 'MedicalVisitRecorded':
      return withEntry(state, event.data.personId, event.data.visitId);
    case 'ExamResultRecorded':
      return withEntry(state, event.data.personId, event.data.examId);
    case 'VaccinationRecorded':
      return withEntry(state, event.data.personId, event.data.vaccinationId, `${event.data.vaccine}#${event.data.dose}`);
    case 'HealthRecordClosed': {
      const base: Entries = state.status === 'EMPTY' ? { personId: event.data.personId, entryIds: new Set(), doses: new Set() } : state;
      return { status: 'CLOSED', personId: base.personId, entryIds: base.entryIds, doses: base.doses, dateOfDeath: event.data.dateOfDeath, closedAt: event.data.closedAt };
    }
    default:
      return assertNever(event);
  }
}

export const healthRecordDecider: Decider<HealthRecordCommand, HealthRecordEvent, HealthRecordState> = { initialState: () => ({ status: 'EMPTY' }), decide, evolve };
