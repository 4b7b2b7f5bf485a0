/**
 * `npm start`: one process runs the store, the projector (projections, process managers, hash
 * chain), every subgraph and the gateway (DESIGN §4). On an empty store it seeds the demo city
 * first. With the embedded store and no secrets configured it generates development secrets beside
 * the data directory (kept, so tokens survive a restart) and prints a token for the demo dashboard.
 */
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { dirname, join, resolve } from 'node:path';
import { withDevelopmentSecrets } from './devSecrets.ts';
import { seedIfEmpty, type Platform } from '../bin/platform.ts';
import { createAdminRoutes } from './admin.ts';
import { clientTokenConfig, parseGatewayOptions } from '../gateway/config.ts';
import { ingestConfigSchema, startMqttBridge, type MqttBridge } from '../ingest/mqtt.ts';
import { ingestKindsOf } from '../ingest/runner.ts';
import { createSeedProgress } from './progress.ts';
import { gatewayConfigFromEnv } from '../gateway/config.ts';
import { demoCityConfig } from '../subgraphs/kit/demoCity.ts';
import { parseConfig, storageConfigSchema } from '../events/config.ts';
import { ValidationError } from '../events/errors.ts';
import { issueToken } from '../gateway/tokens.ts';
import { createGovernanceAccess, DEMO_CONSUMER_ROLES, DEMO_DASHBOARD, DEMO_OPS_EXAMPLES } from '../subgraphs/governance/index.ts';

/**
 * What serving the graph needs beyond the store: the gateway runtime, most of what `start` loads.
 * Loaded while the store opens, seeds and catches up (`start` asks for it first), not before.
 */
let serving: Promise<[typeof import('../bin/graph.ts'), typeof import('../ingest/http.ts'), typeof import('../gateway/server.ts')]> | undefined;

export function loadServing(): NonNullable<typeof serving> {
  if (!serving) {
    serving = Promise.all([import('../bin/graph.ts'), import('../ingest/http.ts'), import('../gateway/server.ts')]);
    // Reported where it is awaited; a start that fails earlier must not fail on this instead.
    serving.catch(() => undefined);
  }
  return serving;
}

/**
 * Everything `start` is configured with — storage, logging, the demo city, the gateway — checked
 * together before anything is opened or written: every mistake on its own line, then whether the
 * gateway's port is free (found now, not after seeding).
 */
export async function checkStartConfig(env: Record<string, string | undefined>): Promise<void> {
  const problems: string[] = [];
  const collect = (check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.message.split('\n').slice(1));
    }
  };
  collect(() => parseConfig(storageConfigSchema, env));
  const dataDir = storageConfigSchema.shape.DATA_DIR.safeParse(env.DATA_DIR).data;
  collect(() => demoCityConfig(env));
  collect(() => parseConfig(ingestConfigSchema, env));
  // Development secrets are only imagined here: nothing is written until the whole configuration holds.
  const graphEnv = dataDir === undefined ? env : withDevelopmentSecrets(env, dataDir, { persist: false });
  let listen: { port: number; host: string } | undefined;
  collect(() => (listen = gatewayConfigFromEnv(graphEnv)));
  if (problems.length > 0) throw new ValidationError(`invalid configuration:\n${problems.join('\n')}`);
  if (listen && listen.port !== 0) await assertPortFree(listen.port, listen.host);
}

async function assertPortFree(port: number, host: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ValidationError(`invalid configuration:\n  GATEWAY_PORT: ${host}:${port} cannot be listened on (${error.code === 'EADDRINUSE' ? 'already in use' : error.message})`)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/**
 * Logs that a phase of the start ended: how long it took, and when it ended counted from the
 * process's start (`performance.now()`'s origin), so a slow start's log says where the time went.
 */
export function logStartPhase(logger: Logger, phase: string, startedAt: number, fields: Record<string, unknown> = {}, endedAt = performance.now()): void {
  logger.info({ phase, ms: Math.round(endedAt - startedAt), atMs: Math.round(endedAt), ...fields }, `start: ${phase}`);
}

export async function startService(platform: Platform, env: Record<string, string | undefined>): Promise<void> {
  const { logger, runtime } = platform;
  const modules = loadServing();
  const graphEnv = withDevelopmentSecrets(env, platform.config.DATA_DIR);
  // Validate the configuration before anything is written or started.
  const { options, port, host, adminToken } = gatewayConfigFromEnv(graphEnv);
  demoCityConfig(env);
  const ingestConfig = parseConfig(ingestConfigSchema, env);

  const progress = createSeedProgress();
  const seeding = performance.now();
  const seeded = await seedIfEmpty(platform, (status) => progress.update(status)).finally(() => progress.stop());
  if (seeded) logger.info({ ...seeded, seconds: Number(seeded.seconds.toFixed(1)) }, 'the store was empty: demo city seeded');
  logStartPhase(logger, 'seed', seeding, { seeded: seeded !== undefined });
  const catchingUp = performance.now();
  // A restart with nothing to apply leaves taking ownership to the live loop started below.
  const caughtUp = (await platform.runner.isCaughtUp?.()) ?? false;
  if (!caughtUp) await platform.runner.catchUp();
  logStartPhase(logger, 'projections caught up', catchingUp, { hadNothingToApply: caughtUp });

  const loading = performance.now();
  const [{ startGraph }, { createIngestRoute, INGEST_PATH }, { closeOnSignals }] = await modules;
  logStartPhase(logger, 'serving code loaded', loading);
  const starting = performance.now();
  const access = createGovernanceAccess(runtime);
  const ingest = { store: platform.store, kinds: ingestKindsOf(platform.modules), now: runtime.now, logger };
  const ingestRoute = createIngestRoute({ ingest, client: clientTokenConfig(parseGatewayOptions({ auth: options.auth, limits: {} }).auth), maxBodyBytes: ingestConfig.INGEST_MAX_BODY_BYTES });
  const graph = await startGraph({
    runtime,
    modules: platform.modules,
    auth: options.auth,
    access,
    limits: options.limits,
    devMode: options.devMode,
    // Only the gateway is the service's address; in one process the subgraphs take free ports, so a
    // second instance (another DATA_DIR and GATEWAY_PORT) or a test run never collides with it.
    ports: { gateway: port, subgraphs: Object.fromEntries(platform.modules.map((m) => [m.name, 0])) },
    // Beside the data directory, as the development secrets are: a restart skips composing.
    supergraphCache: join(dirname(resolve(platform.config.DATA_DIR)), 'supergraph.cache.json'),
    host,
    logger,
    routes: { ...createAdminRoutes(platform, adminToken), [INGEST_PATH]: ingestRoute },
    gateway: { corsOrigins: options.corsOrigins, drainTimeoutMs: options.drainTimeoutMs, queryPlanner: options.queryPlanner, ...(adminToken && { adminToken }) },
  });
  logStartPhase(logger, 'graph listening', starting);
  // The ingest route's deliveries and records at the gateway's /metrics.
  ingestRoute.metrics.registerIn(graph.gateway.metrics.registry);
  // `status`, `verify` and `seals` run elsewhere ask this process, which owns the embedded store.
  if (adminToken) platform.db?.dataDirLock?.setAdminUrl(new URL('/', graph.url).toString());
  // The sensors' bridge (ingest/mqtt.ts) when MQTT_URL is set: refused at start without a valid WRITE grant.
  let bridge: MqttBridge | undefined;
  if (ingestConfig.MQTT_URL) bridge = await startMqttBridge(ingest, ingestConfig);
  closeOnSignals(
    {
      async close() {
        await bridge?.close();
        await graph.close();
        await ingestRoute.running();
        await access.recorder?.close();
        await platform.close();
      },
    },
    logger,
  );
  // Background work starts once the graph answers: on the embedded store it shares one session with
  // the queries, and the hash chain of a freshly seeded city is long.
  await platform.runner.start();
  await platform.chainer?.start();
  platform.processManagers.start();

  const lines = [`City Brain graph: ${graph.url}${options.devMode ? ' (development mode: GraphiQL and introspection on)' : ''}`];
  if (graphEnv.JWT_SECRET) {
    const token = await issueToken({ consumerId: DEMO_DASHBOARD, role: DEMO_CONSUMER_ROLES[DEMO_DASHBOARD]!, secret: graphEnv.JWT_SECRET, ttl: '12h' });
    const origin = new URL(graph.url).origin;
    lines.push(
      `operations screen (城市运行一张图), signed in as the demo dashboard: ${origin}/#token=${token}`,
      ...(options.devMode ? [`GraphiQL with the token's header filled in: ${graph.url}#token=${token}`] : []),
    );
    lines.push(`token for the demo dashboard (12 h): ${token}`, `  curl -s ${graph.url} -H 'authorization: Bearer <token>' -H 'content-type: application/json' -d '{"query":"{ divisions(level: DISTRICT) { edges { node { code name } } } }"}'`);
    // The closed loop acts as the token's consumer: each centre and unit has its own (README "Who acts").
    lines.push('tokens of the closed loop (12 h), each acting as the centre or unit governance registered it for:');
    for (const [label, consumerId] of [
      ['历下区 centre (registers, dispatches, verifies)', DEMO_OPS_EXAMPLES.districtCentre],
      ['历下区市政工程处 (handles what the district dispatches to it)', DEMO_OPS_EXAMPLES.districtUnit],
      ['解放路街道 centre', DEMO_OPS_EXAMPLES.streetCentre],
      ['解放路街道城管办 (unit)', DEMO_OPS_EXAMPLES.streetUnit],
    ] as const) {
      lines.push(`  ${label}, consumer ${consumerId}: ${await issueToken({ consumerId, role: 'department', secret: graphEnv.JWT_SECRET, ttl: '12h' })}`);
    }
    lines.push('more tokens: npm run cli -- token --consumer <id> (centres: centre-<division code>; units: <district>-szgc, <street>-cgb, <历下区 community>-wgz)');
  }
  console.log(lines.join('\n'));
}
