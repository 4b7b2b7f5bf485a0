/**
 * `npm start` as a newcomer meets it (issue 4): the CLI spawned as its own process on a fresh
 * embedded (PGlite) data directory — demo city seeded, projections caught up, graph served — timed
 * to the first authenticated query it answers; then stopped and started again on the same directory
 * (no seeding), timed the same way. Between the two, the seed's throughput is read from the log the
 * first start wrote.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createPgliteDatabase } from '../events/sql/database.ts';
import { GRAPHQL_PATH } from '../gateway/server.ts';
import { issueToken } from '../gateway/tokens.ts';
import { DEMO_CONSUMER_ROLES, DEMO_DASHBOARD } from '../subgraphs/governance/index.ts';
import type { Target } from './lib/figures.ts';
import type { BenchContext, BenchOption } from './lib/section.ts';
import { perSecond, stopwatch } from './lib/stats.ts';

export const name = 'startup';
export const description = '`npm start` on a fresh data directory to its first answered query (demo city seeded), the seed rate, and a restart';

export const options: readonly BenchOption[] = [
  { name: 'startupTimeoutS', description: 'seconds a start may take to answer before the section fails', default: 600, quick: 600 },
];

const FIRST_QUERY_TARGETS: readonly Target[] = [{ on: 'value', op: '<=', threshold: 60 }];
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** The query `npm start` prints as its example. */
const QUERY = '{ divisions(level: DISTRICT) { edges { node { code name } } } }';
/** Variables of the bench's own environment that would point the child elsewhere than a fresh PGlite directory. */
const INHERITED_OUT = ['DATABASE_URL', 'JWT_SECRET', 'JWT_JWKS_URL', 'GATEWAY_ASSERTION_SECRET', 'SEAL_KEY_FILE', 'GATEWAY_HOST'];

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

interface Started {
  /** Spawn to the first query answered without errors. */
  seconds: number;
  stop(): Promise<void>;
}

/** Spawns `city-brain start` in its own process group and polls the gateway until it answers. */
async function start(ctx: BenchContext, dataDir: string, label: string): Promise<Started> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, GATEWAY_PORT: String(port), LOG_LEVEL: 'warn' };
  for (const variable of INHERITED_OUT) delete env[variable];
  const clock = stopwatch();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/city-brain.ts', 'start'], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const stop = async () => {
    if (!running) return;
    signalGroup('SIGTERM');
    const timeout = sleep(30_000).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      signalGroup('SIGKILL');
      await exited;
    }
  };
  const stopNow = ctx.defer(stop);

  const secretsFile = join(dataDir, '..', 'dev-secrets.json');
  const deadline = ctx.size('startupTimeoutS') * 1000;
  let token: string | undefined;
  let last = 'no answer yet';
  try {
    for (;;) {
      ctx.signal.throwIfAborted();
      if (!running) throw new Error(`${label}: city-brain start exited before answering:\n${output}`);
      if (clock.elapsedMs() > deadline) throw new Error(`${label}: no answer within ${deadline / 1000} s (last: ${last}):\n${output}`);
      if (token === undefined && existsSync(secretsFile)) {
        const { JWT_SECRET: secret } = JSON.parse(readFileSync(secretsFile, 'utf8')) as { JWT_SECRET: string };
        token = await issueToken({ consumerId: DEMO_DASHBOARD, role: DEMO_CONSUMER_ROLES[DEMO_DASHBOARD]!, secret, ttl: '1h' });
      }
      if (token !== undefined) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}${GRAPHQL_PATH}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query: QUERY }),
          });
          const body = (await response.json()) as { data?: { divisions?: { edges: unknown[] } | null }; errors?: unknown[] };
          if (response.ok && !body.errors && (body.data?.divisions?.edges.length ?? 0) > 0) break;
          last = `HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
      }
      await sleep(100);
    }
  } catch (error) {
    await stopNow();
    throw error;
  }
  const seconds = clock.elapsedMs() / 1000;
  ctx.log(`${label}: first query answered ${seconds.toFixed(1)} s after spawning`);
  return { seconds, stop: stopNow };
}

/** The seed's events in the log a first start wrote: all but access records and process-manager commands. */
async function seedFigures(dataDir: string): Promise<{ events: number; commands: number; seconds: number }> {
  const db = await createPgliteDatabase(dataDir);
  try {
    const { rows } = await db.query(
      `SELECT count(*)::int AS events, count(DISTINCT transaction_id)::int AS commands,
              extract(epoch FROM max(recorded_at) - min(recorded_at))::float8 AS seconds
         FROM es_events
        WHERE type <> 'DataAccessed' AND metadata #>> '{provenance,channel}' IS DISTINCT FROM 'process-manager'`,
    );
    const row = rows[0] as { events: number; commands: number; seconds: number } | undefined;
    if (!row || row.events === 0) throw new Error(`no seed events in ${dataDir}`);
    return row;
  } finally {
    await db.close();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.backends.includes('pglite')) {
    ctx.log('skipped: `npm start` runs on the embedded store; add pglite to --backends');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cb-bench-startup-'));
  ctx.defer(async () => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'pglite');
  const backend = 'pglite';

  const fresh = await start(ctx, dataDir, 'fresh data directory');
  ctx.report({ backend, key: 'startup.fresh.first_query_s', value: fresh.seconds, targets: FIRST_QUERY_TARGETS });
  await fresh.stop();

  ctx.signal.throwIfAborted();
  const seed = await seedFigures(dataDir);
  ctx.log(`seed: ${seed.events} events in ${seed.commands} commands over ${seed.seconds.toFixed(1)} s`);
  ctx.report({ backend, key: 'startup.seed.events', value: seed.events });
  ctx.report({ backend, key: 'startup.seed.commands', value: seed.commands });
  ctx.report({ backend, key: 'startup.seed.s', value: seed.seconds });
  ctx.report({ backend, key: 'startup.seed.commands_per_s', value: perSecond(seed.commands, seed.seconds * 1000) });
  ctx.report({ backend, key: 'startup.seed.events_per_s', value: perSecond(seed.events, seed.seconds * 1000) });

  const again = await start(ctx, dataDir, 'second start, same data directory');
  ctx.report({ backend, key: 'startup.restart.first_query_s', value: again.seconds });
  await again.stop();
}
