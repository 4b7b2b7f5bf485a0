/**
 * The operations screen's speed on the embedded store: (1) its first full render — a fresh page
 * loaded with the demo dashboard's token until the city overview's figures are on screen — and (2)
 * the gateway answering the very requests the screen sends (recorded from a real page load of every
 * view, then replayed) at p50/p99 under concurrent clients, and the server's CPU time per request.
 * The replaying clients run in a child process (lib/httpReplay.ts): the server's process (gateway,
 * subgraphs, PGlite) does nothing else while it is timed. Full size is the demo city `npm start`
 * seeds (20,000 residents, 3,000 incidents, 40 stations); `--quick` a small city.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODULES } from '../bin/modules.ts';
import { DEMO_DASHBOARD } from '../subgraphs/governance/seed.ts';
import { seedSmallCity } from '../test/fixtures/smallCity.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { openTestRuntime, startTestGraph } from '../test/helpers/graph.ts';
import { ReplayClients } from './lib/httpReplay.ts';
import type { BenchContext, BenchOption } from './lib/section.ts';
import { Latencies } from './lib/stats.ts';

export const name = 'screen';
export const description = 'operations screen: first full render in chromium, and the gateway answering its queries under concurrent clients (PGlite)';

export const options: readonly BenchOption[] = [
  { name: 'screenPeople', description: 'residents of the seeded city', default: 20_000, quick: 600 },
  { name: 'screenIncidents', description: 'incidents of the seeded city', default: 3_000, quick: 240 },
  { name: 'screenLoads', description: 'fresh page loads timed for the first render', default: 5, quick: 2 },
  { name: 'screenRequests', description: 'timed replays of each screen query', default: 400, quick: 60 },
  { name: 'screenClients', description: 'concurrent clients replaying the queries', default: 20, quick: 20 },
];

const VIEWS = ['loop', 'live', 'environment'];

export async function run(ctx: BenchContext): Promise<void> {
  ctx.log(`seeding a city of ${ctx.size('screenPeople')} residents and ${ctx.size('screenIncidents')} incidents on PGlite`);
  // As `npm start` serves: the store in a data directory, and readers keep table locations
  // (SqlReadModels' default), not per query as tests do.
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-bench-screen-'));
  ctx.defer(async () => rmSync(dataDir, { recursive: true, force: true }));
  const base = await openTestRuntime(MODULES, 'pglite', { readModelRefreshMs: 1000, pgliteDataDir: dataDir });
  ctx.defer(() => base.close());
  // Four days of readings: the station chart shows the last 72 hours.
  await seedSmallCity(base.runtime, { people: ctx.size('screenPeople'), incidents: ctx.size('screenIncidents'), days: 4 });
  await base.catchUp();
  ctx.signal.throwIfAborted();
  const graph = await startTestGraph({ modules: MODULES, runtime: base });
  ctx.defer(() => graph.close());
  const browser = await launchBrowser();
  ctx.defer(() => browser.close());
  const token = await graph.tokenFor(DEMO_DASHBOARD, 'department');
  const screen = `${new URL(graph.url).origin}/#token=${token}`;

  const firstRender = new Latencies();
  const queries = new Map<string, string>();
  for (let load = 0; load < ctx.size('screenLoads'); load++) {
    const page = await browser.context.newPage();
    page.on('request', (request) => {
      const body = request.method() === 'POST' ? request.postData() : null;
      const operation = body && /"query":"(?:query|mutation) (\w+)/.exec(body)?.[1];
      if (body && operation && !queries.has(operation)) queries.set(operation, body);
    });
    const started = performance.now();
    await page.goto(screen);
    await page.waitForFunction(() => document.body.dataset.ready === 'overview', null, { timeout: 120_000 });
    firstRender.add(performance.now() - started);
    if (load === 0) {
      await page.click('.city-map .tile[data-code="370102"]');
      await page.waitForSelector('#district-panel table.elderly');
      for (const view of VIEWS) {
        await page.click(`[data-tab="${view}"]`);
        await page.waitForFunction((id) => document.body.dataset.ready === id, view, { timeout: 120_000 });
      }
    }
    await page.close();
    ctx.signal.throwIfAborted();
  }
  if (browser.blocked.length) throw new Error(`the screen tried to reach other hosts: ${browser.blocked.join(', ')}`);
  const [renderP50] = firstRender.percentiles(50);
  const [renderMax] = firstRender.percentiles(100);
  ctx.report({ backend: 'pglite', key: 'screen.first_render.p50_ms', value: renderP50!, targets: [{ on: 'value', op: '<=', threshold: 2000 }] });
  ctx.report({ backend: 'pglite', key: 'screen.first_render.max_ms', value: renderMax! });

  const clients = ctx.size('screenClients');
  const requests = ctx.size('screenRequests');
  const replays = new ReplayClients();
  ctx.defer(async () => replays.close());
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  for (const [operation, body] of queries) {
    const job = { url: graph.url, headers, body, warmup: Math.min(requests, 40), requests, clients };
    const { latencies, serverCpuMs } = await replays.replay(job, ctx.signal).catch((error: unknown) => {
      throw new Error(`${operation}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const [p50, p99] = latencies.percentiles(50, 99);
    ctx.report({ backend: 'pglite', key: `screen.${operation}.c${clients}.p50_ms`, value: p50! });
    ctx.report({ backend: 'pglite', key: `screen.${operation}.c${clients}.p99_ms`, value: p99!, targets: [{ on: 'value', op: '<=', threshold: 100 }] });
    ctx.report({ backend: 'pglite', key: `screen.${operation}.server_cpu_us_per_request`, value: (serverCpuMs * 1000) / requests });
  }
}
