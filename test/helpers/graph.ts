/**
 * A whole graph for end-to-end specs: a fresh database (PGlite in memory, or a fresh PostgreSQL
 * database), the event store and read models over it, the chosen subgraph modules and the gateway
 * on random ports (`bin/graph.ts`), governance access control, and clients that talk to the gateway
 * the way a consumer does: HTTP `fetch` and a real graphql-ws client.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createClient, type Client, type ClientOptions, type FormattedExecutionResult } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startGraph, type GraphOptions, type RunningGraph } from '../../bin/graph.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { createPgliteDatabase, createPostgresDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { openPersonalDataStore, personalDataPortOf } from '../../events/crypto/personalDataStore.ts';
import { personalFieldRules } from '../../subgraphs/kit/personalData.ts';
import { registryOf } from '../../bin/platform.ts';
import type { GatewayLimitsInput } from '../../gateway/limits.ts';
import { issueToken } from '../../gateway/tokens.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { createGovernanceAccess } from '../../subgraphs/governance/access.ts';
import type { AccessControl } from '../../subgraphs/kit/access.ts';
import type { Role } from '../../platform/auth.ts';
import type { SubgraphModule, SubgraphRuntime } from '../../subgraphs/kit/module.ts';
import { createTestPostgresDatabase } from './databases.ts';
import { testGrants, type TestGrants } from './grants.ts';

export const TEST_JWT_SECRET = 'test-client-token-secret-that-is-long-enough';
export const TEST_ASSERTION_SECRET = 'test-gateway-assertion-secret-long-enough-too';

export interface TestRuntime {
  db: SqlDatabase;
  runtime: SubgraphRuntime;
  /** Applies every appended event to the modules' read models (call after seeding). */
  catchUp(): Promise<void>;
  /** Rebuilds a projection from position 0 (as `npm run cli -- replay` does). */
  rebuild(projection: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestRuntimeOptions {
  /** Encrypt personal fields per data subject (a random master key) and let governance erase them. */
  personalData?: { legalHolds?: readonly string[] };
  /**
   * How long readers keep a read model's table location (`SqlReadModels`); 0 (the default) so a test
   * reads a rebuilt table at once, while benches measure what `npm start` serves with (its default).
   */
  readModelRefreshMs?: number;
  /**
   * PGlite only: a data directory, as `npm start` keeps its store, instead of the in-memory
   * filesystem, whose files grow by copying themselves whole (a stall of ~0.5 s once a table is
   * hundreds of MB): what benches measure serving with.
   */
  pgliteDataDir?: string;
}

/** A store, read models and projection runner on a fresh database of `backend`. */
export async function openTestRuntime(modules: readonly SubgraphModule[], backend: 'pglite' | 'postgres' = 'pglite', options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  let db: SqlDatabase;
  let drop = async () => {};
  if (backend === 'pglite') {
    db = await createPgliteDatabase(options.pgliteDataDir);
  } else {
    const database = await createTestPostgresDatabase('cb_graph');
    db = createPostgresDatabase({ connectionString: database.url, max: 12 });
    drop = database.drop;
  }
  const store = options.personalData
    ? await openPersonalDataStore(db, registryOf(modules), randomBytes(32), personalFieldRules())
    : await SqlEventStore.open(db, registryOf(modules));
  const personalData = personalDataPortOf(store, options.personalData?.legalHolds);
  const runtime: SubgraphRuntime = {
    store,
    readModels: new SqlReadModels(db, options.readModelRefreshMs ?? 0),
    now: () => new Date(),
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    ...(personalData && { personalData }),
  };
  const runner = new ProjectionRunner(db, store, modules.flatMap((m) => m.projections));
  await runner.catchUp();
  return {
    db,
    runtime,
    catchUp: () => runner.catchUp(),
    rebuild: (projection) => runner.rebuild(projection),
    async close() {
      await runner.stop();
      await store.close();
      await db.close();
      await drop();
    },
  };
}

export interface GqlResponse<Data = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: Data | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

export interface TestGraph extends TestRuntime, Omit<TestGrants, 'register'> {
  graph: RunningGraph;
  url: string;
  access: AccessControl;
  /** A valid client token (signed with the graph's secret) naming `consumerId`. */
  tokenFor(consumerId: string, role?: Role, ttl?: number | string): Promise<string>;
  /** POSTs a GraphQL request to the gateway, with `Authorization: Bearer <token>` when a token is given. */
  gql<Data = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<Data>>;
  /** A graphql-ws client of the gateway presenting `token` (none: no connection params); no retries unless `options` say. */
  wsClient(token?: string, options?: Pick<ClientOptions, 'retryAttempts' | 'on'>): Client;
}

export interface TestGraphOptions {
  modules: readonly SubgraphModule[];
  /** Reuse an open runtime (several graphs on one database); else a fresh one is opened and closed with the graph. */
  runtime?: TestRuntime;
  backend?: 'pglite' | 'postgres';
  limits?: GatewayLimitsInput;
  devMode?: boolean;
  gateway?: GraphOptions['gateway'];
  /** @default createGovernanceAccess(runtime) */
  access?: (runtime: SubgraphRuntime) => AccessControl;
  /** More gateway routes over the runtime (as `npm start` mounts `/admin/*` and `/ingest/`). */
  routes?: (runtime: SubgraphRuntime) => GraphOptions['routes'];
  /** @default true (GraphOptions.responseCache) */
  responseCache?: boolean;
}

const metadataOf = (runtime: SubgraphRuntime) => ({
  provenance: { department: 'governance-office', system: 'test', channel: 'test', collectedAt: runtime.now().toISOString() },
  actor: { consumerId: 'test-admin', role: 'admin' },
  correlationId: randomUUID(),
});

/** Starts a graph of `modules` on random ports; `close()` stops it and, if it opened it, the database. */
export async function startTestGraph(options: TestGraphOptions): Promise<TestGraph> {
  const owned = options.runtime === undefined;
  const base = options.runtime ?? (await openTestRuntime(options.modules, options.backend));
  const { runtime } = base;
  const access = options.access ? options.access(runtime) : createGovernanceAccess(runtime);
  let graph: RunningGraph;
  try {
    graph = await startGraph({
      runtime,
      modules: options.modules,
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      access,
      ports: 'random',
      limits: options.limits ?? {},
      devMode: options.devMode ?? false,
      logger: runtime.logger,
      ...(options.gateway && { gateway: options.gateway }),
      ...(options.routes && { routes: options.routes(runtime) }),
      ...(options.responseCache !== undefined && { responseCache: options.responseCache }),
    });
  } catch (error) {
    await access.recorder?.close();
    if (owned) await base.close();
    throw error;
  }
  const wsUrl = graph.url.replace(/^http/, 'ws');
  const clients = new Set<Client>();
  const grants = testGrants(runtime.store, runtime.now, { defaults: { actions: ['READ', 'SUBSCRIBE', 'WRITE'], purpose: 'gateway end-to-end test' }, metadata: () => metadataOf(runtime) });

  return {
    ...base,
    graph,
    url: graph.url,
    access,
    tokenFor: (consumerId, role = 'department', ttl = '1h') => issueToken({ consumerId, role, secret: TEST_JWT_SECRET, ttl }),
    async gql<Data>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<Data>> {
      const response = await fetch(graph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, ...(variables && { variables }) }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as GqlResponse<Data>['body'] };
    },
    wsClient(token, options) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        ...(token && { connectionParams: { authorization: `Bearer ${token}` } }),
        ...options,
      });
      clients.add(client);
      return client;
    },
    grant: grants.grant,
    revoke: grants.revoke,
    assignJurisdiction: grants.assignJurisdiction,
    async close() {
      for (const client of clients) await client.dispose();
      await graph.close();
      await access.recorder?.close();
      if (owned) await base.close();
    },
  };
}

/** The next result of a subscription (or its error, or a timeout after `ms`); `stop()` unsubscribes. */
export function subscribeOnce<Data>(client: Client, query: string, ms = 10_000): { result: Promise<FormattedExecutionResult<Data, unknown>>; stop(): void } {
  let stop = () => {};
  const result = new Promise<FormattedExecutionResult<Data, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no subscription event within ${ms} ms`)), ms);
    stop = client.subscribe<Data>(
      { query },
      {
        next: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        error: (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : Object.assign(new Error('subscription failed'), { cause: error }));
        },
        complete: () => clearTimeout(timer),
      },
    );
  });
  return { result, stop: () => stop() };
}
