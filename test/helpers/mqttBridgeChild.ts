/**
 * The MQTT bridge as a child process for crash tests: `startMqttBridge` on the platform the
 * environment names (DATA_DIR or DATABASE_URL) with the `test-notes` kind, configured from the
 * environment like `npm start`. Prints `ready` once subscribed and `received <n>` as batches commit;
 * with EXIT_WHEN_IDLE_MS, closes and exits once that long passes without a new batch.
 */
import { MODULES } from '../../bin/modules.ts';
import { openPlatform } from '../../bin/platform.ts';
import { parseConfig } from '../../events/config.ts';
import { ingestConfigSchema, startMqttBridge } from '../../ingest/mqtt.ts';
import { consumerStreamId } from '../../subgraphs/governance/consumer/events.ts';
import { TEST_EVENT_TYPES } from './events.ts';
import { testGrants } from './grants.ts';
import { testNotesKind } from './ingestKinds.ts';

const platform = await openPlatform({ modules: MODULES });
platform.registry.registerAll(TEST_EVENT_TYPES);
const config = parseConfig(ingestConfigSchema, process.env);
const grants = testGrants(platform.store);
if ((await platform.store.streamRevision(consumerStreamId(config.MQTT_CONSUMER_ID!))) === undefined) {
  await grants.register(config.MQTT_CONSUMER_ID!, 'DEPARTMENT', 'ecology-environment');
  await grants.grant(config.MQTT_CONSUMER_ID!, ['environment.write'], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
}
const bridge = await startMqttBridge({ store: platform.store, kinds: [testNotesKind], now: () => new Date() }, config, { kinds: [testNotesKind.name] });
process.stdout.write('ready\n');
const idleMs = Number(process.env.EXIT_WHEN_IDLE_MS ?? 0);
let seen = 0;
let lastChange = Date.now();
const timer = setInterval(() => {
  if (bridge.reports.length !== seen) {
    seen = bridge.reports.length;
    lastChange = Date.now();
    process.stdout.write(`received ${bridge.reports.reduce((n, r) => n + r.received, 0)}\n`);
  } else if (idleMs > 0 && seen > 0 && Date.now() - lastChange > idleMs) {
    clearInterval(timer);
    void bridge.close().then(() => platform.close());
  }
}, 20);
