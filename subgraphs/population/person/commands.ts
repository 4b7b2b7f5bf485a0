import type { Command } from '../../kit/command.ts';
import type { GuardianAssigned, PersonDeceased, PersonRegistered, ResidenceChanged, SurvivalConfirmed } from './events.ts';

/** As the clerk records it; gender and birth date must agree with the ID number. */
export type NewPerson = Omit<PersonRegistered['data'], 'reason'>;

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

export type ChangeResidence = Command<'changeResidence', Omit<ResidenceChanged['data'], 'previousResidence'>>;
export type AssignGuardian = Command<'assignGuardian', GuardianAssigned['data']>;
export type RegisterDeath = Command<'registerDeath', PersonDeceased['data']>;
export type ConfirmSurvival = Command<'confirmSurvival', SurvivalConfirmed['data']>;

export type PersonCommand = RegisterResident | RegisterBirth | ChangeResidence | AssignGuardian | RegisterDeath | ConfirmSurvival;
