import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainHead, ed25519Signer, exportSeals, HashChainer } from '../events/sql/hashChain.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { BACKENDS } from '../test/helpers/databases.ts';
import { createTestRegistry, incremented, waitUntilVisible } from '../test/helpers/events.ts';
import { backendForSuite } from '../test/helpers/suiteBackend.ts';
import { readPublicKey, readSealExport, verifyLog } from './verify.ts';

const noProgress = () => ({ increment: () => undefined, stop: () => undefined });

for (const openBackend of BACKENDS) {
  describe('verify command', () => {
    const backend = backendForSuite(openBackend);

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

    it('checks seals with the public key alone, says "seals checked" only when they were, and takes an export', async () => {
      const db = await backend.fresh();
      const store = await SqlEventStore.open(db, createTestRegistry());
      const dir = mkdtempSync(join(tmpdir(), 'cb-verify-'));
      try {
        for (let i = 0; i < 10; i++) await store.append(`test.counter-${i}`, Array.from({ length: 100 }, (_, n) => incremented(n)));
        const last = (await store.append('test.counter-last', [incremented(1)])).events[0]!.position;
        await waitUntilVisible(store, last);
        const signer = ed25519Signer(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
        await new HashChainer(db, { signer }).catchUp();
        writeFileSync(join(dir, 'seal.pub'), signer.publicKeyPem);
        writeFileSync(join(dir, 'seals.json'), JSON.stringify(await exportSeals(db, { signer })));
        const sealKey = readPublicKey(join(dir, 'seal.pub'));
        const published = readSealExport(join(dir, 'seals.json'));

        const whole = await verifyLog(db, noProgress, { sealKey, published });
        assert.equal(whole.ok, true, whole.lines.join('\n'));
        assert.ok(whole.lines.includes(`1 block seals checked against key ${signer.keyId}`), whole.lines.join('\n'));
        assert.ok(whole.lines.some((l) => l.includes('(1 seals, head at 1001 events): 2 of its links found in the chain')), whole.lines.join('\n'));

        // Rewritten inside the first block, the chain recomputed and the seal deleted by someone without the key.
        const victim = (await store.readStream('test.counter-3'))[7]!;
        await db.exec(`ALTER TABLE es_events DISABLE TRIGGER es_events_append_only;
          UPDATE es_events SET data = '{"by": 42}' WHERE event_id = '${victim.eventId}';
          ALTER TABLE es_events ENABLE TRIGGER es_events_append_only; DELETE FROM es_chain; DELETE FROM es_chain_seals;`);
        const rewritten = await verifyLog(db, noProgress, { sealKey, published });
        assert.equal(rewritten.ok, false);
        assert.ok(rewritten.lines.includes(`no block seal checked against key ${sealKey.keyId}: verification stopped before the first full block`), rewritten.lines.join('\n'));
        assert.ok(!rewritten.lines.some((l) => l.includes('seals checked')));
        assert.ok(rewritten.lines.some((l) => l.startsWith(`TAMPERED: first mismatch at ${victim.position}: the chain was recomputed`)), rewritten.lines.join('\n'));

        const keyOnly = await verifyLog(db, noProgress, { sealKey });
        assert.equal(keyOnly.ok, false);
        assert.ok(keyOnly.lines.some((l) => /^TAMPERED: .*: block 1000 \(events 1–1000, .*\) has no seal/.test(l)), keyOnly.lines.join('\n'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await store.close();
      }
    });
  });
}
