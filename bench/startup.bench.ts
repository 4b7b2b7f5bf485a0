/**
 * `npm start` as a newcomer meets it: the CLI spawned as its own process on a fresh
 * embedded (PGlite) data directory — demo city seeded, projections caught up, graph served — timed
 * to the first authenticated query it answers; then stopped and started again on the same directory
 * (no seeding), timed the same way: the restart is the baseline of the fresh start (what starting
 * costs without the city). The seed's throughput comes from the report the first start logs; its
 * baseline is the same events appended with `appendMany` (the seed's batch size, personal fields
 * sealed as the seed seals them) into another fresh data directory: the store's ceiling, without the
 * command path.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openPlatform } from '../bin/platform.ts';
import { MODULES } from '../bin/modules.ts';
import { START, type Position, type RecordedEvent, type StreamAppend } from '../events/types.ts';
import { GRAPHQL_PATH } from '../gateway/server.ts';
import { issueToken } from '../gateway/tokens.ts';
import { SERVED_NODE_FLAGS } from '../scripts/topology.ts';
import { DEMO_CONSUMER_ROLES, DEMO_DASHBOARD } from '../subgraphs/governance/index.ts';
import type { Target } from './lib/figures.ts';
import type { BenchContext, BenchOption } from './lib/section.ts';
import { perSecond, stopwatch } from './lib/stats.ts';
import { freePort } from '../test/helpers/ports.ts';

export const name = 'startup';
export const description = '`npm start` on a fresh data directory to its first answered query (demo city seeded), the seed rate, and a restart';

export const options: readonly BenchOption[] = [
  { name: 'startupTimeoutS', description: 'seconds a start may take to answer before the section fails', default: 600, quick: 600 },
];

/** Issue targets on a quiet 2-core machine: a fresh start (the demo city seeded) answers within 30 s, a restart within 5 s. */
const FIRST_QUERY_TARGETS: readonly Target[] = [{ on: 'value', op: '<=', threshold: 30 }];
const RESTART_TARGETS: readonly Target[] = [{ on: 'value', op: '<=', threshold: 5 }];
/** Events per transaction of the demo seed (bin/platform.ts). */
const SEED_BATCH_EVENTS = 5000;
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Node's arguments of `npm start` (package.json: `exec node --max-semi-space-size=64 bin/launch.mjs start`), without npm's own start-up. */
const NPM_START = [...SERVED_NODE_FLAGS, 'bin/launch.mjs', 'start'];
/** The query `npm start` prints as its example. */
const QUERY = '{ divisions(level: DISTRICT) { edges { node { code name } } } }';
/** Variables of the bench's own environment that would point the child elsewhere than a fresh PGlite directory. */
const INHERITED_OUT = ['DATABASE_URL', 'JWT_SECRET', 'JWT_JWKS_URL', 'GATEWAY_ASSERTION_SECRET', 'SEAL_KEY_FILE', 'GATEWAY_HOST'];

interface Started {
  /** Spawn to the first query answered without errors. */
  seconds: number;
  /** What the child printed (its last 64 KiB). */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `city-brain start` in its own process group and polls the gateway until it answers. */
async function start(ctx: BenchContext, dataDir: string, label: string): Promise<Started> {
  const port = await freePort();
  // Info: the fresh start logs its seed report as a JSON line.
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, GATEWAY_PORT: String(port), LOG_LEVEL: 'info' };
  for (const variable of INHERITED_OUT) delete env[variable];
  const clock = stopwatch();
  const child = spawn(process.execPath, NPM_START, { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-65_536);
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
      if (!running) throw new Error(`${label}: city-brain start exited before answering:\n${output.slice(-4000)}`);
      if (clock.elapsedMs() > deadline) throw new Error(`${label}: no answer within ${deadline / 1000} s (last: ${last}):\n${output.slice(-4000)}`);
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
  return { seconds, output: () => output, stop: stopNow };
}

/** The seed report the first start logged (`bin/platform.ts` SeedReport). */
function seedReport(output: string): { commands: number; events: number; seconds: number } {
  for (const line of output.split('\n')) {
    if (!line.includes('demo city seeded')) continue;
    const { commands, events, seconds } = JSON.parse(line) as { commands: number; events: number; seconds: number };
    return { commands, events, seconds };
  }
  throw new Error('the fresh start logged no seed report ("the store was empty: demo city seeded")');
}

/**
 * The baseline: the seed's events (all but access records and process-manager commands) read back
 * from the seeded directory as the service reads them (personal fields opened with the keys beside
 * it) and appended into a fresh data directory through the same store (sealed again), in the log's
 * order, in batches of the seed's size: the same writes without the command path.
 */
async function rawAppendRate(seededDir: string, freshDir: string): Promise<{ events: number; perSecond: number }> {
  const env = (dataDir: string) => ({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const seeded = await openPlatform({ modules: MODULES, env: env(seededDir), chain: false });
  const events: RecordedEvent[] = [];
  try {
    for (let from: Position = START; ; ) {
      const page = await seeded.store.readAll({ fromPosition: from, limit: 10_000 });
      if (page.length === 0) break;
      events.push(...page.filter((e) => e.type !== 'DataAccessed' && e.metadata.provenance.channel !== 'process-manager'));
      from = page.at(-1)!.position;
    }
  } finally {
    await seeded.close();
  }
  const fresh = await openPlatform({ modules: MODULES, env: env(freshDir), chain: false });
  try {
    const clock = stopwatch();
    for (let i = 0; i < events.length; i += SEED_BATCH_EVENTS) {
      const appends: StreamAppend[] = [];
      for (const e of events.slice(i, i + SEED_BATCH_EVENTS)) {
        const last = appends.at(-1);
        const event = { type: e.type, data: e.data, metadata: e.metadata, eventId: e.eventId };
        if (last?.streamId === e.streamId) (last.events as (typeof event)[]).push(event);
        else appends.push({ streamId: e.streamId, events: [event] });
      }
      await fresh.store.appendMany(appends);
    }
    return { events: events.length, perSecond: perSecond(events.length, clock.elapsedMs()) };
  } finally {
    await fresh.close();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.backends.includes('pglite')) {
    ctx.log('skipped: `npm start` runs on the embedded store; add pglite to --backends');
    return;
  }
  const { scripts } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } };
  if (scripts.start !== `exec node ${NPM_START.join(' ')}`) throw new Error(`the bench spawns node ${NPM_START.join(' ')}, but npm start runs "${scripts.start}": make them agree`);
  const dir = mkdtempSync(join(tmpdir(), 'cb-bench-startup-'));
  ctx.defer(async () => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'pglite');
  const backend = 'pglite';

  const fresh = await start(ctx, dataDir, 'fresh data directory');
  const seed = seedReport(fresh.output());
  await fresh.stop();
  ctx.log(`seed: ${seed.events} events from ${seed.commands} commands in ${seed.seconds.toFixed(1)} s`);

  ctx.signal.throwIfAborted();
  const again = await start(ctx, dataDir, 'second start, same data directory');
  await again.stop();
  ctx.report({ backend, key: 'startup.fresh.first_query_s', value: fresh.seconds, targets: FIRST_QUERY_TARGETS, baseline: { key: 'startup.restart.first_query_s', value: again.seconds } });
  ctx.report({ backend, key: 'startup.restart.first_query_s', value: again.seconds, targets: RESTART_TARGETS });

  ctx.signal.throwIfAborted();
  const raw = await rawAppendRate(dataDir, join(dir, 'raw'));
  ctx.log(`baseline: ${raw.events} events appended raw at ${raw.perSecond.toFixed(0)} events/s`);
  ctx.report({ backend, key: 'startup.seed.events', value: seed.events });
  ctx.report({ backend, key: 'startup.seed.commands', value: seed.commands });
  ctx.report({ backend, key: 'startup.seed.s', value: seed.seconds });
  ctx.report({ backend, key: 'startup.seed.commands_per_s', value: perSecond(seed.commands, seed.seconds * 1000) });
  ctx.report({
    backend,
    key: 'startup.seed.events_per_s',
    value: perSecond(seed.events, seed.seconds * 1000),
    baseline: { key: 'startup.baseline.appendMany.events_per_s', value: raw.perSecond },
  });
}
