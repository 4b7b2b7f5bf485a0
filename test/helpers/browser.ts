/**
 * A real browser for the operations screen's tests, screenshots and bench: Debian's `chromium`
 * driven by `playwright-core` (no browser download), in a fresh profile, with every request to a
 * host other than 127.0.0.1 blocked and remembered — the screen must work on a network with no
 * internet, so a test asserts that `blocked` stays empty.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags of a quiet, sandbox-free headless Chromium that phones nowhere by itself. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  context: BrowserContext;
  /** Every URL the pages tried to reach on another host (the requests were refused). */
  blocked: string[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const isLocal = (url: string) => new URL(url).hostname === '127.0.0.1';

export async function launchBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'city-brain-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: options.viewport ?? { width: 1440, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(/.*/, (ws) => {
    if (isLocal(ws.url())) {
      ws.connectToServer();
      return;
    }
    blocked.push(ws.url());
    void ws.close({ code: 1008, reason: 'blocked: not 127.0.0.1' });
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= context.close().finally(() => rm(profile, { recursive: true, force: true }));
    return closing;
  };
  return { context, blocked, close, [Symbol.asyncDispose]: close };
}
