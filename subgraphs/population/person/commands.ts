import type { Gender } from '../identity/idNumber.ts';
import type { CommandMetadata } from '../../kit/command.ts';
import type { GuardianRelation, Residence, SurvivalProofMethod } from './events.ts';

type Command<Type extends string, Data> = { type: Type; data: Data; metadata: CommandMetadata };

interface NewPerson {
  personId: string;
  idNumber: string;
  name: string;
  /** As recorded by the clerk; must agree with the ID number. */
  gender: Gender;
  /** `YYYY-MM-DD`; must agree with the ID number. */
  birthDate: string;
  residence: Residence;
}

/** Household registration (户口登记) of a person not registered at birth here: moving in, late registration. */
export type RegisterResident = Command<'registerResident', NewPerson>;

/**
 * The person part of birth registration (出生登记, one of the 一件事 of §(八)). The parents become
 * guardians; joining the household is the household aggregate's event, appended by the handler.
 */
export type RegisterBirth = Command<
  'registerBirth',
  NewPerson & { parents: { personId: string; relation: 'FATHER' | 'MOTHER' }[] }
>;

export type ChangeResidence = Command<
  'changeResidence',
  { personId: string; residence: Residence; /** `YYYY-MM-DD`. */ movedOn: string }
>;

export type AssignGuardian = Command<
  'assignGuardian',
  { personId: string; guardianId: string; relation: GuardianRelation }
>;

export type RegisterDeath = Command<
  'registerDeath',
  { personId: string; /** `YYYY-MM-DD`. */ dateOfDeath: string; place?: string; certificateNo?: string }
>;

export type ConfirmSurvival = Command<
  'confirmSurvival',
  { personId: string; method: SurvivalProofMethod; source: string; /** ISO 8601 instant. */ confirmedAt: string }
>;

export type PersonCommand =
  | RegisterResident
  | RegisterBirth
  | ChangeResidence
  | AssignGuardian
  | RegisterDeath
  | ConfirmSurvival;
