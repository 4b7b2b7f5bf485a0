/**
 * A projector killed with SIGKILL in the middle of a batch, then restarted, must leave read models
 * equal to a clean rebuild from position 0: nothing skipped, nothing applied twice.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPgliteDatabase, createPostgresDatabase, type SqlDatabase } from '../events/sql/database.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { SqlReadModels } from './sql/readModels.ts';
import { ProjectionRunner } from './runner.ts';
import { createTestPostgresDatabase } from '../test/helpers/databases.ts';
import { killAll, spawnOwned } from '../test/helpers/processes.ts';
import { createTestRegistry, incremented } from '../test/helpers/events.ts';
import { counterProjection, type CounterDoc } from '../test/helpers/projections.ts';

const STREAMS = 40;
const EVENTS_PER_STREAM = 40;

function startProjector(args: string[]): { child: ChildProcess; lines: string[]; waitFor(pattern: RegExp, timeoutMs?: number): Promise<void> } {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'test/fixtures/projectorProcess.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) w.resolve();
    }
  });
  return {
    child,
    lines,
    waitFor(pattern, timeoutMs = 60_000) {
      if (lines.some((l) => pattern.test(l))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`projector did not print ${pattern} in time; printed: ${lines.slice(-5).join(' | ')}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGKILL');
  });
}

async function seed(db: SqlDatabase): Promise<void> {
  const store = await SqlEventStore.open(db, createTestRegistry());
  for (let i = 0; i < EVENTS_PER_STREAM; i++) {
    for (let s = 0; s < STREAMS; s++) await store.append(`test.counter-${s}`, [incremented((s + i) % 7)]);
  }
  await store.close();
}

async function snapshot(db: SqlDatabase): Promise<Map<string, CounterDoc>> {
  const docs = new Map<string, CounterDoc>();
  const collection = new SqlReadModels(db, 0).of('test.counters').collection<CounterDoc>('counters');
  let after: string | undefined;
  for (;;) {
    const page = await collection.find({ first: 100, after });
    for (const item of page.items) docs.set(item.node.id, item.node.doc);
    if (!page.hasNextPage) return docs;
    after = page.endCursor ?? undefined;
  }
}

/** Kill twice mid-batch, let a third process finish, then compare with a clean rebuild. */
async function killRestartAndCompare(args: string[], open: () => Promise<SqlDatabase>): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const projector = startProjector(args);
    await projector.waitFor(/^batch /);
    await new Promise((r) => setTimeout(r, 150 + round * 100));
    await killed(projector.child);
  }
  const finisher = startProjector(args);
  await finisher.waitFor(/caught-up/, 120_000);
  await killed(finisher.child);

  const db = await open();
  try {
    const afterCrashes = await snapshot(db);
    const store = await SqlEventStore.open(db, createTestRegistry());
    const rebuilder = new ProjectionRunner(db, store, [counterProjection()]);
    await rebuilder.rebuild('test.counters');
    await rebuilder.stop();
    const clean = await snapshot(db);
    await store.close();
    assert.equal(afterCrashes.size, STREAMS);
    assert.deepEqual(afterCrashes, clean);
    const increments = [...clean.values()].reduce((n, d) => n + d.increments, 0);
    assert.equal(increments, STREAMS * EVENTS_PER_STREAM, 'every event applied exactly once');
  } finally {
    await db.close();
  }
}

describe('a projector killed mid-batch', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    killAll();
    for (const c of cleanups) await c();
  });

  it('on PostgreSQL resumes to read models equal to a clean rebuild', async () => {
    const database = await createTestPostgresDatabase('cb_crash');
    cleanups.push(() => database.drop());
    const db = createPostgresDatabase({ connectionString: database.url });
    await seed(db);
    await db.close();
    await killRestartAndCompare(['--pg', database.url], async () => createPostgresDatabase({ connectionString: database.url }));
  });

  it('on PGlite (a persisted data directory) resumes to read models equal to a clean rebuild', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-crash-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const db = await createPgliteDatabase(dir);
    await seed(db);
    await db.close();
    await killRestartAndCompare(['--pglite', dir], () => createPgliteDatabase(dir));
  });
});
