/**
 * The write-behind store over real PGlite and PostgreSQL: appends are answered from memory and
 * written in batches, with every expected revision and idempotency key checked again by the real
 * store, so a concurrent writer is a ConcurrencyError at flush and never lost data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferedEventStore } from './bufferedEventStore.ts';
import { ConcurrencyError, ConflictError } from './errors.ts';
import { comparePositions } from './position.ts';
import type { SqlEventStore } from './sql/sqlEventStore.ts';
import { START } from './types.ts';
import { BACKENDS, freshStorePerTest } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented } from '../test/helpers/events.ts';

for (const openBackend of BACKENDS) {
  describe(`the write-behind store over ${openBackend.name.replace('Backend', '')}`, () => {
    let store: SqlEventStore;

    const stored = async () => {
      const { rows } = await store.db.query<{ stream_id: string; stream_revision: number }>(
        'SELECT stream_id, stream_revision FROM es_events ORDER BY global_position',
      );
      return rows.map((r) => `${r.stream_id}@${r.stream_revision}`);
    };

    freshStorePerTest(openBackend, createTestRegistry, (fresh) => ({ store } = fresh));

    it('answers reads from memory, writes nothing before flush, then writes every append in order', async () => {
      const buffered = new BufferedEventStore(store, { flushEvents: 1000 });
      const first = await buffered.append('test.counter-1', [incremented(1), incremented(2)], { expectedRevision: 'no_stream' });
      await buffered.append('test.counter-2', [incremented(10)], { expectedRevision: 'no_stream' });
      await buffered.append('test.counter-1', [incremented(3)], { expectedRevision: 1 });
      assert.deepEqual((await buffered.readStream('test.counter-1')).map((e) => (e.data as { by: number }).by), [1, 2, 3]);
      assert.equal(await buffered.streamRevision('test.counter-1'), 2);
      assert.deepEqual(await stored(), []);
      assert.equal(first.events[0]!.position, START, 'positions are provisional until the batch is written');

      await buffered.flush();
      assert.deepEqual(await stored(), ['test.counter-1@0', 'test.counter-1@1', 'test.counter-2@0', 'test.counter-1@2']);
      // The events an append returned now carry their stored positions, in global order.
      const fromStore = await store.readStream('test.counter-1');
      assert.deepEqual(first.events.map((e) => e.position), fromStore.slice(0, 2).map((e) => e.position));
      assert.ok(comparePositions(first.events[0]!.position, START) > 0);
      assert.deepEqual(await buffered.readStream('test.counter-1'), fromStore);
    });

    it('writes a batch by itself once it holds flushEvents events', async () => {
      const buffered = new BufferedEventStore(store, { flushEvents: 3 });
      await buffered.append('test.counter-1', [incremented(1), incremented(2)]);
      assert.deepEqual(await stored(), []);
      await buffered.append('test.counter-2', [incremented(3)]);
      assert.deepEqual(await stored(), ['test.counter-1@0', 'test.counter-1@1', 'test.counter-2@0']);
      assert.equal(buffered.eventCount, 3);
    });

    it('refuses a stale expected revision at once, naming the stream, and buffers nothing of the batch', async () => {
      const buffered = new BufferedEventStore(store);
      await buffered.append('test.counter-1', [incremented(1)]);
      await assert.rejects(
        buffered.appendMany([
          { streamId: 'test.counter-2', events: [incremented(2)], options: { expectedRevision: 'no_stream' } },
          { streamId: 'test.counter-1', events: [incremented(3)], options: { expectedRevision: 5 } },
        ]),
        (error: unknown) => error instanceof ConcurrencyError && /test\.counter-1/.test(error.message),
      );
      await buffered.flush();
      assert.deepEqual(await stored(), ['test.counter-1@0']);
    });

    it('turns a writer that got in before the flush into a ConcurrencyError, writes nothing of that batch and refuses further work', async () => {
      const buffered = new BufferedEventStore(store);
      await buffered.append('test.counter-1', [incremented(1)], { expectedRevision: 'no_stream' });
      await buffered.append('test.counter-2', [incremented(2)], { expectedRevision: 'no_stream' });
      await store.append('test.counter-2', [incremented(99)]);
      await assert.rejects(buffered.flush(), ConcurrencyError);
      assert.deepEqual(await stored(), ['test.counter-2@0']);
      await assert.rejects(buffered.append('test.counter-3', [incremented(3)]), ConcurrencyError);
    });

    it('replays an idempotent re-send from the buffer, and refuses the same key with other content', async () => {
      const buffered = new BufferedEventStore(store);
      const once = await buffered.append('test.counter-1', [incremented(1)], { idempotencyKey: 'key-1' });
      const again = await buffered.append('test.counter-1', [incremented(1)], { idempotencyKey: 'key-1' });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.events.map((e) => e.eventId), once.events.map((e) => e.eventId));
      await assert.rejects(buffered.append('test.counter-1', [incremented(2)], { idempotencyKey: 'key-1' }), ConflictError);
      await buffered.flush();
      assert.deepEqual(await stored(), ['test.counter-1@0']);
    });

    it('reads back streams it no longer caches, and with startsEmpty never reads a stream it has not written', async () => {
      const buffered = new BufferedEventStore(store, { cachedStreams: 2, flushEvents: 2 });
      for (let i = 1; i <= 6; i++) await buffered.append(`test.counter-${i}`, [incremented(i)], { expectedRevision: 'no_stream' });
      // counter-1 was forgotten after its batch was written: it is read back, and extends correctly.
      await buffered.append('test.counter-1', [incremented(7)], { expectedRevision: 0 });
      await buffered.flush();
      assert.deepEqual((await store.readStream('test.counter-1')).map((e) => (e.data as { by: number }).by), [1, 7]);

      await store.append('test.counter-9', [incremented(9)]);
      const assumingEmpty = new BufferedEventStore(store, { startsEmpty: true });
      assert.deepEqual(await assumingEmpty.readStream('test.counter-9'), [], 'an unseen stream is taken to be empty');
      await assumingEmpty.append('test.counter-9', [incremented(10)], { expectedRevision: 'no_stream' });
      // The real store still checks: the wrong assumption is refused, not written over.
      await assert.rejects(assumingEmpty.flush(), ConcurrencyError);
      assert.equal((await store.readStream('test.counter-9')).length, 1);
    });
  });
}
