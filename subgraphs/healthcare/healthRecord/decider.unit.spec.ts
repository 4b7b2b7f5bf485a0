import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidTransitionError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import type { PersonFacts } from '../facts.ts';
import type { RecordExamResult, RecordMedicalVisit, RecordVaccination } from './commands.ts';
import { healthRecordDecider } from './decider.ts';
import { healthRecordEventDefinitions, type HealthRecordEvent, type MedicalVisitRecorded } from './events.ts';

const PERSON = '6f1c2a8e-3b7d-4c51-9a2e-0d4b8f6e1a23';
const NOW = '2026-03-15T02:00:00.000Z';
const alive: PersonFacts = { personId: PERSON, birthDate: '1950-06-01', death: null };
const death = { dateOfDeath: '2026-03-01', evidence: { type: 'PersonDeceased', eventId: 'death-1', streamId: `population.person-${PERSON}`, position: '7:40' } };

const visit = (overrides: Partial<RecordMedicalVisit['data']> = {}): RecordMedicalVisit => ({
  type: 'recordMedicalVisit',
  data: {
    personId: PERSON,
    person: alive,
    visitId: 'visit-1',
    hospitalCode: 'H37010201',
    department: '呼吸内科',
    diagnoses: ['J18.9', 'i10'],
    visitedAt: '2026-03-10T01:30:00+08:00',
    ...overrides,
  },
  metadata: { now: NOW },
});

const visited: MedicalVisitRecorded = {
  type: 'MedicalVisitRecorded',
  data: {
    visitId: 'visit-1',
    personId: PERSON,
    hospitalCode: 'H37010201',
    department: '呼吸内科',
    diagnoses: ['J18.9', 'I10'],
    visitedAt: '2026-03-09T17:30:00.000Z',
    visitDate: '2026-03-10',
  },
};

const exam = (overrides: Partial<RecordExamResult['data']> = {}): RecordExamResult => ({
  type: 'recordExamResult',
  data: {
    personId: PERSON,
    person: alive,
    examId: 'exam-1',
    examType: 'CHEST_CT',
    hospitalCode: 'H37010401',
    result: '双肺下叶少许炎症',
    abnormal: true,
    performedAt: '2026-03-10T03:00:00Z',
    ...overrides,
  },
  metadata: { now: NOW },
});

const vaccination = (overrides: Partial<RecordVaccination['data']> = {}): RecordVaccination => ({
  type: 'recordVaccination',
  data: { personId: PERSON, person: alive, vaccinationId: 'vac-1', vaccine: 'ZOSTER', dose: 1, hospitalCode: 'H37010203', administeredAt: '2026-02-01T02:00:00Z', ...overrides },
  metadata: { now: NOW },
});

const closed: HealthRecordEvent = {
  type: 'HealthRecordClosed',
  data: { personId: PERSON, reason: 'DECEASED', dateOfDeath: '2026-03-01', deathEventId: 'death-1', closedAt: NOW },
};

describe('health record: recordMedicalVisit', () => {
  it('records a visit with its ICD-10 codes normalised and its date in China', () => {
    given(healthRecordDecider).when(visit()).then([visited]);
  });

  it('refuses a hospital outside the catalog', () => {
    given(healthRecordDecider).when(visit({ hospitalCode: 'H99999999' })).thenThrows(ValidationError, /not a hospital in the catalog/);
  });

  it('refuses a diagnosis that is not an ICD-10 code', () => {
    for (const code of ['J189', '18.9', 'J18.', 'J18.12345', 'pneumonia']) {
      given(healthRecordDecider).when(visit({ diagnoses: [code] })).thenThrows(ValidationError, /not an ICD-10 code/);
    }
    given(healthRecordDecider).when(visit({ diagnoses: [] })).thenThrows(ValidationError, /at least one/);
  });

  it('refuses a visit in the future', () => {
    given(healthRecordDecider).when(visit({ visitedAt: '2026-03-15T03:00:00Z' })).thenThrows(ValidationError, /in the future/);
  });

  it('refuses a person who is not registered, before birth, or after the registered death', () => {
    given(healthRecordDecider).when(visit({ person: null })).thenThrows(ValidationError, /not in the population register/);
    given(healthRecordDecider).when(visit({ visitedAt: '1950-05-31T08:00:00+08:00' })).thenThrows(ValidationError, /before the person was born/);
    given(healthRecordDecider).when(visit({ person: { ...alive, death } })).thenThrows(ValidationError, /after the person's registered death \(2026-03-01\)/);
  });

  it('accepts a visit on the day of death', () => {
    const events = healthRecordDecider.decide(visit({ person: { ...alive, death }, visitedAt: '2026-03-01T09:00:00+08:00' }), healthRecordDecider.initialState());
    assert.equal(events[0]?.type, 'MedicalVisitRecorded');
  });

  it('refuses the same visit id twice', () => {
    given(healthRecordDecider, [visited]).when(visit()).thenThrows(ConflictError, /visit-1 is already/);
  });

  it('refuses entries once the record is closed', () => {
    given(healthRecordDecider, [visited, closed]).when(visit({ visitId: 'visit-2' })).thenThrows(InvalidTransitionError, /CLOSED/);
  });
});

describe('health record: recordExamResult', () => {
  it('records the result with its recognition window from the catalog', () => {
    given(healthRecordDecider)
      .when(exam())
      .then([
        {
          type: 'ExamResultRecorded',
          data: {
            examId: 'exam-1',
            personId: PERSON,
            examType: 'CHEST_CT',
            hospitalCode: 'H37010401',
            result: '双肺下叶少许炎症',
            abnormal: true,
            performedAt: '2026-03-10T03:00:00.000Z',
            recognitionDays: 180,
            recognizedUntil: '2026-09-06',
          },
        },
      ]);
  });

  it('takes a stated window and refuses one outside 1–365 days', () => {
    const [event] = healthRecordDecider.decide(exam({ recognitionDays: 7 }), healthRecordDecider.initialState());
    assert.equal(event?.type === 'ExamResultRecorded' && event.data.recognizedUntil, '2026-03-17');
    given(healthRecordDecider).when(exam({ recognitionDays: 0 })).thenThrows(ValidationError, /recognitionDays/);
    given(healthRecordDecider).when(exam({ recognitionDays: 366 })).thenThrows(ValidationError, /recognitionDays/);
  });

  it('refuses an exam type outside the catalog', () => {
    given(healthRecordDecider).when(exam({ examType: 'PET_CT' })).thenThrows(ValidationError, /exam catalog/);
  });
});

describe('health record: recordVaccination', () => {
  it('records a dose of the series', () => {
    const recorded = { vaccinationId: 'vac-1', personId: PERSON, vaccine: 'ZOSTER', dose: 1, hospitalCode: 'H37010203', administeredAt: '2026-02-01T02:00:00.000Z' };
    given(healthRecordDecider).when(vaccination()).then([{ type: 'VaccinationRecorded', data: recorded }]);
  });

  it('refuses a dose beyond the series or given twice; seasonal vaccines repeat', () => {
    given(healthRecordDecider).when(vaccination({ dose: 3 })).thenThrows(ValidationError, /dose must be from 1 to 2/);
    const first = healthRecordDecider.decide(vaccination(), healthRecordDecider.initialState());
    given(healthRecordDecider, first).when(vaccination({ vaccinationId: 'vac-2' })).thenThrows(ConflictError, /dose 1 of ZOSTER/);
    const flu = healthRecordDecider.decide(vaccination({ vaccine: 'INFLUENZA', administeredAt: '2025-10-01T02:00:00Z' }), healthRecordDecider.initialState());
    assert.equal(healthRecordDecider.decide(vaccination({ vaccinationId: 'vac-2', vaccine: 'INFLUENZA' }), given(healthRecordDecider, flu).state).length, 1);
  });
});

describe('health record: closeHealthRecord', () => {
  const close = { type: 'closeHealthRecord' as const, data: { personId: PERSON, death }, metadata: { now: NOW } };

  it('closes the record after the death, naming the PersonDeceased event', () => {
    given(healthRecordDecider, [visited]).when(close).then([closed]);
  });

  it('closing again appends nothing (a replayed death)', () => {
    given(healthRecordDecider, [visited, closed]).when(close).then([]);
  });
});

describe('health record events', () => {
  it('every event the decider emits passes its registered schema', () => {
    const registry = new EventRegistry().registerAll(healthRecordEventDefinitions);
    const events = [visited, ...healthRecordDecider.decide(exam(), healthRecordDecider.initialState()), ...healthRecordDecider.decide(vaccination(), healthRecordDecider.initialState()), closed];
    assertAcceptedAsEmitted(registry, events);
  });
});
