/**
 * Opens the platform one process runs on: the event store and the read models chosen by
 * configuration (`backends.ts`: SQL, KurrentDB, MongoDB), with every module's event types
 * registered, and the projector over every module's projections. `npm start`, the CLI commands and
 * end-to-end tests all open it here, so they see the same registry and the same projections.
 */
import { pino, type Logger } from 'pino';
import { openDatabase, parseConfig, type StorageConfig } from '../events/config.ts';
import { EventRegistry } from '../events/registry.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import { ed25519Signer, HASH_CHAIN_SCHEMA, HashChainer, type ChainSigner } from '../events/sql/hashChain.ts';
import { generateKeyPairSync } from 'node:crypto';
import { ValidationError } from '../events/errors.ts';
import { loadKeyFile } from '../events/keyFile.ts';
import { timeAppends, watchProjections } from '../platform/metrics.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { BufferedEventStore } from '../events/bufferedEventStore.ts';
import { isStart } from '../events/position.ts';
import type { EventStore } from '../events/types.ts';
import type { Projector, ReadModels } from '../projections/readModels.ts';
import { loadMasterKey } from '../events/crypto/masterKey.ts';
import { openPersonalDataStore, personalDataPortOf } from '../events/crypto/personalDataStore.ts';
import { assertRetentionResources } from '../events/crypto/retentionRules.ts';
import { scopesOf } from '../events/crypto/personalFields.ts';
import { personalFieldRules } from '../subgraphs/kit/personalData.ts';
import { ProcessManagerRuntime } from '../projections/processManager.ts';
import { ensureProjectionSchema, type RunnerOptions } from '../projections/runner.ts';
import { dataAccessedDefinition } from '../subgraphs/governance/index.ts';
import { consumerEventDefinitions } from '../subgraphs/governance/consumer/events.ts';
import type { SubgraphModule, SubgraphRuntime } from '../subgraphs/kit/module.ts';
import { openConfiguredKurrent, openMongoReadModelBackend, platformConfigSchema, sqlReadModelBackend, type PlatformConfig, type ReadModelBackend } from './backends.ts';

export interface Platform {
  config: PlatformConfig;
  /**
   * The SQL database (PGlite or PostgreSQL) holding the event log, its hash chain and the read
   * models when they are SQL; absent when the events are in KurrentDB.
   */
  db: SqlDatabase | undefined;
  /** The event store port: the SQL store over `db`, or KurrentDB. */
  store: EventStore;
  registry: EventRegistry;
  readModels: ReadModels;
  runner: Projector;
  /** Extends the tamper-evident hash chain over the SQL log (started by `start`); absent on KurrentDB. */
  chainer: HashChainer | undefined;
  /** Ticks every module's process managers (deadlines), started by `start`. */
  processManagers: ProcessManagerRuntime;
  /** Signs the chain's block seals; absent when no key is configured on PostgreSQL, and on KurrentDB. */
  signer: ChainSigner | undefined;
  runtime: SubgraphRuntime;
  modules: readonly SubgraphModule[];
  logger: Logger;
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  modules: readonly SubgraphModule[];
  env?: Record<string, string | undefined>;
  /** An already-open database (tests); otherwise opened from the environment. */
  db?: SqlDatabase;
  logger?: Logger;
  now?: () => Date;
  runner?: Omit<RunnerOptions, 'logger'>;
  /**
   * `false` in a process that never extends the hash chain (a subgraph process of the production
   * deployment): no seal key is loaded, nor its absence warned about. @default true
   */
  chain?: boolean;
}

export function createLogger(env: Record<string, string | undefined> = process.env): Logger {
  return pino({ level: env.LOG_LEVEL ?? 'info' });
}

/** Every event type the modules append, and those every subgraph process writes or reads. */
export function registryOf(modules: readonly SubgraphModule[]): EventRegistry {
  const registry = new EventRegistry();
  for (const module of modules) registry.registerAll(module.eventTypes);
  // Every process that serves a subgraph writes access records and folds the caller's grants from
  // the consumer's stream, whichever modules it hosts.
  for (const definition of [dataAccessedDefinition, ...consumerEventDefinitions]) {
    if (!registry.has(definition.type)) registry.register(definition);
  }
  return registry;
}

export async function openPlatform(options: OpenPlatformOptions): Promise<Platform> {
  const env = options.env ?? process.env;
  const config = parseConfig(platformConfigSchema, env);
  assertRetentionResources(config.PERSONAL_DATA_RETENTION, scopesOf(personalFieldRules()));
  const logger = options.logger ?? createLogger(env);
  if (options.db && config.EVENT_STORE !== 'sql') throw new ValidationError(`an SQL database was given, but EVENT_STORE=${config.EVENT_STORE}`);
  const registry = registryOf(options.modules);
  const db = config.EVENT_STORE === 'sql' ? (options.db ?? (await openDatabase(config))) : undefined;
  const ownsDb = options.db === undefined;
  let store: EventStore | undefined;
  let readSide: ReadModelBackend | undefined;
  try {
    // Personal fields are encrypted per data subject when a master key is configured (events/crypto/, SQL log only).
    const masterKey = db ? loadMasterKey(config, logger) : undefined;
    // Appends are timed for /metrics (platform/metrics.ts) whichever backend takes them.
    store = timeAppends(db
      ? await withSetupLock(db, async () => {
          // Every table and function any process of the deployment needs, created once under one lock:
          // on an empty database, processes started together would otherwise race on the catalog.
          const opened = masterKey ? await openPersonalDataStore(db, registry, masterKey, personalFieldRules()) : await SqlEventStore.open(db, registry);
          if (config.READ_MODELS === 'sql') await ensureProjectionSchema(db);
          await db.exec(HASH_CHAIN_SCHEMA);
          return opened;
        })
      : await openConfiguredKurrent(config, registry));
    readSide = db && config.READ_MODELS === 'sql' ? sqlReadModelBackend(db) : await openMongoReadModelBackend(config);
    // As constants, narrowed inside `close` below.
    const [eventStore, readBackend] = [store, readSide];
    const { readModels } = readBackend;
    const projections = options.modules.flatMap((m) => m.projections);
    const runner = readBackend.projector(eventStore, projections, { ...options.runner, watch: watchProjections, logger: logger.child({ component: 'projector' }) });
    if (!db && options.chain !== false) logger.warn('EVENT_STORE=kurrentdb: no hash chain is kept (only the SQL log has one), so integrity, verify and seals are not available');
    const signer = db && options.chain !== false ? loadSigner(config, logger) : undefined;
    const chainer = db && new HashChainer(db, { logger: logger.child({ component: 'hash-chain' }), ...(signer && { signer }) });
    const personalData = personalDataPortOf(eventStore, config.PERSONAL_DATA_LEGAL_HOLDS);
    if (!personalData && config.PERSONAL_DATA_RETENTION.length) logger.warn('PERSONAL_DATA_RETENTION is set, but personal fields are not encrypted here (no master key, or KurrentDB): its rules erase nothing');
    const runtime: SubgraphRuntime = {
      store: eventStore,
      readModels,
      ...(db && { db }),
      now: options.now ?? (() => new Date()),
      logger,
      ...(personalData && { personalData }),
    };
    const processManagers = new ProcessManagerRuntime(
      { ...runtime, logger: logger.child({ component: 'process-managers' }) },
      options.modules.flatMap((m) => m.processManagers ?? []),
    );
    return {
      config,
      db,
      store: eventStore,
      registry,
      readModels,
      runner,
      chainer,
      processManagers,
      signer,
      runtime,
      modules: options.modules,
      logger,
      async close() {
        await processManagers.stop();
        await runner.stop();
        await chainer?.stop();
        await readBackend.close();
        await eventStore.close();
        if (ownsDb) await db?.close();
      },
    };
  } catch (error) {
    await readSide?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    if (ownsDb) await db?.close();
    throw error;
  }
}

/**
 * The SQL log's database for `purpose` (the hash chain and its seals): a clear refusal where the
 * events are in KurrentDB, rather than an empty chain that would verify.
 */
export function sqlLogOf(platform: Pick<Platform, 'db'>, purpose: string): SqlDatabase {
  if (platform.db) return platform.db;
  throw new ValidationError(`${purpose} needs the hash chain, which only the SQL event store keeps; this deployment keeps its events in KurrentDB (EVENT_STORE=kurrentdb)`);
}

const SETUP_LOCK_KEY = 0x63697479627261n; // "citybra"
const SETUP_LOCK_TIMEOUT_MS = 60_000;

/** Runs `body` holding the deployment-wide setup lock (waits for another process to finish its setup). */
async function withSetupLock<T>(db: SqlDatabase, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SETUP_LOCK_TIMEOUT_MS;
  let lock = await db.tryAdvisoryLock(SETUP_LOCK_KEY);
  while (!lock) {
    if (Date.now() > deadline) throw new Error(`another process held the schema setup lock for ${SETUP_LOCK_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    lock = await db.tryAdvisoryLock(SETUP_LOCK_KEY);
  }
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

/**
 * The seal key: `SEAL_KEY_FILE` when set; with the embedded store, one generated on first start
 * beside its data directory (development); with PostgreSQL and no key, blocks stay unsigned.
 */
export function loadSigner(config: StorageConfig, logger: Logger): ChainSigner | undefined {
  return loadKeyFile(
    config,
    {
      setting: 'SEAL_KEY_FILE',
      name: 'seal-ed25519.pem',
      generate: () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      what: 'seal key for the hash chain',
      without: 'the hash chain is kept but its blocks are not signed',
      parse: ed25519Signer,
      expected: 'not a readable Ed25519 private key in PKCS#8 PEM',
    },
    logger,
  );
}

/** Seed events per transaction, and streams the seed keeps in memory (the demo city's people, households, companies). */
const SEED_FLUSH_EVENTS = 5000;
const SEED_CACHED_STREAMS = 60_000;

/** What seeding the demo city wrote. */
export interface SeedReport {
  /** Commands whose decision appended events (one append each). */
  commands: number;
  events: number;
  seconds: number;
}

/** Where the seed is, for a progress display: reported as each module starts and every half second. */
export interface SeedStatus {
  module: string;
  modulesDone: number;
  modules: number;
  events: number;
}

async function isEmpty({ db, store }: Platform): Promise<boolean> {
  // KurrentDB has no in-flight gaps: its head is the last event written.
  if (!db) return isStart(await store.headPosition());
  // Not `headPosition()`: that stops at the oldest transaction open anywhere on the server, so a busy
  // PostgreSQL could make a full store look empty.
  const { rows } = await db.query('SELECT 1 FROM es_events LIMIT 1');
  return rows.length === 0;
}

/**
 * Seeds the demo city on an empty store, module by module in the given (dependency) order.
 * Returns undefined, and writes nothing, when the store already holds events.
 */
export async function seedIfEmpty(platform: Platform, observe?: (status: SeedStatus) => void): Promise<SeedReport | undefined> {
  if (!(await isEmpty(platform))) return undefined;
  const started = performance.now();
  // The store is empty and nothing else writes while the city is seeded, so the write-behind store
  // need not read streams it has not written; the real store still checks every expected revision.
  const buffered = new BufferedEventStore(platform.store, { startsEmpty: true, cachedStreams: SEED_CACHED_STREAMS });
  const seeding = platform.modules.filter((m) => m.seed);
  let status: SeedStatus = { module: seeding[0]?.name ?? '', modulesDone: 0, modules: seeding.length, events: 0 };
  const report = () => observe?.({ ...status, events: buffered.eventCount });
  const ticker = observe && setInterval(report, 500);
  try {
    for (const [index, module] of seeding.entries()) {
      status = { ...status, module: module.name, modulesDone: index };
      report();
      const moduleStarted = performance.now();
      // A module that cites what it appends has each append written before it returns.
      buffered.flushEvents = module.seedWrites === 'direct' ? 1 : SEED_FLUSH_EVENTS;
      await module.seed!({ ...platform.runtime, store: buffered });
      await buffered.flush();
      platform.logger.info({ subgraph: module.name, ms: Math.round(performance.now() - moduleStarted) }, 'demo data seeded');
    }
    status = { ...status, modulesDone: seeding.length };
    report();
  } finally {
    clearInterval(ticker);
  }
  return { commands: buffered.appends, events: buffered.eventCount, seconds: (performance.now() - started) / 1000 };
}
