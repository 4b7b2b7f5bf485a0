/**
 * The generic event feed end to end: a real graphql-ws client of the gateway, the governance and
 * population subgraphs behind it, one PGlite database. Resume without loss, grant filtering, the
 * payload policy (masking, identity fields only under an identity grant), revocation, refused resume
 * positions and filters, and an idle `audit.log` subscriber that is not fed its own access records.
 */
import assert from 'node:assert/strict';
import { createServer as createNetServer, connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { START, type NewEvent, type Position } from '../events/types.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { maskIdNumber } from '../subgraphs/kit/access.ts';
import { requestRecordsOf, type DataAccessed } from '../subgraphs/kit/dataAccessed.ts';
import { sharedExecutionStats } from '../subgraphs/kit/sharedEvents.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { taxModule } from '../subgraphs/tax/index.ts';
import { waitUntilVisible, testMetadata } from '../test/helpers/events.ts';
import { composeSupergraph } from '../schema/compose.ts';
import { openTestRuntime, startTestGraph, TEST_ASSERTION_SECRET, TEST_JWT_SECRET, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';
import { createGatewayServer } from './server.ts';
import { untilReceived } from '../test/helpers/subscriptions.ts';
import type { EventEnvelope } from '../web/src/eventEnvelope.ts';

/** The ID number of the person registered as number `n`. */
const idNumberOf = (n: number): string => makeIdNumber('370102', '1990-03-07', n);

const FEED = `subscription Feed($from: String, $filter: EventFeedFilter) {
  events(fromPosition: $from, filter: $filter) { id type streamId position recordedAt provenance { department system } payload }
}`;

type Envelope = EventEnvelope<{ personId?: string; taxpayerId?: string; idNumber?: string; birthDate?: string; taxpayerNumber?: string }>;

/** A live subscription's received envelopes and errors, and a way to kill its socket. */
interface Feed {
  received: Envelope[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  ended: Promise<void>;
  killSocket(): void;
  waitFor(count: number, ms?: number): Promise<void>;
  dispose(): Promise<void>;
}

function openFeed(graph: TestGraph, token: string, variables: Record<string, unknown>, query = FEED): Feed {
  let socket: WebSocket | undefined;
  const client = graph.wsClient(token, { on: { connected: (s) => (socket = s as WebSocket) } });
  const received: Envelope[] = [];
  const errors: Feed['errors'] = [];
  const ended = new Promise<void>((resolve) => {
    client.subscribe<{ events: Envelope | null }>(
      { query, variables },
      {
        next: (result: FormattedExecutionResult<{ events: Envelope | null }>) => {
          if (result.data?.events) received.push(result.data.events);
          for (const e of result.errors ?? []) errors.push(e as Feed['errors'][number]);
        },
        error: () => resolve(),
        complete: () => resolve(),
      },
    );
  });
  return {
    received,
    errors,
    ended,
    killSocket: () => socket?.terminate(),
    waitFor: (count, ms = 15_000) => untilReceived(received, count, ms),
    dispose: () => client.dispose() as Promise<void>,
  };
}

const personRegistered = (n: number): NewEvent => ({
  type: 'PersonRegistered',
  data: { personId: `p${n}`, idNumber: idNumberOf(n), name: '王芳', gender: 'FEMALE', birthDate: '1990-03-07', residence: { address: '泉城路 1 号', divisionCode: '370102001001' }, reason: 'BIRTH' },
  metadata: testMetadata,
});
const taxpayerRegistered = (n: number): NewEvent => ({
  type: 'TaxpayerRegistered',
  data: { taxpayerId: `t${n}`, subject: { kind: 'PERSON', id: `p${n}` }, taxpayerNumber: idNumberOf(n), name: '王芳', divisionCode: '370102', registeredAt: new Date().toISOString() },
  metadata: testMetadata,
});

describe('Subscription.events through the gateway', () => {
  let graph: TestGraph;
  let runtime: TestRuntime;
  /** Registers one person per number on `population.person-p<n>` (or a taxpayer on `tax.taxpayer-t<n>`) and returns their positions, visible. */
  async function appendPeople(numbers: readonly number[], domain: 'population' | 'tax' = 'population'): Promise<Position[]> {
    const positions: Position[] = [];
    for (const n of numbers) {
      const { events } =
        domain === 'population'
          ? await graph.runtime.store.append(`population.person-p${n}-${Math.random()}`, [personRegistered(n)])
          : await graph.runtime.store.append(`tax.taxpayer-t${n}-${Math.random()}`, [taxpayerRegistered(n)]);
      positions.push(events[0]!.position);
    }
    await waitUntilVisible(graph.runtime.store, positions[positions.length - 1]!);
    return positions;
  }

  before(async () => {
    const modules = [governanceModule, populationModule, taxModule];
    runtime = await openTestRuntime(modules);
    graph = await startTestGraph({ modules, runtime });
    // The gateway loads its schema on the first HTTP request; graphql-ws operations need it loaded.
    await graph.gql('{ catalog(first: 1) { totalCount } }', {}, await graph.tokenFor('feed-warm-up'));
  });
  after(async () => {
    // The graph closes only what it opened: the runtime (its store and PGlite) is this suite's to close.
    await graph.close();
    await runtime.close();
  });

  it('resumes after a killed socket with every event exactly once, in order, and records each delivery', async () => {
    await graph.grant('feed-app', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
    // A unit's app: its delivery records name the principal as the graph's records do.
    await graph.assignJurisdiction('feed-app', { divisionCode: '370102', unitId: 'feed-unit', unitName: '历下区数据应用单位' });
    const [marker] = await appendPeople([0]);
    const first = await appendPeople([1, 2, 3, 4, 5, 6]);
    await appendPeople([900], 'tax'); // not granted: never sent
    const token = await graph.tokenFor('feed-app', 'partner');
    const feed = openFeed(graph, token, { from: marker });
    await feed.waitFor(3);
    feed.killSocket();
    await feed.ended;
    const seen = [...feed.received];
    const second = await appendPeople([7, 8, 9, 10]);

    const resumed = openFeed(graph, token, { from: seen[seen.length - 1]!.position });
    const expected = [...first, ...second];
    await resumed.waitFor(expected.length - seen.length);
    const all = [...seen, ...resumed.received];
    assert.deepEqual(
      all.map((e) => e.position),
      expected,
      'complete, ordered, duplicate-free',
    );
    assert.deepEqual(
      all.map((e) => e.payload.personId),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `p${n}`),
    );
    // population.basic without population.identity (RESTRICTED): the graph refuses `idNumber`, and so does the feed.
    assert.equal(all[0]!.payload.idNumber, undefined, 'no identity grant: no ID number');
    assert.equal(all[0]!.payload.birthDate, '1990', 'no identity grant: the birth date (part of the ID number) only as its year');
    await resumed.dispose();

    // Each delivered event left an access record naming its resource (written in batches by the recorder).
    const deadline = Date.now() + 10_000;
    let records: { consumerId: string; resources: string[]; subjectIds: string[]; eventIds?: string[] }[] = [];
    let actors: unknown[] = [];
    while (Date.now() < deadline) {
      const events = (await graph.runtime.store.readAll({ fromPosition: START, filter: { types: ['DataAccessed'] }, limit: 1000 })).filter(
        (e) => (e.data as (typeof records)[number]).consumerId === 'feed-app',
      );
      records = events.flatMap((e) => requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => record));
      actors = events.map((e) => e.metadata.actor);
      if (records.length >= all.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(actors.length > 0);
    for (const actor of actors) assert.deepEqual(actor, { consumerId: 'feed-app', role: 'partner', divisionCode: '370102', unitId: 'feed-unit' });
    assert.ok(records.length >= all.length, `${records.length} access records for ${all.length} delivered events`);
    assert.ok(records.every((r) => r.resources.includes('population.basic') && r.resources.includes('events.feed')));
    // Each names the event it delivered and the person the event is about: `accessLog(subjectId)` finds it.
    // (An event sent on the killed socket may have been delivered, and recorded, twice.)
    for (const e of all) {
      const naming = records.filter((r) => r.eventIds?.includes(e.id));
      assert.ok(naming.length >= 1, `a record names event ${e.id}`);
      assert.ok(naming.every((r) => r.subjectIds.length === 1 && r.subjectIds[0] === e.payload.personId));
    }
  });

  it('records every delivery to every subscriber, those of one event to many subscribers as one record, and many records committed together', async () => {
    await graph.grant('feed-many', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
    const token = await graph.tokenFor('feed-many', 'partner');
    const [marker] = await appendPeople([0]);
    const feeds = Array.from({ length: 4 }, () => openFeed(graph, token, { from: marker, filter: { domains: ['population'] } }));
    // Ten registrations in one transaction: forty deliveries at once.
    const results = await graph.runtime.store.appendMany(Array.from({ length: 10 }, (_, i) => ({ streamId: `population.person-p${60 + i}-${Math.random()}`, events: [personRegistered(60 + i)] })));
    const ids = results.map((r) => r.events[0]!.eventId);
    await waitUntilVisible(graph.runtime.store, results[results.length - 1]!.events[0]!.position);
    for (const feed of feeds) {
      await feed.waitFor(10);
      assert.deepEqual(feed.received.map((e) => e.id), ids);
      await feed.dispose();
    }
    let records: { streamId: string; eventId: string; requestId: string; eventIds: string[] }[] = [];
    for (const deadline = Date.now() + 10_000; records.length < 40 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const events = await graph.runtime.store.readAll({ fromPosition: START, filter: { types: ['DataAccessed'] }, limit: 5000 });
      records = events
        .filter((e) => (e.data as DataAccessed['data']).consumerId === 'feed-many')
        .flatMap((e) =>
          requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => ({ streamId: e.streamId, eventId: e.eventId, requestId: record.requestId, eventIds: record.eventIds! })),
        );
    }
    const deliveries = records.map((r) => `${r.requestId} ${r.eventIds.join(',')}`);
    assert.equal(new Set(deliveries).size, 40, 'one record per subscription and event delivered');
    assert.equal(records.length, 40);
    assert.equal(new Set(records.map((r) => r.requestId)).size, 4);
    for (const id of ids) assert.equal(records.filter((r) => r.eventIds.includes(id)).length, 4, `event ${id}: one record per subscriber`);
    const written = new Set(records.map((r) => r.eventId)).size;
    assert.ok(written < records.length, `40 deliveries written as ${written} events`);
    const appends = new Set(records.map((r) => r.streamId)).size;
    assert.ok(appends < records.length / 2, `40 records in ${appends} appends`);
  });

  it('executes an event once for the live feeds holding the same grants and operation, each still served as its grants say and recorded whole', async () => {
    await graph.grant('feed-shared-clear', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'] });
    await graph.grant('feed-shared-masked', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'], masked: true });
    const clearToken = await graph.tokenFor('feed-shared-clear', 'partner');
    const maskedToken = await graph.tokenFor('feed-shared-masked', 'partner');
    const filter = { domains: ['population'] };
    const clear = Array.from({ length: 3 }, () => openFeed(graph, clearToken, { filter }));
    // The same consumer and event under another operation: executed on its own.
    const narrow = openFeed(graph, clearToken, { filter }, 'subscription Narrow($filter: EventFeedFilter) { events(filter: $filter) { id position } }');
    const masked = Array.from({ length: 2 }, () => openFeed(graph, maskedToken, { filter }));
    const feeds = [...clear, narrow, ...masked];
    // Warm-up events until every feed has one: all of them follow the hub live.
    for (let warm = 0; feeds.some((f) => f.received.length === 0); warm++) {
      assert.ok(warm < 50, 'every feed goes live');
      await appendPeople([70 + warm]);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    const counts = feeds.map((f) => f.received.length);
    const before = { ...sharedExecutionStats };
    const positions = await appendPeople([81, 82, 83]);
    for (const [i, feed] of feeds.entries()) await feed.waitFor(counts[i]! + 3);
    const delivered = feeds.map((f, i) => f.received.slice(counts[i]));
    for (const events of delivered) assert.deepEqual(events.map((e) => e.position), positions);
    for (const events of delivered.slice(0, 3)) assert.deepEqual(events.map((e) => e.payload.idNumber), [81, 82, 83].map(idNumberOf), 'clear grants: the ID number');
    assert.deepEqual(delivered[3]!.map((e) => Object.keys(e).sort()), [['id', 'position'], ['id', 'position'], ['id', 'position']], 'only what that operation selects');
    for (const events of delivered.slice(4)) assert.deepEqual(events.map((e) => e.payload.idNumber), [81, 82, 83].map((n) => maskIdNumber(idNumberOf(n))), 'masked grants: masked');
    // Each (grants, operation) executed each event once; the other feeds reused it: 2 + 1 + 1 of 6 per event.
    assert.equal(sharedExecutionStats.executed - before.executed, 3 * 3);
    assert.equal(sharedExecutionStats.reused - before.reused, 3 * 3);
    for (const feed of feeds) await feed.dispose();

    // Every delivery has its own record, each naming what that delivery served.
    const ids = new Set(delivered[0]!.map((e) => e.id));
    type Record = { consumerId: string; requestId: string; resources: string[]; grantIds: string[]; subjectIds: string[]; eventIds?: string[]; purpose: string };
    let records: Record[] = [];
    for (const deadline = Date.now() + 10_000; records.length < 18 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      records = (await graph.runtime.store.readAll({ fromPosition: START, filter: { types: ['DataAccessed'] }, limit: 5000 }))
        .flatMap((e) => requestRecordsOf(e.eventId, e.data as DataAccessed['data']).map(({ record }) => record as Record))
        .filter((r) => r.consumerId.startsWith('feed-shared-') && r.eventIds?.some((id) => ids.has(id)));
    }
    assert.equal(records.length, 18, 'six feeds, three events');
    assert.equal(new Set(records.map((r) => `${r.requestId} ${r.eventIds!.join()}`)).size, 18, 'one record per feed and event');
    for (const [n, id] of [81, 82, 83].map((n, i) => [n, delivered[0]![i]!.id] as const)) {
      for (const consumer of ['feed-shared-clear', 'feed-shared-masked']) {
        const naming = records.filter((r) => r.consumerId === consumer && r.eventIds!.includes(id));
        assert.equal(naming.length, consumer === 'feed-shared-clear' ? 4 : 2);
        for (const r of naming) {
          assert.deepEqual(r.eventIds, [id]);
          assert.deepEqual(r.subjectIds, [`p${n}`]);
          assert.ok(r.resources.includes('events.feed') && r.resources.includes('population.basic'), r.resources.join());
          assert.equal(r.grantIds.length > 0, true);
        }
        assert.equal(new Set(naming.map((r) => JSON.stringify([r.grantIds, r.purpose]))).size, 1, 'the same grants named by every delivery of the consumer');
      }
    }
  });

  it('sends a consumer none of the events it holds no SUBSCRIBE grant for', async () => {
    await graph.grant('feed-tax-only', ['events.feed', 'tax.declarations'], { actions: ['SUBSCRIBE'] });
    const [marker] = await appendPeople([0]);
    const feed = openFeed(graph, await graph.tokenFor('feed-tax-only', 'partner'), { from: marker });
    await appendPeople([11, 12, 13]);
    const [taxPosition] = await appendPeople([14], 'tax');
    await feed.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      feed.received.map((e) => e.position),
      [taxPosition],
      'only the tax event arrives',
    );
    await feed.dispose();
  });

  it('masks the ID number and serves the birth date as its year under masked grants, in population and tax events alike', async () => {
    await graph.grant('feed-masked', ['events.feed', 'population.basic', 'population.identity', 'tax.declarations'], { actions: ['SUBSCRIBE'], masked: true });
    const [marker] = await appendPeople([0]);
    const feed = openFeed(graph, await graph.tokenFor('feed-masked', 'partner'), { from: marker, filter: { domains: ['population', 'tax'] } });
    await appendPeople([21]);
    await appendPeople([22], 'tax');
    await feed.waitFor(2);
    assert.equal(feed.received[0]!.payload.idNumber, maskIdNumber(idNumberOf(21)));
    assert.equal(feed.received[0]!.payload.birthDate, '1990');
    assert.equal(feed.received[1]!.payload.taxpayerNumber, maskIdNumber(idNumberOf(22)), 'a natural person’s taxpayer number is their ID number: masked');
    await feed.dispose();
  });

  it('never sends the ID-number claim a registration appends: its stream id and payload are the ID number', async () => {
    await graph.grant('feed-registrar', ['events.feed', 'population.basic', 'population.identity', 'population.write'], { actions: ['SUBSCRIBE', 'WRITE', 'READ'] });
    const token = await graph.tokenFor('feed-registrar', 'partner');
    const feed = openFeed(graph, token, { filter: { domains: ['population'] } });
    await new Promise((r) => setTimeout(r, 300));
    const idNumber = idNumberOf(41);
    const { body } = await graph.gql(
      'mutation($input: RegisterResidentInput!) { registerResident(input: $input) { positions } }',
      { input: { idNumber, name: '李强', gender: 'MALE', birthDate: '1990-03-07', residence: { address: '泉城路 2 号', divisionCode: '370102001001' } } },
      token,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    await feed.waitFor(1);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(feed.received.map((e) => e.type), ['PersonRegistered']);
    assert.ok(feed.received.every((e) => !e.streamId.includes(idNumber)));
    await feed.dispose();
  });

  it('does not feed an idle audit.log subscriber its own access records: one mutation, a bounded number of events in 30 s', { timeout: 60_000 }, async () => {
    await graph.grant('feed-auditor', ['events.feed', 'audit.log'], { actions: ['SUBSCRIBE'] });
    await graph.grant('feed-writer', ['population.basic', 'population.write'], { actions: ['READ', 'WRITE'] });
    const feed = openFeed(graph, await graph.tokenFor('feed-auditor', 'auditor'), { filter: { domains: ['governance'] } });
    await new Promise((r) => setTimeout(r, 300));
    const { body } = await graph.gql(
      'mutation($input: RegisterResidentInput!) { registerResident(input: $input) { person { name } positions } }',
      { input: { idNumber: idNumberOf(51), name: '赵敏', gender: 'MALE', birthDate: '1990-03-07', residence: { address: '泉城路 3 号', divisionCode: '370102001001' } } },
      await graph.tokenFor('feed-writer'),
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    await new Promise((r) => setTimeout(r, 30_000));
    // The mutation's access record (and grants administration, if any): never the records of the deliveries themselves.
    assert.ok(feed.received.length >= 1 && feed.received.length <= 3, `${feed.received.length} events in 30 s`);
    assert.ok(feed.received.every((e) => e.type !== 'DataAccessed' || (e.payload as { eventIds?: unknown }).eventIds === undefined));
    await feed.dispose();
  });

  it('refuses a filter naming an event type the consumer holds no SUBSCRIBE grant for with FORBIDDEN', async () => {
    await graph.grant('feed-population-only', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
    const feed = openFeed(graph, await graph.tokenFor('feed-population-only', 'partner'), { filter: { types: ['TaxpayerRegistered'] } });
    await feed.ended;
    assert.equal(feed.errors[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(feed.errors));
    assert.match(feed.errors[0]!.message, /SUBSCRIBE tax\.declarations/);
    assert.equal(feed.received.length, 0);
    await feed.dispose();
  });

  it('ends the subscription with FORBIDDEN once the events.feed grant is revoked', async () => {
    const grantId = await graph.grant('feed-revoked', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
    const feed = openFeed(graph, await graph.tokenFor('feed-revoked', 'partner'), {});
    await new Promise((r) => setTimeout(r, 300));
    await appendPeople([31]);
    await feed.waitFor(1);
    await graph.revoke('feed-revoked', grantId);
    // No event needs to arrive: the feed hub reads the revocation from the log and wakes the feed.
    await Promise.race([feed.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the feed did not end within 6 s')), 6000))]);
    assert.equal(feed.errors[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(feed.received.length, 1);
  });

  for (const [label, from] of [
    ['malformed', 'yesterday'],
    ['unknown', '999999999:999999999'],
  ] as const) {
    it(`refuses a ${label} fromPosition with BAD_USER_INPUT`, async () => {
      await graph.grant('feed-bad-position', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
      const feed = openFeed(graph, await graph.tokenFor('feed-bad-position', 'partner'), { from });
      await feed.ended;
      assert.equal(feed.errors[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(feed.errors));
      assert.match(feed.errors[0]!.message, /position/);
      assert.equal(feed.received.length, 0);
      await feed.dispose();
    });
  }

  it('refuses an unknown domain in the filter with BAD_USER_INPUT', async () => {
    const feed = openFeed(graph, await graph.tokenFor('feed-app', 'partner'), { filter: { domains: ['weather'] } });
    await feed.ended;
    assert.equal(feed.errors[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(feed.errors[0]!.message, /unknown domain "weather"/);
    await feed.dispose();
  });

  it('ends the subscription with an error when the connection to the subgraph drops, instead of subscribing again from the first position', async () => {
    // A gateway whose governance subgraph is reached through a TCP relay this test can cut.
    const { port: target } = new URL(graph.graph.subgraphs.governance!);
    const links = new Set<Socket>();
    const relay = createNetServer((inbound) => {
      const outbound = connect(Number(target), '127.0.0.1');
      for (const socket of [inbound, outbound]) {
        links.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => links.delete(socket));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
    const modules = [governanceModule, populationModule, taxModule];
    const gateway = await createGatewayServer({
      supergraph: composeSupergraph(modules.map((m) => ({ name: m.name, url: graph.graph.subgraphs[m.name]!, typeDefs: m.typeDefs }))),
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      subgraphUrls: { governance: `http://127.0.0.1:${(relay.address() as AddressInfo).port}/graphql` },
    }).listen(0, '127.0.0.1');
    const client = createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${await graph.tokenFor('relay-app', 'partner')}` } });
    try {
      await graph.grant('relay-app', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
      const [marker] = await appendPeople([20]);
      await appendPeople([21, 22]);
      // The gateway loads its schema on the first HTTP request; graphql-ws operations need it loaded.
      await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await graph.tokenFor('relay-app', 'partner')}` }, body: '{"query":"{ __typename }"}' });
      const received: string[] = [];
      const errors: unknown[] = [];
      const ended = new Promise<void>((resolve) => {
        client.subscribe<{ events: Envelope | null }>(
          { query: FEED, variables: { from: marker } },
          { next: (r) => (r.data?.events && received.push(r.data.events.position), r.errors && errors.push(...r.errors)), error: (e) => (errors.push(e), resolve()), complete: () => resolve() },
        );
      });
      await untilReceived(received, 2, 15_000);
      for (const socket of links) socket.destroy();
      await appendPeople([23]);
      const outcome = await Promise.race([ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still open'), 5_000))]);
      assert.equal(new Set(received).size, received.length, `no event twice: ${received.join(', ')}`);
      assert.equal(outcome, 'ended', 'the client is told, and resumes from the last position it received');
      assert.ok(errors.length > 0, 'with an error');
    } finally {
      await client.dispose();
      await gateway.close();
      await new Promise((resolve) => relay.close(resolve));
      for (const socket of links) socket.destroy();
    }
  });
});
