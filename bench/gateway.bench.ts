/**
 * The gateway's figures: a query joining three subgraphs over 50 persons — names from one,
 * the companies each represents from a second, declared tax from a third — through our whole stack
 * (JWT at the gateway and again at each subgraph, limits, grants field by field, the access audit,
 * read models on PostgreSQL, planned by Hive Router's Rust planner as `npm start` runs it), beside
 * (a) a bare Hive Gateway over in-memory Apollo subgraphs answering the same query shape, with its
 * default JavaScript planner (`bare`) and with the Rust planner (`bare_rust`, the ceiling on this
 * machine), (b) our stack on the JavaScript planner (`ours_js`, GATEWAY_QUERY_PLANNER=js) and (c) our
 * stack with the access audit switched off. The three subgraphs are the gateway fixtures (test/fixtures/graphModules.ts),
 * built on the kit like the domain subgraphs, not the domains themselves.
 *
 * Then the domain subgraphs themselves: the district overview — population, urban
 * operations, environment and tax figures of the twelve districts — through our whole stack over a
 * demo city seeded on PostgreSQL, beside the same twelve districts' names alone (one subgraph, no
 * figures), so the ratio is what the figures cost over the gateway's own round trip.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { pino } from 'pino';
import { MODULES } from '../bin/modules.ts';
import { composeSupergraph } from '../schema/compose.ts';
import { withSharedScalars } from '../schema/scalars.ts';
import { createGovernanceAccess } from '../subgraphs/governance/access.ts';
import { DEMO_DASHBOARD } from '../subgraphs/governance/seed.ts';
import { chinaDate } from '../subgraphs/kit/calendar.ts';
import { seedTax } from '../subgraphs/tax/seed.ts';
import { seedSmallCity } from '../test/fixtures/smallCity.ts';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons, testLegalPersonModule, testPopulationModule, testTaxModule, type SeededPerson } from '../test/fixtures/graphModules.ts';
import { openTestRuntime, startTestGraph, type TestGraph } from '../test/helpers/graph.ts';
import { runWorkers } from './lib/concurrency.ts';
import type { Figure } from './lib/figures.ts';
import type { BenchContext, BenchOption } from './lib/section.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';

export const name = 'gateway';
export const description = '3-subgraph join over 50 persons: our gateway (auth, grants, audit, PostgreSQL; Rust and JS planners) vs a bare Hive Gateway (JS and Rust planners), and audit off';

export const options: readonly BenchOption[] = [
  { name: 'gatewayRequests', description: 'timed requests per stack (after the warm-up), split over the rounds', default: 3_000, quick: 300 },
  { name: 'gatewayClients', description: 'concurrent fetch clients', default: 20, quick: 20 },
  { name: 'gatewayWarmup', description: 'untimed requests per stack before timing', default: 300, quick: 60 },
  { name: 'overviewPeople', description: 'residents of the city seeded for the district overview', default: 20_000, quick: 600 },
  { name: 'overviewIncidents', description: 'incidents of the city seeded for the district overview', default: 3_000, quick: 240 },
  { name: 'overviewRequests', description: 'timed district overviews (and as many names-only requests), split over the rounds', default: 1_200, quick: 120 },
];

const PERSONS = 50;
const ROUNDS = 3;
const QUERY = `{ people(first: ${PERSONS}) { id name companies { name } taxTotal } }`;
const CONSUMER = 'bench-consumer';

const OVERVIEW = `query DistrictOverview($date: Date!) { divisions(level: DISTRICT, first: 20) { edges { node { code name
  population { residents households elderlyLivingAlone childrenInDistress byAgeBand { band count } }
  urbanOperations { reported open dueForClosure closureRate onTimeClosureRate overdueNow }
  airQuality(date: $date) { aqi levelName primaryPollutants }
  tax { declaredTotal { yuan } riskOpen } } } } }`;
const NAMES = `query DistrictNames { divisions(level: DISTRICT, first: 20) { edges { node { code name } } } }`;
const DISTRICTS = 12;

interface Target {
  label: 'ours' | 'ours_cached' | 'ours_js' | 'bare' | 'bare_rust' | 'audit_off';
  url: string;
  headers: Record<string, string>;
}

/** The same shape over in-memory data: Apollo subgraphs with no auth, no grants, no audit, no database. */
async function startBareGraph(people: readonly SeededPerson[], planner: 'rust' | 'js'): Promise<{ url: string; close(): Promise<void> }> {
  const companies = new Map(people.map((p) => [p.id, p.companies.map((name) => ({ name }))]));
  const taxes = new Map(people.map((p) => [p.id, p.taxTotal]));
  const byId = new Map(people.map((p) => [p.id, p]));
  const resolvers = {
    population: {
      Query: { people: (_: unknown, args: { first: number }) => people.slice(0, args.first) },
      Person: { __resolveReference: (ref: { id: string }) => byId.get(ref.id) },
    },
    'legal-person': { Person: { companies: (p: { id: string }) => companies.get(p.id) ?? [] } },
    tax: { Person: { taxTotal: (p: { id: string }) => taxes.get(p.id) ?? null } },
  } as const;
  const modules = [testPopulationModule, testLegalPersonModule, testTaxModule];
  const apollo: ApolloServer[] = [];
  const urls: string[] = [];
  for (const module of modules) {
    const server = new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs: withSharedScalars(module.typeDefs), resolvers: resolvers[module.name as keyof typeof resolvers] }]),
      stopOnTerminationSignals: false,
    });
    const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
    apollo.push(server);
    urls.push(url);
  }
  const runtime = createGatewayRuntime({
    supergraph: composeSupergraph(modules.map((m, i) => ({ name: m.name, url: urls[i]!, typeDefs: m.typeDefs }))),
    transports: { http: httpTransport },
    ...(planner === 'rust' && { unifiedGraphHandler }),
    logging: 'error',
  });
  const server: Server = createServer(runtime);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.dispose();
      for (const a of apollo) await a.stop();
    },
  };
}

async function request(target: Target): Promise<void> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await response.json()) as { data?: { people?: unknown[] }; errors?: { message: string }[] };
  if (!response.ok || body.errors || body.data?.people?.length !== PERSONS) {
    throw new Error(`${target.label}: the join did not answer ${PERSONS} persons cleanly: HTTP ${response.status} ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
  }
}

/** One overview (or names-only) request, checked: twelve districts, no errors. */
async function districtRequest(url: string, token: string, query: string, date: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: query === OVERVIEW ? { date } : {} }),
  });
  const body = (await response.json()) as { data?: { divisions?: { edges: unknown[] } }; errors?: { message: string }[] };
  if (!response.ok || body.errors || body.data?.divisions?.edges.length !== DISTRICTS) {
    throw new Error(`the district overview did not answer ${DISTRICTS} districts cleanly: HTTP ${response.status} ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
  }
}

/** The district overview over the domain subgraphs, beside the names alone, in rotating rounds. */
async function measureDistrictOverview(ctx: BenchContext): Promise<Figure[]> {
  const people = ctx.size('overviewPeople');
  ctx.log(`district overview: seeding a city of ${people} residents, ${ctx.size('overviewIncidents')} incidents and its taxes on a fresh PostgreSQL database`);
  const base = await openTestRuntime(MODULES, 'postgres', { readModelRefreshMs: 1000 });
  const closeBase = ctx.defer(() => base.close());
  await seedSmallCity(base.runtime, { people, incidents: ctx.size('overviewIncidents'), days: 2 });
  await seedTax(base.runtime);
  await base.catchUp();
  ctx.signal.throwIfAborted();
  const quiet = { ...base, runtime: { ...base.runtime, logger: pino({ level: 'error' }) } };
  const graph = await startTestGraph({ modules: MODULES, runtime: quiet });
  const closeGraph = ctx.defer(() => graph.close());
  const token = await graph.tokenFor(DEMO_DASHBOARD, 'department', '2h');
  const date = chinaDate(new Date().toISOString());
  const clients = ctx.size('gatewayClients');
  const requests = ctx.size('overviewRequests');
  const kinds = [
    { label: 'overview', query: OVERVIEW },
    { label: 'names', query: NAMES },
  ] as const;
  const results = new Map(kinds.map((k) => [k.label, { elapsedMs: 0, count: 0, latencies: new Latencies(requests) } satisfies Measured]));
  for (const kind of kinds) await runWorkers(ctx.size('gatewayWarmup'), clients, () => districtRequest(graph.url, token, kind.query, date), ctx.signal);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(i + round) % kinds.length]!;
      const into = results.get(kind.label)!;
      const share = Math.floor(requests / ROUNDS);
      ctx.log(`round ${round + 1}/${ROUNDS}: district ${kind.label}, ${share} requests from ${clients} clients`);
      const clock = stopwatch();
      await runWorkers(share, clients, () => into.latencies.time(() => districtRequest(graph.url, token, kind.query, date)), ctx.signal);
      into.elapsedMs += clock.elapsedMs();
      into.count += share;
    }
  }
  await closeGraph();
  await closeBase();
  const key = (label: string, unit: string) => `gateway.district_${label}.c${clients}.${unit}`;
  const rate = (label: 'overview' | 'names') => perSecond(results.get(label)!.count, results.get(label)!.elapsedMs);
  const figures: Figure[] = [{ key: key('overview', 'req_per_s'), value: rate('overview'), baseline: { key: key('names', 'req_per_s'), value: rate('names') } }];
  for (const { label } of kinds) {
    const [p50, p99] = results.get(label)!.latencies.percentiles(50, 99);
    // The operations screen's bar for its queries: p99 ≤ 100 ms under 20 clients.
    figures.push({ key: key(label, 'p50_ms'), value: p50! }, { key: key(label, 'p99_ms'), value: p99!, ...(label === 'overview' && { targets: [{ on: 'value', op: '<=', threshold: 100 }] }) });
  }
  return figures;
}

interface Measured {
  elapsedMs: number;
  count: number;
  latencies: Latencies;
}

async function timeRequests(ctx: BenchContext, target: Target, count: number, into: Measured): Promise<void> {
  const clock = stopwatch();
  await runWorkers(count, ctx.size('gatewayClients'), () => into.latencies.time(() => request(target)), ctx.signal);
  into.elapsedMs += clock.elapsedMs();
  into.count += count;
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.backends.includes('postgres')) {
    ctx.log('skipped: the gateway figures are measured with read models on PostgreSQL (add postgres to --backends)');
    return;
  }
  const requests = ctx.size('gatewayRequests');
  const warmup = ctx.size('gatewayWarmup');

  ctx.log('opening a fresh PostgreSQL database and seeding 50 persons, 100 companies, 100 tax declarations');
  const base = await openTestRuntime(TEST_GRAPH_MODULES, 'postgres');
  ctx.defer(() => base.close());
  const people = await seedPersons(base.runtime, PERSONS);
  await base.catchUp();

  const quiet = { ...base, runtime: { ...base.runtime, logger: pino({ level: 'error' }) } };
  // The bare gateways keep no answers: ours is compared with its response cache off, as every request
  // of one query shape would otherwise be served again (`ours_cached` shows what the cache gives).
  const ours: TestGraph = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: quiet, responseCache: false });
  ctx.defer(() => ours.close());
  const oursCached: TestGraph = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: quiet });
  ctx.defer(() => oursCached.close());
  const oursJs: TestGraph = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: quiet, responseCache: false, gateway: { queryPlanner: 'js' } });
  ctx.defer(() => oursJs.close());
  const auditOff: TestGraph = await startTestGraph({
    modules: TEST_GRAPH_MODULES,
    runtime: quiet,
    responseCache: false,
    access: (runtime) => createGovernanceAccess(runtime, { audit: false }),
  });
  ctx.defer(() => auditOff.close());
  await ours.grant(CONSUMER, TEST_GRAPH_RESOURCES);
  const auth = { authorization: `Bearer ${await ours.tokenFor(CONSUMER, 'department', '2h')}` };
  const bare = await startBareGraph(people, 'js');
  ctx.defer(() => bare.close());
  const bareRust = await startBareGraph(people, 'rust');
  ctx.defer(() => bareRust.close());

  const targets: Target[] = [
    { label: 'bare', url: bare.url, headers: {} },
    { label: 'bare_rust', url: bareRust.url, headers: {} },
    { label: 'ours', url: ours.url, headers: auth },
    { label: 'ours_cached', url: oursCached.url, headers: auth },
    { label: 'ours_js', url: oursJs.url, headers: auth },
    { label: 'audit_off', url: auditOff.url, headers: auth },
  ];
  const results = new Map<Target['label'], Measured>(targets.map((t) => [t.label, { elapsedMs: 0, count: 0, latencies: new Latencies(requests) }]));
  for (const target of targets) {
    ctx.log(`warming up ${target.label} (${warmup} requests)`);
    await runWorkers(warmup, ctx.size('gatewayClients'), () => request(target), ctx.signal);
  }
  // Rounds rotate the order, so background load on this shared machine weighs on every stack alike.
  for (let round = 0; round < ROUNDS; round++) {
    const share = Math.floor(requests / ROUNDS);
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length]!;
      ctx.log(`round ${round + 1}/${ROUNDS}: ${target.label}, ${share} requests from ${ctx.size('gatewayClients')} clients`);
      await timeRequests(ctx, target, share, results.get(target.label)!);
    }
  }

  const rate = (label: Target['label']) => {
    const m = results.get(label)!;
    return perSecond(m.count, m.elapsedMs);
  };
  const figures: Figure[] = [];
  const key = (label: string, unit: string) => `gateway.join3x50.${label}.${unit}`;
  figures.push(
    // The Rust planner's bar: ours ÷ the bare default gateway ≥ 1.25 (0.84 on the JS planner), and ≥ 0.6 of a bare gateway on the Rust planner.
    { key: key('ours', 'req_per_s'), value: rate('ours'), baseline: { key: key('bare', 'req_per_s'), value: rate('bare') }, targets: [{ on: 'ratio', op: '>=', threshold: 1.25 }] },
    { key: key('ours_vs_bare_rust', 'req_per_s'), value: rate('ours'), baseline: { key: key('bare_rust', 'req_per_s'), value: rate('bare_rust') }, targets: [{ on: 'ratio', op: '>=', threshold: 0.6 }] },
    { key: key('ours_cached', 'req_per_s'), value: rate('ours_cached'), baseline: { key: key('bare', 'req_per_s'), value: rate('bare') } },
    { key: key('ours_js', 'req_per_s'), value: rate('ours_js'), baseline: { key: key('bare', 'req_per_s'), value: rate('bare') } },
    { key: key('audit_off', 'req_per_s'), value: rate('audit_off') },
    { key: 'gateway.join3x50.audit_overhead.percent', value: (1 - rate('ours') / rate('audit_off')) * 100, targets: [{ on: 'value', op: '<=', threshold: 15 }] },
  );
  for (const label of ['ours', 'ours_cached', 'ours_js', 'bare', 'bare_rust', 'audit_off'] as const) {
    const [p50, p99] = results.get(label)!.latencies.percentiles(50, 99);
    figures.push({ key: key(label, 'p50_ms'), value: p50! }, { key: key(label, 'p99_ms'), value: p99! });
  }
  for (const figure of figures) ctx.report(figure);
  for (const figure of await measureDistrictOverview(ctx)) ctx.report(figure);
}
