/** What the household registration and civil affairs departments record about a person. */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { validateIdNumber, type Gender } from '../identity/idNumber.ts';

export interface Residence {
  address: string;
  /** A COMMUNITY code of the division catalog. */
  divisionCode: string;
}

export const REGISTRATION_REASONS = ['BIRTH', 'HOUSEHOLD_REGISTRATION'] as const;
export type RegistrationReason = (typeof REGISTRATION_REASONS)[number];

export const GUARDIAN_RELATIONS = ['FATHER', 'MOTHER', 'GRANDPARENT', 'SIBLING', 'OTHER_RELATIVE', 'OTHER'] as const;
export type GuardianRelation = (typeof GUARDIAN_RELATIONS)[number];

/** How a proof of life was obtained; healthcare visits arrive as MEDICAL_VISIT. */
export const SURVIVAL_PROOF_METHODS = ['PENSION_FACE_CHECK', 'MEDICAL_VISIT', 'COMMUNITY_VISIT', 'OTHER'] as const;
export type SurvivalProofMethod = (typeof SURVIVAL_PROOF_METHODS)[number];

export type PersonRegistered = DomainEvent<
  'PersonRegistered',
  {
    personId: string;
    idNumber: string;
    name: string;
    gender: Gender;
    /** `YYYY-MM-DD`, equal to the date in the ID number. */
    birthDate: string;
    residence: Residence;
    reason: RegistrationReason;
  }
>;

export type ResidenceChanged = DomainEvent<
  'ResidenceChanged',
  {
    personId: string;
    residence: Residence;
    /** Carried so division statistics can move the person without a lookup. */
    previousResidence: Residence;
    /** `YYYY-MM-DD` the move took effect. */
    movedOn: string;
  }
>;

export type GuardianAssigned = DomainEvent<
  'GuardianAssigned',
  { personId: string; guardianId: string; relation: GuardianRelation }
>;

export type PersonDeceased = DomainEvent<
  'PersonDeceased',
  {
    personId: string;
    /** `YYYY-MM-DD`. */
    dateOfDeath: string;
    place?: string;
    /** Medical death certificate (居民死亡医学证明) number, when one was issued. */
    certificateNo?: string;
  }
>;

/** A proof of life: the person was seen alive at `confirmedAt` by `source`. */
export type SurvivalConfirmed = DomainEvent<
  'SurvivalConfirmed',
  {
    personId: string;
    method: SurvivalProofMethod;
    /** Who observed it: a department, hospital or community office. */
    source: string;
    /** ISO 8601 instant. */
    confirmedAt: string;
  }
>;

export type PersonEvent = PersonRegistered | ResidenceChanged | GuardianAssigned | PersonDeceased | SurvivalConfirmed;

export const personStreamId = (personId: string): string => `population.person-${personId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const date = z.iso.date();
const residence = z.object({ address: text, divisionCode: z.string().regex(/^\d{12}$/) });

const personRegistered: EventTypeDefinition<PersonRegistered['data']> = {
  type: 'PersonRegistered',
  schemaVersion: 1,
  schema: z.object({
    personId: id,
    idNumber: z.string().refine((v) => {
      const result = validateIdNumber(v);
      return result.ok && result.idNumber === v;
    }, 'a valid, normalised ID number'),
    name: text,
    gender: z.enum(['MALE', 'FEMALE']),
    birthDate: date,
    residence,
    reason: z.enum(REGISTRATION_REASONS),
  }),
};

const residenceChanged: EventTypeDefinition<ResidenceChanged['data']> = {
  type: 'ResidenceChanged',
  schemaVersion: 1,
  schema: z.object({ personId: id, residence, previousResidence: residence, movedOn: date }),
};

const guardianAssigned: EventTypeDefinition<GuardianAssigned['data']> = {
  type: 'GuardianAssigned',
  schemaVersion: 1,
  schema: z.object({ personId: id, guardianId: id, relation: z.enum(GUARDIAN_RELATIONS) }),
};

const personDeceased: EventTypeDefinition<PersonDeceased['data']> = {
  type: 'PersonDeceased',
  schemaVersion: 1,
  schema: z.object({ personId: id, dateOfDeath: date, place: text.optional(), certificateNo: text.optional() }),
};

const survivalConfirmed: EventTypeDefinition<SurvivalConfirmed['data']> = {
  type: 'SurvivalConfirmed',
  schemaVersion: 1,
  schema: z.object({
    personId: id,
    method: z.enum(SURVIVAL_PROOF_METHODS),
    source: text,
    confirmedAt: z.iso.datetime({ offset: true }),
  }),
};

export const personEventDefinitions: readonly EventTypeDefinition[] = [
  personRegistered,
  residenceChanged,
  guardianAssigned,
  personDeceased,
  survivalConfirmed,
];
