/**
 * The gateway in production mode and on the way down: no schema suggestions, CORS only for the
 * configured origins, subgraph addresses in `/readyz` only for the operator, and on close the
 * requests already running finish while subscribers are told the server is going away (1001).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons } from '../test/fixtures/graphModules.ts';
import { openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';

const CONSUMER = 'planning-bureau';
const ALLOWED_ORIGIN = 'https://dashboard.example.org';
const ADMIN_TOKEN = 'the-operator-token-of-at-least-32-characters';
const TYPO = '{ people(first: 1) { nam } }';

let base: TestRuntime;
let token: string;
const graphs: TestGraph[] = [];

async function graphOf(devMode: boolean): Promise<TestGraph> {
  const graph = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: base, devMode, gateway: { corsOrigins: [ALLOWED_ORIGIN], adminToken: ADMIN_TOKEN, drainTimeoutMs: 5000 } });
  graphs.push(graph);
  return graph;
}

before(async () => {
  base = await openTestRuntime(TEST_GRAPH_MODULES);
  await seedPersons(base.runtime, 2);
  await base.catchUp();
});

after(async () => {
  for (const graph of graphs) await graph.close().catch(() => undefined);
  await base?.close();
});

describe('production mode', () => {
  let production: TestGraph;
  before(async () => {
    production = await graphOf(false);
    await production.grant(CONSUMER, TEST_GRAPH_RESOURCES);
    token = await production.tokenFor(CONSUMER);
  });

  test('a misspelt field is refused without suggesting the real names; development mode still suggests them', async () => {
    const refused = await production.gql(TYPO, undefined, token);
    assert.equal(refused.body.errors?.[0]?.message, 'Cannot query field "nam" on type "Person".');
    const development = await graphOf(true);
    const helped = await development.gql(TYPO, undefined, token);
    assert.match(helped.body.errors?.[0]?.message ?? '', /Did you mean "name"\?/);
  });

  test('CORS answers only the configured origins, never reflecting another', async () => {
    const preflight = (origin: string) =>
      fetch(production.graph.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    const allowed = await preflight(ALLOWED_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    const other = await preflight('https://evil.example');
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
    assert.notEqual(other.headers.get('access-control-allow-origin'), '*');
    const answered = await fetch(production.graph.url, { method: 'POST', headers: { origin: 'https://evil.example', authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ people(first: 1) { id } }' }) });
    // A browser compares the answer with its own origin: anything but that origin is a refusal.
    assert.notEqual(answered.headers.get('access-control-allow-origin'), 'https://evil.example');
    assert.notEqual(answered.headers.get('access-control-allow-origin'), '*');
  });

  test('/readyz names internal subgraph URLs only to the operator', async () => {
    const readyz = new URL('/readyz', production.graph.url);
    const anyone = (await (await fetch(readyz)).json()) as { subgraphs: { name: string; url?: string }[] };
    assert.ok(anyone.subgraphs.length > 0);
    assert.ok(anyone.subgraphs.every((s) => s.url === undefined), JSON.stringify(anyone));
    const wrong = (await (await fetch(readyz, { headers: { authorization: 'Bearer not-the-token' } })).json()) as typeof anyone;
    assert.ok(wrong.subgraphs.every((s) => s.url === undefined));
    const operator = (await (await fetch(readyz, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as typeof anyone;
    assert.ok(operator.subgraphs.every((s) => s.url?.startsWith('http://127.0.0.1:')), JSON.stringify(operator));
  });
});

describe('closing the gateway drains it', () => {
  test('a request already running finishes, a subscriber gets 1001, and new connections are refused', async () => {
    const graph = await graphOf(false);
    await graph.grant(CONSUMER, TEST_GRAPH_RESOURCES);
    const consumerToken = await graph.tokenFor(CONSUMER);
    const url = new URL(graph.graph.url);

    const socket = new WebSocket(graph.graph.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${consumerToken}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { personRegistered { id } }' } }));
    const wsClosed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

    // A request whose body is still arriving when the close begins.
    const body = JSON.stringify({ query: '{ people(first: 2) { id name } }' });
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${consumerToken}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 400);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closed = graph.graph.close();

    assert.equal(await wsClosed, 1001);
    const answered = await inFlight;
    assert.equal(answered.status, 200, answered.text);
    assert.equal((JSON.parse(answered.text) as { data: { people: unknown[] } }).data.people.length, 2);
    await closed;
    await assert.rejects(fetch(new URL('/healthz', url)), 'no new connections after the close');
  });
});
