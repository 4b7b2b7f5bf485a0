/**
 * `population.registry`: the population register as queries read it — one document per person and
 * per household. Person documents carry what the §(五) models select on (the number of living
 * members of their household, of living guardians, the latest activity), so "elderly living alone
 * in 历下区" or "children in distress" is one indexed query, not a fold. Each model's verdict keeps
 * the events it rests on (`…By` fields), which the API lists as evidence.
 *
 * Persons and households are one projection because person documents denormalise household facts:
 * both change in the same transaction, so they never disagree. For the same reason it keeps the
 * living residents per division by birth date (ageCohorts.ts) from the person documents it writes.
 */
import { assertNever } from '../../../events/decider.ts';
import { ERASED } from '../../../events/crypto/personalFields.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import { isEventOf } from '../../../events/typedReads.ts';
import { singleFieldIndexes, sourceOf, type Collection, type DocumentStore, type FieldSource, type Projection } from '../../../projections/types.ts';
import { MEDICAL_VISIT_RECORDED, type MedicalVisitProofOfLife } from '../../healthcare/public.ts';
import { divisionFields } from '../../kit/divisions/division.ts';
import { applyTieredDelta } from '../../kit/tieredCounts.ts';
import type { Gender } from '../identity/idNumber.ts';
import { ERASURE_EVENT_TYPES, erasesScope, type ErasureEvent } from '../../governance/erasure/events.ts';
import type { HouseholdEvent, MemberRelation, RelationToHead } from '../household/events.ts';
import type { GuardianRelation, PersonEvent, RegistrationReason, Residence } from '../person/events.ts';
import { AGE_COHORTS, cohortTracking } from './ageCohorts.ts';

export const REGISTRY_PROJECTION = 'population.registry';
export const PERSONS = 'persons';
export const HOUSEHOLDS = 'households';

/** An event a read-model field (and so a model's verdict) rests on. */
export interface EvidenceRef {
  type: string;
  eventId: string;
  position: string;
  recordedAt: string;
}

export interface GuardianEntry {
  personId: string;
  relation: GuardianRelation;
  /** The guardian's registered death, once there is one. */
  deceasedBy: EvidenceRef | null;
}

export interface PersonDoc extends Record<string, unknown> {
  personId: string;
  /** Null once the person's personal data was erased (the index on it is unique). */
  idNumber: string | null;
  name: string;
  /** Every substring of the name, lower-cased: `nameContains` is an equality on one of them. */
  nameFragments: string[];
  gender: Gender;
  birthDate: string;
  residence: Residence;
  cityCode: string;
  districtCode: string;
  streetCode: string | null;
  communityCode: string | null;
  status: 'REGISTERED' | 'DECEASED';
  dateOfDeath: string | null;
  registrationReason: RegistrationReason;
  guardians: GuardianEntry[];
  livingGuardians: number;
  /** Persons this person is a guardian of. */
  wardIds: string[];
  householdId: string | null;
  relationToHead: RelationToHead | null;
  /** Members of the person's household whose death is not registered; null outside any household. */
  householdLiving: number | null;
  lastProofOfLifeAt: string | null;
  /** The latest instant anything was known of the person: a proof of life, a move, a registration. */
  lastActivityAt: string;
  registeredBy: EvidenceRef;
  deathBy: EvidenceRef | null;
  proofOfLifeBy: EvidenceRef | null;
  householdLivingBy: EvidenceRef | null;
  lastActivityBy: EvidenceRef;
  /** Revision of the person's stream this document reflects. */
  revision: number;
}

export interface HouseholdDoc extends Record<string, unknown> {
  householdId: string;
  headId: string;
  address: string;
  divisionCode: string;
  cityCode: string;
  districtCode: string;
  streetCode: string | null;
  communityCode: string | null;
  members: MemberRelation[];
  size: number;
  livingMembers: number;
  status: 'ACTIVE' | 'DISSOLVED';
  revision: number;
}

type RegistryEvent = PersonEvent | HouseholdEvent;

const PERSON_EVENT_TYPES = ['PersonRegistered', 'ResidenceChanged', 'GuardianAssigned', 'PersonDeceased', 'SurvivalConfirmed'] as const;
const HOUSEHOLD_EVENT_TYPES = ['HouseholdEstablished', 'HouseholdMemberJoined', 'HouseholdMemberLeft', 'HouseholdHeadChanged'] as const;

export function evidenceOf(event: RecordedEvent): EvidenceRef {
  return { type: event.type, eventId: event.eventId, position: event.position, recordedAt: event.recordedAt };
}

/** Every distinct substring of `name`, lower-cased (names are short: at most n(n+1)/2 of them). */
export function nameFragments(name: string): string[] {
  const chars = [...name.toLowerCase()];
  const fragments = new Set<string>();
  for (let start = 0; start < chars.length; start++) {
    for (let end = start + 1; end <= chars.length; end++) fragments.add(chars.slice(start, end).join(''));
  }
  return [...fragments];
}

/** When the fact was known to happen: a proof of life at its sighting, anything else when its source collected it. */
function activityAt(event: RecordedEvent, domain: RegistryEvent): string {
  return domain.type === 'SurvivalConfirmed' ? domain.data.confirmedAt : event.metadata.provenance.collectedAt;
}

const isLater = (candidate: string, current: string | null): boolean => current === null || Date.parse(candidate) > Date.parse(current);

async function required<T extends Record<string, unknown>>(collection: Collection<T>, id: string, event: RecordedEvent): Promise<T> {
  const found = await collection.get(id);
  // The write side appends a person's registration before anything refers to them, so a miss is a bug.
  if (!found) throw new Error(`${REGISTRY_PROJECTION}: ${event.type} at ${event.position} refers to ${id}, which has no document`);
  return found.doc;
}

/** Restates the living-member count on the household and each member after a join, a leave or a death. */
async function recountLiving(persons: Collection<PersonDoc>, households: Collection<HouseholdDoc>, household: HouseholdDoc, members: MemberRelation[], event: RecordedEvent, source: FieldSource, changes: Partial<HouseholdDoc>): Promise<void> {
  const docs = await persons.getMany(members.map((m) => m.personId));
  const living = docs.filter((d) => d?.doc.status === 'REGISTERED').length;
  await households.patch(household.householdId, { ...changes, members, size: members.length, livingMembers: living, revision: event.revision }, source);
  for (const member of docs) {
    if (member) await persons.patch(member.id, { householdLiving: living, householdLivingBy: evidenceOf(event) }, source);
  }
}

async function applyPersonEvent(domain: PersonEvent, event: RecordedEvent, persons: Collection<PersonDoc>, households: Collection<HouseholdDoc>, source: FieldSource): Promise<void> {
  const evidence = evidenceOf(event);
  const revision = event.revision;
  switch (domain.type) {
    case 'PersonRegistered': {
      const { personId, idNumber, name, gender, birthDate, residence, reason } = domain.data;
      const doc: PersonDoc = {
        personId,
        // An erased person's events read ERASED in these fields: documents as `erasePerson` leaves them.
        idNumber: idNumber === ERASED ? null : idNumber,
        name,
        nameFragments: name === ERASED ? [] : nameFragments(name),
        gender,
        birthDate,
        residence,
        ...divisionFields(residence.divisionCode),
        status: 'REGISTERED',
        dateOfDeath: null,
        registrationReason: reason,
        guardians: [],
        livingGuardians: 0,
        wardIds: [],
        householdId: null,
        relationToHead: null,
        householdLiving: null,
        lastProofOfLifeAt: null,
        lastActivityAt: activityAt(event, domain),
        registeredBy: evidence,
        deathBy: null,
        proofOfLifeBy: null,
        householdLivingBy: null,
        lastActivityBy: evidence,
        revision,
      };
      await persons.upsert(personId, doc, source);
      return;
    }
    case 'ResidenceChanged': {
      const person = await required(persons, domain.data.personId, event);
      const at = activityAt(event, domain);
      await persons.patch(
        person.personId,
        {
          residence: domain.data.residence,
          ...divisionFields(domain.data.residence.divisionCode),
          ...(isLater(at, person.lastActivityAt) && { lastActivityAt: at, lastActivityBy: evidence }),
          revision,
        },
        source,
      );
      return;
    }
    case 'GuardianAssigned': {
      const { personId, guardianId, relation } = domain.data;
      const ward = await required(persons, personId, event);
      const guardian = (await persons.get(guardianId))?.doc;
      const guardians = [...ward.guardians, { personId: guardianId, relation, deceasedBy: guardian?.status === 'DECEASED' ? guardian.deathBy : null }];
      await persons.patch(personId, { guardians, livingGuardians: guardians.filter((g) => g.deceasedBy === null).length, revision }, source);
      if (guardian) await persons.patch(guardianId, { wardIds: [...guardian.wardIds, personId] }, source);
      return;
    }
    case 'PersonDeceased': {
      const person = await required(persons, domain.data.personId, event);
      await persons.patch(person.personId, { status: 'DECEASED', dateOfDeath: domain.data.dateOfDeath, deathBy: evidence, revision }, source);
      for (const ward of await persons.getMany(person.wardIds)) {
        if (!ward) continue;
        const guardians = ward.doc.guardians.map((g) => (g.personId === person.personId ? { ...g, deceasedBy: evidence } : g));
        await persons.patch(ward.id, { guardians, livingGuardians: guardians.filter((g) => g.deceasedBy === null).length }, source);
      }
      if (person.householdId !== null) {
        const household = await required(households, person.householdId, event);
        await recountLiving(persons, households, household, household.members, event, source, {});
      }
      return;
    }
    case 'SurvivalConfirmed': {
      const person = await required(persons, domain.data.personId, event);
      const { confirmedAt } = domain.data;
      await persons.patch(
        person.personId,
        {
          // Proofs may arrive out of order (a hospital reporting late): keep the latest sighting.
          ...(isLater(confirmedAt, person.lastProofOfLifeAt) && { lastProofOfLifeAt: confirmedAt, proofOfLifeBy: evidence }),
          ...(isLater(confirmedAt, person.lastActivityAt) && { lastActivityAt: confirmedAt, lastActivityBy: evidence }),
          revision,
        },
        source,
      );
      return;
    }
    default:
      return assertNever(domain);
  }
}

async function applyHouseholdEvent(domain: HouseholdEvent, event: RecordedEvent, persons: Collection<PersonDoc>, households: Collection<HouseholdDoc>, source: FieldSource): Promise<void> {
  switch (domain.type) {
    case 'HouseholdEstablished': {
      const { householdId, headId, address, divisionCode } = domain.data;
      await households.upsert(
        householdId,
        { householdId, headId, address, divisionCode, ...divisionFields(divisionCode), members: [], size: 0, livingMembers: 0, status: 'ACTIVE', revision: event.revision },
        source,
      );
      return;
    }
    case 'HouseholdMemberJoined': {
      const { householdId, personId, relationToHead } = domain.data;
      const household = await required(households, householdId, event);
      const person = await required(persons, personId, event);
      const at = activityAt(event, domain);
      await persons.patch(personId, { householdId, relationToHead, ...(isLater(at, person.lastActivityAt) && { lastActivityAt: at, lastActivityBy: evidenceOf(event) }) }, source);
      await recountLiving(persons, households, household, [...household.members, { personId, relationToHead }], event, source, {});
      return;
    }
    case 'HouseholdMemberLeft': {
      const { householdId, personId } = domain.data;
      const household = await required(households, householdId, event);
      const leaver = (await persons.get(personId))?.doc;
      if (leaver?.householdId === householdId) {
        await persons.patch(personId, { householdId: null, relationToHead: null, householdLiving: null, householdLivingBy: evidenceOf(event) }, source);
      }
      const members = household.members.filter((m) => m.personId !== personId);
      await recountLiving(persons, households, household, members, event, source, { status: members.length ? 'ACTIVE' : 'DISSOLVED' });
      return;
    }
    case 'HouseholdHeadChanged': {
      const { householdId, headId, relationsToHead } = domain.data;
      const household = await required(households, householdId, event);
      const members = household.members.map(
        (m): MemberRelation => (m.personId === headId ? { personId: headId, relationToHead: 'SELF' } : (relationsToHead.find((r) => r.personId === m.personId) ?? m)),
      );
      await households.patch(householdId, { headId, members, revision: event.revision }, source);
      for (const member of members) await persons.patch(member.personId, { relationToHead: member.relationToHead }, source);
      return;
    }
    default:
      return assertNever(domain);
  }
}

/**
 * A person's personal data was erased (all of it, or one resource's by a retention rule): their
 * document (`population.basic`) and the households they established (`population.household`) show
 * what a rebuild from the log (where those fields now read ERASED) would give; counts and models,
 * which rest on no personal field, stand.
 */
async function erasePerson(event: ErasureEvent, persons: Collection<PersonDoc>, households: Collection<HouseholdDoc>, source: FieldSource): Promise<void> {
  const { subjectId } = event.data;
  const person = erasesScope(event, 'population.basic') ? (await persons.get(subjectId))?.doc : undefined;
  if (person) await persons.patch(subjectId, { idNumber: null, name: ERASED, nameFragments: [], residence: { ...person.residence, address: ERASED } }, source);
  if (!erasesScope(event, 'population.household')) return;
  // The household's address was recorded with its head's personal data when it was established.
  for (const { node } of (await households.find({ where: { headId: subjectId }, first: 100 })).items) await households.patch(node.id, { address: ERASED }, source);
}

/**
 * A medical visit is a proof of life (§(五)): read from healthcare's events here, never by
 * calling the healthcare subgraph. Visits after a registered death are refused when recorded.
 */
async function applyMedicalVisit(visit: MedicalVisitProofOfLife, event: RecordedEvent, persons: Collection<PersonDoc>, source: FieldSource): Promise<void> {
  const found = await persons.get(visit.personId);
  if (!found) return;
  const person = found.doc;
  const evidence = evidenceOf(event);
  await persons.patch(
    visit.personId,
    {
      ...(isLater(visit.visitedAt, person.lastProofOfLifeAt) && { lastProofOfLifeAt: visit.visitedAt, proofOfLifeBy: evidence }),
      ...(isLater(visit.visitedAt, person.lastActivityAt) && { lastActivityAt: visit.visitedAt, lastActivityBy: evidence }),
    },
    source,
  );
}

export const registryProjection: Projection = {
  name: REGISTRY_PROJECTION,
  version: 3,
  eventTypes: [...PERSON_EVENT_TYPES, ...HOUSEHOLD_EVENT_TYPES, MEDICAL_VISIT_RECORDED, ...ERASURE_EVENT_TYPES],
  indexes: [
    { collection: PERSONS, fields: ['idNumber'], unique: true },
    ...singleFieldIndexes(PERSONS, 'districtCode', 'streetCode', 'communityCode', 'birthDate', 'householdLiving', 'livingGuardians'),
    ...singleFieldIndexes(HOUSEHOLDS, 'districtCode'),
  ],
  async apply(event: RecordedEvent, store: DocumentStore): Promise<void> {
    const tracked = cohortTracking(store.collection<PersonDoc>(PERSONS));
    const { persons } = tracked;
    const households = store.collection<HouseholdDoc>(HOUSEHOLDS);
    const source = sourceOf(event);
    const domain = { type: event.type, data: event.data } as RegistryEvent;
    if (event.type === MEDICAL_VISIT_RECORDED) {
      await applyMedicalVisit(event.data as MedicalVisitProofOfLife, event, persons, source);
    } else if (isEventOf<ErasureEvent>(ERASURE_EVENT_TYPES, event)) {
      await erasePerson(event, persons, households, source);
    } else if ((PERSON_EVENT_TYPES as readonly string[]).includes(domain.type)) {
      await applyPersonEvent(domain as PersonEvent, event, persons, households, source);
    } else {
      await applyHouseholdEvent(domain as HouseholdEvent, event, persons, households, source);
    }
    await applyTieredDelta(store, AGE_COHORTS, tracked.delta(), source);
  },
};
