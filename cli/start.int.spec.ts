import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, spawnOwned } from '../test/helpers/processes.ts';

const ROOT = join(import.meta.dirname, '..');

/** `city-brain start` as its own process: exit code and stderr. */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'bin/city-brain.ts', 'start'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('start checks its whole configuration before opening or writing anything', () => {
  let dir: string;
  let busy: Server;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-start-'));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    killAll();
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports every mistake on its own line, without a stack trace, and creates nothing', async () => {
    const dataDir = join(dir, 'a', 'pglite');
    const { code, stderr } = await start({ DATA_DIR: dataDir, GATEWAY_PORT: 'abc', LOG_LEVEL: 'loud', DEMO_PEOPLE: '3', MQTT_URL: 'http://127.0.0.1:1883', MQTT_FLUSH_MS: '0' });
    assert.equal(code, 1);
    assert.equal(
      stderr.trim(),
      [
        'city-brain: invalid configuration:',
        '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
        '  DEMO_PEOPLE: must be at least 50 residents',
        '  MQTT_URL: MQTT_URL must be an mqtt:// or mqtts:// URL, e.g. mqtt://127.0.0.1:1883',
        '  MQTT_FLUSH_MS: Too small: expected number to be >=1',
        '  MQTT_CONSUMER_ID: MQTT_CONSUMER_ID is required with MQTT_URL: the consumer the bridge delivers as (it needs a grant with WRITE)',
        '  GATEWAY_PORT: must be a port number',
      ].join('\n'),
    );
    assert.equal(existsSync(join(dir, 'a')), false, 'no data directory, seal key or secrets were written');
  });

  it('finds a gateway port in use before seeding, and an unreachable DATABASE_URL in one line', async () => {
    const dataDir = join(dir, 'b', 'pglite');
    const port = (busy.address() as AddressInfo).port;
    const inUse = await start({ DATA_DIR: dataDir, GATEWAY_PORT: String(port) });
    assert.equal(inUse.code, 1);
    assert.equal(inUse.stderr.trim(), `city-brain: invalid configuration:\n  GATEWAY_PORT: 127.0.0.1:${port} cannot be listened on (already in use)`);
    assert.equal(existsSync(join(dir, 'b')), false);

    // A server that accepts the connection and never answers: reported after the connect timeout.
    const secrets = { JWT_SECRET: 'j'.repeat(40), GATEWAY_ASSERTION_SECRET: 'g'.repeat(40) };
    const unreachable = await start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere`, ...secrets });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr.trim(), new RegExp(`^city-brain: invalid configuration:\\n  DATABASE_URL: cannot connect to 127\\.0\\.0\\.1:${port}/nowhere \\(no answer within 10 s\\)$`));
  });
});
