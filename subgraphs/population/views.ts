/**
 * What the resolvers serve for a person or a household, built either from a read-model document
 * (the hot path) or from a fold of the entity's stream (an `asOf` view, a mutation's payload, or a
 * reference the projector has not caught up with yet).
 */
import { ERASED } from '../../events/crypto/personalFields.ts';
import type { Recorded } from '../../events/types.ts';
import { chinaDate } from '../kit/calendar.ts';
import type { HouseholdEvent, RelationToHead } from './household/events.ts';
import type { HouseholdRecord, HouseholdState } from './household/decider.ts';
import type { Gender } from './identity/idNumber.ts';
import { ageOn } from './models/age.ts';
import { survivalStatus, type SurvivalStatus } from './models/survival.ts';
import type { PersonState } from './person/decider.ts';
import type { GuardianAssigned, GuardianRelation, PersonEvent, Residence } from './person/events.ts';
import { evidenceOf, type EvidenceRef, type HouseholdDoc, type PersonDoc } from './readModels/registry.ts';

/** How long a proof of life counts (an annual pension face check keeps a person confirmed). */
export const SURVIVAL_WINDOW_MONTHS = 12;

export interface GuardianView {
  personId: string;
  relation: GuardianRelation;
  /** Known from the read model; `undefined` on folded views, where the guardian is looked up. */
  deceased?: boolean;
}

export interface PersonView {
  id: string;
  idNumber: string;
  name: string;
  gender: Gender;
  birthDate: string;
  residence: Residence;
  status: 'REGISTERED' | 'DECEASED';
  dateOfDeath: string | null;
  guardians: GuardianView[];
  lastProofOfLifeAt: string | null;
  proofOfLifeBy: EvidenceRef | null;
  deathBy: EvidenceRef | null;
  revision: number;
  /**
   * Household membership is recorded in the household's stream, not the person's: `undefined` on
   * folded views of the present means "ask the read model"; null on `asOf` views.
   */
  householdId?: string | null;
  relationToHead?: RelationToHead | null;
  /** The instant of an `asOf` view; null for the present. */
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

export interface HouseholdView {
  id: string;
  headId: string;
  memberIds: string[];
  /** Known from the read model; counted from the members on folded views. */
  livingMembers?: number;
  address: string;
  divisionCode: string;
  status: 'ACTIVE' | 'DISSOLVED';
  revision: number;
  asOf: string | null;
  asOfPosition?: string | null;
}

export function personFromDoc(doc: PersonDoc): PersonView {
  return {
    id: doc.personId,
    idNumber: doc.idNumber ?? ERASED,
    name: doc.name,
    gender: doc.gender,
    birthDate: doc.birthDate,
    residence: doc.residence,
    status: doc.status,
    dateOfDeath: doc.dateOfDeath,
    guardians: doc.guardians.map((g) => ({ personId: g.personId, relation: g.relation, deceased: g.deceasedBy !== null })),
    lastProofOfLifeAt: doc.lastProofOfLifeAt,
    proofOfLifeBy: doc.proofOfLifeBy,
    deathBy: doc.deathBy,
    revision: doc.revision,
    householdId: doc.householdId,
    relationToHead: doc.relationToHead,
    asOf: null,
  };
}

/** The registered person as their stream's events say, given their fold. */
export function personFromState(state: Exclude<PersonState, { status: 'UNREGISTERED' }>, events: readonly Recorded<PersonEvent>[], asOf: string | null): PersonView {
  const { person } = state;
  const proof = events.find((e) => e.type === 'SurvivalConfirmed' && (e.data as { confirmedAt: string }).confirmedAt === person.lastProofOfLifeAt);
  const death = events.find((e) => e.type === 'PersonDeceased');
  return {
    id: person.personId,
    idNumber: person.idNumber,
    name: person.name,
    gender: person.gender,
    birthDate: person.birthDate,
    residence: person.residence,
    status: state.status,
    dateOfDeath: state.status === 'DECEASED' ? state.dateOfDeath : null,
    guardians: events
      .filter((e) => e.type === 'GuardianAssigned')
      .map((e) => {
        const { guardianId, relation } = e.data as GuardianAssigned['data'];
        return { personId: guardianId, relation };
      }),
    lastProofOfLifeAt: person.lastProofOfLifeAt,
    proofOfLifeBy: proof ? evidenceOf(proof) : null,
    deathBy: death ? evidenceOf(death) : null,
    revision: events.at(-1)?.revision ?? 0,
    ...(asOf !== null && { householdId: null, relationToHead: null }),
    asOf,
  };
}

/** What the read model's document and the household's fold both hold, as the view names it. */
function householdFields(household: Pick<HouseholdRecord, 'householdId' | 'headId' | 'members' | 'address' | 'divisionCode'>) {
  const { householdId, headId, members, address, divisionCode } = household;
  return { id: householdId, headId, memberIds: members.map((m) => m.personId), address, divisionCode };
}

export function householdFromDoc(doc: HouseholdDoc): HouseholdView {
  return { ...householdFields(doc), livingMembers: doc.livingMembers, status: doc.status, revision: doc.revision, asOf: null };
}

/** The established household as its stream's events say, given their fold. */
export function householdFromState(state: Exclude<HouseholdState, { status: 'UNESTABLISHED' }>, events: readonly Recorded<HouseholdEvent>[], asOf: string | null): HouseholdView {
  return { ...householdFields(state.household), status: state.status, revision: events.at(-1)?.revision ?? 0, asOf };
}

/** The date a person's age is counted on: the view's instant (or today), or the day they died. */
export function ageOf(person: PersonView, now: Date): number {
  const on = chinaDate(person.asOf ?? now.toISOString());
  return ageOn(person.birthDate, person.dateOfDeath !== null && person.dateOfDeath < on ? person.dateOfDeath : on);
}

export interface SurvivalView {
  status: SurvivalStatus['status'];
  lastProofOfLifeAt: string | null;
  confirmedUntil: string | null;
  unconfirmedSince: string | null;
  deceasedOn: string | null;
  evidence: EvidenceRef[];
}

export function survivalOf(person: PersonView, now: Date): SurvivalView {
  const at = person.asOf ?? now.toISOString();
  // A proof recorded by `at` may carry a sighting stamped slightly later by its source's clock.
  const assessedAt = person.lastProofOfLifeAt !== null && Date.parse(person.lastProofOfLifeAt) > Date.parse(at) ? person.lastProofOfLifeAt : at;
  const verdict = survivalStatus({ deceasedAt: person.dateOfDeath, lastProofOfLifeAt: person.lastProofOfLifeAt, now: assessedAt, months: SURVIVAL_WINDOW_MONTHS });
  const evidence = [person.proofOfLifeBy, person.deathBy].filter((e): e is EvidenceRef => e !== null);
  switch (verdict.status) {
    case 'DECEASED':
      return { status: verdict.status, lastProofOfLifeAt: person.lastProofOfLifeAt, confirmedUntil: null, unconfirmedSince: null, deceasedOn: person.dateOfDeath, evidence };
    case 'ALIVE_CONFIRMED':
      return { status: verdict.status, lastProofOfLifeAt: verdict.lastProofOfLifeAt, confirmedUntil: verdict.confirmedUntil, unconfirmedSince: null, deceasedOn: null, evidence };
    case 'UNCONFIRMED':
      return { status: verdict.status, lastProofOfLifeAt: verdict.lastProofOfLifeAt, confirmedUntil: null, unconfirmedSince: verdict.unconfirmedSince, deceasedOn: null, evidence };
  }
}
