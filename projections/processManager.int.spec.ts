/**
 * The process-manager runtime on both SQL backends, with a manager over the test counter events:
 * an increment of 10 or more schedules a reset of its counter one hour after it was recorded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decider } from '../events/decider.ts';
import { ValidationError } from '../events/errors.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { RecordedEvent } from '../events/types.ts';
import { handle } from '../subgraphs/kit/command.ts';
import { BACKENDS, freshStorePerTest } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented } from '../test/helpers/events.ts';
import { processManagerProjection, ProcessManagerRuntime, type ProcessManager, type ScheduledItem } from './processManager.ts';
import { SqlReadModels } from './sql/readModels.ts';
import { ProjectionRunner } from './runner.ts';

type CounterEvent = { type: 'CounterIncremented'; data: { by: number } } | { type: 'CounterReset'; data: { reason: string } };
type ResetCounter = { type: 'resetCounter'; reason: string };

const counterDecider: Decider<ResetCounter, CounterEvent, { total: number }> = {
  initialState: () => ({ total: 0 }),
  decide: (command, state) => (state.total === 0 ? [] : [{ type: 'CounterReset', data: { reason: command.reason } }]),
  evolve: (state, event) => (event.type === 'CounterReset' ? { total: 0 } : { total: state.total + event.data.by }),
};

const HOUR = 3_600_000;

function resetManager(options: { failOn?: string; refuse?: boolean } = {}): ProcessManager<{ streamId: string }> {
  return {
    name: 'test.resets',
    version: 1,
    department: 'test-department',
    eventTypes: ['CounterIncremented', 'CounterReset'],
    async react(event, ctx) {
      if (event.type === 'CounterReset') return ctx.cancel(event.streamId);
      if ((event.data as { by: number }).by < 10) return;
      await ctx.schedule({
        id: event.streamId,
        dueAt: new Date(Date.parse(event.recordedAt) + HOUR).toISOString(),
        idempotencyKey: `test.resets:${event.eventId}`,
        payload: { streamId: event.streamId },
      });
    },
    async issue(item, ctx) {
      if (options.refuse) throw new ValidationError('refused on purpose');
      if (item.id === options.failOn) throw new Error('the process died here');
      return handle(counterDecider, () => item.payload.streamId)(ctx.store, { type: 'resetCounter', reason: `over 10 since ${item.dueAt}` }, ctx.metadata, {
        idempotencyKey: item.idempotencyKey,
      });
    },
  };
}

for (const openBackend of BACKENDS) {
  describe(`process managers on ${openBackend.name.replace('Backend', '')}`, () => {
    let db: SqlDatabase;
    let store: SqlEventStore;
    let clock: number;
    const now = () => new Date(clock);

    /** A projector that catches up and exits, releasing its lock, as a restarted process would. */
    const project = async (manager = resetManager()): Promise<void> => {
      const runner = new ProjectionRunner(db, store, [processManagerProjection(manager)]);
      await runner.catchUp();
      await runner.stop();
    };
    const runtime = (manager = resetManager()) =>
      new ProcessManagerRuntime({ store, readModels: new SqlReadModels(db, 0), now }, [manager], { retryAfterMs: 60_000 });
    const resets = async (streamId: string): Promise<RecordedEvent[]> =>
      (await store.readStream(streamId)).filter((e) => e.type === 'CounterReset');
    const scheduled = async (): Promise<ScheduledItem[]> =>
      (await new SqlReadModels(db, 0).of('test.resets').collection<ScheduledItem>('schedule').find()).items.map((i) => i.node.doc);

    freshStorePerTest(openBackend, createTestRegistry, (fresh) => {
      ({ db, store } = fresh);
      clock = Date.now();
    });

    it('issues a command only once its deadline has passed in virtual time, then forgets it', async () => {
      await store.append('test.counter-a', [incremented(12)]);
      await store.append('test.counter-b', [incremented(3)]);
      await project();
      const pm = runtime();
      assert.deepEqual((await pm.tick())[0]?.issued, []);
      assert.equal((await resets('test.counter-a')).length, 0);

      clock += HOUR + 60_000;
      const [report] = await pm.tick();
      assert.deepEqual(report?.issued, ['test.counter-a']);
      const [reset] = await resets('test.counter-a');
      assert.equal(reset?.metadata.actor.consumerId, 'process-manager:test.resets');
      assert.equal(reset?.metadata.causationId, (await store.readStream('test.counter-a'))[0]?.eventId);
      assert.equal((await resets('test.counter-b')).length, 0);

      await project();
      assert.deepEqual(await scheduled(), []);
      clock += 10 * HOUR;
      assert.deepEqual((await pm.tick())[0], { manager: 'test.resets', issued: [], replayed: [], unchanged: [], failed: [], deferred: 0 });
    });

    it('issues nothing twice when a process restarts before its command was projected', async () => {
      await store.append('test.counter-a', [incremented(12)]);
      await project();
      clock += 2 * HOUR;
      assert.deepEqual((await runtime().tick())[0]?.issued, ['test.counter-a']);
      // The first process dies here; a new one (empty memory) finds the item still scheduled.
      const [again] = await runtime().tick();
      assert.deepEqual(again?.replayed, ['test.counter-a']);
      assert.deepEqual(again?.issued, []);
      assert.equal((await resets('test.counter-a')).length, 1);
      await project();
      assert.deepEqual(await scheduled(), []);
    });

    it('completes a tick that died half-way without repeating the commands already issued', async () => {
      for (const id of ['a', 'b', 'c']) await store.append(`test.counter-${id}`, [incremented(20)]);
      await project();
      clock += 2 * HOUR;
      const [crashed] = await runtime(resetManager({ failOn: 'test.counter-b' })).tick();
      assert.deepEqual(crashed?.issued, ['test.counter-a', 'test.counter-c']);
      assert.equal(crashed?.failed[0]?.id, 'test.counter-b');

      const [restarted] = await runtime().tick();
      assert.deepEqual(restarted?.issued, ['test.counter-b']);
      assert.deepEqual(restarted?.replayed, ['test.counter-a', 'test.counter-c']);
      for (const id of ['a', 'b', 'c']) assert.equal((await resets(`test.counter-${id}`)).length, 1, id);
    });

    it('appends each command once when two processes tick at the same moment', async () => {
      for (let i = 0; i < 5; i++) await store.append(`test.counter-${i}`, [incremented(10 + i)]);
      await project();
      clock += 2 * HOUR;
      const reports = (await Promise.all([runtime().tick(), runtime().tick()])).flat();
      const issued = reports.flatMap((r) => r.issued);
      assert.equal(issued.length + reports.flatMap((r) => r.replayed).length, 10);
      for (let i = 0; i < 5; i++) assert.equal((await resets(`test.counter-${i}`)).length, 1, `counter ${i}`);
    });

    it('keeps the schedule across a projector restart, since it is checkpointed with the read model', async () => {
      await store.append('test.counter-a', [incremented(15)]);
      await project();
      await store.append('test.counter-b', [incremented(15)]);
      await project(); // a new runner resumes from the checkpoint: a is not scheduled twice
      assert.deepEqual((await scheduled()).map((i) => i.id).sort(), ['test.counter-a', 'test.counter-b']);
      clock += 2 * HOUR;
      assert.deepEqual((await runtime().tick())[0]?.issued.sort(), ['test.counter-a', 'test.counter-b']);
    });

    it('retries a refused command only after the retry interval, in virtual time', async () => {
      await store.append('test.counter-a', [incremented(12)]);
      await project();
      clock += 2 * HOUR;
      const refusing = runtime(resetManager({ refuse: true }));
      assert.match((await refusing.tick())[0]?.failed[0]?.error ?? '', /refused on purpose/);
      assert.equal((await refusing.tick())[0]?.deferred, 1);
      clock += 61_000;
      assert.equal((await refusing.tick())[0]?.failed.length, 1);
      assert.equal((await resets('test.counter-a')).length, 0);
    });
  });
}
