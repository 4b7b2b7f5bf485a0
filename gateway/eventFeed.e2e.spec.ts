/**
 * The generic event feed end to end: a real graphql-ws client of the gateway, the governance subgraph
 * behind it, one PGlite database. Resume without loss, grant filtering, masking, revocation and
 * refused resume positions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { z } from 'zod';
import type { EventTypeDefinition } from '../events/registry.ts';
import { START, type NewEvent, type Position } from '../events/types.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { maskIdNumber } from '../subgraphs/kit/access.ts';
import type { SubgraphModule } from '../subgraphs/kit/module.ts';
import { waitUntilVisible, testMetadata } from '../test/helpers/events.ts';
import { openTestRuntime, startTestGraph, type TestGraph } from '../test/helpers/graph.ts';

/** A neutral event type carrying identity fields, appended to streams of several domains. */
const FEED_TEST_EVENTS: readonly EventTypeDefinition[] = [
  { type: 'FeedTestRecorded', schemaVersion: 1, schema: z.object({ n: z.number().int(), idNumber: z.string(), phone: z.string() }) },
];
const ID_NUMBER = '370102199003071234';

/** The governance module with the test event type registered in the store. */
const feedModule: SubgraphModule = { ...governanceModule, eventTypes: [...governanceModule.eventTypes, ...FEED_TEST_EVENTS] };

const FEED = `subscription Feed($from: String, $filter: EventFeedFilter) {
  events(fromPosition: $from, filter: $filter) { id type streamId position recordedAt provenance { department system } payload }
}`;

interface Envelope {
  id: string;
  type: string;
  streamId: string;
  position: string;
  payload: { n: number; idNumber: string; phone: string };
}

/** A live subscription's received envelopes and errors, and a way to kill its socket. */
interface Feed {
  received: Envelope[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  ended: Promise<void>;
  killSocket(): void;
  waitFor(count: number, ms?: number): Promise<void>;
  dispose(): Promise<void>;
}

function openFeed(graph: TestGraph, token: string, variables: Record<string, unknown>): Feed {
  let socket: WebSocket | undefined;
  const client: Client = createClient({
    url: graph.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
    on: { connected: (s) => (socket = s as WebSocket) },
  });
  const received: Envelope[] = [];
  const errors: Feed['errors'] = [];
  const ended = new Promise<void>((resolve) => {
    client.subscribe<{ events: Envelope | null }>(
      { query: FEED, variables },
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
    async waitFor(count, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`received ${received.length} of ${count} events within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

const noteFor = (n: number): NewEvent => ({ type: 'FeedTestRecorded', data: { n, idNumber: ID_NUMBER, phone: '13812345678' }, metadata: testMetadata });

describe('Subscription.events through the gateway', () => {
  let graph: TestGraph;
  /** Appends one event per number to `population.person-<n>` and returns their positions, visible. */
  async function appendPeople(numbers: readonly number[], domain = 'population.person'): Promise<Position[]> {
    const positions: Position[] = [];
    for (const n of numbers) {
      const { events } = await graph.runtime.store.append(`${domain}-${n}`, [noteFor(n)]);
      positions.push(events[0]!.position);
    }
    await waitUntilVisible(graph.runtime.store, positions[positions.length - 1]!);
    return positions;
  }

  before(async () => {
    const runtime = await openTestRuntime([feedModule]);
    graph = await startTestGraph({ modules: [feedModule], runtime });
    // The gateway loads its schema on the first HTTP request; graphql-ws operations need it loaded.
    await graph.gql('{ catalog(first: 1) { totalCount } }', {}, await graph.tokenFor('feed-warm-up'));
  });
  after(async () => {
    const runtime = graph;
    await graph.close();
    await runtime.close();
  });

  it('resumes after a killed socket with every event exactly once, in order, and records each delivery', async () => {
    await graph.grant('feed-app', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
    const [marker] = await appendPeople([0]);
    const first = await appendPeople([1, 2, 3, 4, 5, 6]);
    await appendPeople([900], 'tax.taxpayer'); // not granted: never sent
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
      all.map((e) => e.payload.n),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(all[0]!.payload.idNumber, ID_NUMBER, 'a grant without masked serves the payload in clear');
    await resumed.dispose();

    // Each delivered event left an access record naming its resource (written in batches by the recorder).
    const deadline = Date.now() + 10_000;
    let records: { consumerId: string; resources: string[] }[] = [];
    while (Date.now() < deadline) {
      const events = await graph.runtime.store.readAll({ fromPosition: START, filter: { types: ['DataAccessed'] }, limit: 1000 });
      records = events.map((e) => e.data as { consumerId: string; resources: string[] }).filter((r) => r.consumerId === 'feed-app');
      if (records.length >= all.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(records.length >= all.length, `${records.length} access records for ${all.length} delivered events`);
    assert.ok(records.every((r) => r.resources.includes('population.basic') && r.resources.includes('events.feed')));
  });

  it('sends a consumer none of the events it holds no SUBSCRIBE grant for', async () => {
    await graph.grant('feed-tax-only', ['events.feed', 'tax.declarations'], { actions: ['SUBSCRIBE'] });
    const [marker] = await appendPeople([0]);
    const feed = openFeed(graph, await graph.tokenFor('feed-tax-only', 'partner'), { from: marker });
    await appendPeople([11, 12, 13]);
    const [taxPosition] = await appendPeople([14], 'tax.taxpayer');
    await feed.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      feed.received.map((e) => e.position),
      [taxPosition],
      'only the tax event arrives',
    );
    await feed.dispose();
  });

  it('masks idNumber and phone anywhere in the payload under a masked grant', async () => {
    await graph.grant('feed-masked', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'], masked: true });
    const [marker] = await appendPeople([0]);
    const feed = openFeed(graph, await graph.tokenFor('feed-masked', 'partner'), { from: marker, filter: { domains: ['population'] } });
    await appendPeople([21]);
    await feed.waitFor(1);
    assert.equal(feed.received[0]!.payload.idNumber, maskIdNumber(ID_NUMBER));
    assert.equal(feed.received[0]!.payload.phone, '138****5678');
    assert.equal(feed.received[0]!.payload.n, 21);
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
});
