/**
 * The MQTT bridge survives SIGKILL on both stores: killed while messages are in flight (received,
 * maybe committed, not acknowledged), more published while it is down, then started again on the
 * same persistent session: every record is written exactly once, none lost.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import type { SqlDatabase } from '../events/sql/database.ts';
import { onEachStore } from '../test/helpers/databases.ts';
import { killAll, spawnOwned } from '../test/helpers/processes.ts';
import { dropSession, TEST_BROKER as BROKER } from '../test/helpers/mqtt.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const BEFORE = 600;
const WHILE_DOWN = 200;

after(killAll);

function startBridge(env: Record<string, string>, onLine: (line: string, kill: () => void) => void) {
  const child = spawnOwned(process.execPath, ['--import', 'tsx', 'test/helpers/mqttBridgeChild.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) onLine(line, () => child.kill('SIGKILL'));
  });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { exited };
}

async function crashAndRestart(storeEnv: Record<string, string>): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const env = { ...storeEnv, MQTT_URL: BROKER, MQTT_CONSUMER_ID: 'eco-feeds', MQTT_CLIENT_ID: `cb-crash-${id}`, MQTT_TOPIC_PREFIX: `cb-crash/${id}`, MQTT_CHUNK_SIZE: '50', MQTT_FLUSH_MS: '20' };
  const topic = `cb-crash/${id}/ecology-environment/test-notes`;
  const note = (i: number) => JSON.stringify({ sourceRecordId: `r${i}`, noteId: `n${i}`, text: `note ${i}` });
  const publisher = await mqtt.connectAsync(BROKER, { clientId: `cb-crash-pub-${id}` });
  try {
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    let killedAt = 0;
    const first = startBridge(env, (line, kill) => {
      if (line === 'ready') ready();
      const n = /^received (\d+)$/.exec(line);
      if (n && Number(n[1]) >= 100 && killedAt === 0) {
        killedAt = Number(n[1]);
        kill();
      }
    });
    await isReady;
    const publish = (from: number, count: number) => Promise.all(Array.from({ length: count }, (_, i) => publisher.publishAsync(topic, note(from + i), { qos: 1 })));
    // Half at once, so that some are in flight when it is killed; the other half only once it is down,
    // so that the kill lands mid-run however slowly this loaded machine reports what it committed.
    await publish(0, BEFORE / 2);
    const killed = await first.exited;
    await publish(BEFORE / 2, BEFORE / 2);
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.ok(killedAt < BEFORE, `killed mid-run (${killedAt} of ${BEFORE} committed)`);
    await Promise.all(Array.from({ length: WHILE_DOWN }, (_, i) => publisher.publishAsync(topic, note(BEFORE + i), { qos: 1 })));
    const second = startBridge({ ...env, EXIT_WHEN_IDLE_MS: '1500' }, () => undefined);
    const done = await second.exited;
    assert.equal(done.code, 0, done.stderr);
  } finally {
    await publisher.endAsync();
    await dropSession(env.MQTT_CLIENT_ID);
  }
}

async function assertEachOnce(db: SqlDatabase): Promise<void> {
  const { rows } = await db.query<{ n: string; s: string }>(`SELECT count(*)::text AS n, count(DISTINCT stream_id)::text AS s FROM es_events WHERE type = 'NoteWritten'`);
  assert.deepEqual(rows[0], { n: String(BEFORE + WHILE_DOWN), s: String(BEFORE + WHILE_DOWN) }, 'zero lost, zero duplicated');
}

describe('the MQTT bridge survives SIGKILL mid-run', () => {
  onEachStore(it, 'cb-mqtt-crash-', (env) => crashAndRestart(env), assertEachOnce);
});
