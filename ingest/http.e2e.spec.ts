/**
 * `POST /ingest/<kind>` mounted at the gateway as `npm start` mounts it, with the real `incidents`
 * kind: delivered with a department's token, answered 202, followed through `ingestBatch` at
 * `/graphql` with the same token; a path below `/ingest/` naming no kind is 404 with the kinds,
 * and a path beside it (`/ingestx`) is not the route at all. The route's deliveries and records show
 * at the gateway's `/metrics`, registered as `npm start` registers them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { startTestGraph, TEST_JWT_SECRET, type TestGraph } from '../test/helpers/graph.ts';
import { testGrants } from '../test/helpers/grants.ts';
import { createIngestRoute, INGEST_PATH, type IngestRoute } from './http.ts';
import { ingestKindsOf } from './runner.ts';

const MODULES = [governanceModule, urbanOpsModule];
const report = (i: number) =>
  JSON.stringify({
    sourceRecordId: `iot-${i}`,
    channel: 'GRID_WORKER',
    category: 'MUNICIPAL_FACILITY',
    subcategory: 'MISSING_MANHOLE_COVER',
    description: `井盖缺失 ${i}`,
    location: { longitude: 117.0211, latitude: 36.6651, address: '济南市历下区泉城路 100 号' },
    divisionCode: '370102003001',
    reporter: { kind: 'GRID_WORKER', id: 'gw-17', name: '王强' },
  });

describe('POST /ingest/<kind> at the gateway', () => {
  let graph: TestGraph;
  let route: IngestRoute;
  before(async () => {
    graph = await startTestGraph({
      modules: MODULES,
      routes: (runtime) => {
        route = createIngestRoute({ ingest: { store: runtime.store, kinds: ingestKindsOf(MODULES), now: runtime.now }, client: { secret: TEST_JWT_SECRET } });
        return { [INGEST_PATH]: route };
      },
    });
    route.metrics.registerIn(graph.graph.gateway.metrics.registry);
    await testGrants(graph.runtime.store).register('urban-feeds', 'DEPARTMENT', 'urban-management');
    await graph.grant('urban-feeds', ['urban.write'], { actions: ['WRITE'] });
  });
  after(() => graph.close());

  it('takes a delivery with the department token and shows it through ingestBatch', async () => {
    const token = await graph.tokenFor('urban-feeds');
    const base = new URL(graph.url).origin;
    const response = await fetch(`${base}/ingest/incidents?department=urban-management&batch=um-1`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: `${report(1)}\n${report(2)}\n{"sourceRecordId":"iot-3","channel":"NOPE"}\n` });
    assert.equal(response.status, 202);
    const answer = (await response.json()) as { batchId: string; links: { query: string } };
    assert.equal(answer.batchId, 'um-1');
    await route.running();
    await graph.catchUp();
    // The query the answer links to, as given.
    const { body } = await graph.gql<{ ingestBatch: Record<string, unknown> }>(answer.links.query, undefined, token);
    assert.deepEqual(body.errors, undefined);
    assert.deepEqual(body.data?.ingestBatch, { id: 'um-1', status: 'COMPLETED', received: 3, created: 2, changed: 0, unchanged: 0, alreadyPresent: 0, rejected: 1 });

    const unknown = await fetch(`${base}/ingest/nothing?department=urban-management`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: report(4) });
    assert.equal(unknown.status, 404);
    assert.ok(((await unknown.json()) as { known: string[] }).known.includes('incidents'));
    const beside = await fetch(`${base}/ingestx`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: report(5) });
    assert.equal(beside.status, 404);
    assert.match(((await beside.json()) as { error: string }).error, /not found/);

    // A delivery without a token (refused) and a completed batch sent again (answered from the batch, nothing counted twice).
    assert.equal((await fetch(`${base}/ingest/incidents?department=urban-management`, { method: 'POST', body: report(6) })).status, 401);
    const again = await fetch(`${base}/ingest/incidents?department=urban-management&batch=um-1`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: `${report(1)}\n` });
    assert.equal(again.status, 409, 'a batch id given again without a fingerprint is refused as reused');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.equal(value('city_brain_ingest_requests_total{kind="incidents",status="202"}'), 1);
    assert.equal(value('city_brain_ingest_requests_total{kind="unknown",status="404"}'), 1);
    assert.equal(value('city_brain_ingest_requests_total{kind="incidents",status="401"}'), 1);
    assert.equal(value('city_brain_ingest_requests_total{kind="incidents",status="409"}'), 1);
    assert.equal(value('city_brain_ingest_records_total{kind="incidents",outcome="created"}'), 2);
    assert.equal(value('city_brain_ingest_records_total{kind="incidents",outcome="rejected"}'), 1);
    assert.match(metrics, /^city_brain_gateway_requests_total/m, 'beside the gateway metrics, in its registry');
  });
});
