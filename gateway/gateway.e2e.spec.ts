/**
 * The gateway end to end, over real HTTP and a real graphql-ws client, in front of three fixture
 * subgraphs on PGlite: authentication at the gateway and again at each subgraph, the limits (each
 * refused before any subgraph is called), subscriptions, and the operational endpoints.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { composeSupergraph } from '../schema/compose.ts';
import { ASSERTION_HEADER, createGatewayAssertion, issueToken as signToken } from '../platform/auth.ts';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons, type SeededPerson } from '../test/fixtures/graphModules.ts';
import { TEST_ASSERTION_SECRET, TEST_JWT_SECRET, openTestRuntime, startTestGraph, subscribeOnce, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';
import { createGatewayServer, type ListeningGateway } from './server.ts';

const JOIN_QUERY = '{ people(first: 50) { id name companies { name } taxTotal } }';
const CONSUMER = 'planning-bureau';

let base: TestRuntime;
let graph: TestGraph;
let token: string;
let seeded: SeededPerson[];

before(async () => {
  base = await openTestRuntime(TEST_GRAPH_MODULES);
  graph = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: base });
  seeded = await seedPersons(base.runtime, 5);
  await base.catchUp();
  await graph.grant(CONSUMER, TEST_GRAPH_RESOURCES);
  token = await graph.tokenFor(CONSUMER);
});

after(async () => {
  await graph?.close();
  await base?.close();
});

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;
const reasonOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.reason;

describe('authentication at the gateway', () => {
  test('a request without a token is refused with UNAUTHENTICATED and no data', async () => {
    const { status, body, headers } = await graph.gql(JOIN_QUERY);
    assert.equal(status, 401);
    assert.equal(codeOf(body), 'UNAUTHENTICATED');
    assert.equal(reasonOf(body), 'missing');
    assert.equal(body.data, undefined);
    assert.match(headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  test('a token signed with another secret, an expired token, a token for another audience and a malformed header are each refused', async () => {
    const foreign = await signToken({ consumerId: CONSUMER, role: 'department', secret: 'someone-else-entirely-with-a-long-secret' });
    const expired = await graph.tokenFor(CONSUMER, 'department', -60);
    const otherAudience = await new SignJWT({ role: 'department' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('city-brain')
      .setAudience('another-graph')
      .setSubject(CONSUMER)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const cases: [string, string | undefined, string][] = [
      ['bad signature', foreign, 'bad_signature'],
      ['expired', expired, 'expired'],
      ['wrong audience', otherAudience, 'wrong_audience'],
      ['not a JWT', 'not-a-jwt', 'malformed'],
    ];
    for (const [label, bad, reason] of cases) {
      const { status, body } = await graph.gql(JOIN_QUERY, undefined, bad);
      assert.equal(status, 401, label);
      assert.equal(codeOf(body), 'UNAUTHENTICATED', label);
      assert.equal(reasonOf(body), reason, label);
      assert.equal(body.data, undefined, label);
    }
    const malformedHeader = await fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Token ${token}` },
      body: JSON.stringify({ query: JOIN_QUERY }),
    });
    assert.equal(malformedHeader.status, 401);
    assert.equal(reasonOf((await malformedHeader.json()) as { errors?: { extensions?: Record<string, unknown> }[] }), 'malformed');
  });

  test('a graphql-ws connection without a valid token is closed with 4401 before any operation', async () => {
    for (const bad of [undefined, await graph.tokenFor(CONSUMER, 'department', -60)]) {
      const client = graph.wsClient(bad);
      const { result } = subscribeOnce(client, '{ people(first: 1) { id } }');
      await assert.rejects(result, (error: unknown) => {
        const cause = (error as { cause?: { code?: number } }).cause;
        assert.equal(cause?.code, 4401);
        return true;
      });
    }
  });

  test('a valid token joins three subgraphs in one query', async () => {
    const { status, body } = await graph.gql<{ people: { id: string; name: string; companies: { name: string }[]; taxTotal: number }[] }>(
      JOIN_QUERY,
      undefined,
      token,
    );
    assert.equal(status, 200);
    assert.equal(body.errors, undefined);
    assert.deepEqual(
      body.data?.people.map((p) => ({ id: p.id, name: p.name, companies: p.companies.map((c) => c.name).sort(), taxTotal: p.taxTotal })),
      seeded.map((p) => ({ id: p.id, name: p.name, companies: [...p.companies].sort(), taxTotal: p.taxTotal })),
    );
  });
});

describe('the query planner switch', () => {
  test('the gateway\'s own JavaScript planner (GATEWAY_QUERY_PLANNER=js) answers the join as the Rust planner does', async () => {
    const js = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: base, gateway: { queryPlanner: 'js' } });
    try {
      const [rust, plain] = await Promise.all([graph.gql(JOIN_QUERY, undefined, token), js.gql(JOIN_QUERY, undefined, token)]);
      assert.equal(plain.status, 200);
      assert.equal(plain.body.errors, undefined);
      assert.deepEqual(plain.body.data, rust.body.data);
    } finally {
      await js.close();
    }
  });
});

describe('a subgraph called without the gateway', () => {
  const query = JSON.stringify({ query: '{ people(first: 5) { id name idNumber } }' });
  type Post = (headers: Record<string, string>, body?: string) => Promise<Response>;
  // The subgraph's socket, and the in-process path a gateway of the same process takes (bin/graph.ts):
  // each must verify the token and the assertion itself.
  const transports: [string, Post][] = [
    ['over HTTP', (headers, body = query) => fetch(graph.graph.subgraphs.population!, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })],
    ['in process', (headers, body = query) => graph.graph.inProcess.population!(graph.graph.subgraphs.population!, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })],
  ];

  for (const [transport, post] of transports) {
    test(`${transport}: refuses no token, a client token alone, a forged assertion and an assertion for another token; serves nothing`, async () => {
      const caller = { consumerId: CONSUMER, role: 'department' as const, tokenId: 't', expiresAt: new Date(Date.now() + 60_000) };
      const otherToken = await graph.tokenFor(CONSUMER);
      const cases: [string, Record<string, string>, string][] = [
        ['no token', {}, 'missing'],
        ['client token without assertion', { authorization: `Bearer ${token}` }, 'missing_assertion'],
        [
          'assertion signed with a guessed secret',
          {
            authorization: `Bearer ${token}`,
            [ASSERTION_HEADER]: createGatewayAssertion({ caller, token, requestId: 'r', secret: 'a-guessed-secret-that-is-long-enough-0000' }),
          },
          'invalid_assertion',
        ],
        [
          'assertion for another token',
          {
            authorization: `Bearer ${token}`,
            [ASSERTION_HEADER]: createGatewayAssertion({ caller, token: otherToken, requestId: 'r', secret: TEST_ASSERTION_SECRET }),
          },
          'assertion_mismatch',
        ],
      ];
      for (const [label, headers, reason] of cases) {
        const response = await post(headers);
        const body = (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
        assert.equal(response.status, 401, label);
        assert.equal(codeOf(body), 'UNAUTHENTICATED', label);
        assert.equal(reasonOf(body), reason, label);
        assert.equal(body.data, undefined, label);
      }
    });

    test(`${transport}: with valid credentials, a body over the size limit is refused with 413 and one that is not JSON with 400`, async () => {
      const caller = { consumerId: CONSUMER, role: 'department' as const, tokenId: 't', expiresAt: new Date(Date.now() + 60_000) };
      const headers = { authorization: `Bearer ${token}`, [ASSERTION_HEADER]: createGatewayAssertion({ caller, token, requestId: 'r', secret: TEST_ASSERTION_SECRET }) };
      const tooLarge = await post(headers, JSON.stringify({ query: `{ people(first: 5) { id } } # ${'x'.repeat(1_048_576)}` }));
      assert.equal(tooLarge.status, 413);
      assert.equal(((await tooLarge.json()) as { data?: unknown }).data, undefined);
      const notJson = await post(headers, '{"query": ');
      assert.equal(notJson.status, 400);
      assert.equal(codeOf((await notJson.json()) as { errors?: { extensions?: Record<string, unknown> }[] }), 'BAD_REQUEST');
    });
  }
});

describe('subscriptions through the gateway', () => {
  test('a subgraph event reaches a graphql-ws client with another subgraph\'s fields resolved', async () => {
    const client = graph.wsClient(token);
    const { result, stop } = subscribeOnce<{ personRegistered: { id: string; name: string; companies: unknown[]; taxTotal: number | null } }>(
      client,
      'subscription { personRegistered { id name companies { name } taxTotal } }',
    );
    // The subgraph starts following the store when the subscription reaches it: register until one arrives.
    let registered = 0;
    const register = setInterval(() => {
      registered++;
      void graph.gql('mutation ($input: RegisterPersonInput!) { registerPerson(input: $input) { position } }', { input: { name: `Newborn ${registered}`, idNumber: '11010519491231002X' } }, token);
    }, 250);
    try {
      const event = await result;
      assert.equal(event.errors, undefined);
      assert.match(event.data?.personRegistered.name ?? '', /^Newborn \d+$/);
      assert.deepEqual(event.data?.personRegistered.companies, []);
      assert.equal(event.data?.personRegistered.taxTotal, null);
    } finally {
      clearInterval(register);
      stop();
    }
  });

  test('a query over graphql-ws is answered like one over HTTP', async () => {
    const client = graph.wsClient(token);
    const { result } = subscribeOnce<{ people: { id: string }[] }>(client, '{ people(first: 2) { id } }');
    assert.deepEqual((await result).data?.people.map((p) => p.id), seeded.slice(0, 2).map((p) => p.id));
  });
});

/** A subgraph stand-in that counts the requests it relays to the real one. */
async function countingProxy(target: string): Promise<{ url: string; count: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host'));
      fetch(new URL(req.url ?? '/', target), { method: req.method ?? 'POST', headers, ...(req.method === 'POST' && { body: Buffer.concat(chunks) }) }).then(
        async (response) => {
          res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await response.arrayBuffer()));
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    count: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('limits', () => {
  let limited: ListeningGateway;
  let proxies: Awaited<ReturnType<typeof countingProxy>>[];
  const limits = { maxDepth: 2, maxAliases: 2, maxTokens: 60, maxDirectives: 2, maxCost: 40, maxBodyBytes: 2048, executionTimeoutMs: 1 };

  before(async () => {
    proxies = await Promise.all(TEST_GRAPH_MODULES.map((m) => countingProxy(graph.graph.subgraphs[m.name]!)));
    const supergraph = composeSupergraph(TEST_GRAPH_MODULES.map((m, i) => ({ name: m.name, url: proxies[i]!.url, typeDefs: m.typeDefs })));
    limited = await createGatewayServer({
      supergraph,
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      limits,
      logger: base.runtime.logger,
    }).listen();
  });

  after(async () => {
    await limited?.close();
    for (const proxy of proxies ?? []) await proxy.close();
  });

  const send = async (body: string) => {
    const response = await fetch(limited.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
      body,
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };
  const subgraphCalls = () => proxies.reduce((n, p) => n + p.count(), 0);

  const overLimit: [string, string][] = [
    ['maxDepth', '{ people(first: 1) { companies { id } } }'],
    ['maxAliases', '{ a: people(first: 1) { id } b: people(first: 1) { id } c: people(first: 1) { id } }'],
    ['maxTokens', `{ people(first: 1) { ${'id '.repeat(60)}} }`],
    ['maxDirectives', '{ people(first: 1) { id @include(if: true) name @include(if: true) taxTotal @skip(if: false) } }'],
    ['maxCost', '{ people(first: 50) { id } }'],
  ];

  for (const [limit, query] of overLimit) {
    test(`a query over ${limit} is refused naming the limit, and no subgraph is called`, async () => {
      const before = subgraphCalls();
      const { status, body } = await send(JSON.stringify({ query }));
      assert.equal(body.errors?.length, 1, `${limit}: ${JSON.stringify(body)}`);
      assert.equal(body.errors?.[0]?.extensions?.code, 'QUERY_LIMIT_EXCEEDED');
      assert.equal(body.errors?.[0]?.extensions?.limit, limit);
      assert.match(body.errors?.[0]?.message ?? '', /limit/);
      assert.equal(body.data, undefined);
      assert.ok(status >= 400, `${limit}: status ${status}`);
      assert.equal(subgraphCalls(), before, `${limit}: a subgraph was called`);
    });
  }

  test('a body over maxBodyBytes is refused with 413 before any subgraph is called', async () => {
    const before = subgraphCalls();
    const { status, body } = await send(JSON.stringify({ query: '{ people(first: 1) { id } }', variables: { padding: 'x'.repeat(4096) } }));
    assert.equal(status, 413);
    assert.equal(body.errors?.[0]?.extensions?.limit, 'maxBodyBytes');
    assert.equal(subgraphCalls(), before);
  });

  test('an operation not finished within executionTimeoutMs fails with GATEWAY_TIMEOUT', async () => {
    const { body } = await send(JSON.stringify({ query: '{ people(first: 2) { id name } }' }));
    assert.equal(body.errors?.[0]?.extensions?.code, 'GATEWAY_TIMEOUT');
    assert.equal(body.errors?.[0]?.extensions?.limit, 'executionTimeoutMs');
  });

  test('a query within every limit passes', async () => {
    const relaxed = await createGatewayServer({
      supergraph: composeSupergraph(TEST_GRAPH_MODULES.map((m, i) => ({ name: m.name, url: proxies[i]!.url, typeDefs: m.typeDefs }))),
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      limits: { ...limits, executionTimeoutMs: 10_000 },
      logger: base.runtime.logger,
    }).listen();
    try {
      const before = subgraphCalls();
      const response = await fetch(relaxed.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ people(first: 2) { id name } }' }),
      });
      const body = (await response.json()) as { data?: { people: unknown[] }; errors?: unknown };
      assert.equal(body.errors, undefined);
      assert.equal(body.data?.people.length, 2);
      assert.ok(subgraphCalls() > before, 'the counting subgraphs relay what the gateway sends');
    } finally {
      await relaxed.close();
    }
  });
});

describe('development mode', () => {
  test('introspection is refused in production mode', async () => {
    const { body } = await graph.gql('{ __schema { queryType { name } } }', undefined, token);
    assert.equal(body.data?.__schema, undefined);
    assert.ok(body.errors?.length);
  });

  test('introspection and the GraphiQL page are served in development mode', async () => {
    const dev = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: base, devMode: true });
    try {
      const { body } = await dev.gql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }', undefined, token);
      assert.equal(body.data?.__schema.queryType.name, 'Query');
      const page = await fetch(dev.url, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /graphiql/i);
      // Everything inlined: a page loading a script or stylesheet from a CDN shows nothing on an intranet.
      assert.doesNotMatch(html, /<(?:script|link)\b[^>]*\b(?:src|href)=["']?(?:https?:)?\/\//i);
      const prodPage = await fetch(graph.url, { headers: { accept: 'text/html' } });
      assert.equal(prodPage.status, 401);
    } finally {
      await dev.close();
    }
  });
});

describe('operational endpoints', () => {
  const at = (path: string, url = graph.url) => fetch(url.replace(/\/graphql$/, path));

  test('/healthz answers while the process is up', async () => {
    const response = await at('/healthz');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  test('/readyz is ready when every subgraph answers, and names the one that does not', async () => {
    const ready = await at('/readyz');
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { subgraphs: { name: string; ok: boolean }[] };
    assert.deepEqual(body.subgraphs.map((s) => [s.name, s.ok]).sort(), TEST_GRAPH_MODULES.map((m) => [m.name, true]).sort());

    const broken = await createGatewayServer({
      supergraph: composeSupergraph(TEST_GRAPH_MODULES.map((m) => ({ name: m.name, url: graph.graph.subgraphs[m.name]!, typeDefs: m.typeDefs }))),
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      subgraphUrls: { tax: 'http://127.0.0.1:9/graphql' },
      readinessTimeoutMs: 500,
      logger: base.runtime.logger,
    }).listen();
    try {
      const notReady = await at('/readyz', broken.url);
      assert.equal(notReady.status, 503);
      const health = (await notReady.json()) as { subgraphs: { name: string; ok: boolean }[] };
      assert.deepEqual(health.subgraphs.filter((s) => !s.ok).map((s) => s.name), ['tax']);
    } finally {
      await broken.close();
    }
  });

  test('/metrics exposes requests by operation type, errors by code and open subscriptions', async () => {
    await graph.gql(JOIN_QUERY, undefined, token);
    await graph.gql(JOIN_QUERY);
    const response = await at('/metrics');
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /city_brain_gateway_requests_total\{transport="http",operation_type="query"\} [1-9]/);
    assert.match(text, /city_brain_gateway_request_duration_seconds_bucket\{.*operation_type="query"/);
    assert.match(text, /city_brain_gateway_errors_total\{code="UNAUTHENTICATED"\} [1-9]/);
    assert.match(text, /city_brain_gateway_active_subscriptions 0/);
  });
});
