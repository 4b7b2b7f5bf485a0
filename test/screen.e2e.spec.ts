/**
 * The operations screen (城市运行一张图) in a real browser — Debian's chromium under playwright-core —
 * against the whole graph on a small seeded city (PGlite). Every request to a host other than
 * 127.0.0.1 is blocked and remembered: the page must work on a network with no internet at all.
 * The screen is a client like any other: its figures are compared with what the graph answers the
 * same token, a partner's token sees masked names and no audit data, and a bad token is told why.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page, Request, WebSocketRoute } from 'playwright-core';
import { MODULES } from '../bin/modules.ts';
import { README_QUERY, SCREEN_DIST } from '../gateway/pages.ts';
import { DEMO_DASHBOARD, PARTNER_APP } from '../subgraphs/governance/seed.ts';
import { issueToken } from '../platform/auth.ts';
import { seedSmallCity } from './fixtures/smallCity.ts';
import { launchBrowser, type TestBrowser } from './helpers/browser.ts';
import { openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from './helpers/graph.ts';

let base: TestRuntime;
let graph: TestGraph;
let browser: TestBrowser;
let dashboard: string;
let partner: string;
const origin = () => new URL(graph.url).origin;

before(async () => {
  assert.ok(existsSync(join(SCREEN_DIST, 'index.html')), 'the screen is not built: run `npm run build:web` (npm install runs it)');
  base = await openTestRuntime(MODULES);
  await seedSmallCity(base.runtime);
  await base.catchUp();
  graph = await startTestGraph({ modules: MODULES, runtime: base, devMode: true });
  browser = await launchBrowser();
  dashboard = await graph.tokenFor(DEMO_DASHBOARD, 'department');
  partner = await graph.tokenFor(PARTNER_APP, 'partner');
});

after(async () => {
  await browser?.close();
  await graph?.close();
  await base?.close();
});

/** A new page signed in with `token` through the link form `npm start` prints, once `view` is on screen. */
async function openScreen(token: string, view = 'overview'): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${origin()}/#token=${token}`);
  await waitForView(page, 'overview');
  if (view !== 'overview') {
    await page.click(`[data-tab="${view}"]`);
    await waitForView(page, view);
  }
  return page;
}

const waitForView = (page: Page, view: string) => page.waitForFunction((id) => document.body.dataset.ready === id, view, { timeout: 60_000 });

const formatCount = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString('zh-CN'));
const formatPercent = (r: number | null | undefined) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`);

/** The overview table as shown: district code → field → text. */
const tableOf = (page: Page, selector: string) =>
  page.$$eval(`${selector} tbody tr[data-code]`, (rows) =>
    Object.fromEntries(
      rows.map((row) => [
        row.getAttribute('data-code')!,
        Object.fromEntries([...row.querySelectorAll('td[data-field]')].map((td) => [td.getAttribute('data-field')!, td.textContent!.trim()])),
      ]),
    ),
  );

interface DistrictFigures {
  code: string;
  name: string;
  urbanOperations: { open: number; overdueNow: number; closureRate: number | null } | null;
  population: { elderlyLivingAlone: number } | null;
  children: { totalCount: number };
}

const FIGURES = `{
  divisions(level: DISTRICT, first: 20) { edges { node { code name urbanOperations { open overdueNow closureRate } population { elderlyLivingAlone } children(first: 100) { totalCount } } } }
  stations(first: 100) { edges { node { divisionCode latest { aqi } } } }
}`;

let incidentSerial = 0;
async function reportIncident(description: string): Promise<string> {
  incidentSerial += 1;
  const { body } = await graph.gql<{ reportIncident: { incident: { id: string } } }>(
    `mutation ($input: ReportIncidentInput!) { reportIncident(input: $input) { incident { id } } }`,
    {
      input: {
        channel: 'HOTLINE_12345',
        category: 'MUNICIPAL_FACILITY',
        subcategory: 'MISSING_MANHOLE_COVER',
        description,
        // Far apart, so no report is linked to another as a duplicate.
        location: { longitude: 116.9 + incidentSerial * 0.05, latitude: 36.6, address: `经十路 ${incidentSerial} 号` },
        divisionCode: '370103001001',
        reporter: { kind: 'CITIZEN' },
      },
    },
    dashboard,
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!.reportIncident.incident.id;
}

describe('the operations screen', () => {
  test('the route interception refuses and records a request to another host (so the tests below can see one)', async () => {
    const page = await browser.context.newPage();
    try {
      // Not from the screen: its content security policy would stop the request before the route saw it.
      const response = await page.goto('http://203.0.113.7/tile.png').catch(() => null);
      assert.equal(response, null);
      assert.deepEqual(browser.blocked.splice(0), ['http://203.0.113.7/tile.png']);
    } finally {
      await page.close();
    }
  });

  test('the city overview shows the twelve districts with the figures the graph serves, and a click shows a district’s streets', async () => {
    // Asked (and its access records projected) before the page opens, so its access-log panel has records to show.
    const { body } = await graph.gql<{ divisions: { edges: { node: DistrictFigures }[] }; stations: { edges: { node: { divisionCode: string; latest: { aqi: number | null } | null } }[] } }>(
      FIGURES,
      undefined,
      dashboard,
    );
    await base.catchUp();
    const page = await openScreen(dashboard);
    try {
      const districts = body.data!.divisions.edges.map((e) => e.node);
      assert.equal(districts.length, 12);
      assert.equal(await page.locator('.city-map .tile').count(), 12);
      const shown = await tableOf(page, '.overview > .card table.grid');
      const worstAqi = new Map<string, number>();
      for (const { node } of body.data!.stations.edges) {
        const aqi = node.latest?.aqi;
        const district = node.divisionCode.slice(0, 6);
        if (aqi !== null && aqi !== undefined && aqi > (worstAqi.get(district) ?? -1)) worstAqi.set(district, aqi);
      }
      for (const d of districts) {
        assert.deepEqual(
          shown[d.code],
          {
            aqi: formatCount(worstAqi.get(d.code)),
            open: formatCount(d.urbanOperations?.open),
            overdue: formatCount(d.urbanOperations?.overdueNow),
            closureRate: formatPercent(d.urbanOperations?.closureRate),
            elderly: formatCount(d.population?.elderlyLivingAlone),
            residents: shown[d.code]?.residents,
          },
          d.name,
        );
        assert.equal(await page.locator(`.city-map .tile[data-code="${d.code}"] text`).first().textContent(), d.name);
      }
      assert.ok(districts.some((d) => (d.urbanOperations?.open ?? 0) > 0), 'the seeded city has open incidents');

      const lixia = districts.find((d) => d.code === '370102')!;
      await page.click('.city-map .tile[data-code="370102"]');
      await page.waitForSelector('#district-panel table.grid tbody tr[data-code]');
      assert.equal(await page.locator('#district-panel table.grid tbody tr[data-code]').count(), lixia.children.totalCount);
      const idNumbers = await page.locator('#district-panel table.elderly td[data-field="idNumber"]').allTextContents();
      assert.ok(idNumbers.length > 0, 'the district has elderly living alone');
      assert.ok(idNumbers.every((id) => /^\d{17}[\dX]$/.test(id)), `the dashboard's grant is unmasked: ${idNumbers.join(', ')}`);
      assert.ok((await page.locator('.audit-log li').count()) > 0, 'the dashboard holds audit.log and sees the access records');
      assert.deepEqual(browser.blocked, []);
    } finally {
      await page.close();
    }
  });

  test('an incident reported through the graph appears live, and after a dropped connection the feed resumes from the last position without loss or repetition', async () => {
    const page = await browser.context.newPage();
    const connections: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
    const subscriptions: { variables?: { from?: string | null } }[] = [];
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const parsed = JSON.parse(String(message)) as { type: string; payload?: { variables?: { from?: string | null } } };
        if (parsed.type === 'subscribe' && parsed.payload) subscriptions.push(parsed.payload);
        server.send(message);
      });
      server.onMessage((message) => ws.send(message));
      connections.push({ page: ws, server });
    });
    try {
      await page.goto(`${origin()}/#token=${dashboard}`);
      await waitForView(page, 'overview');
      await page.click('[data-tab="live"]');
      await waitForView(page, 'live');
      await page.waitForSelector('#live-status[data-state="live"]', { timeout: 30_000 });
      // The feed starts "from now" once the subscription reaches the governance subgraph.
      await page.waitForTimeout(1000);

      const first = await reportIncident('屏幕测试：井盖缺失（一）');
      const reportedAt = Date.now();
      await page.waitForSelector(`#live-feed li[data-incident="${first}"][data-type="IncidentReported"]`, { timeout: 10_000 });
      const latency = Date.now() - reportedAt;
      assert.ok(latency < 2000, `the report appeared ${latency} ms after the mutation answered`);
      const lastSeen = await page.locator('#live-feed li[data-position]').first().getAttribute('data-position');

      // Drop the connection, and report while the page is away.
      assert.equal(connections.length, 1);
      await connections[0]!.page.close({ code: 1011, reason: 'dropped by the test' });
      await connections[0]!.server.close();
      const second = await reportIncident('屏幕测试：井盖缺失（二）');
      await page.waitForSelector(`#live-feed li[data-incident="${second}"][data-type="IncidentReported"]`, { timeout: 20_000 });

      assert.equal(connections.length, 2, 'the page reconnected once');
      assert.equal(subscriptions.length, 2);
      assert.equal(subscriptions[0]!.variables?.from ?? null, null, 'the first subscription starts from now');
      assert.equal(subscriptions[1]!.variables?.from, lastSeen, 'the page resumed from the last position it had received');
      const eventIds = await page.locator('#live-feed li[data-event-id]').evaluateAll((items) => items.map((li) => li.getAttribute('data-event-id')));
      assert.equal(new Set(eventIds).size, eventIds.length, 'no event is shown twice');
      assert.equal(await page.locator(`#live-feed li[data-incident="${first}"][data-type="IncidentReported"]`).count(), 1);
      assert.equal(await page.locator(`#live-feed li[data-incident="${second}"][data-type="IncidentReported"]`).count(), 1);
      assert.deepEqual(browser.blocked, []);
    } finally {
      await page.close();
    }
  });

  test('an hour above the alert level recorded through the graph appears live as an air-quality alert with its AQI', async () => {
    const page = await openScreen(dashboard, 'live');
    try {
      await page.waitForSelector('#live-status[data-state="live"]', { timeout: 30_000 });
      await page.waitForTimeout(1000);
      const { body: stations } = await graph.gql<{ stations: { edges: { node: { id: string } }[] } }>(`{ stations(first: 1) { edges { node { id } } } }`, undefined, dashboard);
      const stationId = stations.data!.stations.edges[0]!.node.id;
      // A late delivery of an hour before the seeded four days (an hour not yet ended is refused);
      // NO2 at 2,000 µg/m³ (1-h) is an IAQI of about 280.
      const lateHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 86_400_000).toISOString();
      const { body } = await graph.gql(
        `mutation ($input: RecordAirQualityObservationInput!) { recordAirQualityObservation(input: $input) { positions } }`,
        { input: { stationId, observedAt: lateHour, concentrations: { pm25: 30, pm10: 50, so2: 10, no2: 2000, co: 0.5, o3: 60 } } },
        dashboard,
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      await base.catchUp();
      const alert = page.locator('#live-feed li.alert').first();
      await alert.waitFor({ timeout: 10_000 });
      const { body: hour } = await graph.gql<{ station: { name: string; hourly: { edges: { node: { aqi: number } }[] } } }>(
        `query ($id: ID!, $hour: DateTime!) { station(id: $id) { name hourly(from: $hour, to: $hour, first: 1) { edges { node { aqi } } } } }`,
        { id: stationId, hour: lateHour },
        dashboard,
      );
      const aqi = hour.data!.station.hourly.edges[0]!.node.aqi;
      assert.ok(aqi > 200, `the recorded hour is above the alert level: ${aqi}`);
      const text = (await alert.textContent()) ?? '';
      assert.match(text, new RegExp(`${hour.data!.station.name}.*AQI ${aqi}`));
      assert.deepEqual(browser.blocked, []);
    } finally {
      await page.close();
    }
  });

  test('a partner-app token sees masked ID numbers and no audit data, and the page asks `me` first and then only for what its grants allow', async () => {
    const page = await browser.context.newPage();
    const asked: string[] = [];
    page.on('request', (request: Request) => {
      if (request.method() === 'POST' && request.url().endsWith('/graphql')) asked.push(request.postData() ?? '');
    });
    try {
      await page.goto(`${origin()}/#token=${partner}`);
      await waitForView(page, 'overview');
      assert.equal(await page.locator('.audit .not-granted[data-resource="audit.log"]').count(), 1);
      assert.equal(await page.locator('.audit-log').count(), 0);
      for (const indicator of ['open', 'overdue', 'closureRate', 'elderly']) assert.equal(await page.locator(`[data-indicator="${indicator}"]`).isDisabled(), true, indicator);
      assert.equal(await page.locator('td[data-field="open"]').count(), 0);

      await page.click('.city-map .tile[data-code="370102"]');
      await page.waitForSelector('#district-panel table.elderly td[data-field="idNumber"]');
      const idNumbers = await page.locator('#district-panel table.elderly td[data-field="idNumber"]').allTextContents();
      assert.ok(idNumbers.length > 0);
      assert.ok(idNumbers.every((id) => id.includes('*') && id.endsWith('已脱敏')), `masked ID numbers: ${idNumbers.join(', ')}`);
      const { body } = await graph.gql<{ elderlyLivingAlone: { edges: { node: { person: { idNumber: string } } }[] } }>(
        `{ elderlyLivingAlone(divisionCode: "370102", first: 8) { edges { node { person { idNumber } } } } }`,
        undefined,
        partner,
      );
      assert.deepEqual(
        idNumbers.map((id) => id.replace(/已脱敏$/, '')),
        body.data!.elderlyLivingAlone.edges.map((e) => e.node.person.idNumber),
      );

      // Redraw the overview: no question, the first included, asks for what the grants do not cover.
      await page.click('[data-indicator="aqi"]');
      await waitForView(page, 'overview');
      await page.waitForTimeout(200);
      assert.match(asked[0]!, /ScreenCaller/, 'the page asks who the caller is first');
      const overviewAsks = asked.filter((body) => body.includes('ScreenOverview'));
      assert.ok(overviewAsks.length > 1);
      for (const body of overviewAsks) assert.doesNotMatch(body, /accessLog|urbanOperations|population \{/);
      assert.deepEqual(browser.blocked, []);
    } finally {
      await page.close();
    }
  });

  test('an expired, a forged or a malformed token gets a sign-in message saying so, and signing in again works', async () => {
    const expired = await graph.tokenFor(DEMO_DASHBOARD, 'department', -60);
    const forged = await issueToken({ consumerId: DEMO_DASHBOARD, role: 'department', secret: 'another-secret-that-is-long-enough-to-sign' });
    const cases: [string, string, RegExp][] = [
      ['expired', expired, /登录已过期/],
      ['forged', forged, /令牌无效（bad_signature）/],
      ['malformed', 'not-a-jwt', /令牌无效（malformed）/],
    ];
    for (const [label, token, message] of cases) {
      const page = await browser.context.newPage();
      try {
        await page.goto(`${origin()}/#token=${token}`);
        await waitForView(page, 'sign-in');
        assert.match((await page.locator('.sign-in-error').textContent()) ?? '', message, label);
        assert.equal(await page.locator('.city-map').count(), 0, label);
        if (label === 'forged') {
          await page.fill('#token', dashboard);
          await page.click('#sign-in-form button[type="submit"]');
          await waitForView(page, 'overview');
        }
      } finally {
        await page.close();
      }
    }
    assert.deepEqual(browser.blocked, []);
  });

  test('the closed loop and the environment views render from the graph', async () => {
    const page = await openScreen(dashboard, 'loop');
    try {
      const { body } = await graph.gql<{ division: { urbanOperations: { reported: number; closed: number } } }>(
        `{ division(code: "370100") { urbanOperations { reported closed } } }`,
        undefined,
        dashboard,
      );
      const all = page.locator('.funnel-table tr[data-level="ALL"]');
      assert.equal(await all.locator('td[data-field="reported"]').textContent(), formatCount(body.data!.division.urbanOperations.reported));
      assert.equal(await all.locator('td[data-field="closed"]').textContent(), formatCount(body.data!.division.urbanOperations.closed));
      // The funnel of each period shows the graph's stages, report to on-time closure.
      type Stages = { reported: number; registered: number; dispatched: number; handled: number; verified: number; closed: number; closedOnTime: number };
      const funnels = await graph.gql<{ division: Record<string, Stages> }>(
        `{ division(code: "370100") { ${['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS'].map((p) => `${p}: incidentFunnel(period: ${p}) { reported registered dispatched handled verified closed closedOnTime }`).join(' ')} } }`,
        undefined,
        dashboard,
      );
      const chart = page.locator('#funnel-chart');
      for (const period of ['LAST_7_DAYS', 'TODAY', 'LAST_30_DAYS']) {
        if (period !== 'LAST_7_DAYS') await page.click(`[data-period="${period}"]`);
        assert.equal(await chart.getAttribute('data-period'), period);
        assert.equal(await chart.getAttribute('data-stages'), Object.values(funnels.body.data!.division[period]!).join(','), period);
      }
      assert.ok(funnels.body.data!.division.LAST_30_DAYS!.reported > 0, 'the small city has incidents reported in 30 days');
      await page.click('[data-tab="environment"]');
      await waitForView(page, 'environment');
      assert.equal(await page.locator('table.ranking tbody tr').count(), 12);
      assert.match((await page.locator('#station-title').textContent()) ?? '', /近 72 小时/);
      assert.deepEqual(browser.blocked, []);
    } finally {
      await page.close();
    }
  });
});

describe('GraphiQL from local assets', () => {
  test('opens with the Authorization header filled in, the README query as its default tab, and the docs loaded without a re-fetch', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${graph.url}#token=${dashboard}`);
      await page.waitForSelector('.graphiql-container', { timeout: 60_000 });
      await page.click('button[aria-label*="Documentation"]');
      await page.waitForSelector('.graphiql-doc-explorer :text("Root Types")', { timeout: 30_000 });
      const text = await page.evaluate(() => document.body.innerText);
      assert.match(text, /query: Query/);
      // The editor draws spaces as no-break spaces.
      assert.match(text, /"Authorization":\s+"Bearer\s+eyJ/);
      assert.match(text, /divisions\(level:\s+DISTRICT\)/);
      assert.deepEqual(browser.blocked, []);
    } finally {
      await page.close();
    }
  });

  test('the default query is the README’s', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const fromReadme = /"query":"(\{ divisions[^"]+)"/.exec(readme)?.[1];
    const squash = (q: string) => q.replace(/\s+/g, ' ').trim();
    assert.equal(squash(README_QUERY), squash(fromReadme ?? ''));
  });

  test('the screen is served with a same-origin content security policy; other paths under /assets are not files', async () => {
    const page = await fetch(`${origin()}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    await page.body?.cancel();
    for (const path of ['/assets/../package.json', '/assets/%2e%2e%2fpackage.json', '/assets/.env', '/package.json']) {
      const response = await fetch(`${origin()}${path}`);
      assert.equal(response.status, 404, path);
      await response.body?.cancel();
    }
  });
});
