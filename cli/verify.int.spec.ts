import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chainHead } from '../events/sql/hashChain.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { BACKENDS, type TestBackend } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, waitUntilVisible } from '../test/helpers/events.ts';
import { verifyLog } from './verify.ts';

const noProgress = () => ({ increment: () => undefined, stop: () => undefined });

for (const openBackend of BACKENDS) {
  describe('verify command', () => {
    let backend: TestBackend;
    before(async () => {
      backend = await openBackend();
    });
    after(async () => {
      await backend.dispose();
    });

    it('chains and verifies a log, accepts a published head, and exposes a recomputed chain', async () => {
      const db = await backend.fresh();
      const store = await SqlEventStore.open(db, createTestRegistry());
      try {
        for (let i = 0; i < 10; i++) await store.append(`test.counter-${i}`, [incremented(i)]);
        await waitUntilVisible(store, (await store.readStream('test.counter-9'))[0]!.position);
        const first = await verifyLog(db, noProgress);
        assert.equal(first.ok, true);
        assert.match(first.lines.at(-1)!, /^OK: the log matches its hash chain/);
        const published = (await chainHead(db)).link;

        await waitUntilVisible(store, (await store.append('test.counter-later', [incremented(1)])).events[0]!.position);
        const later = await verifyLog(db, noProgress, { expectedHead: published });
        assert.equal(later.ok, true);
        assert.ok(later.lines.some((l) => l.includes('events were appended after it')));

        // A superuser rewrites an event AND recomputes the whole chain: only the published head tells.
        await db.exec(`ALTER TABLE es_events DISABLE TRIGGER es_events_append_only;
          UPDATE es_events SET data = '{"by": 42}' WHERE stream_id = 'test.counter-3';
          ALTER TABLE es_events ENABLE TRIGGER es_events_append_only; DELETE FROM es_chain;`);
        const rewritten = await verifyLog(db, noProgress, { expectedHead: published });
        assert.equal(rewritten.ok, false);
        assert.ok(rewritten.lines.some((l) => /TAMPERED: the published head .* is not in the chain/.test(l)));
      } finally {
        await store.close();
      }
    });
  });
}
