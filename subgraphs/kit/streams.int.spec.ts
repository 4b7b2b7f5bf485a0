/**
 * The kit's stream read paths and natural-key claims on PGlite and PostgreSQL: `streamHistory`,
 * `stateAsOf` by instant and by position, and claims that let exactly one of many racing owners in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decider } from '../../events/decider.ts';
import { ConflictError, ValidationError } from '../../events/errors.ts';
import type { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { BACKENDS, freshStorePerTest, type TestBackend } from '../../test/helpers/databases.ts';
import { createTestRegistry, incremented, testMetadata } from '../../test/helpers/events.ts';
import { streamHistory } from './history.ts';
import { defineNaturalKey } from './naturalKey.ts';
import { stateAsOf } from './timeTravel.ts';

type CounterEvent = { type: 'CounterIncremented'; data: { by: number } } | { type: 'CounterReset'; data: { reason: string } };
const counter: Pick<Decider<unknown, CounterEvent, number>, 'initialState' | 'evolve'> = {
  initialState: () => 0,
  evolve: (total, event) => (event.type === 'CounterIncremented' ? total + event.data.by : 0),
};

const plates = defineNaturalKey({ streamPrefix: 'test.plate', claimedType: 'PlateClaimed', releasedType: 'PlateReleased', label: 'plate', ownerLabel: 'vehicle', field: 'plate' });

const pause = () => new Promise((r) => setTimeout(r, 25));

function streamsSuite(makeBackend: () => Promise<TestBackend>): void {
  let store: SqlEventStore;
  freshStorePerTest(makeBackend, () => createTestRegistry().registerAll(plates.eventTypes), (fresh) => ({ store } = fresh));

  describe('history and time travel', () => {
    it('lists a stream’s events with their place in the log and where they came from', async () => {
      const sourced = { ...testMetadata, provenance: { ...testMetadata.provenance, sourceRecordId: 'SRC-1' } };
      await store.append('test.counter-a', [incremented(2, { metadata: sourced }), incremented(3)]);
      const history = await streamHistory(store, 'test.counter-a');
      assert.deepEqual(history.map((e) => [e.type, e.revision, e.data]), [
        ['CounterIncremented', 0, { by: 2 }],
        ['CounterIncremented', 1, { by: 3 }],
      ]);
      assert.equal(history[0]?.provenance.sourceRecordId, 'SRC-1');
      assert.equal(history[0]?.actor.consumerId, 'test-consumer');
      assert.equal(history[0]?.causationId, null);
      assert.ok(Date.parse(history[0]!.recordedAt) <= Date.parse(history[1]!.recordedAt));
      assert.deepEqual(await streamHistory(store, 'test.counter-none'), []);
    });

    it('folds the prefix recorded by an instant, or up to a position, and nothing after it', async () => {
      const [first] = (await store.append('test.counter-b', [incremented(2)])).events;
      await pause();
      const between = new Date().toISOString();
      await pause();
      await store.append('test.counter-b', [incremented(5), { type: 'CounterReset', data: { reason: 'audit' }, metadata: testMetadata }]);
      await store.append('test.counter-b', [incremented(7)]);

      const then = await stateAsOf({ store, streamId: 'test.counter-b', decider: counter, asOf: { at: between } });
      assert.deepEqual([then.state, then.revision, then.events.length], [2, 0, 1]);
      const atPosition = await stateAsOf({ store, streamId: 'test.counter-b', decider: counter, asOf: { position: first!.position } });
      assert.deepEqual([atPosition.state, atPosition.revision], [2, 0]);
      const now = await stateAsOf({ store, streamId: 'test.counter-b', decider: counter, asOf: { at: new Date(Date.now() + 60_000).toISOString() } });
      assert.deepEqual([now.state, now.revision], [7, 3]);
      const before = await stateAsOf({ store, streamId: 'test.counter-b', decider: counter, asOf: { at: '2000-01-01T00:00:00+08:00' } });
      assert.deepEqual([before.state, before.revision, before.events], [0, undefined, []]);
      assert.deepEqual((await streamHistory(store, 'test.counter-b', { asOf: between })).map((e) => e.revision), [0]);
    });

    it('refuses an instant or a position that is not one, with BAD_USER_INPUT', async () => {
      await assert.rejects(stateAsOf({ store, streamId: 'test.counter-c', decider: counter, asOf: { at: 'last tuesday' } }), (e: unknown) => e instanceof ValidationError && /asOf must be an ISO 8601 instant/.test(e.message));
      await assert.rejects(stateAsOf({ store, streamId: 'test.counter-c', decider: counter, asOf: { position: '42' } }), ValidationError);
    });
  });

  describe('natural keys', () => {
    it('lets exactly one of many racing owners claim a key, and refuses the others with CONFLICT', async () => {
      const owners = Array.from({ length: 8 }, (_, i) => `vehicle-${i}`);
      const results = await Promise.allSettled(owners.map((owner) => plates.claim(store, 'LU-A12345', owner, testMetadata)));
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
      assert.equal((await store.readStream(plates.claimStreams(store, 'LU-A12345').streamId)).length, 1);
    });

    it('grants a key again to its holder without appending, and to anyone once released', async () => {
      assert.equal((await plates.claim(store, 'B1', 'v1', testMetadata)).length, 1);
      assert.deepEqual(await plates.claim(store, 'B1', 'v1', testMetadata), []);
      await assert.rejects(plates.claim(store, 'B1', 'v2', testMetadata), /plate B1 is already registered to another vehicle/);
      assert.deepEqual(await plates.release(store, 'B1', 'v2', testMetadata), [], 'only the holder releases');
      assert.equal((await plates.release(store, 'B1', 'v1', testMetadata)).length, 1);
      assert.equal((await plates.claim(store, 'B1', 'v2', testMetadata)).length, 1);
    });
  });
}

for (const makeBackend of BACKENDS) describe(`kit stream read paths on ${makeBackend.name.replace('Backend', '')}`, () => streamsSuite(makeBackend));
