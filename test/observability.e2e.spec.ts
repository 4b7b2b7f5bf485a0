/**
 * What operators see (docs/operations.md): `/metrics` of the gateway, a subgraph server and a
 * projector process, with the per-operation and per-subgraph histograms moving on a request and
 * client-chosen operation names capped; `/healthz` and `/readyz` of the projector; the gateway
 * runtime's log lines as pino JSON with the request id; `status` answered by a running service and,
 * with none, from the store.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MODULES } from '../bin/modules.ts';
import { openPlatform, type Platform } from '../bin/platform.ts';
import { createPgliteDatabase } from '../events/sql/database.ts';
import { createGatewayServer } from '../gateway/server.ts';
import { MAX_OPERATION_NAMES, OTHER_OPERATIONS } from '../platform/metrics.ts';
import { listenOps } from '../platform/opsServer.ts';
import { composeSupergraph } from '../schema/compose.ts';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons } from './fixtures/graphModules.ts';
import { createTestPostgresDatabase } from './helpers/databases.ts';
import { TEST_ASSERTION_SECRET, TEST_JWT_SECRET, startTestGraph, type TestGraph } from './helpers/graph.ts';
import { killAll, spawnOwned } from './helpers/processes.ts';
import { serveAdminRoutes } from './helpers/adminServer.ts';
import { freePort } from './helpers/ports.ts';

const ROOT = join(import.meta.dirname, '..');
const CONSUMER = 'observer-bureau';
const PEOPLE = 'query ObservedPeople { people(first: 5) { id name companies { name } taxTotal } }';

after(killAll);

/** The value of one series (`name{labels}`) in a scrape; 0 when absent. */
function valueOf(scrape: string, series: string): number {
  const line = scrape.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const scrape = async (url: string | URL): Promise<string> => {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url.toString()}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return response.text();
};

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the gateway and the subgraphs in one process, on the embedded store', { timeout: 300_000 }, () => {
  let platform: Platform;
  let graph: TestGraph;
  let token: string;

  before(async () => {
    const db = await createPgliteDatabase();
    // The platform decorates the store (append latency) and its runner reports lag, as in `npm start`.
    platform = await openPlatform({ modules: TEST_GRAPH_MODULES, db, chain: false, logger: pino({ level: 'silent' }) });
    graph = await startTestGraph({
      modules: TEST_GRAPH_MODULES,
      runtime: {
        db,
        runtime: platform.runtime,
        catchUp: () => platform.runner.catchUp(),
        rebuild: (projection) => platform.runner.rebuild(projection),
        async close() {
          await platform.close();
          await db.close();
        },
      },
    });
    await seedPersons(platform.runtime, 5);
    await platform.runner.start();
    await graph.grant(CONSUMER, TEST_GRAPH_RESOURCES);
    token = await graph.tokenFor(CONSUMER);
  });

  after(async () => {
    await graph?.close();
    await platform?.close();
    await platform?.db?.close();
  });

  it('serves the process metrics and the per-operation and per-subgraph histograms, which a request moves', async () => {
    const metricsUrl = new URL('/metrics', graph.url);
    const operation = 'operationName="ObservedPeople",operationType="query"';
    const before = await scrape(metricsUrl);
    const answer = await graph.gql<{ people: unknown[] }>(PEOPLE, undefined, token);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.data?.people.length, 5);
    const after = await scrape(metricsUrl);

    assert.equal(valueOf(after, `graphql_envelop_request_duration_count{${operation}}`), valueOf(before, `graphql_envelop_request_duration_count{${operation}}`) + 1);
    for (const subgraph of ['population', 'legal-person', 'tax']) {
      assert.ok(valueOf(after, `graphql_gateway_subgraph_execute_duration_count{subgraphName="${subgraph}",${operation}}`) >= 1, `the gateway timed its call to ${subgraph}`);
    }
    const atSubgraph = 'subgraph="population",operation_name="ObservedPeople",operation_type="query"';
    assert.equal(valueOf(after, `city_brain_subgraph_request_duration_seconds_count{${atSubgraph}}`), valueOf(before, `city_brain_subgraph_request_duration_seconds_count{${atSubgraph}}`) + 1);
    // The request served data: its access records were group-committed through the timed store.
    assert.ok(valueOf(after, 'city_brain_access_record_batch_size_count') > valueOf(before, 'city_brain_access_record_batch_size_count'));
    assert.ok(valueOf(after, 'city_brain_access_record_wait_seconds_count') >= 1);
    assert.ok(valueOf(after, 'city_brain_event_append_duration_seconds_count{method="append",backend="pglite"}') >= 1);
    assert.ok(valueOf(after, 'process_cpu_seconds_total') > 0);
    assert.match(after, /^nodejs_heap_size_used_bytes \d+/m);
    assert.match(after, /^city_brain_projection_lag_events\{projection="test\.persons"\} \d+/m);
    assert.match(after, /^city_brain_projection_lag_seconds\{projection="test\.persons"\} [\d.]+/m);
    assert.match(after, /^# TYPE city_brain_feed_subscribers gauge/m);
    assert.match(after, /^# TYPE city_brain_feed_backlog_events gauge/m);
    assert.match(after, /^city_brain_gateway_requests_total\{transport="http",operation_type="query"\} [1-9]/m);

    // A subgraph server serves the same process registry, to anyone who can reach it (as the gateway does).
    const subgraphScrape = await scrape(new URL('/metrics', graph.graph.subgraphs.population));
    assert.ok(valueOf(subgraphScrape, `city_brain_subgraph_request_duration_seconds_count{${atSubgraph}}`) >= 1);
  });

  it('caps the operation names a client can turn into series', async () => {
    // An authenticated client sends more distinct operation names than the budget, at the gateway.
    const names = Array.from({ length: MAX_OPERATION_NAMES + 20 }, (_, i) => `Flood${i}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => graph.gql(`query ${name} { __typename }`, undefined, token)));
    }
    const text = await scrape(new URL('/metrics', graph.url));
    const labelled = new Set([...text.matchAll(/^graphql_envelop_request_duration_count\{operationName="([^"]*)"/gm)].map((m) => m[1]));
    assert.ok(labelled.size <= MAX_OPERATION_NAMES + 1, `${labelled.size} operation names in the scrape`);
    assert.ok(labelled.has(OTHER_OPERATIONS), 'the names past the budget are counted as other');
    assert.ok(labelled.has('ObservedPeople') && labelled.has('Flood0'), 'the names within the budget keep their own series');
    assert.ok(valueOf(text, `graphql_envelop_request_duration_count{operationName="${OTHER_OPERATIONS}",operationType="query"}`) >= 20);
    // No other series carries the client's names.
    assert.doesNotMatch(text, new RegExp(`operationName="${names.at(-1)}"`));
  });

  it("writes the gateway runtime's log lines as pino JSON with the request id, errors included", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logged = await createGatewayServer({
      supergraph: composeSupergraph(TEST_GRAPH_MODULES.map((m) => ({ name: m.name, url: graph.graph.subgraphs[m.name]!, typeDefs: m.typeDefs }))),
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      // The tax subgraph cannot be reached: the answer is partial, and the runtime logs why.
      subgraphUrls: { tax: 'http://127.0.0.1:9/graphql' },
      logger: pino({ level: 'debug' }, sink),
    }).listen();
    try {
      const response = await fetch(logged.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: PEOPLE }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      assert.equal(body.errors?.[0]?.extensions?.code, 'SUBGRAPH_UNAVAILABLE');
      const requestId = response.headers.get('x-request-id');
      assert.ok(requestId);
      const runtimeLines = lines.filter((l) => l.component === 'gateway-runtime');
      assert.ok(runtimeLines.some((l) => l.requestId === requestId && l.level === 20), "the runtime's debug lines name the request");
      const errors = lines.filter((l) => (l.level as number) >= 50);
      assert.ok(errors.some((l) => l.component === 'gateway-runtime' && l.message === 'connect ECONNREFUSED 127.0.0.1:9'), 'the unreachable subgraph was logged as an error by the runtime');
      for (const line of errors) assert.equal(line.requestId, requestId, JSON.stringify(line));
      // Debug lines show subgraph calls: never the caller's token.
      assert.ok(!lines.some((l) => JSON.stringify(l).includes(token)));
    } finally {
      await logged.close();
    }
  });
});

describe('/readyz of a process that serves no GraphQL', () => {
  it('answers 503 with the reason until the process is ready, and 200 after', async () => {
    let ready = false;
    const ops = await listenOps(0, '127.0.0.1', async () => (ready ? { ready: true, owned: 3 } : { ready: false, phase: 'starting' }));
    try {
      const notYet = await fetch(`${ops.url}/readyz`);
      assert.equal(notYet.status, 503);
      assert.deepEqual(await notYet.json(), { status: 'not ready', phase: 'starting' });
      assert.equal((await fetch(`${ops.url}/healthz`)).status, 200);
      ready = true;
      const now = await fetch(`${ops.url}/readyz`);
      assert.equal(now.status, 200);
      assert.deepEqual(await now.json(), { status: 'ready', owned: 3 });
      assert.equal((await fetch(`${ops.url}/graphql`)).status, 404);
    } finally {
      await ops.close();
    }
  });
});

describe('a projector process and status on PostgreSQL', { timeout: 300_000 }, () => {
  const TOKEN = 'an-admin-token-of-at-least-32-characters';
  let database: { url: string; drop(): Promise<void> };
  let projector: ChildProcess;
  let opsUrl: string;

  before(async () => {
    database = await createTestPostgresDatabase('cb_obs');
    const port = await freePort();
    opsUrl = `http://127.0.0.1:${port}`;
    projector = spawnOwned(process.execPath, ['--import', 'tsx', 'bin/projector.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, DATABASE_POOL_SIZE: '4', PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  });

  after(async () => {
    killAll();
    await database?.drop();
  });

  it('answers /healthz, then /readyz once its runner runs, and serves projection lag and process stats', async () => {
    await waitFor('the projector to listen', async () => ((await fetch(`${opsUrl}/healthz`)).ok ? true : undefined));
    const ready = await waitFor('the projector to be ready', async () => {
      const response = await fetch(`${opsUrl}/readyz`);
      return response.status === 200 ? ((await response.json()) as { status: string; owned: number }) : undefined;
    });
    assert.equal(ready.status, 'ready');
    const projections = MODULES.flatMap((m) => m.projections.map((p) => p.name));
    const text = await waitFor('it to own every projection', async () => {
      const body = await scrape(`${opsUrl}/metrics`);
      return projections.every((name) => valueOf(body, `city_brain_projection_owned{projection="${name}"}`) === 1) ? body : undefined;
    });
    for (const name of projections) {
      assert.match(text, new RegExp(`^city_brain_projection_lag_events\\{projection="${name.replace(/\./g, '\\.')}"\\} \\d+$`, 'm'));
      assert.match(text, new RegExp(`^city_brain_projection_lag_seconds\\{projection="${name.replace(/\./g, '\\.')}"\\} [\\d.]+$`, 'm'));
    }
    assert.ok(valueOf(text, 'process_cpu_seconds_total') > 0);
    assert.match(text, /^# TYPE city_brain_event_append_duration_seconds histogram/m);
  });

  it('stops on SIGTERM: it exits cleanly and stops answering', async () => {
    const exited = new Promise<number | null>((resolve) => projector.once('exit', (code) => resolve(code)));
    projector.kill('SIGTERM');
    assert.equal(await exited, 0);
    await assert.rejects(fetch(`${opsUrl}/healthz`));
  });

  describe('status', () => {
    let platform: Platform;
    let service: Awaited<ReturnType<typeof serveAdminRoutes>>;
    let adminUrl: string;

    before(async () => {
      platform = await openPlatform({ modules: MODULES, env: { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '2' }, chain: false, logger: pino({ level: 'silent' }) });
      service = await serveAdminRoutes(platform, TOKEN);
      adminUrl = service.url;
    });

    after(async () => {
      await service?.close();
      await platform?.close();
    });

    /** `city-brain status` as its own process. */
    async function status(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = spawnOwned(process.execPath, ['--import', 'tsx', 'bin/city-brain.ts', 'status'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { code, stdout, stderr };
    }

    const table = /^projection\s+lag \(ev\)\s+lag \(s\)\s+owned here\s+checkpoint$/m;

    it('asks the running service, without opening the store', async () => {
      // The store's URL leads nowhere: only the service can have answered.
      const answered = await status({ DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nowhere', ADMIN_URL: adminUrl, ADMIN_TOKEN: TOKEN });
      assert.equal(answered.code, 0, answered.stderr);
      assert.match(answered.stdout, new RegExp(`^# asked the running service \\(${adminUrl.replace(/[/.]/g, '\\$&')}\\)$`, 'm'));
      assert.match(answered.stdout, /^backend postgres, head position \d+:\d+$/m);
      assert.match(answered.stdout, table);
      assert.match(answered.stdout, /^population\.registry\s+\d+\s+[\d.]+\s+(yes|no)\s+\d+:\d+$/m);
    });

    it('refuses a wrong admin token instead of opening the store', async () => {
      const refused = await status({ DATABASE_URL: database.url, ADMIN_URL: adminUrl, ADMIN_TOKEN: 'x'.repeat(40) });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /admin endpoint answered HTTP 401/);
      assert.doesNotMatch(refused.stdout, /head position/);
    });

    it('opens the store itself when no service answers', async () => {
      const nobody = await status({ DATABASE_URL: database.url, ADMIN_URL: `http://127.0.0.1:${await freePort()}/`, ADMIN_TOKEN: TOKEN });
      assert.equal(nobody.code, 0, nobody.stderr);
      assert.doesNotMatch(nobody.stdout, /asked the running service/);
      assert.match(nobody.stdout, /^backend postgres, head position \d+:\d+$/m);
      assert.match(nobody.stdout, table);
    });
  });
});
