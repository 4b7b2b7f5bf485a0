import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { SqlDatabase } from './sql/database.ts';
import { generateKeyPairSync } from 'node:crypto';
import { chainHead, ed25519Signer, ed25519Verifier, exportSeals, GENESIS, HashChainer, listSeals, verifyChain, type ChainSigner } from './sql/hashChain.ts';
import type { SqlEventStore } from './sql/sqlEventStore.ts';
import { BACKENDS, freshStorePerTest } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, waitUntilVisible } from '../test/helpers/events.ts';

/** What an attacker with superuser access does: switch the append-only trigger off and rewrite. */
async function tamper(db: SqlDatabase, sql: string): Promise<void> {
  await db.exec(`ALTER TABLE es_events DISABLE TRIGGER es_events_append_only; ${sql}; ALTER TABLE es_events ENABLE TRIGGER es_events_append_only;`);
}

const newSigner = (): ChainSigner => ed25519Signer(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

/**
 * What an attacker who cannot sign does after rewriting history: drops the chain rows from `ordinal`
 * on and lets an unsigned chainer recompute them, so every stored link matches the altered events.
 */
async function recomputeChainFrom(db: SqlDatabase, ordinal: number, options: { dropSeals: boolean }): Promise<void> {
  await db.query('DELETE FROM es_chain WHERE ordinal >= $1', [ordinal]);
  if (options.dropSeals) await db.query('DELETE FROM es_chain_seals WHERE ordinal >= $1', [ordinal]);
  await new HashChainer(db, { blockSize: 25 }).catchUp();
}

for (const openBackend of BACKENDS) {
  describe('hash chain over the log', () => {
    let db: SqlDatabase;
    let store: SqlEventStore;

    freshStorePerTest(openBackend, createTestRegistry, async (fresh) => {
      ({ db, store } = fresh);
      for (let i = 1; i <= 30; i++) await store.append(`test.counter-${i % 4}`, [incremented(i), incremented(i + 100)]);
      await waitUntilVisible(store, (await store.readStream('test.counter-2', { direction: 'backwards', limit: 1 }))[0]!.position);
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

    it('names a deleted event by its position', async () => {
      await new HashChainer(db).catchUp();
      const victim = (await store.readAll({ limit: 40 }))[33]!;
      await tamper(db, `DELETE FROM es_events WHERE event_id = '${victim.eventId}'`);
      const result = await verifyChain(db);
      assert.equal(result.ok, false);
      assert.equal(result.firstMismatch?.position, victim.position);
      assert.match(result.firstMismatch!.reason, /event 34\) is missing from the log: it was deleted/);
    });

    describe('an attacker who rewrites history and recomputes the chain without the seal key', () => {
      let signer: ChainSigner;
      let victim: Awaited<ReturnType<SqlEventStore['readAll']>>[number];
      beforeEach(async () => {
        signer = newSigner();
        await new HashChainer(db, { signer, blockSize: 25, batchSize: 7 }).catchUp();
        victim = (await store.readAll({ limit: 20 }))[17]!;
        await tamper(db, `UPDATE es_events SET data = '{"by": 999}' WHERE event_id = '${victim.eventId}'`);
      });

      it('is named at the first altered event when the seals are kept, with the public key alone', async () => {
        await recomputeChainFrom(db, 18, { dropSeals: false });
        assert.equal((await verifyChain(db)).ok, true, 'the links alone match the altered history');
        const result = await verifyChain(db, { sealKey: ed25519Verifier(signer.publicKeyPem), blockSize: 25 });
        assert.equal(result.ok, false);
        assert.equal(result.firstMismatch?.position, victim.position);
        assert.match(result.firstMismatch!.reason, /first event that differs from what was sealed/);
      });

      it('is found when the seal rows from the altered block on are deleted: a full block without a seal is tampering', async () => {
        await recomputeChainFrom(db, 18, { dropSeals: true });
        assert.deepEqual((await listSeals(db)).map((s) => s.ordinal), [], 'both seals are gone');
        const result = await verifyChain(db, { sealKey: ed25519Verifier(signer.publicKeyPem), blockSize: 25 });
        assert.equal(result.ok, false);
        assert.equal(result.sealsChecked, 0);
        assert.match(result.firstMismatch!.reason, /^block 25 \(events 1–25, .*\) has no seal: seals were deleted/);
      });

      it('is named at the first altered event by an export kept outside the system, even with the seals deleted', async () => {
        const published = await exportSeals(db, { signer, blockSize: 25 });
        await recomputeChainFrom(db, 18, { dropSeals: true });
        const result = await verifyChain(db, { published, blockSize: 25 });
        assert.equal(result.ok, false);
        assert.equal(result.firstMismatch?.position, victim.position);
      });
    });

    it('finds the newest events removed with their chain rows and seals only with an export (or a published head)', async () => {
      const signer = newSigner();
      await new HashChainer(db, { signer, blockSize: 25 }).catchUp();
      const published = await exportSeals(db, { signer, blockSize: 25 });
      assert.deepEqual([published.head.events, published.seals.map((s) => s.ordinal)], [60, [25, 50]]);
      assert.ok(signer.verify(`city-brain-head:60:${published.head.position}:${published.head.link}:${published.exportedAt}`, published.headSignature!));
      const newest = (await store.readAll({ limit: 100 })).slice(45);
      await tamper(db, `DELETE FROM es_events WHERE event_id IN (${newest.map((e) => `'${e.eventId}'`).join(', ')})`);
      await db.query('DELETE FROM es_chain WHERE ordinal > 45');
      await db.query('DELETE FROM es_chain_seals WHERE ordinal > 45');

      const sealKey = ed25519Verifier(signer.publicKeyPem);
      assert.equal((await verifyChain(db, { sealKey, blockSize: 25 })).ok, true, 'a shorter log with its own seals looks whole');
      const result = await verifyChain(db, { sealKey, blockSize: 25, published });
      assert.equal(result.ok, false);
      assert.equal(result.firstMismatch?.position, published.seals[1]!.position);
      assert.match(result.firstMismatch!.reason, /the exported seal of block 50 names event 50 .* but the chain ends at event 45: the newest events were removed/);
    });

    it('signs the link closing each block, and verification checks every seal against the chain and the key', async () => {
      const signer = newSigner();
      await new HashChainer(db, { signer, blockSize: 25, batchSize: 7 }).catchUp();
      const seals = await listSeals(db);
      assert.deepEqual(seals.map((s) => s.ordinal), [50, 25]);
      assert.equal(seals[0]!.keyId, signer.keyId);
      const whole = await verifyChain(db, { sealKey: ed25519Verifier(signer.publicKeyPem), blockSize: 25 });
      assert.deepEqual([whole.ok, whole.sealsChecked], [true, 2]);

      const otherKey = await verifyChain(db, { sealKey: newSigner(), blockSize: 25 });
      assert.equal(otherKey.ok, false);
      assert.match(otherKey.firstMismatch!.reason, /the seal of block 25 is not signed by key/);

      await db.query(`UPDATE es_chain_seals SET link = repeat('0', 64) WHERE ordinal = 50`);
      const forged = await verifyChain(db, { sealKey: signer, blockSize: 25 });
      assert.equal(forged.ok, false);
      assert.match(forged.firstMismatch!.reason, /^the seal of block 50 is not signed by key/);
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
