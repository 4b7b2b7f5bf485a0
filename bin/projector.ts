/**
 * A projector process of the production deployment (docs/deployment.md): every module's
 * projections through the platform's ProjectionRunner, the process managers and the hash chain,
 * against `DATABASE_URL`. Run two or more: each projection (and the hash chain) is owned by one
 * process at a time through a PostgreSQL advisory lock, and another takes it over within about a
 * second (`lockRetryMs`) of its owner's session ending. Process managers tick in every projector:
 * their commands carry idempotency keys, so a second process ticking appends nothing new.
 * With `READ_MODELS=mongodb` a projection is owned through a lease in MongoDB instead; with
 * `EVENT_STORE=kurrentdb` no SQL database is opened and no hash chain kept (`backends.ts`).
 *
 * It logs `projections owned` with the full list whenever the set it owns changes.
 * `SEED_DEMO=true` seeds the demo city first when the store is empty (one projector does it).
 * `PORT` (default 4108) and `HOST` serve `/healthz`, `/readyz` (the runner started and the database
 * answers) and `/metrics` (projection lag, append latency, process stats: docs/operations.md).
 *
 *   DATABASE_URL=postgres://… SEAL_KEY_FILE=… npx tsx bin/projector.ts
 */
import { CityBrainError, ValidationError } from '../events/errors.ts';
import { closeOnSignals } from '../gateway/server.ts';
import { MODULES } from './modules.ts';
import { parseConfig } from '../events/config.ts';
import { platformConfigSchema } from './backends.ts';
import { createLogger, openPlatform, seedIfEmpty, type Platform } from './platform.ts';
import { listenAddressFromEnv, listenOps, type Readiness } from '../platform/opsServer.ts';
import { FIRST_PROJECTOR_PORT } from '../platform/subgraphs.ts';

const env = process.env;
const logger = createLogger(env);
const SEED_LOCK_KEY = 0x63697479736565n; // "cityse(ed)"
const OWNERSHIP_POLL_MS = 500;
const READINESS_TIMEOUT_MS = 2000;

/** Seeds the demo city when the store is empty; a projector that finds another seeding skips it. */
async function seedOnce(platform: Platform): Promise<void> {
  if (!platform.db) {
    throw new ValidationError('invalid configuration:\n  SEED_DEMO: projectors agree on which one seeds through an SQL advisory lock, which EVENT_STORE=kurrentdb has not; seed with one `npm start` against the same servers');
  }
  const lock = await platform.db.tryAdvisoryLock(SEED_LOCK_KEY);
  if (!lock) return;
  try {
    const seeded = await seedIfEmpty(platform);
    if (seeded) logger.info(seeded, 'the store was empty: demo city seeded');
  } finally {
    await lock.release();
  }
}

/** Logs the projections this process owns each time the set changes (operators and the deployment test read it). */
function reportOwnership(platform: Platform): () => void {
  let last = '';
  const timer = setInterval(() => {
    const owned = platform.runner.owned().sort();
    const key = owned.join(',');
    if (key === last) return;
    last = key;
    logger.info({ projections: owned, count: owned.length }, 'projections owned');
  }, OWNERSHIP_POLL_MS);
  return () => clearInterval(timer);
}

type Phase = 'starting' | 'running' | 'stopping';

/** Ready while the runner runs and the database answers (a projector that owns nothing is a ready standby). */
async function readiness(platform: Platform, phase: Phase): Promise<Readiness> {
  if (phase !== 'running') return { ready: false, phase };
  const owned = platform.runner.owned().length;
  try {
    await Promise.race([
      // On KurrentDB there is no SQL database: the store's head answers instead.
      platform.db ? platform.db.query('SELECT 1') : platform.store.headPosition(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS).unref()),
    ]);
    return { ready: true, phase, owned };
  } catch (error) {
    return { ready: false, phase, owned, database: error instanceof Error ? error.message : String(error) };
  }
}

try {
  const problems: string[] = [];
  const config = parseConfig(platformConfigSchema, env);
  if (config.EVENT_STORE === 'sql' && !config.DATABASE_URL) {
    problems.push('  DATABASE_URL: required (projector processes share the SQL log in PostgreSQL; or EVENT_STORE=kurrentdb)');
  }
  if (env.SEED_DEMO !== undefined && !['true', 'false', '1', '0', ''].includes(env.SEED_DEMO)) problems.push(`  SEED_DEMO: "${env.SEED_DEMO}" must be true or false`);
  const { port, host } = listenAddressFromEnv(env, FIRST_PROJECTOR_PORT, problems);
  if (problems.length > 0) throw new ValidationError(`invalid configuration:\n${problems.join('\n')}`);
  const platform = await openPlatform({ modules: MODULES, env, logger });
  let phase: Phase = 'starting';
  let ops: Awaited<ReturnType<typeof listenOps>> | undefined;
  try {
    // Up (and scraped) while a long seed or catch-up runs; ready once the runner runs.
    ops = await listenOps(port, host, () => readiness(platform, phase));
    logger.info({ url: ops.url }, 'projector health and metrics listening');
    if (env.SEED_DEMO === 'true' || env.SEED_DEMO === '1') await seedOnce(platform);
    await platform.runner.start();
    await platform.chainer?.start();
    platform.processManagers.start();
    phase = 'running';
    const stopReporting = reportOwnership(platform);
    const listening = ops;
    closeOnSignals(
      {
        async close() {
          phase = 'stopping';
          stopReporting();
          // Closing releases the advisory locks at once: the other projectors take over without waiting for a timeout.
          await platform.close();
          await listening.close();
        },
      },
      logger,
    );
    logger.info({ declared: MODULES.flatMap((m) => m.projections).length }, 'projector started: taking every projection no other projector owns');
  } catch (error) {
    await ops?.close();
    await platform.close();
    throw error;
  }
} catch (error) {
  console.error(error instanceof CityBrainError ? `projector: ${error.message}` : error);
  process.exitCode = 1;
}
