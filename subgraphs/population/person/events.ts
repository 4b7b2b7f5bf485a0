/** What the household registration and civil affairs departments record about a person. */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import { normalisedIdentifier } from '../../kit/validation.ts';
import { GENDERS, validateIdNumber } from '../identity/idNumber.ts';

export const REGISTRATION_REASONS = ['BIRTH', 'HOUSEHOLD_REGISTRATION'] as const;
export type RegistrationReason = (typeof REGISTRATION_REASONS)[number];

export const GUARDIAN_RELATIONS = ['FATHER', 'MOTHER', 'GRANDPARENT', 'SIBLING', 'OTHER_RELATIVE', 'OTHER'] as const;
export type GuardianRelation = (typeof GUARDIAN_RELATIONS)[number];

/** How a proof of life was obtained; healthcare visits arrive as MEDICAL_VISIT. */
export const SURVIVAL_PROOF_METHODS = ['PENSION_FACE_CHECK', 'MEDICAL_VISIT', 'COMMUNITY_VISIT', 'OTHER'] as const;
export type SurvivalProofMethod = (typeof SURVIVAL_PROOF_METHODS)[number];

const { id, text, date, instant, communityCode } = eventFields;
const residence = z.object({ address: text, divisionCode: communityCode });
export type Residence = z.infer<typeof residence>;

const personRegistered = eventType('PersonRegistered', {
  personId: id,
  idNumber: normalisedIdentifier(validateIdNumber, 'idNumber', 'ID number'),
  name: text,
  gender: z.enum(GENDERS),
  /** Equal to the date in the ID number. */
  birthDate: date,
  residence,
  reason: z.enum(REGISTRATION_REASONS),
});
export type PersonRegistered = EventOf<typeof personRegistered>;

/** `previousResidence` is carried so division statistics can move the person without a lookup. */
const residenceChanged = eventType('ResidenceChanged', { personId: id, residence, previousResidence: residence, movedOn: date });
export type ResidenceChanged = EventOf<typeof residenceChanged>;

const guardianAssigned = eventType('GuardianAssigned', { personId: id, guardianId: id, relation: z.enum(GUARDIAN_RELATIONS) });
export type GuardianAssigned = EventOf<typeof guardianAssigned>;

/** `certificateNo`: the medical death certificate (居民死亡医学证明) number, when one was issued. */
const personDeceased = eventType('PersonDeceased', { personId: id, dateOfDeath: date, place: text.optional(), certificateNo: text.optional() });
export type PersonDeceased = EventOf<typeof personDeceased>;

/** A proof of life: the person was seen alive at `confirmedAt` by `source` (a department, hospital or community office). */
const survivalConfirmed = eventType('SurvivalConfirmed', { personId: id, method: z.enum(SURVIVAL_PROOF_METHODS), source: text, confirmedAt: instant });
export type SurvivalConfirmed = EventOf<typeof survivalConfirmed>;

export const personStreamId = (personId: string): string => `population.person-${personId}`;

export const personEventDefinitions = [personRegistered, residenceChanged, guardianAssigned, personDeceased, survivalConfirmed] as const satisfies readonly EventTypeDefinition[];
export type PersonEvent = EventsOf<typeof personEventDefinitions>;
