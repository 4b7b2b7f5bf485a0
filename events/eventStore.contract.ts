/**
 * The contract every EventStore backend passes. `eventStore.int.spec.ts` runs it against PGlite and
 * PostgreSQL, `kurrentdb/kurrentEventStore.int.spec.ts` against KurrentDB; a backend supplies an
 * `EventStoreHarness` (how to open an empty store and look behind it), never a copy of this suite.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import { ConcurrencyError, ConflictError, ValidationError } from './errors.ts';
import { comparePositions } from './position.ts';
import { SqlEventStore } from './sql/sqlEventStore.ts';
import { START, type EventStore, type EventSubscription, type RecordedEvent } from './types.ts';
import type { TestBackend } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, testMetadata, waitUntilVisible } from '../test/helpers/events.ts';

async function take(subscription: EventSubscription, count: number, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  for await (const event of subscription) {
    out.push(event);
    if (out.length === count) break;
  }
  clearTimeout(timer);
  return out;
}

/** What the suite needs from a backend besides the `EventStore` port itself. */
export interface EventStoreHarness {
  /** A store over an empty log, with the test event types registered. */
  fresh(options: { maxEventBytes: number }): Promise<EventStore>;
  /** Every event stored in the log `fresh()` opened, to prove that a refused append wrote nothing. */
  countEvents(): Promise<number>;
  /** Stores an event the way older code wrote it (no validation), to test upcasting on read. */
  writeLegacyEvent(streamId: string, type: string, schemaVersion: number, data: unknown): Promise<void>;
  /** Updates and deletes stored events behind the store's back; absent where the engine has no such statement. */
  tamper?: { update(): Promise<unknown>; remove(): Promise<unknown> };
  /** Whether an event id is unique across streams, not only within its stream. */
  uniqueEventIdsAcrossStreams: boolean;
  /** Whether `appendMany` writes all its appends or none (one transaction). */
  atomicAppendMany: boolean;
  /** PostgreSQL only: where a second session can hold a transaction open. */
  url?: string;
  dispose(): Promise<void>;
}

/** The SQL backends (PGlite, PostgreSQL) as a harness. */
export function sqlEventStoreHarness(openBackend: () => Promise<TestBackend>): () => Promise<EventStoreHarness> {
  return async () => {
    const backend = await openBackend();
    let store: SqlEventStore | undefined;
    const db = () => {
      if (!store) throw new Error('open a store with fresh() first');
      return store.db;
    };
    return {
      async fresh(options) {
        store = await SqlEventStore.open(await backend.fresh(), createTestRegistry(), options);
        return store;
      },
      async countEvents() {
        const { rows } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM es_events');
        return rows[0]!.n;
      },
      async writeLegacyEvent(streamId, type, schemaVersion, data) {
        await db().query(
          `INSERT INTO es_events (stream_id, stream_revision, event_id, type, schema_version, data, metadata)
           VALUES ($1, 0, gen_random_uuid(), $2, $3, $4::jsonb, $5::jsonb)`,
          [streamId, type, schemaVersion, JSON.stringify(data), JSON.stringify(testMetadata)],
        );
      },
      tamper: {
        update: () => db().query(`UPDATE es_events SET data = '{"by": 99}'`),
        remove: () => db().query('DELETE FROM es_events'),
      },
      uniqueEventIdsAcrossStreams: true,
      atomicAppendMany: true,
      ...(backend.url !== undefined && { url: backend.url }),
      dispose: () => backend.dispose(),
    };
  };
}

export function eventStoreContract(openHarness: () => Promise<EventStoreHarness>): void {
  let harness: EventStoreHarness;
  let store: EventStore;
  const countEvents = () => harness.countEvents();
  /** A second session on the store's database, connected; none (the test skipped with `why`) where there is no such session. */
  const secondSession = async (t: TestContext, why: string): Promise<pg.Client | undefined> => {
    if (!harness.url) {
      t.skip(why);
      return undefined;
    }
    const session = new pg.Client({ connectionString: harness.url });
    await session.connect();
    return session;
  };

  before(async () => {
    harness = await openHarness();
  });
  after(async () => {
    await store?.close();
    await harness.dispose();
  });
  beforeEach(async () => {
    await store?.close();
    store = await harness.fresh({ maxEventBytes: 2048 });
  });

  describe('append', () => {
    it('starts a stream at revision 0 and numbers a batch consecutively, in global order', async () => {
      const result = await store.append('test.counter-1', [incremented(1), incremented(2), incremented(3)], { expectedRevision: 'no_stream' });
      assert.equal(result.nextExpectedRevision, 2);
      assert.deepEqual(result.events.map((e) => e.revision), [0, 1, 2]);
      for (let i = 1; i < result.events.length; i++) {
        assert.ok(comparePositions(result.events[i - 1]!.position, result.events[i]!.position) < 0);
      }
      const second = await store.append('test.counter-1', [incremented(4)], { expectedRevision: 2 });
      assert.equal(second.nextExpectedRevision, 3);
      assert.equal(await store.streamRevision('test.counter-1'), 3);
      assert.equal(await store.streamRevision('test.counter-missing'), undefined);
    });

    it('refuses a stale expected revision with a ConcurrencyError naming stream, expected and actual, and writes nothing', async () => {
      await store.append('test.counter-1', [incremented(), incremented()]);
      await assert.rejects(store.append('test.counter-1', [incremented()], { expectedRevision: 0 }), (err: unknown) => {
        assert.ok(err instanceof ConcurrencyError);
        assert.equal(err.streamId, 'test.counter-1');
        assert.equal(err.expected, '0');
        assert.equal(err.actual, 1);
        assert.match(err.message, /test\.counter-1: expected revision 0 but the stream is at revision 1/);
        return true;
      });
      assert.equal(await countEvents(), 2);
    });

    it('honours no_stream, stream_exists and any', async () => {
      await assert.rejects(store.append('test.counter-2', [incremented()], { expectedRevision: 'stream_exists' }), ConcurrencyError);
      await store.append('test.counter-2', [incremented()], { expectedRevision: 'no_stream' });
      await assert.rejects(store.append('test.counter-2', [incremented()], { expectedRevision: 'no_stream' }), /is at revision 0/);
      await store.append('test.counter-2', [incremented()], { expectedRevision: 'stream_exists' });
      await store.append('test.counter-2', [incremented()], { expectedRevision: 'any' });
      assert.equal(await store.streamRevision('test.counter-2'), 2);
    });

    it('refuses an unregistered event type and writes nothing of the batch', async () => {
      await assert.rejects(
        store.append('test.counter-1', [incremented(), { type: 'CounterExploded', data: {}, metadata: testMetadata }]),
        (err: unknown) => err instanceof ValidationError && /CounterExploded is not registered/.test(err.message),
      );
      assert.equal(await countEvents(), 0);
    });

    it('refuses invalid data naming the field, and writes nothing of the batch', async () => {
      await assert.rejects(
        store.append('test.counter-1', [incremented(), { type: 'CounterIncremented', data: { by: 'two' }, metadata: testMetadata }]),
        (err: unknown) => err instanceof ValidationError && /invalid CounterIncremented data: by:/.test(err.message),
      );
      assert.equal(await countEvents(), 0);
      assert.equal(await store.streamRevision('test.counter-1'), undefined);
    });

    it('refuses metadata without provenance, naming the field', async () => {
      const metadata = { ...testMetadata, provenance: { ...testMetadata.provenance, department: '' } };
      await assert.rejects(store.append('test.counter-1', [incremented(1, { metadata })]), /metadata: provenance\.department/);
      assert.equal(await countEvents(), 0);
    });

    it('refuses an oversized payload with the size and the limit', async () => {
      const big = { type: 'NoteWritten', data: { text: 'x'.repeat(4000) }, metadata: testMetadata };
      await assert.rejects(store.append('test.note-1', [big]), /NoteWritten data is 4011 bytes; the limit is 2048 bytes/);
      assert.equal(await countEvents(), 0);
    });

    it('refuses a batch holding an oversized payload, writing none of it, and leaves its streams to the next writer', async () => {
      const note = (text: string) => ({ type: 'NoteWritten', data: { text }, metadata: testMetadata });
      await store.append('test.note-1', [note('first')]);
      // The SQL stores serialise a batch once its first statement (which locks its streams) is sent.
      const batch = [{ streamId: 'test.note-1', events: [note('second')] }, { streamId: 'test.note-2', events: [note('x'.repeat(4000))] }];
      await assert.rejects(store.appendMany(batch), /NoteWritten data is 4011 bytes; the limit is 2048 bytes/);
      assert.equal(await countEvents(), 1);
      await store.append('test.note-1', [note('second')], { expectedRevision: 0 });
      assert.equal(await countEvents(), 2);
    });

    it('refuses a malformed stream id and an empty batch', async () => {
      await assert.rejects(store.append('Counter 1', [incremented()]), /stream id "Counter 1" is malformed/);
      await assert.rejects(store.append('test.counter-1', []), /has no events/);
      assert.equal(await countEvents(), 0);
    });

    it('is idempotent: the same idempotency key appends nothing new and returns the first result', async () => {
      const first = await store.append('test.counter-1', [incremented(5), incremented(6)], { expectedRevision: 'no_stream', idempotencyKey: 'cmd-1' });
      await store.append('test.counter-1', [incremented(7)]);
      const again = await store.append('test.counter-1', [incremented(5), incremented(6)], { expectedRevision: 'no_stream', idempotencyKey: 'cmd-1' });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.events.map((e) => [e.eventId, e.position, e.revision]), first.events.map((e) => [e.eventId, e.position, e.revision]));
      assert.equal(await countEvents(), 3);
    });

    it('recognises a replay of a payload whose fields the database keeps in another order', async () => {
      const signed = { type: 'NoteSigned', data: { signature: 'sig-1', by: 'clerk', at: { place: '历下区', on: '2026-01-01' } }, metadata: testMetadata };
      const first = await store.append('test.note-1', [signed], { expectedRevision: 'no_stream', idempotencyKey: 'sign-1' });
      const again = await store.append('test.note-1', [signed], { expectedRevision: 'no_stream', idempotencyKey: 'sign-1' });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.events.map((e) => [e.eventId, e.position]), first.events.map((e) => [e.eventId, e.position]));
      assert.equal(await countEvents(), 1);
    });

    it('refuses an event id reused with different content, and writes nothing', async () => {
      const eventId = '0b5e4c1e-7a1b-4c61-9d1a-2f9b1c3d4e5f';
      await store.append('test.counter-1', [incremented(1, { eventId })]);
      await assert.rejects(store.append('test.counter-1', [incremented(2, { eventId })]), (err: unknown) => err instanceof ConflictError && /already stored/.test(err.message));
      assert.equal(await countEvents(), 1);
    });

    it('refuses an event id already stored in another stream, and writes nothing of the batch', async (t) => {
      if (!harness.uniqueEventIdsAcrossStreams) {
        t.skip('this engine deduplicates event ids per stream only (KurrentDB keeps no global id index)');
        return;
      }
      const eventId = '0b5e4c1e-7a1b-4c61-9d1a-2f9b1c3d4e5f';
      await store.append('test.counter-1', [incremented(1, { eventId })]);
      await assert.rejects(store.append('test.counter-9', [incremented(2), incremented(1, { eventId })]), ConflictError);
      assert.equal(await countEvents(), 1);
      assert.equal(await store.streamRevision('test.counter-9'), undefined);
    });

    it('never lets a stored event be updated or deleted', async (t) => {
      const tamper = harness.tamper;
      if (!tamper) {
        t.skip('this engine has no statement that updates an event, and the store never deletes a stream');
        return;
      }
      await store.append('test.counter-1', [incremented()]);
      await assert.rejects(tamper.update(), /append-only/);
      await assert.rejects(tamper.remove(), /append-only/);
      assert.equal(await countEvents(), 1);
    });
  });

  describe('appendMany', () => {
    it('appends to several streams in the order given, a stream twice with chained revisions', async () => {
      const results = await store.appendMany([
        { streamId: 'test.counter-a', events: [incremented(1), incremented(2)], options: { expectedRevision: 'no_stream' } },
        { streamId: 'test.counter-b', events: [incremented(3)], options: { expectedRevision: 'no_stream' } },
        { streamId: 'test.counter-a', events: [incremented(4)], options: { expectedRevision: 1 } },
      ]);
      assert.deepEqual(results.map((r) => [r.streamId, r.nextExpectedRevision, r.replayed]), [
        ['test.counter-a', 1, false],
        ['test.counter-b', 0, false],
        ['test.counter-a', 2, false],
      ]);
      const positions = results.flatMap((r) => r.events.map((e) => e.position));
      for (let i = 1; i < positions.length; i++) assert.ok(comparePositions(positions[i - 1]!, positions[i]!) < 0);
      await waitUntilVisible(store, positions.at(-1)!);
      assert.deepEqual((await store.readAll()).map((e) => [e.streamId, (e.data as { by: number }).by]), [
        ['test.counter-a', 1],
        ['test.counter-a', 2],
        ['test.counter-b', 3],
        ['test.counter-a', 4],
      ]);
      assert.deepEqual(await store.appendMany([]), []);
    });

    it('refuses a stale expected revision naming its stream; on an atomic backend nothing of the batch is written', async () => {
      await store.append('test.counter-b', [incremented()]);
      await assert.rejects(
        store.appendMany([
          { streamId: 'test.counter-a', events: [incremented()], options: { expectedRevision: 'no_stream' } },
          { streamId: 'test.counter-b', events: [incremented()], options: { expectedRevision: 'no_stream' } },
        ]),
        (err: unknown) => err instanceof ConcurrencyError && err.streamId === 'test.counter-b' && err.actual === 0,
      );
      assert.equal(await countEvents(), harness.atomicAppendMany ? 1 : 2);
      assert.equal(await store.streamRevision('test.counter-a'), harness.atomicAppendMany ? undefined : 0);
    });

    it('checks every append before writing any: an invalid event in the last one writes nothing', async () => {
      await assert.rejects(
        store.appendMany([
          { streamId: 'test.counter-a', events: [incremented()] },
          { streamId: 'test.counter-b', events: [{ type: 'CounterIncremented', data: { by: 'two' }, metadata: testMetadata }] },
        ]),
        ValidationError,
      );
      assert.equal(await countEvents(), 0);
    });

    it('is idempotent per append: re-sending a batch with the same keys writes nothing new', async () => {
      const batch = [
        { streamId: 'test.counter-a', events: [incremented(1)], options: { expectedRevision: 'no_stream' as const, idempotencyKey: 'batch-1-a' } },
        { streamId: 'test.counter-b', events: [incremented(2)], options: { expectedRevision: 'no_stream' as const, idempotencyKey: 'batch-1-b' } },
      ];
      const first = await store.appendMany(batch);
      const again = await store.appendMany(batch);
      assert.deepEqual(again.map((r) => r.replayed), [true, true]);
      assert.deepEqual(again.map((r) => r.events.map((e) => e.position)), first.map((r) => r.events.map((e) => e.position)));
      assert.equal(await countEvents(), 2);
    });

    it('a new stream another session creates while the batch is being written: no_stream is refused with nothing of the batch written, any waits and appends after it', async (t) => {
      const holder = await secondSession(t, 'only a second session can create the stream between the batch reading it missing and writing it');
      if (!holder) return;
      const createInHolder = async (streamId: string, eventId: string) => {
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM es_append($1, $2, $3::jsonb)', [
          streamId,
          'no_stream',
          JSON.stringify([{ eventId, type: 'CounterIncremented', schemaVersion: 2, data: { by: 7 }, metadata: testMetadata }]),
        ]);
      };
      try {
        // The other session's stream is not committed when the batch looks for it, so the batch plans it as new...
        await createInHolder('test.counter-raced', '22222222-2222-4222-8222-222222222222');
        const refused = store.appendMany([
          { streamId: 'test.counter-raced', events: [incremented(1)], options: { expectedRevision: 'no_stream' } },
          { streamId: 'test.counter-bystander', events: [incremented(2)], options: { expectedRevision: 'no_stream' } },
        ]);
        await new Promise((r) => setTimeout(r, 200));
        // ...and commits before the batch writes it.
        await holder.query('COMMIT');
        await assert.rejects(refused, (err: unknown) => err instanceof ConcurrencyError && err.streamId === 'test.counter-raced' && err.actual === 0);
        assert.equal(await countEvents(), 1, 'only the other session event: nothing of the refused batch');
        assert.equal(await store.streamRevision('test.counter-bystander'), undefined);

        await createInHolder('test.counter-shared', '33333333-3333-4333-8333-333333333333');
        const waiting = store.appendMany([
          { streamId: 'test.counter-shared', events: [incremented(3)] },
          { streamId: 'test.counter-bystander', events: [incremented(4)], options: { expectedRevision: 'no_stream' } },
        ]);
        await new Promise((r) => setTimeout(r, 200));
        await holder.query('COMMIT');
        const [shared] = await waiting;
        assert.equal(shared!.events[0]!.revision, 1, 'appended after the event the other session committed');
        assert.deepEqual((await store.readStream('test.counter-shared')).map((e) => (e.data as { by: number }).by), [7, 3]);
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
    });
  });

  describe('reading', () => {
    it('reads a stream forwards and backwards, by revision range, up to a position or an instant, with a limit', async () => {
      const events: RecordedEvent[] = [];
      for (const n of [1, 2, 3, 4, 5]) {
        events.push(...(await store.append('test.counter-1', [incremented(n)])).events);
        await new Promise((r) => setTimeout(r, 3));
      }
      await store.append('test.counter-2', [incremented(100)]);
      const all = await store.readStream('test.counter-1');
      assert.deepEqual(all.map((e) => (e.data as { by: number }).by), [1, 2, 3, 4, 5]);
      assert.deepEqual((await store.readStream('test.counter-1', { direction: 'backwards', limit: 2 })).map((e) => e.revision), [4, 3]);
      assert.deepEqual((await store.readStream('test.counter-1', { fromRevision: 1, toRevision: 3 })).map((e) => e.revision), [1, 2, 3]);
      assert.deepEqual((await store.readStream('test.counter-1', { direction: 'backwards', fromRevision: 3, toRevision: 2 })).map((e) => e.revision), [3, 2]);
      assert.deepEqual((await store.readStream('test.counter-1', { toPosition: events[1]!.position })).map((e) => e.revision), [0, 1]);
      assert.deepEqual((await store.readStream('test.counter-1', { toTime: events[2]!.recordedAt })).map((e) => e.revision), [0, 1, 2]);
      assert.deepEqual(await store.readStream('test.counter-1', { toTime: '2000-01-01T00:00:00Z' }), []);
      assert.deepEqual(await store.readStream('test.nothing-1'), []);
      assert.equal(all[0]!.metadata.provenance.department, 'test-department');
    });

    it('folds a stream with a decider, up to a bound, and reads it typed', async () => {
      type Counted = { type: 'CounterIncremented'; data: { by: number } };
      const sum = { initialState: () => 0, evolve: (total: number, event: Counted) => total + event.data.by };
      const [, second] = (await store.append('test.counter-1', [incremented(2), incremented(3), incremented(4)])).events;
      const whole = await store.aggregate(sum, 'test.counter-1');
      assert.deepEqual([whole.state, whole.revision, whole.events.map((e) => e.data.by)], [9, 2, [2, 3, 4]]);
      const prefix = await store.aggregate(sum, 'test.counter-1', { toPosition: second!.position });
      assert.deepEqual([prefix.state, prefix.revision], [5, 1]);
      assert.deepEqual(await store.aggregate(sum, 'test.nothing-1'), { state: 0, revision: undefined, events: [] });
      const typed = await store.readStream<Counted>('test.counter-1', { limit: 1 });
      assert.equal(typed[0]!.data.by, 2);
    });

    it('says whether appendMany is one transaction', () => {
      assert.equal(store.atomicAppendMany, harness.atomicAppendMany);
    });

    it('tells when the event at a position was recorded, refuses a position no event has, and answers null for START', async () => {
      const [, second] = (await store.append('test.counter-1', [incremented(1), incremented(2)])).events;
      assert.equal(await store.assertPositionExists(second!.position), second!.recordedAt);
      assert.equal(await store.assertPositionExists(START), null);
      await assert.rejects(store.assertPositionExists('999999999:999999999'), ValidationError);
      await assert.rejects(store.assertPositionExists('not a position'), ValidationError);
    });

    it('reads several streams in one call, each in revision order, in the order asked, [] for a missing one', async () => {
      await store.append('test.counter-1', [incremented(1), incremented(2)]);
      await store.append('test.counter-2', [incremented(10)]);
      await store.append('test.counter-1', [incremented(3)]);
      const [second, missing, first, again] = await store.readStreams(['test.counter-2', 'test.nothing-1', 'test.counter-1', 'test.counter-2']);
      assert.deepEqual(first!.map((e) => (e.data as { by: number }).by), [1, 2, 3]);
      assert.deepEqual(first!.map((e) => e.revision), [0, 1, 2]);
      assert.deepEqual(second!.map((e) => (e.data as { by: number }).by), [10]);
      assert.deepEqual(missing, []);
      assert.deepEqual(again, second);
      assert.deepEqual(first, await store.readStream('test.counter-1'));
      assert.deepEqual(await store.readStreams([]), []);
    });

    it('reads events by id in the order asked, in one call, with undefined for unknown or malformed ids', async () => {
      const { events } = await store.append('test.counter-1', [incremented(1), incremented(2)]);
      const [a, b] = events;
      const found = await store.readEventsById([b!.eventId, 'not-a-uuid', '00000000-0000-4000-8000-000000000000', a!.eventId.toUpperCase()]);
      assert.deepEqual(found.map((e) => e?.revision), [1, undefined, undefined, 0]);
      assert.deepEqual(found[0], b);
      assert.deepEqual(await store.readEventsById([]), []);
    });

    it('reads all in global order from a position, filtered by type and stream prefix', async () => {
      await store.append('test.counter-1', [incremented(1)]);
      await store.append('test.note-1', [{ type: 'NoteWritten', data: { text: 'a' }, metadata: testMetadata }]);
      const { events } = await store.append('test.counter-2', [incremented(2), { type: 'CounterReset', data: { reason: 'x' }, metadata: testMetadata }]);
      await waitUntilVisible(store, events[1]!.position);
      const all = await store.readAll();
      assert.equal(all.length, 4);
      for (let i = 1; i < all.length; i++) assert.ok(comparePositions(all[i - 1]!.position, all[i]!.position) < 0);
      assert.deepEqual((await store.readAll({ filter: { types: ['NoteWritten'] } })).map((e) => e.streamId), ['test.note-1']);
      assert.deepEqual((await store.readAll({ filter: { streamPrefixes: ['test.counter-'] } })).map((e) => e.type), ['CounterIncremented', 'CounterIncremented', 'CounterReset']);
      assert.deepEqual((await store.readAll({ fromPosition: events[0]!.position })).map((e) => e.type), ['CounterReset']);
      assert.equal((await store.readAll({ limit: 2 })).length, 2);
      assert.equal(await store.headPosition(), events[1]!.position);
    });

    it('pages a sparse filter through a long log: every match once, in order, and the scanned position past the rest', async () => {
      const matches: string[] = [];
      for (let i = 0; i < 12; i++) {
        await store.append(`test.counter-${i}`, [incremented(1), incremented(2), incremented(3)]);
        if (i % 4 === 1) matches.push((await store.append(`test.note-${i}`, [{ type: 'NoteWritten', data: { text: String(i) }, metadata: testMetadata }])).events[0]!.eventId);
      }
      const { events: tail } = await store.append('test.counter-99', [incremented(4)]);
      await waitUntilVisible(store, tail[0]!.position);
      const filter = { types: ['NoteWritten'] };
      const seen: string[] = [];
      let from = START;
      for (;;) {
        const { events, scannedThrough } = await store.readAllWithHead({ fromPosition: from, limit: 2, filter });
        seen.push(...events.map((e) => e.eventId));
        assert.ok(comparePositions(scannedThrough, from) >= 0);
        from = scannedThrough;
        if (events.length < 2) break;
      }
      assert.deepEqual(seen, matches);
      assert.equal(from, tail[0]!.position, 'a short page has scanned through the head');
      assert.deepEqual((await store.readAll({ filter, limit: 10 })).map((e) => e.eventId), matches);
    });

    it('upcasts an event stored with an older schema version to the current shape', async () => {
      await harness.writeLegacyEvent('test.counter-old', 'CounterIncremented', 1, { amount: 7 });
      const [event] = await store.readStream('test.counter-old');
      assert.deepEqual(event!.data, { by: 7 });
      assert.equal(event!.schemaVersion, 1);
    });
  });

  describe('subscribe', () => {
    it('catches up, then delivers live appends, in order, and stops on close', async () => {
      await store.append('test.counter-1', [incremented(1), incremented(2)]);
      const subscription = store.subscribe({ filter: { streamPrefixes: ['test.counter-'] }, batchSize: 1 });
      const received = take(subscription, 4);
      await new Promise((r) => setTimeout(r, 50));
      await store.append('test.note-1', [{ type: 'NoteWritten', data: { text: 'ignored' }, metadata: testMetadata }]);
      await store.append('test.counter-1', [incremented(3)]);
      await store.append('test.counter-3', [incremented(4)]);
      assert.deepEqual((await received).map((e) => (e.data as { by: number }).by), [1, 2, 3, 4]);
      await subscription.close();
    });

    it('resumes strictly after the position it is given', async () => {
      const { events } = await store.append('test.counter-1', [incremented(1), incremented(2), incremented(3)]);
      const subscription = store.subscribe({ fromPosition: events[0]!.position });
      assert.deepEqual((await take(subscription, 2)).map((e) => e.revision), [1, 2]);
      await subscription.close();
    });

    it('refuses a position that does not exist or is malformed', async () => {
      await store.append('test.counter-1', [incremented(1)]);
      const missing = store.subscribe({ fromPosition: '1:999999' });
      await assert.rejects(missing[Symbol.asyncIterator]().next(), /position 1:999999 does not exist/);
      const malformed = store.subscribe({ fromPosition: 'yesterday' });
      await assert.rejects(malformed[Symbol.asyncIterator]().next(), /position "yesterday" is malformed/);
    });

    it('delivers every event of concurrent writers exactly once', async () => {
      const writers = 6;
      const perWriter = 400;
      const subscription = store.subscribe({ fromPosition: START, batchSize: 250 });
      const received = take(subscription, writers * perWriter, 120_000);
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i += 4) {
            await store.append(`test.counter-w${w}x${i % 40}`, [incremented(1), incremented(2), incremented(3), incremented(4)]);
          }
        }),
      );
      const events = await received;
      await subscription.close();
      const ids = new Set(events.map((e) => e.eventId));
      assert.equal(events.length, writers * perWriter);
      assert.equal(ids.size, writers * perWriter, 'no event delivered twice');
      for (let i = 1; i < events.length; i++) assert.ok(comparePositions(events[i - 1]!.position, events[i]!.position) < 0, 'in position order');
      assert.equal(await countEvents(), writers * perWriter);
    });
  });

  describe('transactions committing out of sequence order', () => {
      it('a subscriber waits for an older in-flight transaction and then delivers both exactly once', async (t) => {
        const holder = await secondSession(
          t,
          store.backend === 'kurrentdb'
            ? 'KurrentDB has one writer per log and no client transactions: nothing commits out of order'
            : 'PGlite is one session: two transactions can never be in flight at once there',
        );
        if (!holder) return;
        try {
          const subscription = store.subscribe({ batchSize: 10 });
          const received: RecordedEvent[] = [];
          const consumer = (async () => {
            for await (const e of subscription) {
              received.push(e);
              if (received.length === 2) break;
            }
          })();
          // The first transaction takes the lower sequence number and stays open...
          await holder.query('BEGIN');
          await holder.query('SELECT * FROM es_append($1, $2, $3::jsonb)', [
            'test.counter-slow',
            'any',
            JSON.stringify([{ eventId: '11111111-1111-4111-8111-111111111111', type: 'CounterIncremented', schemaVersion: 2, data: { by: 41 }, metadata: testMetadata }]),
          ]);
          // ...while a later one commits with a higher number.
          await store.append('test.counter-fast', [incremented(42)]);
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(received.length, 0, 'nothing passes while an older transaction is in flight');
          assert.equal((await store.readAll()).length, 0);
          await holder.query('COMMIT');
          await consumer;
          await subscription.close();
          assert.deepEqual(received.map((e) => (e.data as { by: number }).by).sort(), [41, 42]);
          assert.equal(new Set(received.map((e) => e.eventId)).size, 2);
          assert.ok(received[0]!.sequence < received[1]!.sequence, 'the older transaction (lower sequence) is delivered first');
        } finally {
          await holder.end();
        }
      });

      it('a subscription from the committed head delivers nothing committed before it began, while the visible head lags', async (t) => {
        const holder = await secondSession(t, 'only a second session holding a transaction open makes the visible head lag behind the committed one');
        if (!holder) return;
        try {
          // Another session's open transaction holds the gap-safe head back...
          await holder.query('BEGIN');
          await holder.query('SELECT pg_current_xact_id()');
          // ...so an event committed now is not yet visible: the head readers see lags behind it.
          const earlier = (await store.append('test.counter-before', [incremented(1)])).events[0]!;
          assert.ok(comparePositions(await store.headPosition(), earlier.position) < 0, 'the visible head lags');
          assert.equal(await store.committedHead(), earlier.position);

          const subscription = store.subscribe({ fromPosition: await store.committedHead() });
          const iterator = subscription[Symbol.asyncIterator]();
          const later = (await store.append('test.counter-after', [incremented(2)])).events[0]!;
          await holder.query('COMMIT');
          const first = await iterator.next();
          await subscription.close();
          assert.equal(first.done, false);
          assert.equal((first.value as RecordedEvent).eventId, later.eventId, 'the first event delivered is the one committed after subscribing');
        } finally {
          await holder.query('ROLLBACK').catch(() => undefined);
          await holder.end();
        }
      });
  });
}
