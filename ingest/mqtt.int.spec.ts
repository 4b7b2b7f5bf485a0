/**
 * The MQTT bridge against the real Mosquitto (127.0.0.1:1883) on PGlite and PostgreSQL, with the
 * `test-notes` kind on a topic prefix and client id of its own per test: refused at start without a
 * WRITE grant; bad payloads (not JSON, oversized, breaking a rule) rejected in the batch while later
 * messages are still taken; a redelivered message appends nothing; messages published while the
 * bridge is down are taken when it is back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { BACKENDS, freshStorePerTest, type TestBackend } from '../test/helpers/databases.ts';
import { testGrants } from '../test/helpers/grants.ts';
import { ingestTestRegistry, testNotesKind } from '../test/helpers/ingestKinds.ts';
import { dropSession, TEST_BROKER } from '../test/helpers/mqtt.ts';
import { startMqttBridge, type MqttBridge, type MqttBridgeConfig } from './mqtt.ts';
import type { IngestDeps } from './types.ts';

const BROKER = TEST_BROKER;
const FEEDS = 'eco-feeds';
const note = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ sourceRecordId: `r${i}`, noteId: `n${i}`, text: `note ${i}`, ...extra });

function suite(openBackend: () => Promise<TestBackend>): void {
  let db: SqlDatabase;
  let store: SqlEventStore;
  let config: MqttBridgeConfig;
  let publisher: MqttClient;
  const bridges: MqttBridge[] = [];
  freshStorePerTest(openBackend, ingestTestRegistry, (fresh) => ({ db, store } = fresh));

  beforeEach(async () => {
    const id = randomBytes(4).toString('hex');
    config = { MQTT_URL: BROKER, MQTT_CONSUMER_ID: FEEDS, MQTT_CLIENT_ID: `cb-test-${id}`, MQTT_TOPIC_PREFIX: `cb-test/${id}`, MQTT_CHUNK_SIZE: 50, MQTT_FLUSH_MS: 20 };
    const grants = testGrants(store);
    await grants.register(FEEDS, 'DEPARTMENT', 'ecology-environment');
    await grants.grant(FEEDS, ['environment.write'], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
    await grants.register('eco-reader', 'DEPARTMENT', 'ecology-environment');
    await grants.grant('eco-reader', ['environment.write'], { actions: ['READ'], validUntil: new Date(Date.now() + 86_400_000) });
    publisher = await mqtt.connectAsync(BROKER, { clientId: `cb-test-pub-${id}` });
  });
  afterEach(async () => {
    for (const b of bridges.splice(0)) await b.close();
    await publisher.endAsync();
    await dropSession(config.MQTT_CLIENT_ID);
  });

  const deps = (): IngestDeps => ({ store, kinds: [testNotesKind], now: () => new Date(), limits: { maxRecordBytes: 300 } });
  const start = async () => {
    const bridge = await startMqttBridge(deps(), config, { kinds: ['test-notes'] });
    bridges.push(bridge);
    return bridge;
  };
  const topic = () => `${config.MQTT_TOPIC_PREFIX}/ecology-environment/test-notes`;
  const publish = (payloads: readonly string[]) => Promise.all(payloads.map((p) => publisher.publishAsync(topic(), p, { qos: 1 })));
  const received = (bridge: MqttBridge) => bridge.reports.reduce((n, r) => n + r.received, 0);
  async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const notes = async () => (await db.query<{ n: string; s: string }>(`SELECT count(*)::text AS n, count(DISTINCT stream_id)::text AS s FROM es_events WHERE type = 'NoteWritten'`)).rows[0]!;

  it('refuses to start without a grant valid now with WRITE, saying why', async () => {
    await assert.rejects(startMqttBridge(deps(), { ...config, MQTT_CONSUMER_ID: 'eco-reader' }, { kinds: ['test-notes'] }), /the MQTT bridge cannot start: consumer eco-reader may deliver none of test-notes:\n.*no grant valid now with WRITE on environment\.write/);
    await assert.rejects(startMqttBridge(deps(), { ...config, MQTT_CONSUMER_ID: 'nobody' }, { kinds: ['test-notes'] }), /MQTT_CONSUMER_ID nobody is not a registered consumer/);
  });

  it('rejects bad payloads in the batch (not JSON, oversized, breaking a rule) and still takes the messages after them', async () => {
    const bridge = await start();
    await publish(['{not json', note(1, { text: 'x'.repeat(400) }), note(2, { text: 'forbidden words' }), '[1]', note(3)]);
    await publish([note(4), JSON.stringify([JSON.parse(note(5)), JSON.parse(note(6))])]);
    await until(() => received(bridge) === 8, 'eight records counted');
    const rejects = bridge.reports.flatMap((r) => r.rejects.map((x) => x.code));
    assert.deepEqual(rejects.sort(), ['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'RECORD_TOO_LARGE']);
    assert.deepEqual(await notes(), { n: '4', s: '4' });
    assert.ok(bridge.reports.every((r) => r.batchId.startsWith('ecology-environment-')));
    const [first] = await store.readStream('test.note-n3');
    assert.deepEqual([first!.metadata.provenance.channel, first!.metadata.actor.consumerId], ['mqtt', FEEDS]);
  });

  it('a message delivered again appends nothing; messages published while the bridge is down are taken when it is back', async () => {
    let bridge = await start();
    await publish([note(1), note(2)]);
    await until(() => received(bridge) === 2, 'two records');
    await publish([note(1)]);
    await until(() => received(bridge) === 3, 'the redelivery counted');
    assert.equal(bridge.reports.at(-1)!.alreadyPresent, 1);
    await bridge.close();
    await publish(Array.from({ length: 120 }, (_, i) => note(10 + i)));
    bridge = await start();
    await until(() => received(bridge) === 120, 'the 120 published while down');
    assert.deepEqual(await notes(), { n: '122', s: '122' });
  });
}

for (const openBackend of BACKENDS) describe(`MQTT bridge (${openBackend.name})`, () => suite(openBackend));
