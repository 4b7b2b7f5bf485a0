/**
 * The batch planner on both SQL backends: a chunk decided on one read, in order, with the same
 * refusals `handle` gives, natural-key claims in the plan, and re-delivery found by idempotency key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decider } from '../../events/decider.ts';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { InvalidTransitionError } from '../../events/errors.ts';
import type { EventStore } from '../../events/types.ts';
import { BACKENDS, freshStorePerTest } from '../../test/helpers/databases.ts';
import { TEST_EVENT_TYPES, testMetadata } from '../../test/helpers/events.ts';
import { planChunk, planCommands, type BatchCommand, type RecordPlanner } from './batchPlan.ts';
import { handle } from './command.ts';
import { defineNaturalKey } from './naturalKey.ts';

type CounterEvent = { type: 'CounterIncremented'; data: { by: number } } | { type: 'CounterReset'; data: { reason: string } };
type CounterCommand = { id: string; by: number; max: number; needs?: string };
type CounterState = { total: number };

const counter: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: () => ({ total: 0 }),
  decide(command, state) {
    if (command.by === 0) return [];
    if (state.total + command.by > command.max) throw new InvalidTransitionError('increment', String(state.total), []);
    return [{ type: 'CounterIncremented', data: { by: command.by } }];
  },
  evolve: (state, event) => (event.type === 'CounterIncremented' ? { total: state.total + event.data.by } : { total: 0 }),
};
const streamOf = (c: CounterCommand) => `test.counter-${c.id}`;
const references = (c: CounterCommand) => (c.needs ? [{ field: 'needs', label: 'counter', id: c.needs, streamId: `test.counter-${c.needs}` }] : []);
const plan = planCommands(counter, streamOf, { references });
const at = '2026-03-01T08:00:00.000Z';
const item = (key: string, command: CounterCommand): BatchCommand<CounterCommand> => ({ command, metadata: testMetadata, idempotencyKey: key });

const codes = defineNaturalKey({ streamPrefix: 'test.code', claimedType: 'CodeClaimed', releasedType: 'CodeReleased', label: 'code', ownerLabel: 'counter', field: 'code' });

/** Counts stream reads so a test can prove a chunk is read once. */
function counting(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const wrapped = Object.create(store) as EventStore;
  wrapped.readStreams = (ids) => {
    reads++;
    return store.readStreams(ids);
  };
  wrapped.readStream = (...args) => {
    reads++;
    return store.readStream(...args);
  };
  wrapped.streamRevision = (id) => {
    reads++;
    return store.streamRevision(id);
  };
  return { store: wrapped, reads: () => reads };
}

for (const openBackend of BACKENDS) {
  describe('the batch planner (planChunk, planCommands)', () => {
    let store: SqlEventStore;

    freshStorePerTest(
      openBackend,
      () => new EventRegistry().registerAll([...TEST_EVENT_TYPES, ...codes.eventTypes]),
      (fresh) => {
        store = fresh.store;
      },
    );

    it('decides a chunk on one read, later commands seeing earlier ones, and commits to what handle would store', async () => {
      const { store: counted, reads } = counting(store);
      const result = await plan(counted, [item('k1', { id: 'a', by: 2, max: 10 }), item('k2', { id: 'a', by: 3, max: 10 }), item('k3', { id: 'a', by: 9, max: 10 }), item('k4', { id: 'a', by: 0, max: 10 })], at);
      assert.equal(reads(), 1);
      assert.deepEqual(result.outcomes, [
        { status: 'created' },
        { status: 'created' },
        { status: 'rejected', code: 'INVALID_TRANSITION', message: 'cannot increment while the status is 5; allowed next steps: none' },
        { status: 'unchanged' },
      ]);
      assert.deepEqual(
        result.appends.map((a) => [a.streamId, a.options?.expectedRevision, a.events.length]),
        [
          ['test.counter-a', 'no_stream', 1],
          ['test.counter-a', 0, 1],
        ],
      );
      await store.appendMany(result.appends);
      const { state } = await store.aggregate(counter, 'test.counter-a');
      assert.deepEqual(state, { total: 5 });
      // The same refusal through the mutation's seam:
      await assert.rejects(handle(counter, streamOf)(store, { id: 'a', by: 9, max: 10 }, testMetadata), { message: 'cannot increment while the status is 5; allowed next steps: none' });
    });

    it('finds a re-delivered chunk by its keys (stored and earlier in the chunk) and plans nothing', async () => {
      const chunk = [item('k1', { id: 'a', by: 1, max: 10 }), item('k2', { id: 'b', by: 1, max: 10 })];
      await store.appendMany((await plan(store, chunk, at)).appends);
      const again = await plan(store, [...chunk, item('k3', { id: 'a', by: 1, max: 10 }), item('k3', { id: 'a', by: 1, max: 10 })], at);
      assert.deepEqual(
        again.outcomes.map((o) => o.status),
        ['alreadyPresent', 'alreadyPresent', 'created', 'alreadyPresent'],
      );
      assert.equal(again.appends.length, 1);
      const [written] = await store.appendMany(again.appends);
      assert.equal(written?.replayed, false);
      assert.equal((await store.readStream('test.counter-a')).length, 2);
    });

    it('refuses a command naming a missing entity with handle’s message, unless an earlier command made it', async () => {
      const result = await plan(store, [item('k1', { id: 'a', by: 1, max: 10, needs: 'z' }), item('k2', { id: 'z', by: 1, max: 10 }), item('k3', { id: 'a', by: 1, max: 10, needs: 'z' })], at);
      assert.deepEqual(result.outcomes[0], { status: 'rejected', code: 'BAD_USER_INPUT', message: 'needs z is not a registered counter; register it first or name another', field: 'needs' });
      assert.deepEqual(result.outcomes.slice(1), [{ status: 'created' }, { status: 'created' }]);
      assert.deepEqual(result.appends.map((a) => a.streamId), ['test.counter-z', 'test.counter-a']);
      await assert.rejects(handle(counter, streamOf, { references })(store, { id: 'a', by: 1, max: 10, needs: 'y' }, testMetadata), { message: 'needs y is not a registered counter; register it first or name another' });
    });

    it('decides a chunk on top of the previous chunk’s plan before it is committed: its streams as that plan leaves them, the others read', async () => {
      const first = await plan(store, [item('k1', { id: 'a', by: 2, max: 10 }), item('k2', { id: 'z', by: 1, max: 10 })], at);
      const { store: counted, reads } = counting(store);
      const next = await plan(
        counted,
        [item('k1', { id: 'a', by: 2, max: 10 }), item('k3', { id: 'a', by: 3, max: 10 }), item('k4', { id: 'b', by: 1, max: 10, needs: 'z' }), item('k5', { id: 'a', by: 9, max: 10 })],
        at,
        first,
      );
      assert.equal(reads(), 1);
      assert.deepEqual(
        next.outcomes.map((o) => o.status),
        ['alreadyPresent', 'created', 'created', 'rejected'],
        'k1 is in the first plan, z is created by it, a stands at 5 after it',
      );
      assert.deepEqual(
        next.appends.map((a) => [a.streamId, a.options?.expectedRevision]),
        [
          ['test.counter-a', 0],
          ['test.counter-b', 'no_stream'],
        ],
      );
      // It holds only once the first plan is committed: before, its expected revisions refuse it, writing nothing.
      await assert.rejects(store.appendMany(next.appends), { name: 'ConcurrencyError' });
      assert.deepEqual(await store.readStreams(['test.counter-a', 'test.counter-b']), [[], []]);
      await store.appendMany(first.appends);
      await store.appendMany(next.appends);
      assert.deepEqual((await store.aggregate(counter, 'test.counter-a')).state, { total: 5 });
      assert.deepEqual((await store.aggregate(counter, 'test.counter-b')).state, { total: 1 });
    });

    it('plans natural-key claims: a second owner of one key in the chunk is refused with the claim’s CONFLICT, and its other streams are discarded', async () => {
      type Registration = { id: string; code: string };
      const planner: RecordPlanner<Registration> = ({ data }) => ({
        primaryStream: `test.counter-${data.id}`,
        streams: [],
        claims: [{ key: codes, value: data.code }],
        decide(chunk) {
          chunk.decide(counter, `test.counter-${data.id}`, { id: data.id, by: 1, max: 10 });
          chunk.claim(codes, data.code, data.id);
          return 'created';
        },
      });
      const record = (line: number, data: Registration) => ({ line, sourceRecordId: String(line), data, metadata: testMetadata, idempotencyKey: `key-${line}` });
      const result = await planChunk(store, planner, [record(1, { id: 'a', code: 'X1' }), record(2, { id: 'b', code: 'X1' })], at);
      assert.deepEqual(result.outcomes[1], { status: 'rejected', code: 'CONFLICT', message: 'code X1 is already registered to another counter; one counter per code', field: 'code' });
      assert.deepEqual(
        result.appends.map((a) => [a.streamId, a.options?.expectedRevision]),
        [
          ['test.counter-a', 'no_stream'],
          ['test.code-X1', 'no_stream'],
        ],
      );
      await store.appendMany(result.appends);
      // The mutation's claim refuses the same owner change with the same message:
      await assert.rejects(codes.claim(store, 'X1', 'c', testMetadata), { message: 'code X1 is already registered to another counter; one counter per code' });
      assert.equal(await store.streamRevision('test.counter-b'), undefined);
      const replan = await planChunk(store, planner, [record(1, { id: 'a', code: 'X1' })], at);
      assert.deepEqual([replan.outcomes, replan.appends], [[{ status: 'alreadyPresent' }], []]);
    });

    it('fails the commit as a whole when another writer moved a stream after the read', async () => {
      const result = await plan(store, [item('k1', { id: 'a', by: 1, max: 10 }), item('k2', { id: 'b', by: 1, max: 10 })], at);
      await handle(counter, streamOf)(store, { id: 'b', by: 1, max: 10 }, testMetadata);
      await assert.rejects(store.appendMany(result.appends), { code: 'CONFLICT' });
      assert.equal(await store.streamRevision('test.counter-a'), undefined);
    });
  });
}
