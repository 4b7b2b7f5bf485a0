import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase } from './sql/database.ts';
import { generateKeyPairSync } from 'node:crypto';
import { chainHead, ed25519Signer, GENESIS, HashChainer, listSeals, verifyChain } from './sql/hashChain.ts';
import { SqlEventStore } from './sql/sqlEventStore.ts';
import { BACKENDS, type TestBackend } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, waitUntilVisible } from '../test/helpers/events.ts';

/** What an attacker with superuser access does: switch the append-only trigger off and rewrite. */
async function tamper(db: SqlDatabase, sql: string): Promise<void> {
  await db.exec(`ALTER TABLE es_events DISABLE TRIGGER es_events_append_only; ${sql}; ALTER TABLE es_events ENABLE TRIGGER es_events_append_only;`);
}

for (const openBackend of BACKENDS) {
  describe('hash chain over the log', () => {
    let backend: TestBackend;
    let db: SqlDatabase;
    let store: SqlEventStore;

    before(async () => {
      backend = await openBackend();
    });
    beforeEach(async () => {
      await store?.close();
      db = await backend.fresh();
      store = await SqlEventStore.open(db, createTestRegistry());
      for (let i = 1; i <= 30; i++) await store.append(`test.counter-${i % 4}`, [incremented(i), incremented(i + 100)]);
      await waitUntilVisible(store, (await store.readStream('test.counter-2', { direction: 'backwards', limit: 1 }))[0]!.position);
    });
    after(async () => {
      await store.close();
      await backend.dispose();
    });

    it('chains every event in position order and verifies an untouched log', async () => {
      const head = await new HashChainer(db, { batchSize: 7 }).catchUp();
      assert.equal(head.events, 60);
      assert.equal(head.position, await store.headPosition());
      assert.notEqual(head.link, GENESIS);
      const result = await verifyChain(db, { pageSize: 11 });
      assert.deepEqual([result.ok, result.verified, result.unchained, result.firstMismatch], [true, 60, 0, undefined]);
      assert.equal(result.head.link, head.link);
    });

    it('reports events appended after the last chaining as unchained, not as tampering', async () => {
      const chainer = new HashChainer(db);
      await chainer.catchUp();
      await waitUntilVisible(store, (await store.append('test.counter-late', [incremented(1)])).events[0]!.position);
      const result = await verifyChain(db);
      assert.deepEqual([result.ok, result.verified, result.unchained], [true, 60, 1]);
      assert.equal((await chainer.catchUp()).events, 61);
      await chainer.stop();
    });

    it('names the first altered event', async () => {
      await new HashChainer(db).catchUp();
      const victim = (await store.readAll({ limit: 20 }))[17]!;
      await tamper(db, `UPDATE es_events SET data = '{"by": 999}' WHERE event_id = '${victim.eventId}'`);
      const result = await verifyChain(db, { pageSize: 5 });
      assert.equal(result.ok, false);
      assert.equal(result.verified, 17);
      assert.equal(result.firstMismatch?.position, victim.position);
      assert.match(result.firstMismatch!.reason, /does not match its link/);
    });

    it('names a deleted event', async () => {
      await new HashChainer(db).catchUp();
      const victim = (await store.readAll({ limit: 40 }))[33]!;
      await tamper(db, `DELETE FROM es_events WHERE event_id = '${victim.eventId}'`);
      const result = await verifyChain(db);
      assert.equal(result.ok, false);
      assert.equal(result.firstMismatch?.globalPosition, String(victim.sequence));
      assert.match(result.firstMismatch!.reason, /deleted/);
    });

    it('signs the link closing each block, and verification checks every seal against the chain and the key', async () => {
      const pem = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const signer = ed25519Signer(pem());
      await new HashChainer(db, { signer, blockSize: 25, batchSize: 7 }).catchUp();
      const seals = await listSeals(db);
      assert.deepEqual(seals.map((s) => s.ordinal), [50, 25]);
      assert.equal(seals[0]!.keyId, signer.keyId);
      assert.equal((await verifyChain(db, { signer })).ok, true);

      const otherKey = await verifyChain(db, { signer: ed25519Signer(pem()) });
      assert.equal(otherKey.ok, false);
      assert.match(otherKey.firstMismatch!.reason, /seal of block 25/);

      await db.query(`UPDATE es_chain_seals SET link = repeat('0', 64) WHERE ordinal = 50`);
      const forged = await verifyChain(db, { signer });
      assert.deepEqual([forged.ok, forged.firstMismatch?.reason], [false, 'the seal of block 50 does not match the chain or its signature is invalid']);
    });

    it('keeps extending while running, and the head moves with the log', async () => {
      const chainer = new HashChainer(db);
      await chainer.start();
      try {
        const target = (await store.append('test.counter-live', [incremented(5)])).events[0]!.position;
        for (let i = 0; i < 1200 && (await chainHead(db)).position !== target; i++) await new Promise((r) => setTimeout(r, 25));
        assert.equal((await chainHead(db)).position, target);
      } finally {
        await chainer.stop();
      }
      assert.equal((await verifyChain(db)).ok, true);
    });
  });
}
