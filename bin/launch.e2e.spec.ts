/**
 * What `npm start` serves, from the build `bin/launch.mjs` makes (packages bundled into shared chunks),
 * not the sources under tsx the other specs load: a package that needs files beside its own module
 * would break only here. A small demo city on a fresh embedded store, then each kind of route once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { GRAPHQL_PATH } from '../gateway/server.ts';
import { issueToken } from '../gateway/tokens.ts';
import { DEMO_CONSUMER_ROLES, DEMO_DASHBOARD } from '../subgraphs/governance/index.ts';
import { collectResults } from '../test/helpers/subscriptions.ts';
import { freePort } from '../test/helpers/ports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const QUERY = '{ divisions(level: DISTRICT) { edges { node { code name } } } }';

describe('npm start, served from the bundled build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-launch-e2e-'));
  let child: ChildProcess;
  let output = '';
  let base: string;
  let token: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', DATA_DIR: join(dir, 'pglite'), GATEWAY_PORT: String(port), DEMO_PEOPLE: '60', DEMO_LEGAL_PERSONS: '4', LOG_LEVEL: 'warn' };
    child = spawn(process.execPath, ['bin/launch.mjs', 'start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    // Its own process group would outlive this file when the file is stopped (a timeout, Ctrl-C): stopped with it.
    const stopChild = () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    };
    const onSignal = (signal: NodeJS.Signals) => {
      stopChild();
      rmSync(dir, { recursive: true, force: true });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('exit', stopChild);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    child.once('exit', () => {
      process.off('exit', stopChild);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    for (;;) {
      assert.equal(child.exitCode, null, `npm start exited:\n${output.slice(-3000)}`);
      assert.ok(Date.now() - started < 240_000, `no answer within 240 s:\n${output.slice(-3000)}`);
      if (token === undefined) {
        try {
          const { JWT_SECRET: secret } = JSON.parse(readFileSync(join(dir, 'dev-secrets.json'), 'utf8')) as { JWT_SECRET: string };
          token = await issueToken({ consumerId: DEMO_DASHBOARD, role: DEMO_CONSUMER_ROLES[DEMO_DASHBOARD]!, secret, ttl: '1h' });
        } catch {
          // Not written yet.
        }
      }
      try {
        if (token !== undefined && (await fetch(`${base}/readyz`)).ok) break;
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
  });

  after(async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    fetch(`${base}${GRAPHQL_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('answers a query as the demo dashboard and refuses one without a token', async () => {
    const answer = (await (await post({ query: QUERY })).json()) as { data?: { divisions: { edges: { node: { code: string } }[] } }; errors?: unknown };
    assert.equal(answer.errors, undefined);
    assert.ok(answer.data!.divisions.edges.some(({ node }) => node.code === '370102'));
    assert.equal((await post({ query: QUERY }, {})).status, 401);
  });

  it('serves the operations screen, GraphiQL and the metrics', async () => {
    const screen = await fetch(`${base}/`);
    assert.equal(screen.status, 200);
    assert.match(await screen.text(), /<html lang="zh-CN">/);
    const graphiql = await fetch(`${base}${GRAPHQL_PATH}`, { headers: { accept: 'text/html' } });
    assert.equal(graphiql.status, 200);
    assert.match(await graphiql.text(), /City Brain GraphiQL/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^city_brain_/m);
  });

  it('delivers the event feed over graphql-ws', async () => {
    const client = createClient({ url: `${base.replace('http', 'ws')}${GRAPHQL_PATH}`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    try {
      // From the start of the log: the seeded city's first events, in position order.
      const feed = collectResults<{ position: string; type: string }>(client, 'subscription { events(fromPosition: "0:0") { position type } }', 'events', 3);
      // Unreferenced: a pending limit must not keep the file's process alive once the feed has come.
      await Promise.race([feed.done, sleep(30_000, undefined, { ref: false }).then(() => assert.fail(`received ${feed.received.length} of 3 events within 30 s`))]);
      feed.unsubscribe();
      assert.ok(feed.received.length >= 3);
      assert.ok(feed.received.every((event) => event.type.length > 0 && event.position !== '0:0'));
    } finally {
      await client.dispose();
    }
  });

  it('stops on SIGTERM with exit code 0', async () => {
    process.kill(-child.pid!, 'SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output.slice(-3000));
  });
});
