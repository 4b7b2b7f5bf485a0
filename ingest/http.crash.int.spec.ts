/**
 * `POST /ingest/<kind>` survives SIGKILL of the service on both stores: the body is streamed, the
 * service killed once part of it is counted, and the same body POSTed again with the same batch id
 * and fingerprint to a new service: the end state equals one clean run (every record once, every
 * chunk counted once, the totals right).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDatabase } from '../events/sql/database.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { issueToken } from '../gateway/tokens.ts';
import { ingestBatchDecider } from '../subgraphs/governance/ingest/decider.ts';
import { ingestBatchStreamId } from '../subgraphs/governance/ingest/events.ts';
import { onEachStore } from '../test/helpers/databases.ts';
import { ingestTestRegistry } from '../test/helpers/ingestKinds.ts';
import { killAll, spawnOwned } from '../test/helpers/processes.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SECRET = 'http-crash-test-secret-0123456789abcdef';
const RECORDS = 2000;
const CHUNK = 20;
const BODY = Array.from({ length: RECORDS }, (_, i) => `${JSON.stringify({ sourceRecordId: `r${i}`, noteId: `n${i}`, text: i % 100 === 7 ? `forbidden ${i}` : `note ${i}` })}\n`);

after(killAll);

async function startService(env: Record<string, string>) {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'test/helpers/ingestHttpChild.ts', SECRET, String(CHUNK)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const found = /port (\d+)/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    void exited.then(() => reject(new Error(`the service exited before listening: ${stderr}`)));
  });
  return { child, port, exited, stderr: () => stderr };
}

/** POSTs the body: its first 600 lines at once, the rest slowly (the first service is killed meanwhile). */
async function deliver(port: number, lines: readonly string[]): Promise<number> {
  const token = await issueToken({ consumerId: 'eco-feeds', role: 'department', secret: SECRET });
  return new Promise((resolve) => {
    let status = 0;
    const req = request(`http://127.0.0.1:${port}/ingest/test-notes?department=ecology-environment&batch=crash-http`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-batch-fingerprint': 'sha256-of-the-file', 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => resolve(status));
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve(status));
      res.on('error', () => resolve(status));
    });
    void (async () => {
      for (let i = 0; i < lines.length; i += 100) {
        if (req.destroyed) return;
        req.write(lines.slice(i, i + 100).join(''));
        await sleep(i < 600 ? 0 : 150);
      }
      req.end();
    })();
  });
}

async function crashAndResume(env: Record<string, string>): Promise<void> {
  const first = await startService(env);
  const sending = deliver(first.port, BODY);
  await sleep(1500);
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  await sending;
  const second = await startService(env);
  assert.equal(await deliver(second.port, BODY), 202, 'the batch was left running by the kill: resumed, not answered as completed');
  second.child.kill('SIGTERM');
  assert.equal((await second.exited).code, 0, second.stderr());
}

async function assertOneCleanRun(db: SqlDatabase): Promise<void> {
  const store = await SqlEventStore.open(db, ingestTestRegistry());
  try {
    const { rows } = await db.query<{ n: string; s: string }>(`SELECT count(*)::text AS n, count(DISTINCT stream_id)::text AS s FROM es_events WHERE type = 'NoteWritten'`);
    assert.deepEqual(rows[0], { n: String(RECORDS - 20), s: String(RECORDS - 20) }, 'every accepted record written exactly once');
    const batch = await store.readStream(ingestBatchStreamId('crash-http'));
    const chunks = batch.filter((e) => e.type === 'IngestBatchProgressed').map((e) => (e.data as { chunk: number }).chunk);
    assert.deepEqual(chunks, Array.from({ length: RECORDS / CHUNK }, (_, i) => i), 'every chunk counted once, in order');
    const { state } = await store.aggregate(ingestBatchDecider, ingestBatchStreamId('crash-http'));
    assert.ok(state.status === 'COMPLETED');
    assert.deepEqual(state.totals, { received: RECORDS, created: RECORDS - 20, changed: 0, unchanged: 0, alreadyPresent: 0, rejected: 20 });
  } finally {
    await store.close();
  }
}

describe('POST /ingest/<kind> survives SIGKILL of the service in the middle of a batch', () => {
  onEachStore(it, 'cb-http-crash-', (env) => crashAndResume(env), assertOneCleanRun);
});
