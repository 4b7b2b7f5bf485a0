/**
 * The gateway's response cache (gateway/responseCache.ts) attacked end to end, on each store: an
 * answer kept for one caller never reaches another caller or grants it was not read under, a
 * revocation or a new event applies to the very next identical query, and every answer served
 * again leaves its own access records. The clock is held still, so identical queries fall in the
 * same second and the second one is served from the cache (each test checks that it was).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { requestRecordsOf, type DataAccessed } from '../subgraphs/kit/dataAccessed.ts';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons, type SeededPerson } from '../test/fixtures/graphModules.ts';
import { BACKEND_NAMES } from '../test/helpers/databases.ts';
import { waitForCommitted } from '../test/helpers/events.ts';
import { openTestRuntime, startTestGraph, type GqlResponse, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';

const ID_QUERY = 'query Ids { people(first: 50) { id name idNumber } }';
type IdData = { people: { id: string; name: string | null; idNumber: string | null }[] | null };
const JOIN_QUERY = 'query Join { people(first: 50) { id name companies { id name } taxTotal } }';

for (const backend of BACKEND_NAMES) {
  describe(`response cache on ${backend}`, () => {
    let base: TestRuntime;
    let graph: TestGraph;
    let seeded: SeededPerson[];
    let consumers = 0;
    const newConsumer = () => `cache-consumer-${++consumers}-${process.pid}`;

    before(async () => {
      base = await openTestRuntime(TEST_GRAPH_MODULES, backend);
      // Held still: identical queries of a test fall in the same second of the cache's key.
      const instant = new Date();
      base.runtime.now = () => instant;
      graph = await startTestGraph({ modules: TEST_GRAPH_MODULES, runtime: base });
      seeded = await seedPersons(graph.runtime, 3, 1);
      await graph.catchUp();
    });

    after(async () => {
      await graph?.close();
      // The graph closes only a runtime it opened itself.
      await base?.close();
    });

    const hits = async () => (await graph.graph.gateway.metrics.responseCacheHits.get()).values[0]?.value ?? 0;
    const idNumbers = (response: GqlResponse<IdData>) => response.body.data?.people?.map((p) => p.idNumber);
    const masked = (idNumber: string) => `${idNumber.slice(0, 4)}${'*'.repeat(idNumber.length - 8)}${idNumber.slice(-4)}`;
    const forbidden = (response: GqlResponse<unknown>) => (response.body.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN').map((e) => e.extensions?.resource);

    async function recordsOf(requestIds: readonly string[]): Promise<DataAccessed['data'][]> {
      await waitForCommitted(graph.db, graph.runtime.store);
      const events = await graph.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 100_000 });
      // Requests served one answer at once are recorded in one event listing them (`requestRecordsOf`).
      return events.flatMap((e) => requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => record)).filter((d) => requestIds.includes(d.requestId));
    }

    test('an identical query is answered from the cache with the same body, and each answer leaves its own access records', async () => {
      const consumer = newConsumer();
      const grantId = await graph.grant(consumer, TEST_GRAPH_RESOURCES, { purpose: 'cache audit' });
      const token = await graph.tokenFor(consumer);
      const first = await graph.gql<IdData>(JOIN_QUERY, undefined, token);
      const hitsBefore = await hits();
      const again = await Promise.all(Array.from({ length: 5 }, () => graph.gql<IdData>(JOIN_QUERY, undefined, token)));
      assert.equal((await hits()) - hitsBefore, 5, 'the five repeats were served from the cache');
      for (const response of again) {
        assert.deepEqual(response.body, first.body);
        assert.equal(response.headers.get('content-type'), first.headers.get('content-type'));
      }

      const requestIds = [first, ...again].map((r) => r.headers.get('x-request-id') ?? '');
      assert.equal(new Set(requestIds).size, 6);
      const records = await recordsOf(requestIds);
      const firstRecords = records.filter((r) => r.requestId === requestIds[0]);
      assert.deepEqual(firstRecords.map((r) => r.subgraph).sort(), ['legal-person', 'population', 'tax']);
      for (const requestId of requestIds.slice(1)) {
        const own = records.filter((r) => r.requestId === requestId);
        assert.deepEqual(own.map((r) => r.subgraph).sort(), ['legal-person', 'population', 'tax'], `records of ${requestId}`);
        for (const record of own) {
          const original = firstRecords.find((r) => r.subgraph === record.subgraph)!;
          assert.deepEqual({ ...record, requestId: original.requestId, at: original.at }, original);
          assert.deepEqual(record.grantIds, [grantId]);
          assert.equal(record.consumerId, consumer);
        }
      }
    });

    test('a masked consumer after a clear one asking the same query gets the ID numbers masked; a consumer without the grant none', async () => {
      const clear = newConsumer();
      await graph.grant(clear, ['population.basic', 'population.identity']);
      const partner = newConsumer();
      await graph.grant(partner, ['population.basic']);
      await graph.grant(partner, ['population.identity'], { masked: true });
      const basicOnly = newConsumer();
      await graph.grant(basicOnly, ['population.basic']);

      const clearToken = await graph.tokenFor(clear);
      const hitsBefore = await hits();
      assert.deepEqual(idNumbers(await graph.gql<IdData>(ID_QUERY, undefined, clearToken)), seeded.map((p) => p.idNumber));
      assert.deepEqual(idNumbers(await graph.gql<IdData>(ID_QUERY, undefined, clearToken)), seeded.map((p) => p.idNumber));
      assert.equal((await hits()) - hitsBefore, 1, "the clear consumer's answer is kept");

      assert.deepEqual(idNumbers(await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(partner))), seeded.map((p) => masked(p.idNumber)));
      const refused = await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(basicOnly));
      assert.deepEqual(new Set(forbidden(refused)), new Set(['population.identity']));
      assert.ok(idNumbers(refused)?.every((n) => n === null));
    });

    test('a clear grant replaced by a masked one between two identical queries: the second is masked', async () => {
      const consumer = newConsumer();
      await graph.grant(consumer, ['population.basic']);
      const clearGrant = await graph.grant(consumer, ['population.identity']);
      const token = await graph.tokenFor(consumer);
      await graph.gql<IdData>(ID_QUERY, undefined, token);
      assert.deepEqual(idNumbers(await graph.gql<IdData>(ID_QUERY, undefined, token)), seeded.map((p) => p.idNumber));
      await graph.grant(consumer, ['population.identity'], { masked: true });
      await graph.revoke(consumer, clearGrant);
      assert.deepEqual(idNumbers(await graph.gql<IdData>(ID_QUERY, undefined, token)), seeded.map((p) => masked(p.idNumber)));
    });

    test('a grant revoked between two identical queries: the second is refused', async () => {
      const consumer = newConsumer();
      const token = await graph.tokenFor(consumer);
      const grantId = await graph.grant(consumer, TEST_GRAPH_RESOURCES);
      const hitsBefore = await hits();
      await graph.gql<IdData>(ID_QUERY, undefined, token);
      assert.equal(idNumbers(await graph.gql<IdData>(ID_QUERY, undefined, token))?.length, seeded.length);
      assert.equal((await hits()) - hitsBefore, 1, 'the answer was kept before the revocation');
      await graph.revoke(consumer, grantId);
      const revoked = await graph.gql<IdData>(ID_QUERY, undefined, token);
      assert.equal(revoked.body.data?.people ?? null, null);
      assert.deepEqual(new Set(forbidden(revoked)), new Set(['population.basic']));
    });

    test('an event projected between two identical queries: the second shows it', async () => {
      const consumer = newConsumer();
      await graph.grant(consumer, TEST_GRAPH_RESOURCES);
      const token = await graph.tokenFor(consumer);
      const hitsBefore = await hits();
      const before = await graph.gql<IdData>(ID_QUERY, undefined, token);
      await graph.gql<IdData>(ID_QUERY, undefined, token);
      assert.equal((await hits()) - hitsBefore, 1, 'the answer was kept before the event');
      const registered = await graph.gql('mutation { registerPerson(input: { name: "Newcomer", idNumber: "370102199001019999" }) { person { id } } }', undefined, token);
      assert.equal(registered.body.errors, undefined);
      await graph.catchUp();
      const after = await graph.gql<IdData>(ID_QUERY, undefined, token);
      assert.equal(after.body.data?.people?.length, (before.body.data?.people?.length ?? 0) + 1);
      assert.ok(after.body.data?.people?.some((p) => p.name === 'Newcomer'));
    });
  });

  describe(`response cache on ${backend}: the caller's me`, () => {
    const ME = 'query Me { me { consumerId grants { id status } } }';
    type MeData = { me: { consumerId: string; grants: { id: string; status: string }[] } | null };
    let base: TestRuntime;
    let graph: TestGraph;

    before(async () => {
      base = await openTestRuntime([governanceModule], backend);
      const instant = new Date();
      base.runtime.now = () => instant;
      graph = await startTestGraph({ modules: [governanceModule], runtime: base });
    });

    after(async () => {
      await graph?.close();
      await base?.close();
    });

    test('is kept while the consumer stream stays at the revision it folded; a grant given meanwhile, not valid yet, shows in the next', async () => {
      const consumer = `cache-me-${process.pid}`;
      const first = await graph.grant(consumer, ['population.basic']);
      const token = await graph.tokenFor(consumer);
      const hits = async () => (await graph.graph.gateway.metrics.responseCacheHits.get()).values[0]?.value ?? 0;
      const ids = (response: GqlResponse<MeData>) => response.body.data?.me?.grants.map((g) => g.id).sort();
      const before = await graph.gql<MeData>(ME, undefined, token);
      assert.deepEqual(ids(before), [first]);
      const hitsBefore = await hits();
      assert.deepEqual((await graph.gql<MeData>(ME, undefined, token)).body, before.body);
      assert.equal((await hits()) - hitsBefore, 1, 'served from the cache');
      // Valid only tomorrow: the grants valid now (the principal) are unchanged, the consumer stream is not.
      const tomorrow = await graph.grant(consumer, ['population.identity'], { validFrom: new Date(Date.now() + 86_400_000) });
      const after = await graph.gql<MeData>(ME, undefined, token);
      assert.deepEqual(ids(after), [first, tomorrow].sort());
      assert.equal((await hits()) - hitsBefore, 1, 'executed, not served');
    });
  });
}
