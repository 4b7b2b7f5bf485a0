/**
 * The importer as a child process for crash tests: `importFile` exactly as `city-brain import` runs
 * it, on the platform the environment names (DATA_DIR or DATABASE_URL), with the `test-notes` kind
 * and small chunks. Prints `chunk <n>` as each chunk is committed and the report as JSON at the end.
 * Usage: node --import tsx test/helpers/importChild.ts <file> <batchId> <chunkSize>
 */
import { MODULES } from '../../bin/modules.ts';
import { openPlatform } from '../../bin/platform.ts';
import { importFile } from '../../cli/import.ts';
import { TEST_EVENT_TYPES } from './events.ts';
import { testGrants } from './grants.ts';
import { testNotesKind } from './ingestKinds.ts';
import { consumerStreamId } from '../../subgraphs/governance/consumer/events.ts';

export const CHILD_CONSUMER = 'eco-feeds';

const [file, batchId, chunkSize] = process.argv.slice(2);
const platform = await openPlatform({ modules: MODULES });
try {
  platform.registry.registerAll(TEST_EVENT_TYPES);
  const grants = testGrants(platform.store);
  if ((await platform.store.streamRevision(consumerStreamId(CHILD_CONSUMER))) === undefined) {
    await grants.register(CHILD_CONSUMER, 'DEPARTMENT', 'ecology-environment');
    await grants.grant(CHILD_CONSUMER, ['environment.write'], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
  }
  const { report } = await importFile(
    { store: platform.store, kinds: [testNotesKind], now: () => new Date(), limits: { chunkSize: Number(chunkSize) } },
    {
      file: file!,
      kind: testNotesKind.name,
      department: 'ecology-environment',
      batchId: batchId!,
      actor: { consumerId: CHILD_CONSUMER, role: 'department' },
      onChunk: (chunk) => process.stdout.write(`chunk ${chunk.chunk}\n`),
    },
  );
  process.stdout.write(`${JSON.stringify({ ...report, rejects: report.rejects.length })}\n`);
} finally {
  await platform.close();
}
