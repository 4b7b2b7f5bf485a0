/**
 * The population register's ingest kinds (`persons`, `households`) on both SQL backends: planned
 * and committed as the channel does, compared with what the mutations' handlers store and refuse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { deliver, ingestMetadata, INGEST_NOW, kindOf, recordsOf, refusalOf, statuses, storePerTest } from '../../test/helpers/ingest.ts';
import { createPopulationHandlers, idNumbers } from './handlers.ts';
import { householdDecider } from './household/decider.ts';
import { makeIdNumber } from './identity/idNumber.ts';
import { populationModule } from './index.ts';
import { personDecider } from './person/decider.ts';
import { personStreamId } from './person/events.ts';
import { entityIdOf } from '../kit/ingestSchema.ts';
import { householdStreamId } from './household/events.ts';

const COMMUNITY = '370102001001';
const OTHER_COMMUNITY = '370103001001';
const persons = kindOf(populationModule, 'persons');
const households = kindOf(populationModule, 'households');

/** A person row as a CSV file gives it: strings, with the residence in dotted columns. */
const personRow = (sourceRecordId: string, sequence: number, extra: Record<string, string> = {}) => ({
  sourceRecordId,
  idNumber: makeIdNumber('370102', '1980-05-04', sequence),
  name: `居民${sequence}`,
  gender: sequence % 2 === 1 ? 'MALE' : 'FEMALE',
  birthDate: '1980-05-04',
  'residence.address': `历下区${sequence}号`,
  'residence.divisionCode': COMMUNITY,
  ...extra,
});
const personIdOf = (sourceRecordId: string) => entityIdOf({ metadata: ingestMetadata(persons, sourceRecordId), sourceRecordId }, 'persons');

for (const openBackend of BACKENDS) {
  describe('population ingest kinds', () => {
    const store = storePerTest(openBackend, [populationModule]);
    const handlers = () => createPopulationHandlers(store());
    const ctx = { metadata: ingestMetadata(persons, 'mutation'), now: INGEST_NOW };

    it('registers persons as registerResident does, claims their ID numbers, and finds a re-delivery already present', async () => {
      const plan = await deliver(store(), persons, [personRow('P1', 11), personRow('P2', 12)]);
      assert.deepEqual(statuses(plan), ['created', 'created']);
      const { state, events } = await store().aggregate(personDecider, personStreamId(personIdOf('P1')));
      assert.equal(state.status, 'REGISTERED');
      const viaMutation = await handlers().registerResident({ personId: 'm1', idNumber: makeIdNumber('370102', '1980-05-04', 13), name: '居民11', gender: 'MALE', birthDate: '1980-05-04', residence: { address: '历下区11号', divisionCode: COMMUNITY } }, ctx);
      const { personId: _a, idNumber: _b, ...ingested } = events[0]!.data as Record<string, unknown>;
      const { personId: _c, idNumber: _d, ...mutated } = viaMutation.events.find((e) => e.type === 'PersonRegistered')!.data as Record<string, unknown>;
      assert.deepEqual(ingested, mutated);
      assert.deepEqual(events[0]!.metadata.provenance, ingestMetadata(persons, 'P1').provenance);
      // The claim is in the store: the mutation refuses the same number for another person.
      await assert.rejects(handlers().registerResident({ personId: 'm2', idNumber: personRow('X', 11).idNumber, name: '他人', gender: 'MALE', birthDate: '1980-05-04', residence: { address: '某处', divisionCode: COMMUNITY } }, ctx), {
        code: 'CONFLICT',
      });
      const again = await persons.plan(store(), recordsOf(persons, [personRow('P1', 11), personRow('P2', 12)]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent', 'alreadyPresent'], []]);
    });

    it('refuses a record that breaks a register rule with the mutation’s message and field, appending nothing of it', async () => {
      const bad = { ...personRow('P1', 11), idNumber: `${personRow('P1', 11).idNumber.slice(0, 17)}0` };
      const wrongGender = { ...personRow('P2', 12), gender: 'MALE' };
      const plan = await persons.plan(store(), recordsOf(persons, [bad, wrongGender, personRow('P3', 13)]), INGEST_NOW);
      const expected = await refusalOf(() => handlers().registerResident({ personId: 'm1', idNumber: bad.idNumber, name: bad.name, gender: 'MALE', birthDate: bad.birthDate, residence: { address: 'x', divisionCode: COMMUNITY } }, ctx));
      assert.deepEqual(plan.outcomes[0], { status: 'rejected', ...expected });
      assert.equal(expected.field, 'idNumber');
      const gender = await refusalOf(() => handlers().registerResident({ personId: 'm2', idNumber: wrongGender.idNumber, name: wrongGender.name, gender: 'MALE', birthDate: wrongGender.birthDate, residence: { address: 'x', divisionCode: COMMUNITY } }, ctx));
      assert.deepEqual(plan.outcomes[1], { status: 'rejected', ...gender, field: 'gender' });
      assert.deepEqual(plan.appends.map((a) => a.streamId), [personStreamId(personIdOf('P3')), idNumbers.claimStreams(store(), personRow('P3', 13).idNumber).streamId]);
    });

    it('refuses the second record of one ID number in a chunk with the registration’s CONFLICT, as the mutation does later', async () => {
      const plan = await deliver(store(), persons, [personRow('P1', 11), personRow('P9', 11)]);
      const expected = await refusalOf(() => handlers().registerResident({ personId: 'm1', idNumber: personRow('P1', 11).idNumber, name: '居民11', gender: 'MALE', birthDate: '1980-05-04', residence: { address: 'x', divisionCode: COMMUNITY } }, ctx));
      assert.deepEqual(plan.outcomes[1], { status: 'rejected', ...expected });
      assert.equal(expected.code, 'CONFLICT');
      assert.equal(await store().streamRevision(personStreamId(personIdOf('P9'))), undefined);
    });

    it('delivers a full snapshot again as increments: unchanged appends nothing, a new residence is a ResidenceChanged, the rest is refused', async () => {
      await deliver(store(), persons, [personRow('P1', 11), personRow('P2', 12), personRow('P3', 13)]);
      const moved = personRow('P2', 12, { 'residence.address': '市中区1号', 'residence.divisionCode': OTHER_COMMUNITY, movedOn: '2026-02-20' });
      const renamed = personRow('P3', 13, { name: '改名' });
      // P1 is re-sent with its fields in another order and one column left empty: the same record.
      const { name, ...p1 } = personRow('P1', 11);
      const plan = await deliver(store(), persons, [{ movedOn: '', name, ...p1 }, moved, renamed]);
      assert.deepEqual(plan.outcomes, [
        { status: 'alreadyPresent' },
        { status: 'changed' },
        { status: 'rejected', code: 'BAD_USER_INPUT', message: 'name differs from what the register holds for this person; a register delivery changes a person’s residence only; correct the source record', field: 'name' },
      ]);
      assert.deepEqual(plan.appends.map((a) => [a.streamId, a.events.map((e) => e.type)]), [[personStreamId(personIdOf('P2')), ['ResidenceChanged']]]);
      const { state } = await store().aggregate(personDecider, personStreamId(personIdOf('P2')));
      assert.deepEqual(state.status === 'REGISTERED' && state.person.residence, { address: '市中区1号', divisionCode: OTHER_COMMUNITY });
      // A corrected record that says what the register holds is unchanged: a new key, nothing appended.
      const same = await deliver(store(), persons, [{ ...moved, movedOn: '2026-02-21' }]);
      assert.deepEqual([statuses(same), same.appends], [['unchanged'], []]);
    });

    it('lets no delivery reach another department’s person: its source ids name its own entities, a named personId is dropped, the ID number stays claimed', async () => {
      await deliver(store(), persons, [personRow('P1', 11)]);
      const victim = personIdOf('P1');
      const before = await store().readStream(personStreamId(victim));
      const other = await persons.plan(store(), recordsOf(persons, [{ ...personRow('P1', 11, { 'residence.address': '别处' }), personId: victim }], 'civil-affairs'), INGEST_NOW);
      assert.deepEqual(other.outcomes, [{ status: 'rejected', code: 'CONFLICT', message: `ID number ${personRow('P1', 11).idNumber} is already registered to another person; one person per ID number`, field: 'idNumber' }]);
      assert.deepEqual(other.appends, []);
      const moved = await persons.plan(store(), recordsOf(persons, [{ ...personRow('P2', 12, { 'residence.address': '别处' }), personId: victim }], 'civil-affairs'), INGEST_NOW);
      assert.deepEqual(statuses(moved), ['created']);
      assert.ok(moved.appends.every((a) => a.streamId !== personStreamId(victim)));
      assert.deepEqual(await store().readStream(personStreamId(victim)), before);
    });

    it('establishes households with members named by their persons records, adds new members later, and refuses missing persons as the mutation does', async () => {
      await deliver(store(), persons, [personRow('P1', 11), personRow('P2', 12), personRow('P3', 13)]);
      const household = { sourceRecordId: 'H1', headSourceRecordId: 'P1', address: '历下区11号', divisionCode: COMMUNITY, members: JSON.stringify([{ personSourceRecordId: 'P2', relationToHead: 'SPOUSE' }]) };
      const missing = { sourceRecordId: 'H2', headId: 'nobody', address: '某处', divisionCode: COMMUNITY };
      const first = await deliver(store(), households, [household, missing]);
      const expected = await refusalOf(() => handlers().establishHousehold({ householdId: 'm1', headId: 'nobody', address: '某处', divisionCode: COMMUNITY }, ctx));
      assert.deepEqual(first.outcomes, [{ status: 'created' }, { status: 'rejected', ...expected }]);
      assert.equal(expected.field, 'headId');
      const householdId = entityIdOf({ metadata: ingestMetadata(households, 'H1'), sourceRecordId: 'H1' }, 'households');
      const grown = await deliver(store(), households, [{ ...household, members: [{ personSourceRecordId: 'P2', relationToHead: 'SPOUSE' }, { personSourceRecordId: 'P3', relationToHead: 'CHILD' }] }]);
      assert.deepEqual(statuses(grown), ['changed']);
      assert.deepEqual(grown.appends.flatMap((a) => a.events.map((e) => e.type)), ['HouseholdMemberJoined']);
      const { state } = await store().aggregate(householdDecider, householdStreamId(householdId));
      assert.deepEqual(state.status === 'ACTIVE' && state.household.members.map((m) => m.relationToHead), ['SELF', 'SPOUSE', 'CHILD']);
      const moved = await deliver(store(), households, [{ ...household, address: '别处' }]);
      assert.deepEqual(moved.outcomes.map((o) => o.status === 'rejected' && o.field), ['address']);
      assert.deepEqual(moved.appends, []);
    });
  });
}
