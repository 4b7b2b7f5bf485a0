import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Decider } from '../../events/decider.ts';
import { ConcurrencyError, InvalidTransitionError, ValidationError } from '../../events/errors.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { createTestRegistry, testMetadata } from '../../test/helpers/events.ts';
import { commandOptionsOf, givenFields, newEntityId, handle } from './command.ts';
import { KnownStreams } from './knownStreams.ts';

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
  describe('the command seam (handle)', () => {
    let backend: TestBackend;
    let store: SqlEventStore;
    const handleCounter = handle(counter, () => 'test.counter-1');
    const run = (command: CounterCommand, idempotencyKey?: string) => handleCounter(store, command, testMetadata, idempotencyKey ? { idempotencyKey } : {});

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
      const totals = (await store.readStream<CounterEvent>('test.counter-1')).map((e) => (e.type === 'CounterIncremented' ? e.data.by : 0));
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

    it('refuses a revision the stream has moved past with CONFLICT, and appends nothing', async () => {
      await run({ type: 'increment', by: 1, max: 10 });
      await assert.rejects(handleCounter(store, { type: 'increment', by: 1, max: 10 }, testMetadata, { expectedRevision: -1 }), ConcurrencyError);
      assert.equal(await store.streamRevision('test.counter-1'), 0);
    });

    it('refuses a command naming an entity that does not exist, naming the field, before deciding', async () => {
      const guarded = handle(counter, () => 'test.counter-1', {
        references: () => [{ field: 'ownerId', label: 'counter', id: 'owner-1', streamId: 'test.counter-owner-1' }],
      });
      await assert.rejects(guarded(store, { type: 'increment', by: 1, max: 10 }, testMetadata), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.code, 'BAD_USER_INPUT');
        assert.deepEqual(error.details, { field: 'ownerId' });
        return true;
      });
      assert.equal(await store.streamRevision('test.counter-1'), undefined);
      await store.append('test.counter-owner-1', [{ type: 'CounterIncremented', data: { by: 1 }, metadata: testMetadata }]);
      assert.deepEqual((await guarded(store, { type: 'increment', by: 1, max: 10 }, testMetadata)).state, { total: 1 });
    });

    it('decides on a kept fold without reading, and on the stream itself when another writer overtook the fold', async () => {
      const folds = new KnownStreams<CounterState>(10);
      const kept = handle(counter, () => 'test.counter-1', { keepFolds: { of: () => folds, startsStream: () => true } });
      let reads = 0;
      const realAggregate = store.aggregate.bind(store);
      store.aggregate = (...args) => {
        reads++;
        return realAggregate(...args);
      };
      await kept(store, { type: 'increment', by: 1, max: 10 }, testMetadata);
      await kept(store, { type: 'increment', by: 2, max: 10 }, testMetadata);
      assert.deepEqual([reads, folds.get('test.counter-1')], [0, { state: { total: 3 }, revision: 1 }]);
      // Another writer appends behind the fold's back: the kept fold's append is refused by its revision.
      await store.append('test.counter-1', [{ type: 'CounterIncremented', data: { by: 5 }, metadata: testMetadata }]);
      const result = await kept(store, { type: 'increment', by: 2, max: 10 }, testMetadata);
      assert.deepEqual([result.state, result.revision, reads], [{ total: 10 }, 3, 1]);
      // Decided on the stream, a refusal is the stream's (10 + 1 > 10), and the fold is forgotten.
      await store.append('test.counter-1', [{ type: 'CounterReset', data: { reason: 'behind the fold' }, metadata: testMetadata }]);
      assert.deepEqual((await kept(store, { type: 'increment', by: 1, max: 10 }, testMetadata)).state, { total: 1 });
      assert.equal((await store.readStream('test.counter-1')).length, 6);
    });
  });
}

describe('commandOptionsOf', () => {
  const alice = { consumerId: 'alice' };
  it('takes what GraphQL leaves null or empty as not sent', () => {
    assert.deepEqual(commandOptionsOf({ idempotencyKey: null, expectedRevision: null }, alice), {});
    assert.deepEqual(commandOptionsOf({ idempotencyKey: '', expectedRevision: 0 }, alice), { expectedRevision: 0 });
  });

  it("scopes the key by the consumer, so two consumers' equal keys are two keys", () => {
    const own = commandOptionsOf({ idempotencyKey: 'k-1' }, alice).idempotencyKey;
    assert.equal(own, commandOptionsOf({ idempotencyKey: 'k-1' }, alice).idempotencyKey);
    assert.notEqual(own, commandOptionsOf({ idempotencyKey: 'k-1' }, { consumerId: 'bob' }).idempotencyKey);
  });
});

describe('givenFields', () => {
  it('leaves out what GraphQL sends as null or the client omitted, and keeps every value given, falsy ones too', () => {
    assert.deepEqual(givenFields({ reason: null, note: undefined }), {});
    assert.deepEqual(givenFields({ reason: '', passed: false, days: 0, note: null }), { reason: '', passed: false, days: 0 });
  });
});

describe('newEntityId', () => {
  const alice = { consumerId: 'alice' };
  it("keeps the client's own id", () => {
    assert.equal(newEntityId('00000000-0000-4000-8000-000000000001', { idempotencyKey: 'k' }, alice, 'reportIncident'), '00000000-0000-4000-8000-000000000001');
  });

  it('names the same entity for the same consumer, mutation and key, and another for any of them changed', () => {
    const first = newEntityId(null, { idempotencyKey: 'k' }, alice, 'reportIncident');
    assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(newEntityId(undefined, { idempotencyKey: 'k' }, alice, 'reportIncident'), first);
    assert.notEqual(newEntityId(null, { idempotencyKey: 'k' }, { consumerId: 'bob' }, 'reportIncident'), first);
    assert.notEqual(newEntityId(null, { idempotencyKey: 'k' }, alice, 'registerResident'), first);
    assert.notEqual(newEntityId(null, { idempotencyKey: 'k2' }, alice, 'reportIncident'), first);
  });

  it('is random without a key', () => {
    assert.notEqual(newEntityId(null, { idempotencyKey: null }, alice, 'reportIncident'), newEntityId(null, {}, alice, 'reportIncident'));
  });
});
