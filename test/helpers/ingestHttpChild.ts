/**
 * `POST /ingest/<kind>` in a child process for crash tests: the route as `npm start` mounts it, on the
 * platform the environment names (DATA_DIR or DATABASE_URL), with the `test-notes` kind and small
 * chunks. Prints `port <n>` once listening; on SIGTERM lets the running batches finish, then exits.
 * Usage: node --import tsx test/helpers/ingestHttpChild.ts <secret> <chunkSize>
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODULES } from '../../bin/modules.ts';
import { openPlatform } from '../../bin/platform.ts';
import { createIngestRoute } from '../../ingest/http.ts';
import { consumerStreamId } from '../../subgraphs/governance/consumer/events.ts';
import { TEST_EVENT_TYPES } from './events.ts';
import { testGrants } from './grants.ts';
import { testNotesKind } from './ingestKinds.ts';

export const HTTP_CHILD_CONSUMER = 'eco-feeds';

const [secret, chunkSize] = process.argv.slice(2);
const platform = await openPlatform({ modules: MODULES });
platform.registry.registerAll(TEST_EVENT_TYPES);
if ((await platform.store.streamRevision(consumerStreamId(HTTP_CHILD_CONSUMER))) === undefined) {
  const grants = testGrants(platform.store);
  await grants.register(HTTP_CHILD_CONSUMER, 'DEPARTMENT', 'ecology-environment');
  await grants.grant(HTTP_CHILD_CONSUMER, ['environment.write'], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
}
const route = createIngestRoute({ ingest: { store: platform.store, kinds: [testNotesKind], now: () => new Date(), limits: { chunkSize: Number(chunkSize) } }, client: { secret: secret! } });
const server = createServer((req, res) => void route(req, res));
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => {
  void route
    .running()
    .then(() => new Promise((resolve) => server.close(resolve)))
    .then(() => platform.close());
});
