/**
 * Opening the platform on the backends the configuration chooses, where their servers do not answer
 * (none runs here): start-up fails within seconds with one line naming the variable, without the
 * password, leaving nothing written and nothing held open.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { SqlDatabase } from '../events/sql/database.ts';
import { BACKENDS, freshStorePerTest } from '../test/helpers/databases.ts';
import { createTestRegistry } from '../test/helpers/events.ts';
import { openPlatform } from './platform.ts';

const silent = pino({ level: 'silent' });
/** Port 1 on the loopback interface: nothing listens there. */
const NO_MONGODB = 'mongodb://reader:secret@127.0.0.1:1/citybrain';
const NO_KURRENTDB = 'kurrentdb://admin:secret@127.0.0.1:1?tls=false';

async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await body();
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
  throw new Error('expected the platform to refuse to open');
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

for (const openBackend of BACKENDS) {
  describe(`MongoDB read models beside the SQL log (${openBackend.name.replace('Backend', '')}), server unreachable`, () => {
    let db: SqlDatabase;
    freshStorePerTest(openBackend, createTestRegistry, (fresh) => ({ db } = fresh));

    it('refuses to start within seconds, naming MONGODB_URL, and writes no event', async () => {
      const { ms, error } = await timed(() => openPlatform({ modules: [], db, env: { READ_MODELS: 'mongodb', MONGODB_URL: NO_MONGODB }, logger: silent }));
      assert.match(messageOf(error), /^invalid configuration:\n {2}MONGODB_URL: MongoDB at mongodb:\/\/reader:\*\*\*@127\.0\.0\.1:1\/citybrain did not answer: /);
      assert.doesNotMatch(messageOf(error), /secret/);
      assert.ok(ms < 8000, `took ${ms} ms`);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM es_events');
      assert.equal(rows[0]!.n, 0);
    });
  });
}

describe('backends refused before or while opening', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-backends-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases the embedded store it opened when the read models cannot be reached, so the next start can open it', async () => {
    const dataDir = join(dir, 'pglite');
    const { error } = await timed(() => openPlatform({ modules: [], env: { DATA_DIR: dataDir, READ_MODELS: 'mongodb', MONGODB_URL: NO_MONGODB }, logger: silent }));
    assert.match(messageOf(error), /MONGODB_URL: MongoDB at .* did not answer/);
    const platform = await openPlatform({ modules: [], env: { DATA_DIR: dataDir }, logger: silent });
    try {
      assert.equal(platform.store.backend, 'pglite');
      assert.ok(platform.chainer, 'the SQL log keeps its hash chain');
    } finally {
      await platform.close();
    }
  });

  it('refuses an unreachable KurrentDB within seconds, naming KURRENTDB_URL, and opens no SQL database', async () => {
    const dataDir = join(dir, 'never');
    const env = { EVENT_STORE: 'kurrentdb', KURRENTDB_URL: NO_KURRENTDB, READ_MODELS: 'mongodb', MONGODB_URL: NO_MONGODB, DATA_DIR: dataDir };
    const { ms, error } = await timed(() => openPlatform({ modules: [], env, logger: silent }));
    assert.match(messageOf(error), /^invalid configuration:\n {2}KURRENTDB_URL: KurrentDB at kurrentdb:\/\/admin:\*\*\*@127\.0\.0\.1:1\?tls=false did not answer: /);
    assert.doesNotMatch(messageOf(error), /secret/);
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.equal(existsSync(dataDir), false);
  });

  it('refuses KurrentDB with SQL read models before contacting anything', async () => {
    const dataDir = join(dir, 'unsupported');
    const { ms, error } = await timed(() => openPlatform({ modules: [], env: { EVENT_STORE: 'kurrentdb', KURRENTDB_URL: NO_KURRENTDB, DATA_DIR: dataDir }, logger: silent }));
    assert.match(messageOf(error), /READ_MODELS: sql read models need EVENT_STORE=sql/);
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.equal(existsSync(dataDir), false);
  });
});
