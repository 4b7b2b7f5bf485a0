import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Decider } from '../../events/decider.ts';
import { ConcurrencyError, InvalidTransitionError } from '../../events/errors.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { createTestRegistry, testMetadata } from '../../test/helpers/events.ts';
import { executeCommand } from './command.ts';

type CounterEvent = { type: 'CounterIncremented'; data: { by: number } } | { type: 'CounterReset'; data: { reason: string } };
type CounterCommand = { type: 'increment'; by: number; max: number } | { type: 'reset' };
type CounterState = { total: number };

const counter: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: () => ({ total: 0 }),
  decide(command, state) {
    if (command.type === 'reset') return state.total === 0 ? [] : [{ type: 'CounterReset', data: { reason: 'asked' } }];
    if (state.total + command.by > command.max) {
      throw new InvalidTransitionError('increment', String(state.total), []);
    }
    return [{ type: 'CounterIncremented', data: { by: command.by } }];
  },
  evolve: (state, event) => (event.type === 'CounterIncremented' ? { total: state.total + event.data.by } : { total: 0 }),
};

for (const openBackend of BACKENDS) {
  describe('executeCommand', () => {
    let backend: TestBackend;
    let store: SqlEventStore;
    const run = (command: CounterCommand, idempotencyKey?: string) =>
      executeCommand({ store, streamId: 'test.counter-1', decider: counter, command, metadata: testMetadata, ...(idempotencyKey && { idempotencyKey }) });

    before(async () => {
      backend = await openBackend();
    });
    beforeEach(async () => {
      await store?.close();
      store = await SqlEventStore.open(await backend.fresh(), createTestRegistry());
    });
    after(async () => {
      await store.close();
      await backend.dispose();
    });

    it('folds the stream, decides and appends with the revision it read', async () => {
      const first = await run({ type: 'increment', by: 2, max: 10 });
      assert.deepEqual([first.state, first.revision, first.events.length, first.replayed], [{ total: 2 }, 0, 1, false]);
      const second = await run({ type: 'increment', by: 3, max: 10 });
      assert.deepEqual([second.state, second.revision], [{ total: 5 }, 1]);
    });

    it('appends nothing when the decision is that there is nothing to do', async () => {
      const result = await run({ type: 'reset' });
      assert.deepEqual([result.events, result.revision], [[], undefined]);
      assert.equal(await store.streamRevision('test.counter-1'), undefined);
    });

    it('refuses an illegal command and appends nothing', async () => {
      await run({ type: 'increment', by: 5, max: 10 });
      await assert.rejects(run({ type: 'increment', by: 6, max: 10 }), InvalidTransitionError);
      assert.equal((await store.readStream('test.counter-1')).length, 1);
    });

    it('retries once against the fresh state when another writer got there first', async () => {
      await run({ type: 'increment', by: 1, max: 10 });
      // A concurrent writer lands between our read and our append, exactly once.
      const realAppend = store.append.bind(store);
      let interfered = false;
      store.append = async (streamId, events, options) => {
        if (!interfered) {
          interfered = true;
          await realAppend(streamId, [{ type: 'CounterIncremented', data: { by: 4 }, metadata: testMetadata }], { expectedRevision: 0 });
        }
        return realAppend(streamId, events, options);
      };
      const result = await run({ type: 'increment', by: 2, max: 10 });
      assert.deepEqual([result.state, result.revision], [{ total: 7 }, 2]);
    });

    it('reports a second conflict in a row as a ConcurrencyError and writes nothing of its own', async () => {
      await run({ type: 'increment', by: 1, max: 100 });
      const realAppend = store.append.bind(store);
      store.append = async (streamId, events, options) => {
        await realAppend(streamId, [{ type: 'CounterIncremented', data: { by: 10 }, metadata: testMetadata }]);
        return realAppend(streamId, events, options);
      };
      await assert.rejects(run({ type: 'increment', by: 2, max: 100 }), ConcurrencyError);
      const totals = (await store.readStream('test.counter-1')).map((e) => (e.data as { by: number }).by);
      assert.deepEqual(totals, [1, 10, 10], 'only the interfering writer appended');
    });

    it('answers a re-sent command from the stream instead of deciding it again', async () => {
      const first = await run({ type: 'increment', by: 6, max: 10 }, 'request-1');
      // Deciding again would refuse (6 + 6 > 10): the idempotency key must short-circuit it.
      const again = await run({ type: 'increment', by: 6, max: 10 }, 'request-1');
      assert.equal(again.replayed, true);
      assert.deepEqual(again.events.map((e) => e.eventId), first.events.map((e) => e.eventId));
      assert.deepEqual(again.state, { total: 6 });
      assert.equal((await store.readStream('test.counter-1')).length, 1);
    });
  });
}
