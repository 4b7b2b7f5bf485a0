/** What hospitals and vaccination clinics record in a person's electronic health record (电子健康档案). */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { isIcd10Code } from '../catalog.ts';

export type MedicalVisitRecorded = DomainEvent<
  'MedicalVisitRecorded',
  {
    visitId: string;
    personId: string;
    hospitalCode: string;
    department: string;
    /** ICD-10 codes, principal diagnosis first. */
    diagnoses: string[];
    /** ISO 8601 instant of the visit. */
    visitedAt: string;
    /** The visit's date in China (`YYYY-MM-DD`): what claims screening matches service dates against. */
    visitDate: string;
  }
>;

export type ExamResultRecorded = DomainEvent<
  'ExamResultRecorded',
  {
    examId: string;
    personId: string;
    /** A code of the exam catalog. */
    examType: string;
    hospitalCode: string;
    /** The report's conclusion as the hospital wrote it. */
    result: string;
    abnormal: boolean;
    /** ISO 8601 instant the exam was performed. */
    performedAt: string;
    /** Days other hospitals accept the result instead of repeating the exam. */
    recognitionDays: number;
    /** Last date (`YYYY-MM-DD`, China) the result is recognised: performed date + recognitionDays. */
    recognizedUntil: string;
  }
>;

export type VaccinationRecorded = DomainEvent<
  'VaccinationRecorded',
  {
    vaccinationId: string;
    personId: string;
    /** A code of the vaccine catalog. */
    vaccine: string;
    /** 1-based dose of the series. */
    dose: number;
    hospitalCode: string;
    /** ISO 8601 instant. */
    administeredAt: string;
  }
>;

/** The record is closed after the person's death (死亡登记, a 一件事 other domains react to). */
export type HealthRecordClosed = DomainEvent<
  'HealthRecordClosed',
  {
    personId: string;
    reason: 'DECEASED';
    /** `YYYY-MM-DD`. */
    dateOfDeath: string;
    /** The PersonDeceased event that caused the closure. */
    deathEventId: string;
    /** ISO 8601 instant. */
    closedAt: string;
  }
>;

export type HealthRecordEvent = MedicalVisitRecorded | ExamResultRecorded | VaccinationRecorded | HealthRecordClosed;

export const healthRecordStreamId = (personId: string): string => `healthcare.health-record-${personId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const date = z.iso.date();

const medicalVisitRecorded: EventTypeDefinition<MedicalVisitRecorded['data']> = {
  type: 'MedicalVisitRecorded',
  schemaVersion: 1,
  schema: z.object({
    visitId: id,
    personId: id,
    hospitalCode: text,
    department: text,
    diagnoses: z.array(z.string().refine(isIcd10Code, 'an ICD-10 code such as J18.9')).min(1),
    visitedAt: instant,
    visitDate: date,
  }),
};

const examResultRecorded: EventTypeDefinition<ExamResultRecorded['data']> = {
  type: 'ExamResultRecorded',
  schemaVersion: 1,
  schema: z.object({
    examId: id,
    personId: id,
    examType: text,
    hospitalCode: text,
    result: text,
    abnormal: z.boolean(),
    performedAt: instant,
    recognitionDays: z.number().int().positive(),
    recognizedUntil: date,
  }),
};

const vaccinationRecorded: EventTypeDefinition<VaccinationRecorded['data']> = {
  type: 'VaccinationRecorded',
  schemaVersion: 1,
  schema: z.object({
    vaccinationId: id,
    personId: id,
    vaccine: text,
    dose: z.number().int().positive(),
    hospitalCode: text,
    administeredAt: instant,
  }),
};

const healthRecordClosed: EventTypeDefinition<HealthRecordClosed['data']> = {
  type: 'HealthRecordClosed',
  schemaVersion: 1,
  schema: z.object({ personId: id, reason: z.literal('DECEASED'), dateOfDeath: date, deathEventId: id, closedAt: instant }),
};

export const healthRecordEventDefinitions: readonly EventTypeDefinition[] = [
  medicalVisitRecorded,
  examResultRecorded,
  vaccinationRecorded,
  healthRecordClosed,
];

export const HEALTH_RECORD_EVENT_TYPES = healthRecordEventDefinitions.map((d) => d.type);
