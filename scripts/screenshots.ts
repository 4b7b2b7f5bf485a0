/**
 * Screenshots of the operations screen's views and GraphiQL, for docs/screens/ and the README,
 * taken in the same browser the tests use (requests to other hosts blocked: a screenshot proves the
 * page drew everything from the gateway alone).
 *
 *   npm start                                  (prints the screen's link with the demo token)
 *   npx tsx scripts/screenshots.ts --url http://127.0.0.1:4000 --token <demo dashboard token> [--partner-token <token>]
 *
 * For the live view it reports one incident through the graph (a demo write, with the given token),
 * so the picture shows an event arriving.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.ts';

const program = new Command()
  .requiredOption('--url <origin>', 'the gateway, e.g. http://127.0.0.1:4000')
  .requiredOption('--token <token>', 'a token of the demo dashboard')
  .option('--partner-token <token>', 'a partner-app token: adds the masked district view')
  .option('--out <dir>', 'where the PNG files go', fileURLToPath(new URL('../docs/screens/', import.meta.url)))
  .parse();
const options = program.opts<{ url: string; token: string; partnerToken?: string; out: string }>();

const ready = (page: Page, view: string) => page.waitForFunction((id) => document.body.dataset.ready === id, view, { timeout: 120_000 });

async function reportDemoIncident(page: Page): Promise<void> {
  await page.waitForSelector('#live-status[data-state="live"]');
  await page.waitForTimeout(1000);
  const response = await fetch(`${options.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
    body: JSON.stringify({
      query: 'mutation ($input: ReportIncidentInput!) { reportIncident(input: $input) { incident { id } } }',
      variables: {
        input: {
          channel: 'HOTLINE_12345',
          category: 'MUNICIPAL_FACILITY',
          subcategory: 'MISSING_MANHOLE_COVER',
          description: '12345 热线：泉城路与舜井街路口井盖缺失',
          location: { longitude: 117.0231, latitude: 36.6648, address: '泉城路与舜井街路口' },
          divisionCode: '370102001001',
          reporter: { kind: 'CITIZEN', name: '市民' },
        },
      },
    }),
  });
  const answer = (await response.json()) as { data?: { reportIncident: { incident: { id: string } } }; errors?: { message: string }[] };
  if (!answer.data) throw new Error(`reporting the demo incident failed: ${answer.errors?.[0]?.message}`);
  await page.waitForSelector(`#live-feed li[data-incident="${answer.data.reportIncident.incident.id}"]`);
}

await mkdir(options.out, { recursive: true });
const browser = await launchBrowser({ viewport: { width: 1600, height: 1000 } });
try {
  const page = await browser.context.newPage();
  const shot = (name: string) => page.screenshot({ path: `${options.out}/${name}.png` });
  await page.goto(`${options.url}/#token=${options.token}`);
  await ready(page, 'overview');
  await shot('overview');
  await page.click('[data-indicator="overdue"]');
  await ready(page, 'overview');
  await page.click('.city-map .tile[data-code="370102"]');
  await page.waitForSelector('#district-panel table.elderly');
  await page.screenshot({ path: `${options.out}/overview-district.png`, fullPage: true });
  for (const view of ['loop', 'live', 'environment']) {
    await page.click(`[data-tab="${view}"]`);
    await ready(page, view);
    if (view === 'live') await reportDemoIncident(page);
    await page.waitForTimeout(300);
    await shot(view);
  }
  if (options.partnerToken) {
    const partner = await browser.context.newPage();
    await partner.goto(`${options.url}/#token=${options.partnerToken}`);
    await ready(partner, 'overview');
    await partner.click('.city-map .tile[data-code="370102"]');
    await partner.waitForSelector('#district-panel table.elderly');
    await partner.screenshot({ path: `${options.out}/partner-masked.png`, fullPage: true });
  }
  const graphiql = await browser.context.newPage();
  await graphiql.goto(`${options.url}/graphql#token=${options.token}`);
  await graphiql.waitForSelector('.graphiql-container');
  await graphiql.click('button[aria-label*="Documentation"]');
  await graphiql.waitForSelector('.graphiql-doc-explorer :text("Root Types")');
  await graphiql.screenshot({ path: `${options.out}/graphiql.png` });
  if (browser.blocked.length) throw new Error(`the pages tried to reach other hosts: ${browser.blocked.join(', ')}`);
  console.log(`screenshots written to ${options.out}`);
} finally {
  await browser.close();
}
