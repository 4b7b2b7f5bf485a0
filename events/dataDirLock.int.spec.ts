import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openPlatform, type Platform } from '../bin/platform.ts';
import { createAdminRoutes } from '../cli/admin.ts';
import { createPgliteDatabase } from './sql/database.ts';
import { DataDirLockedError } from './sql/dataDirLock.ts';
import { SqlEventStore } from './sql/sqlEventStore.ts';
import { createTestRegistry } from '../test/helpers/events.ts';
import { killAll, spawnOwned } from '../test/helpers/processes.ts';
import { serveAdminRoutes } from '../test/helpers/adminServer.ts';

const ROOT = join(import.meta.dirname, '..');

after(killAll);

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
  /** Resolves once stdout holds `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const result: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    async waitFor(text, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (!result.stdout.includes(text)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}" from ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  child.stdout!.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  return result;
}

describe('the embedded store has one owner', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-owner-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second process on the same directory, naming the owner, and keeps every write the owner confirmed', async () => {
    const dataDir = join(dir, 'pglite');
    const owner = run(['test/fixtures/storeOwner.ts', dataDir, '25']);
    await owner.waitFor('holding');
    const confirmed = [...owner.stdout.matchAll(/^confirmed (\S+)$/gm)].map((m) => m[1]!);
    assert.equal(confirmed.length, 25);

    const second = run(['test/fixtures/storeOwner.ts', dataDir, '5']);
    assert.equal(await second.exited, 1);
    assert.doesNotMatch(second.stdout, /confirmed/);
    assert.match(second.stderr, new RegExp(`data directory .*pglite is in use by pid ${owner.child.pid} on .* since \\d{4}-.*storeOwner\\.ts`));

    // The command line is refused the same way (no service to ask: the owner has no admin endpoint).
    const status = run(['bin/city-brain.ts', 'status'], { DATA_DIR: dataDir });
    assert.equal(await status.exited, 1);
    assert.match(status.stderr, new RegExp(`city-brain: the data directory .* is in use by pid ${owner.child.pid}`));

    // Killed outright, the owner leaves a stale lock: the next opener waits for it to go stale, not forever.
    process.kill(-owner.child.pid!, 'SIGKILL');
    await owner.exited;
    const reopened = await createPgliteDatabase(dataDir);
    try {
      const store = await SqlEventStore.open(reopened, createTestRegistry());
      const stored = new Set((await store.readAll({ limit: 1000 })).map((e) => e.position));
      assert.deepEqual(confirmed.filter((p) => !stored.has(p)), [], 'every confirmed write is there after the restart');
      await assert.rejects(createPgliteDatabase(dataDir), (error: unknown) => error instanceof DataDirLockedError && error.owner?.pid === process.pid);
    } finally {
      await reopened.close();
    }
  });

  describe('status, verify and seals ask a running service over its admin endpoint', () => {
    const TOKEN = 'an-admin-token-of-at-least-32-characters';
    let platform: Platform;
    let service: Awaited<ReturnType<typeof serveAdminRoutes>>;
    let dataDir: string;
    before(async () => {
      dataDir = join(dir, 'served');
      platform = await openPlatform({ modules: [], env: { DATA_DIR: dataDir, LOG_LEVEL: 'warn' } });
      service = await serveAdminRoutes(platform, TOKEN);
      platform.db!.dataDirLock!.setAdminUrl(service.url);
    });
    after(async () => {
      await service.close();
      await platform.close();
    });

    it('answers the operator with the token, and nobody without it', async () => {
      const status = run(['bin/city-brain.ts', 'status'], { DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN });
      assert.equal(await status.exited, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`asked the running service \\(pid ${process.pid} `));
      assert.match(status.stdout, /backend pglite, head position \d+:\d+/);

      const verify = run(['bin/city-brain.ts', 'verify'], { DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN });
      assert.equal(await verify.exited, 0, verify.stderr);
      assert.match(verify.stdout, /OK: the log matches its hash chain/);

      const seals = run(['bin/city-brain.ts', 'seals', '--export', join(dir, 'export.json')], { DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN });
      assert.equal(await seals.exited, 0, seals.stderr);
      assert.match(seals.stdout, /wrote 0 seals and the head/);

      const wrongToken = run(['bin/city-brain.ts', 'status'], { DATA_DIR: dataDir, ADMIN_TOKEN: 'x'.repeat(40) });
      assert.equal(await wrongToken.exited, 1);
      assert.match(wrongToken.stderr, /admin endpoint answered HTTP 401/);

      const url = new URL('/admin/status', service.url);
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
      assert.deepEqual(createAdminRoutes(platform, undefined), {}, 'without a token there is no admin endpoint');
    });
  });
});
