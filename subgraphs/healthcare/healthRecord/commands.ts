import type { Command } from '../../kit/command.ts';
import type { DeathFact, PersonFacts } from '../facts.ts';

/**
 * Every entry command carries what the population register said of the person when the command
 * was sent (`null`: not registered), so "the person exists and was alive at the time" is decided
 * purely.
 */
interface EntryFacts {
  personId: string;
  person: PersonFacts | null;
}

export type RecordMedicalVisit = Command<
  'recordMedicalVisit',
  EntryFacts & {
    visitId: string;
    hospitalCode: string;
    department: string;
    diagnoses: string[];
    /** ISO 8601 instant. */
    visitedAt: string;
  }
>;

export type RecordExamResult = Command<
  'recordExamResult',
  EntryFacts & {
    examId: string;
    examType: string;
    hospitalCode: string;
    result: string;
    abnormal: boolean;
    /** ISO 8601 instant. */
    performedAt: string;
    /** Default: the exam type's window in the catalog. */
    recognitionDays?: number;
  }
>;

export type RecordVaccination = Command<
  'recordVaccination',
  EntryFacts & {
    vaccinationId: string;
    vaccine: string;
    dose: number;
    hospitalCode: string;
    /** ISO 8601 instant. */
    administeredAt: string;
  }
>;

/** Issued by the process manager reacting to PersonDeceased. */
export type CloseHealthRecord = Command<'closeHealthRecord', { personId: string; death: DeathFact }>;

export type HealthRecordCommand = RecordMedicalVisit | RecordExamResult | RecordVaccination | CloseHealthRecord;
