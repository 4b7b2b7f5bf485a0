/**
 * What the household registration department delivers through the aggregation channel (kit/ingest.ts):
 * its register of persons and of households, as a full snapshot first and then increments. Each
 * record is decided by the register's own deciders and rules (the mutations' `registerResident`,
 * `changeResidence`, `establishHousehold`, `joinHousehold`), planned a chunk at a time on one read.
 *
 * The entity a record describes is named by the delivering department and the record's source id
 * (`entityIdOf`), so delivering the register again compares each record with what the register
 * holds: the same → `unchanged`; a new residence → `changed` (a `ResidenceChanged`); new members of
 * a household → `changed` (their `HouseholdMemberJoined`). What no change command covers (a person's
 * name or ID number, a household's head or address) is refused naming the field, so it is corrected
 * at the source or through its own mutation. One person per ID number: a second record with the
 * number of a registered person is refused with the registration's CONFLICT.
 */
import { z } from 'zod';
import { ValidationError } from '../../events/errors.ts';
import { chinaDate } from '../kit/calendar.ts';
import { plannedKind, type Chunk, type RecordPlanner } from '../kit/batchPlan.ts';
import type { IngestKind } from '../kit/ingest.ts';
import { entityIdOf, erased, exactlyOne, jsonCell, recordSchema } from '../kit/ingestSchema.ts';
import { idNumbers, POPULATION_SOURCES, requirePerson } from './handlers.ts';
import { householdDecider } from './household/decider.ts';
import { householdStreamId, RELATIONS_TO_HEAD } from './household/events.ts';
import { validateIdNumber } from './identity/idNumber.ts';
import { personDecider } from './person/decider.ts';
import { personStreamId, type PersonRegistered, type Residence } from './person/events.ts';

const RESOURCE = 'population.write';
const DEPARTMENT = 'public-security';
const { system: SYSTEM } = POPULATION_SOURCES.householdRegistration;

/**
 * A person of the register, as `registerResident` takes it. CSV: `residence.address` and
 * `residence.divisionCode` columns. `movedOn` (`YYYY-MM-DD`) dates a changed residence; without it,
 * the day the source collected the record (`collectedAt`, China time).
 */
const personSchema = recordSchema({
  idNumber: z.string(),
  name: z.string(),
  gender: z.enum(['MALE', 'FEMALE']),
  birthDate: z.string(),
  residence: z.object({ address: z.string(), divisionCode: z.string() }),
  movedOn: z.string().optional(),
});
export type PersonRecordData = z.output<typeof personSchema>;

/** A field the register holds that no change command covers: the record disagrees and is refused, naming it. */
function unchangeable(field: string, what: string, how: string): ValidationError {
  return new ValidationError(`${field} differs from what the register holds for this ${what}; ${how}`, { field });
}

const sameResidence = (a: Residence, b: Residence) => a.address.trim() === b.address.trim() && a.divisionCode === b.divisionCode;

const planPerson: RecordPlanner<PersonRecordData> = (record, now) => {
  const { data } = record;
  const personId = entityIdOf(record, 'persons');
  const streamId = personStreamId(personId);
  const idNumber = validateIdNumber(data.idNumber);
  const residence = { address: data.residence.address, divisionCode: data.residence.divisionCode };
  return {
    primaryStream: streamId,
    streams: [],
    // A malformed number is refused by the decider before any claim: its claim stream is never needed.
    claims: idNumber.ok ? [{ key: idNumbers, value: idNumber.idNumber }] : [],
    decide(chunk) {
      const state = chunk.state(personDecider, streamId);
      if (state.status === 'UNREGISTERED') {
        const command = { type: 'registerResident' as const, data: { personId, idNumber: data.idNumber, name: data.name, gender: data.gender, birthDate: data.birthDate, residence }, metadata: { now } };
        const registered = chunk.decide(personDecider, streamId, command).find((e): e is PersonRegistered => e.type === 'PersonRegistered');
        if (!registered) throw new Error('registerResident decided no PersonRegistered event');
        chunk.claim(idNumbers, registered.data.idNumber, personId);
        return 'created';
      }
      const { person } = state;
      const how = 'a register delivery changes a person’s residence only; correct the source record';
      if (!idNumber.ok || idNumber.idNumber !== person.idNumber) throw unchangeable('idNumber', 'person', how);
      if (data.name.trim() !== person.name) throw unchangeable('name', 'person', how);
      if (data.gender !== person.gender) throw unchangeable('gender', 'person', how);
      if (data.birthDate !== person.birthDate) throw unchangeable('birthDate', 'person', how);
      if (sameResidence(residence, person.residence)) return 'unchanged';
      const movedOn = data.movedOn ?? chinaDate(record.metadata.provenance.collectedAt, 'collectedAt');
      chunk.decide(personDecider, streamId, { type: 'changeResidence', data: { personId, residence, movedOn }, metadata: { now } });
      return 'changed';
    },
  };
};

/**
 * A household of the register, as `establishHousehold` takes it, with its other members
 * (`joinHousehold`). The head and each member are named by person id (`headId`, `personId`) or by
 * the source id of this department's `persons` record (`headSourceRecordId`, `personSourceRecordId`).
 * `members` is an array (in CSV a cell holding its JSON). Members the register holds and the record
 * omits stay (leaving takes a reason: `leaveHousehold`).
 */
const householdSchema = recordSchema({
  headId: z.string().optional(),
  headSourceRecordId: z.string().optional(),
  address: z.string(),
  divisionCode: z.string(),
  members: jsonCell(
    z.array(
      z
        .object({ personId: z.string().optional(), personSourceRecordId: z.string().optional(), relationToHead: z.enum(RELATIONS_TO_HEAD) })
        .refine(...exactlyOne('personId', 'personSourceRecordId')),
    ),
  ).optional(),
}).refine(...exactlyOne('headId', 'headSourceRecordId'));
export type HouseholdRecordData = z.output<typeof householdSchema>;

const planHousehold: RecordPlanner<HouseholdRecordData> = (record, now) => {
  const { data } = record;
  const householdId = entityIdOf(record, 'households');
  const streamId = householdStreamId(householdId);
  const named = (id: string | undefined, sourceRecordId: string | undefined) => id ?? entityIdOf(record, 'persons', sourceRecordId);
  const headId = named(data.headId, data.headSourceRecordId);
  const headField = data.headId === undefined ? 'headSourceRecordId' : 'headId';
  const members = (data.members ?? []).map((m, i) => ({
    personId: named(m.personId, m.personSourceRecordId),
    relationToHead: m.relationToHead,
    field: `members[${i}].${m.personId === undefined ? 'personSourceRecordId' : 'personId'}`,
  }));
  return {
    primaryStream: streamId,
    streams: [headId, ...members.map((m) => m.personId)].map(personStreamId),
    decide(chunk: Chunk) {
      const state = chunk.state(householdDecider, streamId);
      let decided: 'created' | 'changed' | 'unchanged' = 'unchanged';
      if (state.status === 'UNESTABLISHED') {
        requirePerson(chunk.state(personDecider, personStreamId(headId)), headId, headField, { alive: true });
        chunk.decide(householdDecider, streamId, { type: 'establishHousehold', data: { householdId, headId, address: data.address, divisionCode: data.divisionCode }, metadata: { now } });
        decided = 'created';
      } else {
        const { household } = state;
        const how = 'a register delivery adds members only; change the head with changeHouseholdHead';
        if (headId !== household.headId) throw unchangeable(headField, 'household', how);
        if (data.address.trim() !== household.address) throw unchangeable('address', 'household', how);
        if (data.divisionCode !== household.divisionCode) throw unchangeable('divisionCode', 'household', how);
      }
      for (const member of members) {
        const current = chunk.state(householdDecider, streamId);
        if (current.status !== 'UNESTABLISHED' && current.household.members.some((m) => m.personId === member.personId)) continue;
        requirePerson(chunk.state(personDecider, personStreamId(member.personId)), member.personId, member.field, { alive: true });
        chunk.decide(householdDecider, streamId, { type: 'joinHousehold', data: { householdId, personId: member.personId, relationToHead: member.relationToHead }, metadata: { now } });
        if (decided === 'unchanged') decided = 'changed';
      }
      return decided;
    },
  };
};

export const personsKind = plannedKind<PersonRecordData>(
  {
    name: 'persons',
    title: '人口登记 persons of the household register',
    resource: RESOURCE,
    department: DEPARTMENT,
    system: SYSTEM,
    schema: personSchema,
  },
  planPerson,
);

export const householdsKind = plannedKind<HouseholdRecordData>(
  {
    name: 'households',
    title: '户籍登记 households and their members',
    resource: RESOURCE,
    department: DEPARTMENT,
    system: SYSTEM,
    schema: householdSchema,
  },
  planHousehold,
);

export const populationIngestKinds: readonly IngestKind[] = [erased(personsKind), erased(householdsKind)];
