/**
 * Grants and the access audit end to end, through the gateway, on PostgreSQL: what a consumer may
 * see is decided by the grants valid at the moment of each request, and every served request leaves
 * exactly one access record per subgraph it touched, naming the subjects it returned.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { requestRecordsOf, type DataAccessed } from '../subgraphs/kit/dataAccessed.ts';
import { TEST_GRAPH_MODULES, TEST_GRAPH_RESOURCES, seedPersons, type SeededPerson } from '../test/fixtures/graphModules.ts';
import { waitForCommitted } from '../test/helpers/events.ts';
import { startTestGraph, type GqlResponse, type TestGraph } from '../test/helpers/graph.ts';
import { createGovernanceAccess } from '../subgraphs/governance/access.ts';
import type { FormattedExecutionResult } from 'graphql-ws';

const JOIN_QUERY = 'query Join { people(first: 50) { id name companies { id name } taxTotal } }';

interface JoinData {
  people: { id: string; name: string | null; companies: { id: string; name: string }[] | null; taxTotal: number | null }[] | null;
}

let graph: TestGraph;
let seeded: SeededPerson[];
let consumerCount = 0;
/** A consumer of its own per test, so grants of one test never leak into another. */
const newConsumer = () => `consumer-${++consumerCount}-${process.pid}`;

before(async () => {
  graph = await startTestGraph({ modules: TEST_GRAPH_MODULES, backend: 'postgres' });
  seeded = await seedPersons(graph.runtime, 4);
  await graph.catchUp();
});

after(async () => {
  await graph?.close();
});

const forbiddenResources = <Data>(response: GqlResponse<Data>) =>
  (response.body.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN').map((e) => e.extensions?.resource);

const ID_QUERY = 'query Ids { people(first: 50) { id idNumber } }';
type IdData = { people: { idNumber: string | null }[] | null };
const idNumbersOf = (response: GqlResponse<IdData>) => response.body.data?.people?.map((p) => p.idNumber);
const maskedIdNumbers = () => seeded.map((p) => `${p.idNumber.slice(0, 4)}${'*'.repeat(p.idNumber.length - 8)}${p.idNumber.slice(-4)}`);

/** Two new consumers of resident ID numbers: one granted them masked, one in clear. */
async function maskedAndClearConsumers(): Promise<{ masked: string; clear: string }> {
  const masked = newConsumer();
  await graph.grant(masked, ['population.basic']);
  await graph.grant(masked, ['population.identity'], { masked: true });
  const clear = newConsumer();
  await graph.grant(clear, ['population.basic', 'population.identity']);
  return { masked, clear };
}

/**
 * A new consumer granted every fixture resource asks the join, `granted` checks the answer, the
 * grant is revoked and the consumer asks again with the same token: that second answer.
 */
async function joinAcrossRevocation(stack: TestGraph, granted: (consumer: string, response: GqlResponse<JoinData>) => void): Promise<GqlResponse<JoinData>> {
  const consumer = newConsumer();
  const token = await stack.tokenFor(consumer);
  const grantId = await stack.grant(consumer, TEST_GRAPH_RESOURCES);
  granted(consumer, await stack.gql<JoinData>(JOIN_QUERY, undefined, token));
  await stack.revoke(consumer, grantId);
  return stack.gql<JoinData>(JOIN_QUERY, undefined, token);
}

describe('grants', () => {
  test('a consumer without a grant gets FORBIDDEN and no data', async () => {
    const consumer = newConsumer();
    const response = await graph.gql<JoinData>(JOIN_QUERY, undefined, await graph.tokenFor(consumer));
    assert.equal(response.status, 200);
    assert.equal(response.body.data?.people ?? null, null);
    assert.deepEqual(forbiddenResources(response), ['population.basic']);
    assert.match(response.body.errors?.[0]?.message ?? '', /population\.basic/);
  });

  test('a grant on one resource serves that resource and refuses the fields of the others', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, ['population.basic']);
    const response = await graph.gql<JoinData>(JOIN_QUERY, undefined, await graph.tokenFor(consumer));
    const people = response.body.data?.people ?? [];
    assert.deepEqual(people.map((p) => p.name), seeded.map((p) => p.name));
    assert.ok(people.every((p) => p.companies === null && p.taxTotal === null));
    assert.deepEqual(new Set(forbiddenResources(response)), new Set(['legal-person.basic', 'tax.declarations']));
  });

  test('a revoked grant stops access on the very next request', async () => {
    const revoked = await joinAcrossRevocation(graph, (_, granted) => {
      assert.equal(granted.body.errors, undefined);
      assert.equal(granted.body.data?.people?.length, seeded.length);
    });
    assert.equal(revoked.body.data?.people ?? null, null);
    assert.deepEqual(forbiddenResources(revoked), ['population.basic']);
  });

  test('a grant stops serving the moment it expires', async () => {
    const consumer = newConsumer();
    const token = await graph.tokenFor(consumer);
    const now = Date.now();
    // Long enough for the grant and the first answer on a busy machine (1.5 s was not).
    const validUntil = now + 4000;
    await graph.grant(consumer, TEST_GRAPH_RESOURCES, { validFrom: new Date(now - 60_000), validUntil: new Date(validUntil) });
    assert.equal((await graph.gql<JoinData>(JOIN_QUERY, undefined, token)).body.data?.people?.length, seeded.length);
    await sleep(Math.max(0, validUntil + 100 - Date.now()));
    assert.deepEqual(forbiddenResources(await graph.gql<JoinData>(JOIN_QUERY, undefined, token)), ['population.basic']);

  });

  test('a masked grant serves resident ID numbers masked; an unmasked one in clear', async () => {
    const { masked, clear } = await maskedAndClearConsumers();
    const maskedIds = idNumbersOf(await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(masked)));
    const clearIds = idNumbersOf(await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(clear)));
    assert.deepEqual(clearIds, seeded.map((p) => p.idNumber));
    assert.deepEqual(maskedIds, maskedIdNumbers());
  });
});

describe('concurrent identical requests of different consumers', () => {
  test('a masked consumer right after a clear one gets the ID numbers masked, and a consumer without the grant none', async () => {
    // The read models keep query results between requests (projections/sql/readModels.ts): what the
    // clear consumer's request read must reach the next caller only through that caller's grants.
    const { masked, clear } = await maskedAndClearConsumers();
    const basicOnly = newConsumer();
    await graph.grant(basicOnly, ['population.basic']);

    assert.deepEqual(idNumbersOf(await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(clear))), seeded.map((p) => p.idNumber));
    assert.deepEqual(idNumbersOf(await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(masked))), maskedIdNumbers());
    const refused = await graph.gql<IdData>(ID_QUERY, undefined, await graph.tokenFor(basicOnly));
    assert.deepEqual(new Set(forbiddenResources(refused)), new Set(['population.identity']));
    assert.ok(idNumbersOf(refused)?.every((idNumber) => idNumber === null));
  });

  test('each is answered for its own caller under its own grants, and each leaves its own access record', async () => {
    // The same operation text from a masked and a clear consumer at once: the subgraph calls of the
    // two are byte-identical but for the credentials, so a gateway that shared one in-flight subgraph
    // answer between identical calls would hand the clear consumer's ID numbers to the masked one.
    const { masked, clear } = await maskedAndClearConsumers();
    const tokens = { masked: await graph.tokenFor(masked), clear: await graph.tokenFor(clear) };
    const callers = Array.from({ length: 24 }, (_, i): 'masked' | 'clear' => (i % 2 === 0 ? 'masked' : 'clear'));
    const responses = await Promise.all(callers.map((who) => graph.gql<IdData>(ID_QUERY, undefined, tokens[who])));

    const clearIds = seeded.map((p) => p.idNumber);
    responses.forEach((response, i) => {
      assert.deepEqual(idNumbersOf(response), callers[i] === 'masked' ? maskedIdNumbers() : clearIds, `response ${i} (${callers[i]})`);
    });
    await waitForCommitted(graph.db, graph.runtime.store);
    // Requests served one answer at once are recorded in one event listing them (`requestRecordsOf`).
    const records = (await graph.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 })).flatMap((e) => requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => record));
    for (const [i, response] of responses.entries()) {
      const requestId = response.headers.get('x-request-id');
      const own = records.filter((r) => r.requestId === requestId);
      assert.deepEqual(own.map((r) => [r.subgraph, r.consumerId]), [['population', callers[i] === 'masked' ? masked : clear]], `records of response ${i}`);
    }
  });
});

describe('the access audit', () => {
  async function recordsOf(requestId: string): Promise<DataAccessed['data'][]> {
    // The records are durable before the response leaves; on a busy server they become visible to
    // the gap-safe read once every transaction open elsewhere has ended (DESIGN §6).
    await waitForCommitted(graph.db, graph.runtime.store);
    const events = await graph.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 });
    return events.flatMap((e) => requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => record)).filter((d) => d.requestId === requestId);
  }

  test('a served request leaves exactly one access record per subgraph it touched, with the subjects it returned', async () => {
    const consumer = newConsumer();
    const grantId = await graph.grant(consumer, TEST_GRAPH_RESOURCES, { purpose: 'city health check' });
    const response = await graph.gql<JoinData>(JOIN_QUERY, undefined, await graph.tokenFor(consumer));
    assert.equal(response.body.errors, undefined);
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId, 'the gateway names the request');

    const records = await recordsOf(requestId);
    assert.deepEqual(records.map((r) => r.subgraph).sort(), ['legal-person', 'population', 'tax']);
    const bySubgraph = new Map(records.map((r) => [r.subgraph, r]));
    const people = response.body.data?.people ?? [];
    assert.deepEqual([...(bySubgraph.get('population')?.subjectIds ?? [])].sort(), seeded.map((p) => p.id).sort());
    assert.deepEqual(
      [...(bySubgraph.get('legal-person')?.subjectIds ?? [])].sort(),
      people.flatMap((p) => p.companies?.map((c) => c.id) ?? []).sort(),
    );
    assert.deepEqual(bySubgraph.get('tax')?.subjectIds, []);
    for (const record of records) {
      assert.equal(record.consumerId, consumer);
      assert.deepEqual(record.grantIds, [grantId]);
      assert.equal(record.purpose, 'city health check');
      assert.equal(record.operationName, 'Join');
    }
    assert.deepEqual(bySubgraph.get('tax')?.resources, ['tax.declarations']);
  });

  test('a request touching one subgraph leaves one record, only there', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, TEST_GRAPH_RESOURCES);
    const person = seeded[0]!;
    const response = await graph.gql(`{ person(id: "${person.id}") { name } }`, undefined, await graph.tokenFor(consumer));
    const records = await recordsOf(response.headers.get('x-request-id') ?? '');
    assert.deepEqual(records.map((r) => [r.subgraph, r.subjectIds]), [['population', [person.id]]]);
  });
});

describe('the grants of one request', () => {
  const reads: string[] = [];
  let counted: TestGraph;
  before(async () => {
    // Every read of a consumer's grants, as the subgraphs of this process ask for them.
    counted = await startTestGraph({
      modules: TEST_GRAPH_MODULES,
      backend: 'postgres',
      access: (runtime) => {
        const access = createGovernanceAccess(runtime);
        return { ...access, principalFor: (consumerId, ctx) => (reads.push(consumerId), access.principalFor(consumerId, ctx)) };
      },
    });
    await seedPersons(counted.runtime, 2);
    await counted.catchUp();
  });
  after(async () => {
    await counted?.close();
  });

  test('a query through three subgraphs reads them once; the next request reads them again and sees a revocation', async () => {
    let consumer = '';
    const second = await joinAcrossRevocation(counted, (granted, first) => {
      consumer = granted;
      assert.equal(first.body.errors, undefined);
      assert.ok(first.body.data?.people?.every((p) => p.companies !== null && p.taxTotal !== null), 'the three subgraphs served');
      assert.equal(reads.filter((id) => id === consumer).length, 1);
    });
    assert.deepEqual(forbiddenResources(second), ['population.basic']);
    assert.equal(reads.filter((id) => id === consumer).length, 2);
  });

  test('each subscription event carries its own refusals, not those of the events before it', async () => {
    const consumer = newConsumer();
    const token = await counted.tokenFor(consumer);
    await counted.grant(consumer, ['population.basic', 'population.write', 'legal-person.basic']);
    type Registered = { personRegistered: { name: string; taxTotal: number | null } };
    const events: FormattedExecutionResult<Registered, unknown>[] = [];
    const client = counted.wsClient(token);
    const stop = client.subscribe<Registered>({ query: 'subscription { personRegistered { name taxTotal } }' }, { next: (event) => events.push(event), error: () => {}, complete: () => {} });
    const register = (name: string) => counted.gql('mutation ($input: RegisterPersonInput!) { registerPerson(input: $input) { position } }', { input: { name, idNumber: '11010519491231002X' } }, token);
    try {
      // The subgraph starts following the store when the subscription reaches it: register until three have arrived.
      let registered = 0;
      const registering = setInterval(() => void register(`Refused ${++registered}`), 250);
      for (let waited = 0; events.length < 3 && waited < 10_000; waited += 50) await sleep(50);
      clearInterval(registering);
      assert.ok(events.length >= 3, `three events arrived (${events.length})`);
      for (const event of events) {
        assert.equal(event.data?.personRegistered.taxTotal, null);
        assert.deepEqual(event.errors?.map((e) => e.extensions?.resource), ['tax.declarations'], event.data?.personRegistered.name);
      }
    } finally {
      stop();
      await client.dispose();
    }
  });

  test('each subscription event checks the fields another subgraph resolves for it against the grants valid then', async () => {
    const consumer = newConsumer();
    const token = await counted.tokenFor(consumer);
    await counted.grant(consumer, ['population.basic', 'population.write', 'legal-person.basic']);
    const taxGrant = await counted.grant(consumer, ['tax.declarations']);
    type Registered = { personRegistered: { name: string; taxTotal: number | null } };
    const events: FormattedExecutionResult<Registered, unknown>[] = [];
    const client = counted.wsClient(token);
    const stop = client.subscribe<Registered>({ query: 'subscription { personRegistered { name taxTotal } }' }, { next: (event) => events.push(event), error: () => {}, complete: () => {} });
    const register = (name: string) => counted.gql('mutation ($input: RegisterPersonInput!) { registerPerson(input: $input) { position } }', { input: { name, idNumber: '11010519491231002X' } }, token);
    const eventOf = async (name: RegExp) => {
      for (let waited = 0; waited < 10_000; waited += 50) {
        const found = events.find((e) => name.test(e.data?.personRegistered.name ?? ''));
        if (found) return found;
        await sleep(50);
      }
      throw new Error(`no event for ${name}`);
    };
    try {
      // The subgraph starts following the store when the subscription reaches it: register until one arrives.
      let registered = 0;
      const registering = setInterval(() => void register(`Before ${++registered}`), 250);
      const before = await eventOf(/^Before \d+$/).finally(() => clearInterval(registering));
      assert.equal(before.errors, undefined);
      assert.equal(before.data?.personRegistered.taxTotal, null);
      await counted.revoke(consumer, taxGrant);
      await register('After');
      const after = await eventOf(/^After$/);
      assert.equal(after.data?.personRegistered.taxTotal, null);
      assert.deepEqual(after.errors?.map((e) => e.extensions?.resource), ['tax.declarations']);
    } finally {
      stop();
      await client.dispose();
    }
  });
});
