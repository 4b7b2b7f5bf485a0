/**
 * Shared subgraph calls (gateway/sharedCalls.ts) attacked end to end, on each store, with the
 * response cache off so every request reaches the subgraph calls: identical requests of one caller
 * at once share calls and each still leaves its own access records, while identical requests of
 * consumers under other grants (masked and clear ID numbers) never get each other's answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requestRecordsOf, type DataAccessed, type RequestRecord } from '../subgraphs/kit/dataAccessed.ts';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons, type SeededPerson } from '../test/fixtures/graphModules.ts';
import { BACKEND_NAMES } from '../test/helpers/databases.ts';
import { waitForCommitted } from '../test/helpers/events.ts';
import { startTestGraph, type GqlResponse, type TestGraph } from '../test/helpers/graph.ts';

const JOIN_QUERY = 'query Join { people(first: 50) { id name companies { id name } taxTotal } }';
const ID_QUERY = 'query Ids { people(first: 50) { id idNumber } }';
type IdData = { people: { id: string; idNumber: string | null }[] | null };
const AT_ONCE = 24;

for (const backend of BACKEND_NAMES) {
  describe(`shared subgraph calls on ${backend}`, () => {
    let graph: TestGraph;
    let seeded: SeededPerson[];
    let consumers = 0;
    const newConsumer = () => `shared-consumer-${++consumers}-${process.pid}`;

    before(async () => {
      graph = await startTestGraph({ modules: TEST_GRAPH_MODULES, backend, responseCache: false });
      seeded = await seedPersons(graph.runtime, 4);
      await graph.catchUp();
    });

    after(async () => {
      await graph?.close();
    });

    const sharedCalls = async () => (await graph.graph.gateway.metrics.sharedSubgraphCalls.get()).values[0]?.value ?? 0;

    async function recordsBy(): Promise<Map<string, RequestRecord[]>> {
      await waitForCommitted(graph.db, graph.runtime.store);
      const events = await graph.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 100_000 });
      const byRequest = new Map<string, RequestRecord[]>();
      for (const event of events) {
        // Requests served one answer at once are recorded in one event listing them.
        for (const { record } of requestRecordsOf(event.eventId, event.data as DataAccessed['data'])) byRequest.set(record.requestId, [...(byRequest.get(record.requestId) ?? []), record]);
      }
      return byRequest;
    }

    test('identical requests of one caller at once share subgraph calls, and each leaves its own access record per subgraph', async () => {
      const consumer = newConsumer();
      await graph.grant(consumer, TEST_GRAPH_RESOURCES);
      const token = await graph.tokenFor(consumer);
      const before = await sharedCalls();
      const responses = await Promise.all(Array.from({ length: AT_ONCE }, () => graph.gql(JOIN_QUERY, undefined, token)));
      assert.ok((await sharedCalls()) > before, 'some calls were shared');

      const bodies = new Set(responses.map((r) => JSON.stringify(r.body)));
      assert.equal(bodies.size, 1, 'every request got the same answer');
      assert.equal(responses[0]!.body.errors, undefined);
      const records = await recordsBy();
      const subjects = seeded.map((p) => p.id).sort();
      for (const [i, response] of responses.entries()) {
        const own = records.get(response.headers.get('x-request-id')!) ?? [];
        assert.deepEqual(own.map((r) => r.subgraph).sort(), ['legal-person', 'population', 'tax'], `records of response ${i}`);
        const population = own.find((r) => r.subgraph === 'population')!;
        assert.equal(population.consumerId, consumer);
        assert.equal(population.operationName, 'Join');
        assert.deepEqual([...population.subjectIds].sort(), subjects);
      }
    });

    test('a masked and a clear consumer asking at once each get their own grants’ answer and their own records', async () => {
      const masked = newConsumer();
      await graph.grant(masked, ['population.basic']);
      await graph.grant(masked, ['population.identity'], { masked: true });
      const clear = newConsumer();
      await graph.grant(clear, ['population.basic', 'population.identity']);
      const tokens = { masked: await graph.tokenFor(masked), clear: await graph.tokenFor(clear) };
      const callers = Array.from({ length: AT_ONCE }, (_, i): 'masked' | 'clear' => (i % 2 === 0 ? 'masked' : 'clear'));
      const before = await sharedCalls();
      const responses: GqlResponse<IdData>[] = await Promise.all(callers.map((who) => graph.gql<IdData>(ID_QUERY, undefined, tokens[who])));
      // Calls were shared, but only within each consumer's half.
      assert.ok((await sharedCalls()) > before, 'some calls were shared');

      const clearIds = seeded.map((p) => p.idNumber);
      const maskedIds = clearIds.map((id) => `${id.slice(0, 4)}${'*'.repeat(id.length - 8)}${id.slice(-4)}`);
      const records = await recordsBy();
      for (const [i, response] of responses.entries()) {
        assert.deepEqual(response.body.data?.people?.map((p) => p.idNumber), callers[i] === 'masked' ? maskedIds : clearIds, `response ${i} (${callers[i]})`);
        const own = records.get(response.headers.get('x-request-id')!) ?? [];
        assert.deepEqual(own.map((r) => [r.subgraph, r.consumerId]), [['population', callers[i] === 'masked' ? masked : clear]], `records of response ${i}`);
      }
    });

    // Last: it closes the graph's access recorder.
    test('when the access records cannot be written, no data leaves the gateway, though the subgraphs answered before they were durable', async () => {
      const consumer = newConsumer();
      await graph.grant(consumer, TEST_GRAPH_RESOURCES);
      const token = await graph.tokenFor(consumer);
      assert.equal((await graph.gql<IdData>(ID_QUERY, undefined, token)).body.data?.people?.length, seeded.length);
      await graph.access.recorder!.close();
      const responses = await Promise.all(Array.from({ length: 4 }, () => graph.gql<IdData>(ID_QUERY, undefined, token)));
      for (const response of responses) {
        assert.equal(response.body.data?.people ?? null, null, JSON.stringify(response.body));
        assert.ok(response.body.errors?.some((e) => /access record/.test(e.message)), JSON.stringify(response.body.errors));
      }
    });
  });
}
