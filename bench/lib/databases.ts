/**
 * Throwaway stores for a bench: PGlite in a temporary data directory (the embedded default mode,
 * and 1M events stay on disk rather than in memory), PostgreSQL in a fresh database created next to
 * the tests' (`TEST_DATABASE_URL`). Both are removed by `dispose()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ValidationError } from '../../events/errors.ts';
import { createPgliteDatabase, createPostgresDatabase, type SqlDatabase } from '../../events/sql/database.ts';
import { TEST_DATABASE_URL, createTestPostgresDatabase } from '../../test/helpers/databases.ts';
import { pinnedVersion } from './machine.ts';
import type { BackendId, BenchContext } from './section.ts';

export interface BenchDatabase {
  db: SqlDatabase;
  /** Where it lives, for the log. */
  location: string;
  /** Facts for the header (the engine's version). */
  facts: Record<string, string>;
  dispose(): Promise<void>;
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** The server's version and the settings that bound write throughput; fails early with what to do. */
export async function postgresServerFacts(): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new ValidationError(
      `cannot reach PostgreSQL at ${redact(TEST_DATABASE_URL)} (${err instanceof Error ? err.message : String(err)}): start it ` +
        '(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), set TEST_DATABASE_URL, or run with --backends pglite',
      { url: redact(TEST_DATABASE_URL) },
    );
  }
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM unnest(ARRAY['server_version', 'fsync', 'synchronous_commit',
         'shared_buffers', 'max_wal_size', 'wal_level']) AS name`,
    );
    const s = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    return {
      PostgreSQL: `${s.server_version} at ${redact(TEST_DATABASE_URL)}; fsync ${s.fsync}, synchronous_commit ${s.synchronous_commit}, ` +
        `shared_buffers ${s.shared_buffers}, max_wal_size ${s.max_wal_size}, wal_level ${s.wal_level}`,
    };
  } finally {
    await client.end();
  }
}

/** Registers a cleanup with the runner; the returned function runs it now (once). */
export type Defer = (cleanup: () => Promise<void>) => () => Promise<void>;

/** Removal is registered before PGlite starts (4–8 s), so an interrupt meanwhile leaves nothing behind. */
export async function openPglite(defer: Defer): Promise<BenchDatabase> {
  const dir = await mkdtemp(join(os.tmpdir(), 'city-brain-bench-'));
  let db: SqlDatabase | undefined;
  const dispose = defer(async () => {
    try {
      await db?.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  try {
    db = await createPgliteDatabase(dir);
    const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return {
      db,
      location: `temporary data directory ${dir}`,
      facts: { PGlite: `${pinnedVersion('@electric-sql/pglite')} (PostgreSQL ${rows[0]?.v ?? '?'}), data directory in ${os.tmpdir()}` },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

export async function openPostgres(defer: Defer, poolSize: number): Promise<BenchDatabase> {
  const database = await createTestPostgresDatabase('cb_bench');
  const db = createPostgresDatabase({ connectionString: database.url, max: poolSize });
  const dispose = defer(async () => {
    try {
      await db.close();
    } finally {
      await database.drop();
    }
  });
  return { db, location: `fresh database ${new URL(database.url).pathname.slice(1)}, pool of ${poolSize}`, facts: {}, dispose };
}

/** The section's throwaway database on `backend` (PostgreSQL with `poolSize` connections), its facts put in the header. */
export async function openBenchDatabase(ctx: Pick<BenchContext, 'defer' | 'fact'>, backend: BackendId, poolSize: number): Promise<BenchDatabase> {
  const opened = backend === 'pglite' ? await openPglite(ctx.defer) : await openPostgres(ctx.defer, poolSize);
  for (const [fact, value] of Object.entries(opened.facts)) ctx.fact(fact, value);
  return opened;
}
