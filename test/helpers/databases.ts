/**
 * Real databases for integration tests: one PGlite per test file (reset between tests, since a
 * fresh one costs seconds and ~750 MB) and one fresh PostgreSQL database per test file, dropped
 * when the file ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import pg from 'pg';
import type { EventRegistry } from '../../events/registry.ts';
import { createPgliteDatabase, createPostgresDatabase, type SqlDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A PostgreSQL database that exists for this test file only. */
export async function createTestPostgresDatabase(prefix = 'cb_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Drops every table, function and trigger we created, so the next test starts from nothing. */
export async function resetDatabase(db: SqlDatabase): Promise<void> {
  await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
}

export interface TestBackend {
  name: 'pglite' | 'postgres';
  /** The database, reset to empty. */
  fresh(): Promise<SqlDatabase>;
  /** Opens another connection pool to the same database (PostgreSQL only; PGlite is one session). */
  connectAgain?(): SqlDatabase;
  url?: string;
  dispose(): Promise<void>;
  /** `dispose`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

export async function pgliteBackend(): Promise<TestBackend> {
  const db = await createPgliteDatabase();
  return {
    name: 'pglite',
    async fresh() {
      await resetDatabase(db);
      return db;
    },
    dispose: () => db.close(),
    [Symbol.asyncDispose]: () => db.close(),
  };
}

export async function postgresBackend(): Promise<TestBackend> {
  const database = await createTestPostgresDatabase();
  const db = createPostgresDatabase({ connectionString: database.url, max: 12 });
  const extra: SqlDatabase[] = [];
  const dispose = async () => {
    for (const e of extra) await e.close().catch(() => undefined);
    await db.close();
    await database.drop();
  };
  return {
    name: 'postgres',
    url: database.url,
    async fresh() {
      await resetDatabase(db);
      return db;
    },
    connectAgain() {
      const again = createPostgresDatabase({ connectionString: database.url, max: 4 });
      extra.push(again);
      return again;
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * Both backends, in the order the contract suites run them; `TEST_BACKENDS=postgres` (or `pglite`)
 * keeps one, to loop a suite on one store without opening the other.
 */
const chosen = (name: string): boolean => !process.env.TEST_BACKENDS || process.env.TEST_BACKENDS.split(',').includes(name);

export const BACKENDS: ReadonlyArray<() => Promise<TestBackend>> = [pgliteBackend, postgresBackend].filter((open) => chosen(open.name.replace('Backend', '')));

/** The names of the same backends, for suites that open their runtime by name (`openTestRuntime`). */
export const BACKEND_NAMES = (['pglite', 'postgres'] as const).filter(chosen);

/**
 * Registers the hooks of a suite whose every test starts on an empty database with an event store
 * over it: one backend for the suite, reset before each test; `onFresh` receives the new pair and
 * the backend (assign them to the suite's variables, set clocks, build runtimes, append what every
 * test starts from). What it opens over the store it closes in the function it may return, called
 * before the store closes (runners, a second store).
 */
export function freshStorePerTest(
  openBackend: () => Promise<TestBackend>,
  registry: () => EventRegistry,
  onFresh: (fresh: { db: SqlDatabase; store: SqlEventStore; backend: TestBackend }) => unknown,
): void {
  let backend: TestBackend;
  let store: SqlEventStore | undefined;
  let teardown: (() => unknown) | undefined;
  const close = async () => {
    await teardown?.();
    teardown = undefined;
    await store?.close();
  };
  before(async () => {
    backend = await openBackend();
  });
  after(async () => {
    await close();
    await backend.dispose();
  });
  beforeEach(async () => {
    await close();
    const db = await backend.fresh();
    store = await SqlEventStore.open(db, registry());
    const opened = await onFresh({ db, store, backend });
    if (typeof opened === 'function') teardown = opened as () => unknown;
  });
}

/** For one test: a backend, its database emptied and an event store over it; disposing closes the store, then the backend. */
export async function storeOnFreshDatabase(
  openBackend: () => Promise<TestBackend>,
  registry: EventRegistry,
): Promise<{ backend: TestBackend; db: SqlDatabase; store: SqlEventStore } & AsyncDisposable> {
  const backend = await openBackend();
  const db = await backend.fresh();
  const store = await SqlEventStore.open(db, registry);
  return {
    backend,
    db,
    store,
    async [Symbol.asyncDispose]() {
      await store.close();
      await backend.dispose();
    },
  };
}

/**
 * A child-process scenario (a crash and a re-run) on each store: `run` gets the environment that
 * points a process at a fresh PGlite directory or PostgreSQL database, and a scratch directory;
 * `check` then reads that database. Directory and database are removed whatever happens.
 */
export function onEachStore(
  it: (name: string, body: () => Promise<void>) => unknown,
  prefix: string,
  run: (env: Record<string, string>, scratch: string) => Promise<void>,
  check: (db: SqlDatabase) => Promise<void>,
): void {
  const inScratch = async (body: (scratch: string) => Promise<void>) => {
    const scratch = mkdtempSync(join(tmpdir(), prefix));
    try {
      await body(scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  };
  const checked = async (db: SqlDatabase) => {
    try {
      await check(db);
    } finally {
      await db.close();
    }
  };
  it('on PGlite', () =>
    inScratch(async (scratch) => {
      const dataDir = join(scratch, 'data');
      await run({ DATA_DIR: dataDir }, scratch);
      await checked(await createPgliteDatabase(dataDir));
    }));
  it('on PostgreSQL', () =>
    inScratch(async (scratch) => {
      const database = await createTestPostgresDatabase();
      try {
        await run({ DATABASE_URL: database.url }, scratch);
        await checked(createPostgresDatabase({ connectionString: database.url }));
      } finally {
        await database.drop();
      }
    }));
}
