/**
 * Grant enforcement, masking and the access record, end to end through a real subgraph server over
 * HTTP and graphql-ws, with grants and records in a real event store (PGlite and PostgreSQL). The
 * subgraph is a small test-only schema, so these tests do not depend on any domain's progress.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createClient, type Client } from 'graphql-ws';
import { parse } from 'graphql';
import { pino } from 'pino';
import WebSocket from 'ws';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import type { EventStore, RecordedEvent } from '../../events/types.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { TEST_PERSON_TYPE } from '../../test/fixtures/graphModules.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { waitForCommitted } from '../../test/helpers/events.ts';
import { testGrants, type TestGrants } from '../../test/helpers/grants.ts';
import { postGraphQL, relayedHeaders, SUBGRAPH_TEST_AUTH } from '../../test/helpers/subgraphAuth.ts';
import { ASSERTION_HEADER, CREDENTIALS_EXTENSION } from '../../platform/auth.ts';
import { closeServedSubgraph } from '../../test/helpers/subgraphHarness.ts';
import { createGovernanceAccess } from '../governance/access.ts';
import { ACCESS_STREAM_PREFIX, dataAccessedDefinition, requestRecordsOf, type DataAccessed } from './dataAccessed.ts';
import { consumerEventDefinitions } from '../governance/consumer/events.ts';
import type { AccessControl } from './access.ts';
import { AccessRecorder } from './audit.ts';
import type { SubgraphRuntime } from './module.ts';
import { createSubgraphServer, type ListeningSubgraph } from './server.ts';

const logger = pino({ level: 'silent' });

const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query {
    person(id: ID!): Person @resource(name: "population.basic")
    people(ids: [ID!]!): [Person!]! @resource(name: "population.basic")
    divisionNames: [String!]! @resource(name: "public")
  }
  type Subscription {
    personChanged: Person @resource(name: "population.basic")
  }
  ${TEST_PERSON_TYPE}
`);

interface PersonSource {
  id: string;
  name: string;
  idNumber: string;
}

const PEOPLE: PersonSource[] = [
  { id: 'p-1', name: '李娜', idNumber: '37010219900307123X' },
  { id: 'p-2', name: '张伟', idNumber: '11010519491231002X' },
  { id: 'p-3', name: '王芳', idNumber: '34052419800101001X' },
];

const resolvers = {
  Query: {
    person: (_: unknown, args: { id: string }) => PEOPLE.find((p) => p.id === args.id) ?? null,
    people: (_: unknown, args: { ids: string[] }) => PEOPLE.filter((p) => args.ids.includes(p.id)),
    divisionNames: () => ['历下区', '市中区'],
  },
  Subscription: {
    personChanged: {
      async *subscribe() {
        for (const person of PEOPLE.slice(0, 2)) yield { personChanged: person };
      },
    },
  },
};

const PERSON_CARD = 'query PersonCard($id: ID!) { person(id: $id) { id name idNumber } }';

/** An event store whose access-record appends fail, as when the audit table's disk is full. */
function withFailingAuditAppends(store: EventStore): EventStore {
  return {
    backend: store.backend,
    atomicAppendMany: store.atomicAppendMany,
    pseudonyms: store.pseudonyms,
    append: (streamId, events, options) =>
      streamId.startsWith(ACCESS_STREAM_PREFIX) ? Promise.reject(new Error('could not extend file: No space left on device')) : store.append(streamId, events, options),
    appendMany: (appends) =>
      appends.some((a) => a.streamId.startsWith(ACCESS_STREAM_PREFIX)) ? Promise.reject(new Error('could not extend file: No space left on device')) : store.appendMany(appends),
    readStream: (streamId, options) => store.readStream(streamId, options),
    readStreams: (streamIds) => store.readStreams(streamIds),
    aggregate: (decider, streamId, options) => store.aggregate(decider, streamId, options),
    streamRevision: (streamId) => store.streamRevision(streamId),
    readEventsById: (eventIds) => store.readEventsById(eventIds),
    readAll: (options) => store.readAll(options),
    readAllWithHead: (options) => store.readAllWithHead(options),
    subscribe: (options) => store.subscribe(options),
    headPosition: () => store.headPosition(),
    committedHead: () => store.committedHead(),
    assertPositionExists: (position) => store.assertPositionExists(position),
    close: () => store.close(),
  };
}

function accessSuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let store: SqlEventStore;
  let db: SqlDatabase;
  let runtime: SubgraphRuntime;
  let access: AccessControl;
  let subgraph: ListeningSubgraph;
  let grants: TestGrants;
  /** Added to the wall clock: moving it forward expires grants. */
  let clockOffsetMs = 0;

  async function startSubgraph(control: AccessControl): Promise<ListeningSubgraph> {
    return createSubgraphServer({ name: 'population', typeDefs, resolvers, auth: SUBGRAPH_TEST_AUTH, access: control, logger, now: runtime.now }).listen(0);
  }

  async function recordsOf(requestId: string): Promise<RecordedEvent<'DataAccessed', DataAccessed['data']>[]> {
    await waitForCommitted(db, store);
    const events = await store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 });
    return (events as RecordedEvent<'DataAccessed', DataAccessed['data']>[]).filter((e) => e.data.requestId === requestId);
  }

  async function ask(consumerId: string, query: string, variables?: Record<string, unknown>, url = subgraph.url) {
    const requestId = crypto.randomUUID();
    const headers = await relayedHeaders(consumerId, 'partner', { requestId });
    return { requestId, ...(await postGraphQL<Record<string, unknown>>(url, headers, query, variables)) };
  }

  before(async () => {
    backend = await makeBackend();
    db = await backend.fresh();
    const registry = new EventRegistry();
    for (const definition of [...consumerEventDefinitions, dataAccessedDefinition]) registry.register(definition);
    store = await SqlEventStore.open(db, registry);
    runtime = { store, readModels: new SqlReadModels(db, 0), now: () => new Date(Date.now() + clockOffsetMs), logger };
    access = createGovernanceAccess(runtime, { recorder: { maxDelayMs: 5 } });
    subgraph = await startSubgraph(access);
    grants = testGrants(store, runtime.now);
  });

  after(async () => {
    await closeServedSubgraph({ server: subgraph, access, store });
    await backend?.dispose();
  });

  it('refuses a consumer without grants: FORBIDDEN naming the resource, no data, no access record', async () => {
    await grants.register('no-grants');
    const { status, body, requestId } = await ask('no-grants', PERSON_CARD, { id: 'p-1' });
    assert.equal(status, 200);
    assert.deepEqual(body.data, { person: null });
    assert.equal(body.errors?.length, 1);
    assert.equal(body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(body.errors?.[0]?.extensions?.resource, 'population.basic');
    assert.match(body.errors?.[0]?.message ?? '', /no grant valid now to READ population\.basic/);
    assert.deepEqual(await recordsOf(requestId), []);
  });

  it('serves public data to a consumer without grants, and records it', async () => {
    const { body, requestId } = await ask('no-grants', 'query Divisions { divisionNames person(id: "p-1") { name } }');
    assert.deepEqual(body.data, { divisionNames: ['历下区', '市中区'], person: null });
    const [record, ...more] = await recordsOf(requestId);
    assert.equal(more.length, 0);
    assert.deepEqual(record?.data.resources, ['public']);
    assert.deepEqual(record?.data.grantIds, []);
    assert.deepEqual(record?.data.subjectIds, []);
  });

  it('serves ID numbers masked under a masked grant, and records the grant, resources and subject', async () => {
    const grantId = await grants.grant('masked-app', ['population.basic', 'population.identity'], { masked: true, purpose: 'resident self-service' });
    const { body, requestId } = await ask('masked-app', PERSON_CARD, { id: 'p-1' });
    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data, { person: { id: 'p-1', name: '李娜', idNumber: '3701**********123X' } });
    const records = await recordsOf(requestId);
    assert.equal(records.length, 1);
    const record = records[0]!;
    assert.equal(record.streamId.startsWith(ACCESS_STREAM_PREFIX), true);
    assert.deepEqual(
      { ...record.data, at: undefined, operationHash: undefined },
      {
        consumerId: 'masked-app',
        grantIds: [grantId],
        operationName: 'PersonCard',
        operationHash: undefined,
        resources: ['population.basic', 'population.identity'],
        subjectIds: ['p-1'],
        purpose: 'resident self-service',
        requestId,
        subgraph: 'population',
        at: undefined,
      },
    );
    assert.match(record.data.operationHash, /^[0-9a-f]{64}$/);
    assert.equal(record.metadata.actor.consumerId, 'masked-app');
    assert.equal(record.metadata.correlationId, requestId);
  });

  it('stops a revoked grant on the very next request', async () => {
    const grantId = await grants.grant('revoked-app', ['population.basic']);
    const before = await ask('revoked-app', PERSON_CARD, { id: 'p-2' });
    assert.deepEqual(before.body.data, { person: { id: 'p-2', name: '张伟', idNumber: null } });
    await grants.revoke('revoked-app', grantId);
    const afterwards = await ask('revoked-app', PERSON_CARD, { id: 'p-2' });
    assert.deepEqual(afterwards.body.data, { person: null });
    assert.equal(afterwards.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.deepEqual(await recordsOf(afterwards.requestId), []);
  });

  it('refuses under an expired grant, and under one not valid yet', async () => {
    const now = runtime.now();
    await grants.grant('expiring-app', ['population.basic'], { validFrom: new Date(now.getTime() - 60_000), validUntil: new Date(now.getTime() + 3_600_000) });
    assert.deepEqual((await ask('expiring-app', PERSON_CARD, { id: 'p-3' })).body.data, { person: { id: 'p-3', name: '王芳', idNumber: null } });
    clockOffsetMs += 2 * 3_600_000;
    try {
      const expired = await ask('expiring-app', PERSON_CARD, { id: 'p-3' });
      assert.deepEqual(expired.body.data, { person: null });
      assert.equal(expired.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    } finally {
      clockOffsetMs -= 2 * 3_600_000;
    }
    await grants.grant('early-app', ['population.basic'], { validFrom: new Date(now.getTime() + 3_600_000) });
    assert.deepEqual((await ask('early-app', PERSON_CARD, { id: 'p-3' })).body.data, { person: null });
  });

  it('writes exactly one record per request for concurrent requests, with each request\'s subjects, in shared batches', async () => {
    await grants.grant('busy-app', ['population.basic']);
    // A wide batching window, so that on a loaded machine the 24 requests still meet in the recorder.
    const patientAccess = createGovernanceAccess(runtime, { recorder: { maxDelayMs: 250 } });
    const patient = await startSubgraph(patientAccess);
    const subjectSets = Array.from({ length: 24 }, (_, i) => PEOPLE.filter((_p, j) => (i >> j) & 1).map((p) => p.id));
    let responses;
    try {
      responses = await Promise.all(subjectSets.map((ids) => ask('busy-app', 'query People($ids: [ID!]!) { people(ids: $ids) { name } }', { ids }, patient.url)));
    } finally {
      await patient.close();
      await patientAccess.recorder?.close();
    }
    await waitForCommitted(db, store);
    const all = await store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 });
    const streams = new Set<string>();
    responses.forEach((response, i) => {
      assert.equal(response.body.errors, undefined);
      const mine = all.filter((e) => (e.data as DataAccessed['data']).requestId === response.requestId);
      assert.equal(mine.length, 1, `request ${i}: ${mine.length} records`);
      assert.deepEqual((mine[0]!.data as DataAccessed['data']).subjectIds, [...subjectSets[i]!].sort());
      streams.add(mine[0]!.streamId);
    });
    assert.ok(streams.size < responses.length, `group commit: ${responses.length} records in ${streams.size} appends`);
  });

  it('fails every request of a batch whose records cannot be written, serving no data', async () => {
    const failingAccess = createGovernanceAccess({ ...runtime, store: withFailingAuditAppends(store) }, { recorder: { maxDelayMs: 5 } });
    const failing = await startSubgraph(failingAccess);
    try {
      await grants.grant('unlucky-app', ['population.basic', 'population.identity']);
      const headers = await Promise.all([1, 2, 3].map(() => relayedHeaders('unlucky-app')));
      const responses = await Promise.all(headers.map((h) => postGraphQL(failing.url, h, PERSON_CARD, { id: 'p-1' })));
      for (const { body } of responses) {
        assert.equal(body.data, undefined);
        assert.equal(body.errors?.length, 1);
        assert.equal(body.errors?.[0]?.extensions?.code, 'INTERNAL_SERVER_ERROR');
        assert.match(body.errors?.[0]?.message ?? '', /access record of this request could not be written, so no data was served/);
        assert.doesNotMatch(JSON.stringify(body), /李娜|3701/);
      }
    } finally {
      await failing.close();
      await failingAccess.recorder?.close();
    }
  });

  it('names the request in an internal error, and logs the error with the same request id', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }));
    const failingAccess = createGovernanceAccess({ ...runtime, store: withFailingAuditAppends(store) }, { recorder: { maxDelayMs: 5 } });
    const failing = await createSubgraphServer({ name: 'population', typeDefs, resolvers, auth: SUBGRAPH_TEST_AUTH, access: failingAccess, logger: capture, now: runtime.now }).listen(0);
    try {
      await grants.grant('traced-app', ['population.basic']);
      const requestId = crypto.randomUUID();
      const { body } = await postGraphQL(failing.url, await relayedHeaders('traced-app', 'department', { requestId }), PERSON_CARD, { id: 'p-1' });
      assert.equal(body.errors?.[0]?.extensions?.code, 'INTERNAL_SERVER_ERROR');
      assert.equal(body.errors?.[0]?.extensions?.requestId, requestId);
      const logged = lines.filter((line) => line.level === 50);
      assert.ok(logged.length > 0, 'the internal error is logged');
      assert.ok(logged.every((line) => line.requestId === requestId), JSON.stringify(logged));
    } finally {
      await failing.close();
      await failingAccess.recorder?.close();
    }
  });

  it('serves without records when auditing is switched off (bench only)', async () => {
    const unaudited = await startSubgraph(createGovernanceAccess(runtime, { audit: false }));
    try {
      await grants.grant('bench-app', ['population.basic']);
      const requestId = crypto.randomUUID();
      const { body } = await postGraphQL(unaudited.url, await relayedHeaders('bench-app', 'department', { requestId }), PERSON_CARD, { id: 'p-1' });
      assert.deepEqual(body.data, { person: { id: 'p-1', name: '李娜', idNumber: null } });
      assert.deepEqual(await recordsOf(requestId), []);
    } finally {
      await unaudited.close();
    }
  });

  it('checks a subscription before it starts and records every event it serves', async () => {
    await grants.grant('feed-app', ['population.basic'], { actions: ['SUBSCRIBE'] });
    await grants.grant('reader-app', ['population.basic'], { actions: ['READ'] });
    const clients: Client[] = [];
    const connect = async (consumerId: string, requestId: string) => {
      const connectionParams = await relayedHeaders(consumerId, 'partner', { requestId });
      const client = createClient({ url: subgraph.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
      clients.push(client);
      return client;
    };
    const collect = (client: Client) =>
      new Promise<{ data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[]>((resolve, reject) => {
        const results: { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[] = [];
        client.subscribe(
          { query: 'subscription Changes { personChanged { id name } }' },
          {
            next: (value) => void results.push(value as (typeof results)[number]),
            error: (error: unknown) => (Array.isArray(error) ? resolve([{ errors: error as never }]) : reject(error instanceof Error ? error : new Error(JSON.stringify(error)))),
            complete: () => resolve(results),
          },
        );
      });
    try {
      const requestId = crypto.randomUUID();
      const events = await collect(await connect('feed-app', requestId));
      assert.deepEqual(events, [{ data: { personChanged: { id: 'p-1', name: '李娜' } } }, { data: { personChanged: { id: 'p-2', name: '张伟' } } }]);
      const records = await recordsOf(requestId);
      assert.deepEqual(records.map((r) => r.data.subjectIds), [['p-1'], ['p-2']]);
      assert.deepEqual(records.map((r) => r.data.operationName), ['Changes', 'Changes']);

      const refusedId = crypto.randomUUID();
      const refused = await collect(await connect('reader-app', refusedId));
      assert.equal(refused.length, 1);
      assert.equal(refused[0]?.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.match(refused[0]?.errors?.[0]?.message ?? '', /SUBSCRIBE population\.basic/);
      assert.deepEqual(await recordsOf(refusedId), []);
    } finally {
      for (const client of clients) await client.dispose();
    }
  });

  it('on a connection opened without credentials, authenticates each subscription by its own and refuses the others alone', async () => {
    await grants.grant('shared-feed-app', ['population.basic'], { actions: ['SUBSCRIBE'] });
    // The gateway's kind of connection: nothing in connection_init, each caller's credentials in its subscribe message.
    const client = createClient({ url: subgraph.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    type Outcome = { results: { data?: unknown }[]; error?: { extensions?: Record<string, unknown> }[] };
    const run = (credentials: Record<string, string> | undefined) =>
      new Promise<Outcome>((resolve, reject) => {
        const results: Outcome['results'] = [];
        client.subscribe(
          { query: 'subscription Changes { personChanged { id name } }', ...(credentials && { extensions: { [CREDENTIALS_EXTENSION]: credentials } }) },
          {
            next: (value) => void results.push(value),
            error: (error: unknown) => (Array.isArray(error) ? resolve({ results, error: error as never }) : reject(error instanceof Error ? error : new Error(JSON.stringify(error)))),
            complete: () => resolve({ results }),
          },
        );
      });
    try {
      const requestId = crypto.randomUUID();
      const relayed = await relayedHeaders('shared-feed-app', 'partner', { requestId });
      const foreign = await relayedHeaders('shared-feed-app', 'partner');
      const [served, missing, tokenAlone, mismatched] = await Promise.all([
        run(relayed),
        run(undefined),
        run({ authorization: relayed.authorization! }),
        // A valid assertion, but for another token than the one it comes with.
        run({ authorization: relayed.authorization!, [ASSERTION_HEADER]: foreign[ASSERTION_HEADER]! }),
      ]);
      assert.deepEqual(served, { results: [{ data: { personChanged: { id: 'p-1', name: '李娜' } } }, { data: { personChanged: { id: 'p-2', name: '张伟' } } }] });
      for (const refused of [missing, tokenAlone, mismatched]) {
        assert.deepEqual(refused.results, []);
        assert.deepEqual(refused.error?.map((e) => e.extensions?.code), ['UNAUTHENTICATED']);
      }
      assert.deepEqual((await recordsOf(requestId)).map((r) => r.data.subjectIds), [['p-1'], ['p-2']]);
    } finally {
      await client.dispose();
    }
  });

  it('group-commits records from many callers into few appends, each caller awaiting its own', async () => {
    const recorder = new AccessRecorder(store, { maxBatch: 10, maxDelayMs: 20 });
    const base = {
      consumerId: 'recorder-test',
      grantIds: [],
      operationName: null,
      operationHash: '0'.repeat(64),
      resources: ['public'],
      subjectIds: [],
      purpose: 'public data',
      subgraph: 'population',
      at: new Date().toISOString(),
    };
    const metadata = {
      provenance: { department: 'city-brain', system: 'test', channel: 'access-audit', collectedAt: base.at },
      actor: { consumerId: 'recorder-test', role: 'partner' },
      correlationId: 'recorder-test',
    };
    const requestIds: string[] = Array.from({ length: 25 }, () => crypto.randomUUID());
    await Promise.all(requestIds.map((requestId) => recorder.record({ ...base, requestId }, metadata)));
    await recorder.close();
    await waitForCommitted(db, store);
    const written = (await store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 })).filter((e) =>
      requestIds.includes((e.data as DataAccessed['data']).requestId),
    );
    assert.equal(written.length, 25);
    assert.deepEqual(new Set(written.map((e) => (e.data as DataAccessed['data']).requestId)), new Set(requestIds));
    const batches = new Set(written.map((e) => e.streamId));
    assert.ok(batches.size >= 3 && batches.size <= 6, `25 records with maxBatch 10 went into ${batches.size} appends`);
    await assert.rejects(recorder.record({ ...base, requestId: 'late' }, metadata), /could not be written/);
  });

  it('writes the deliveries of one feed event to many subscriptions of one principal, grants and operation as one record, and nothing else together', async () => {
    const recorder = new AccessRecorder(store, { maxBatch: 1000, maxDelayMs: 20 });
    const at = new Date().toISOString();
    const eventId = crypto.randomUUID();
    const delivery = (consumerId: string, requestId: string, changes: Partial<DataAccessed['data']> = {}): DataAccessed['data'] => ({
      consumerId,
      grantIds: [`grant-of-${consumerId}`],
      operationName: 'Feed',
      operationHash: 'f'.repeat(64),
      resources: ['events.feed', 'population.basic'],
      subjectIds: ['p-1'],
      eventIds: [eventId],
      purpose: `purpose of ${consumerId}`,
      requestId,
      subgraph: 'governance',
      at,
      ...changes,
    });
    const metadataOf = (consumerId: string, requestId: string) => ({
      provenance: { department: 'city-brain', system: 'city-brain/governance', channel: 'access-audit', collectedAt: at },
      actor: { consumerId, role: 'partner' },
      correlationId: requestId,
    });
    const shared = Array.from({ length: 5 }, () => crypto.randomUUID());
    // Each differs from the shared group's deliveries in one thing a record must keep apart.
    const apart: DataAccessed['data'][] = [
      delivery('merge-other-app', crypto.randomUUID()),
      delivery('merge-app', crypto.randomUUID(), { grantIds: ['grant-of-merge-other-app'] }),
      delivery('merge-app', crypto.randomUUID(), { resources: ['events.feed', 'population.basic', 'population.identity'] }),
      delivery('merge-app', crypto.randomUUID(), { eventIds: [crypto.randomUUID()] }),
      delivery('merge-app', crypto.randomUUID(), { operationHash: 'e'.repeat(64) }),
    ];
    // A moment later in the same batch: the same delivery, recorded at the instant of the first.
    const later = delivery('merge-app', crypto.randomUUID(), { at: new Date(Date.parse(at) + 3).toISOString() });
    const { eventIds: _, ...request } = delivery('merge-app', crypto.randomUUID());
    const records = [...shared.map((requestId) => delivery('merge-app', requestId)), ...apart, request, { ...request, requestId: crypto.randomUUID() }, later];
    // A unit's app under the same grants: its principal differs, so its record does too.
    const unitApp = delivery('merge-app', crypto.randomUUID());
    await Promise.all([
      ...records.map((r) => recorder.record(r, metadataOf(r.consumerId, r.requestId))),
      recorder.record(unitApp, { ...metadataOf('merge-app', unitApp.requestId), actor: { consumerId: 'merge-app', role: 'partner', divisionCode: '370102', unitId: 'u-1' } }),
    ]);
    await recorder.close();
    await waitForCommitted(db, store);
    const wanted = new Set([...records, unitApp].map((r) => r.requestId));
    const written = (await store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 })).filter((e) => wanted.has((e.data as DataAccessed['data']).requestId));
    const expanded = written.flatMap((e) => requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => ({ record, actor: e.metadata.actor })));
    assert.equal(written.length, 1 + apart.length + 2 + 1, 'the shared deliveries in one record, every other request in its own');
    const merged = written.find((e) => (e.data as DataAccessed['data']).otherRequestIds);
    assert.deepEqual([(merged!.data as DataAccessed['data']).requestId, ...(merged!.data as DataAccessed['data']).otherRequestIds!].sort(), [...shared, later.requestId].sort());
    // Read back, every request has exactly the record it was served with, under its own principal.
    assert.equal(expanded.length, wanted.size);
    for (const r of [...records, unitApp]) {
      const found = expanded.filter((x) => x.record.requestId === r.requestId);
      assert.equal(found.length, 1, `one record of request ${r.requestId}`);
      assert.deepEqual(found[0]!.record, r === later ? { ...r, at } : r);
    }
    assert.deepEqual(expanded.find((x) => x.record.requestId === unitApp.requestId)!.actor, { consumerId: 'merge-app', role: 'partner', divisionCode: '370102', unitId: 'u-1' });
  });
}

for (const makeBackend of BACKENDS) {
  describe(`access control and the access record over a real subgraph server (${makeBackend.name.replace('Backend', '')})`, () => accessSuite(makeBackend));
}
