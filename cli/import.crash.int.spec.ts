/**
 * Crash safety of `import` on both stores: the importer (a child process) is SIGKILLed in the middle
 * of a batch and run again with the same batch id; the end state equals one clean run: every record
 * written once, every chunk counted once, the totals right.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SqlDatabase } from '../events/sql/database.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { onEachStore } from '../test/helpers/databases.ts';
import { killAll, spawnOwned } from '../test/helpers/processes.ts';
import { lockDataDir } from '../events/sql/dataDirLock.ts';
import { ingestTestRegistry } from '../test/helpers/ingestKinds.ts';
import { ingestBatchDecider } from '../subgraphs/governance/ingest/decider.ts';
import { ingestBatchStreamId } from '../subgraphs/governance/ingest/events.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const RECORDS = 2000;
const CHUNK = 20;

after(killAll);

/** Runs the importer; with `killAfterChunk`, SIGKILLs it as soon as it reports that chunk committed. */
function runImporter(env: Record<string, string>, file: string, killAfterChunk?: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'test/helpers/importChild.ts', file, 'crash-1', String(CHUNK)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (killAfterChunk !== undefined && stdout.includes(`chunk ${killAfterChunk}\n`)) child.kill('SIGKILL');
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function writeDelivery(dir: string): string {
  const file = join(dir, 'notes.ndjson');
  const lines = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ sourceRecordId: `r${i}`, noteId: `n${i}`, text: i % 100 === 7 ? `forbidden ${i}` : `note ${i}` }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function assertOneCleanRun(db: SqlDatabase): Promise<void> {
  const store = await SqlEventStore.open(db, ingestTestRegistry());
  try {
    const { rows } = await db.query<{ notes: string; streams: string }>(
      `SELECT count(*)::text AS notes, count(DISTINCT stream_id)::text AS streams FROM es_events WHERE type = 'NoteWritten'`,
    );
    assert.deepEqual(rows[0], { notes: String(RECORDS - 20), streams: String(RECORDS - 20) }, 'every accepted record written exactly once');
    const batch = await store.readStream(ingestBatchStreamId('crash-1'));
    const chunks = batch.filter((e) => e.type === 'IngestBatchProgressed').map((e) => (e.data as { chunk: number }).chunk);
    assert.deepEqual(chunks, Array.from({ length: RECORDS / CHUNK }, (_, i) => i), 'every chunk counted once, in order');
    assert.equal(batch.filter((e) => e.type === 'IngestBatchCompleted').length, 1);
    const { state } = await store.aggregate(ingestBatchDecider, ingestBatchStreamId('crash-1'));
    assert.ok(state.status === 'COMPLETED');
    assert.deepEqual(state.totals, { received: RECORDS, created: RECORDS - 20, changed: 0, unchanged: 0, alreadyPresent: 0, rejected: 20 });
  } finally {
    await store.close();
  }
}

async function crashAndResume(env: Record<string, string>, file: string): Promise<void> {
  const killed = await runImporter(env, file, 3);
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  assert.doesNotMatch(killed.stdout, /"status":"completed"/, 'killed before the batch completed');
  const resumed = await runImporter(env, file);
  assert.equal(resumed.code, 0, resumed.stderr);
  const report = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as { resumedChunks: number; chunks: number; received: number; created: number; rejected: number };
  assert.ok(report.resumedChunks >= 4 && report.resumedChunks < report.chunks, `the re-run resumed the batch (${report.resumedChunks} of ${report.chunks} chunks were committed before the kill)`);
  assert.deepEqual([report.received, report.created, report.rejected], [RECORDS, RECORDS - 20, 20]);
  // The rejects file holds every reject, those of the chunks the killed run committed included, as delivered.
  const rejects = readFileSync(join(dirname(file), 'notes.rejects.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sourceRecordId: string; _rejection: { line: number } });
  assert.deepEqual(rejects.map((r) => [r._rejection.line, r.sourceRecordId]), Array.from({ length: 20 }, (_, i) => [i * 100 + 8, `r${i * 100 + 7}`]));
}

describe('import survives SIGKILL in the middle of a batch', () => {
  onEachStore(it, 'cb-import-crash-', (env, scratch) => crashAndResume(env, writeDelivery(scratch)), assertOneCleanRun);
});

describe('import while a service owns the embedded store', () => {
  it('is refused with a message naming the owner and the ways out, writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-import-locked-'));
    const dataDir = join(dir, 'data');
    const lock = await lockDataDir(dataDir, 'city-brain start (test)');
    try {
      const file = join(dir, 'notes.ndjson');
      writeFileSync(file, '{"sourceRecordId":"a","noteId":"a","text":"a"}\n');
      const child = spawnOwned(process.execPath, ['--import', 'tsx', 'bin/city-brain.ts', 'import', file, '--kind', 'persons', '--department', 'public-security'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1);
      assert.match(stderr, /city-brain: the embedded store is owned by a running service, pid \d+ on .*\(city-brain start \(test\)\)\. import opens the store itself: stop the service and import, or use PostgreSQL \(DATABASE_URL\)/);
      assert.equal(existsSync(join(dir, 'notes.rejects.ndjson')), false, 'no rejects file');
      assert.equal(existsSync(join(dataDir, 'PG_VERSION')), false, 'the store was never opened');
    } finally {
      await lock.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
