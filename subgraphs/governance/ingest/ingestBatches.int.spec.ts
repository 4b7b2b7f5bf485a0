/**
 * The aggregation channel's batches in the governance subgraph, on both backends: a department sees
 * its own batches with counts, status and rejects page by page; another department sees none of
 * them (by id, by list, by quality figures); the big-data bureau and auditors see every one; the
 * delivery totals sit beside the data-issue statistics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { SqlDatabase } from '../../../events/sql/database.ts';
import { SqlEventStore } from '../../../events/sql/sqlEventStore.ts';
import { SqlReadModels } from '../../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../../projections/runner.ts';
import { runIngestBatch } from '../../../ingest/runner.ts';
import type { RawRecord } from '../../../ingest/types.ts';
import { BACKENDS, type TestBackend } from '../../../test/helpers/databases.ts';
import { waitForCommitted } from '../../../test/helpers/events.ts';
import { testGrants } from '../../../test/helpers/grants.ts';
import { ingestTestRegistry, testNotesKind } from '../../../test/helpers/ingestKinds.ts';
import { postGraphQL, relayedHeaders, SUBGRAPH_TEST_AUTH } from '../../../test/helpers/subgraphAuth.ts';
import { closeServedSubgraph } from '../../../test/helpers/subgraphHarness.ts';
import type { AccessControl } from '../../kit/access.ts';
import type { SubgraphRuntime } from '../../kit/module.ts';
import { createSubgraphServer, type ListeningSubgraph } from '../../kit/server.ts';
import { AUDITOR, createGovernanceAccess, DEMO_DASHBOARD, governanceModule, PARTNER_APP } from '../index.ts';

const logger = pino({ level: 'silent' });

async function* records(count: number): AsyncIterable<RawRecord> {
  for (let i = 1; i <= count; i++) yield { line: i, fields: { sourceRecordId: `r${i}`, noteId: `n${i}`, text: i % 2 === 0 ? `forbidden ${i}` : `note ${i}` } };
}

const BATCH = /* GraphQL */ `
  query Batch($id: ID!, $after: String) {
    ingestBatch(id: $id) {
      id kind department channel status received created rejected chunks
      rejects(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { line sourceRecordId code field message } } }
    }
  }
`;
const BATCHES = 'query Batches($department: String) { ingestBatches(department: $department) { totalCount edges { node { id department status } } } }';
const QUALITY = 'query Quality($department: String) { ingestQuality(department: $department) { department resource received accepted rejected rejectedByRule { code count } } }';

function suite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let db: SqlDatabase;
  let store: SqlEventStore;
  let runner: ProjectionRunner;
  let access: AccessControl;
  let subgraph: ListeningSubgraph;

  const ask = async <Data = Record<string, unknown>>(consumerId: string, query: string, variables?: Record<string, unknown>) =>
    postGraphQL<Data>(subgraph.url, await relayedHeaders(consumerId, consumerId === AUDITOR ? 'auditor' : consumerId === PARTNER_APP ? 'partner' : 'department', { requestId: crypto.randomUUID() }), query, variables);

  before(async () => {
    backend = await makeBackend();
    db = await backend.fresh();
    store = await SqlEventStore.open(db, ingestTestRegistry());
    const runtime: SubgraphRuntime = { store, readModels: new SqlReadModels(db, 0), now: () => new Date(), logger };
    await governanceModule.seed?.(runtime);
    const grants = testGrants(store);
    await grants.register('eco-feeds', 'DEPARTMENT', '市生态环境局');
    await grants.grant('eco-feeds', ['environment.write'], { actions: ['WRITE'] });
    await grants.register('tax-feeds', 'DEPARTMENT', 'taxation');
    await grants.grant('tax-feeds', ['environment.write'], { actions: ['WRITE'] });
    const deps = { store, kinds: [testNotesKind], now: () => new Date(), limits: { chunkSize: 2 } };
    await runIngestBatch(deps, { kind: 'test-notes', department: 'ecology-environment', channel: 'import', batchId: 'eco-1', actor: { consumerId: 'eco-feeds', role: 'department' }, sourceFingerprint: 'a'.repeat(64) }, records(5));
    await runIngestBatch(deps, { kind: 'test-notes', department: 'ecology-environment', channel: 'http', batchId: 'eco-2', actor: { consumerId: 'eco-feeds', role: 'department' } }, records(1));
    await waitForCommitted(db, store);
    runner = new ProjectionRunner(db, store, governanceModule.projections);
    await runner.catchUp();
    access = createGovernanceAccess(runtime, { recorder: { maxDelayMs: 5 } });
    subgraph = await createSubgraphServer({ name: 'governance', typeDefs: governanceModule.typeDefs, resolvers: governanceModule.resolvers(runtime), auth: SUBGRAPH_TEST_AUTH, access, logger }).listen(0);
  });

  after(async () => {
    await closeServedSubgraph({ server: subgraph, access, runner, store });
    await backend?.dispose();
  });

  it('shows the delivering department its batch: counts, status, and the rejects page by page', async () => {
    type Batch = { ingestBatch: { rejects: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: Record<string, unknown> }[] } } & Record<string, unknown> };
    const first = await ask<Batch>('eco-feeds', BATCH, { id: 'eco-1' });
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    const { rejects, ...batch } = first.body.data!.ingestBatch;
    assert.deepEqual(batch, { id: 'eco-1', kind: 'test-notes', department: 'ecology-environment', channel: 'import', status: 'COMPLETED', received: 5, created: 3, rejected: 2, chunks: 3 });
    assert.equal(rejects.totalCount, 2);
    assert.deepEqual(rejects.edges[0]!.node, { line: 2, sourceRecordId: 'r2', code: 'BAD_USER_INPUT', field: 'text', message: 'text must not start with "forbidden"' });
    assert.equal(rejects.pageInfo.hasNextPage, false);
    const paged = await ask<Batch>('eco-feeds', BATCH.replace('first: 2', 'first: 1'), { id: 'eco-1' });
    const next = await ask<Batch>('eco-feeds', BATCH.replace('first: 2', 'first: 1'), { id: 'eco-1', after: paged.body.data!.ingestBatch.rejects.pageInfo.endCursor });
    assert.deepEqual(next.body.data!.ingestBatch.rejects.edges.map((e) => e.node.line), [4]);

    const list = await ask<{ ingestBatches: { totalCount: number; edges: { node: { id: string } }[] } }>('eco-feeds', BATCHES);
    assert.deepEqual(list.body.data!.ingestBatches.edges.map((e) => e.node.id).sort(), ['eco-1', 'eco-2']);
    const quality = await ask<{ ingestQuality: unknown[] }>('eco-feeds', QUALITY);
    assert.deepEqual(quality.body.data!.ingestQuality, [
      { department: 'ecology-environment', resource: 'environment.write', received: 6, accepted: 4, rejected: 2, rejectedByRule: [{ code: 'BAD_USER_INPUT', count: 2 }] },
    ]);
  });

  it('hides them from another department by every route, and from a consumer registered for none', async () => {
    assert.equal((await ask<{ ingestBatch: unknown }>('tax-feeds', BATCH, { id: 'eco-1' })).body.data!.ingestBatch, null);
    const own = await ask<{ ingestBatches: { totalCount: number } }>('tax-feeds', BATCHES);
    assert.equal(own.body.data!.ingestBatches.totalCount, 0);
    const other = await ask('tax-feeds', BATCHES, { department: 'ecology-environment' });
    assert.equal(other.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.match(other.body.errors?.[0]?.message ?? '', /delivers for taxation: it sees that department's batches, not ecology-environment's/);
    const quality = await ask('tax-feeds', QUALITY, { department: 'ecology-environment' });
    assert.equal(quality.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const partner = await ask<{ ingestBatches: { totalCount: number }; }>(PARTNER_APP, BATCHES);
    assert.equal(partner.body.data!.ingestBatches.totalCount, 0);
    assert.equal((await ask<{ ingestBatch: unknown }>(PARTNER_APP, BATCH, { id: 'eco-1' })).body.data!.ingestBatch, null);
  });

  it('shows every batch to the big-data bureau and to auditors, and the delivery totals beside the data-issue statistics', async () => {
    for (const consumer of [DEMO_DASHBOARD, AUDITOR]) {
      const list = await ask<{ ingestBatches: { totalCount: number } }>(consumer, BATCHES);
      assert.equal(list.body.data?.ingestBatches.totalCount, 2, `${consumer}: ${JSON.stringify(list.body.errors)}`);
    }
    const stats = await ask<{ dataIssueStatistics: unknown[] }>(AUDITOR, '{ dataIssueStatistics { department open deliveries { received accepted rejected rejectedByRule { code count } } } }');
    assert.equal(stats.body.errors, undefined, JSON.stringify(stats.body.errors));
    assert.deepEqual(stats.body.data!.dataIssueStatistics, [
      { department: 'ecology-environment', open: 0, deliveries: { received: 6, accepted: 4, rejected: 2, rejectedByRule: [{ code: 'BAD_USER_INPUT', count: 2 }] } },
    ]);
    const unknown = await ask(AUDITOR, BATCHES, { department: 'moon-base' });
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
}

for (const makeBackend of BACKENDS) describe(`ingest batches in the graph on ${makeBackend.name.replace('Backend', '')}`, () => suite(makeBackend));
