/** What hospitals and vaccination clinics record in a person's electronic health record (电子健康档案). */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import { isIcd10Code } from '../catalog.ts';

const { id, text, date, instant } = eventFields;

const medicalVisitRecorded = eventType('MedicalVisitRecorded', {
  visitId: id,
  personId: id,
  hospitalCode: text,
  department: text,
  /** ICD-10 codes, principal diagnosis first. */
  diagnoses: z.array(z.string().refine(isIcd10Code, 'an ICD-10 code such as J18.9')).min(1),
  visitedAt: instant,
  /** The visit's date in China (`YYYY-MM-DD`): what claims screening matches service dates against. */
  visitDate: date,
});
export type MedicalVisitRecorded = EventOf<typeof medicalVisitRecorded>;

const examResultRecorded = eventType('ExamResultRecorded', {
  examId: id,
  personId: id,
  /** A code of the exam catalog. */
  examType: text,
  hospitalCode: text,
  /** The report's conclusion as the hospital wrote it. */
  result: text,
  abnormal: z.boolean(),
  performedAt: instant,
  /** Days other hospitals accept the result instead of repeating the exam. */
  recognitionDays: z.number().int().positive(),
  /** Last date (China) the result is recognised: performed date + recognitionDays. */
  recognizedUntil: date,
});
export type ExamResultRecorded = EventOf<typeof examResultRecorded>;

/** `vaccine`: a code of the vaccine catalog; `dose`: the 1-based dose of the series. */
const vaccinationRecorded = eventType('VaccinationRecorded', { vaccinationId: id, personId: id, vaccine: text, dose: z.number().int().positive(), hospitalCode: text, administeredAt: instant });
export type VaccinationRecorded = EventOf<typeof vaccinationRecorded>;

/**
 * The record is closed after the person's death (死亡登记, a 一件事 other domains react to);
 * `deathEventId` is the PersonDeceased event that caused the closure.
 */
const healthRecordClosed = eventType('HealthRecordClosed', { personId: id, reason: z.literal('DECEASED'), dateOfDeath: date, deathEventId: id, closedAt: instant });
export type HealthRecordClosed = EventOf<typeof healthRecordClosed>;

export const healthRecordStreamId = (personId: string): string => `healthcare.health-record-${personId}`;

export const healthRecordEventDefinitions = [medicalVisitRecorded, examResultRecorded, vaccinationRecorded, healthRecordClosed] as const satisfies readonly EventTypeDefinition[];
export type HealthRecordEvent = EventsOf<typeof healthRecordEventDefinitions>;

export const HEALTH_RECORD_EVENT_TYPES = healthRecordEventDefinitions.map((d) => d.type);
