/**
 * Back-pressure at the gateway end to end: a real graphql-ws client of the event feed stops reading
 * its socket while events keep coming. The gateway must disconnect it once more than
 * `maxSubscriptionBuffer` results wait for it — close code 1008 and a reason telling it to resume —
 * and the client must get everything, exactly once, by resuming from the last position it received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { z } from 'zod';
import type { EventTypeDefinition } from '../events/registry.ts';
import type { NewEvent, Position } from '../events/types.ts';
import { withAuditQueries } from '../subgraphs/governance/audit-queries/resolvers.ts';
import { EVENT_CLASSIFICATIONS, FeedClassifications } from '../subgraphs/kit/payloadPolicy.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { governanceResolvers } from '../subgraphs/governance/resolvers.ts';
import type { SubgraphModule } from '../subgraphs/kit/module.ts';
import { testMetadata, waitUntilVisible } from '../test/helpers/events.ts';
import { openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';
import { untilReceived } from '../test/helpers/subscriptions.ts';
import { SLOW_CONSUMER_CLOSE_CODE } from './subscriptionBuffer.ts';

const BULK_EVENTS: readonly EventTypeDefinition[] = [
  { type: 'FeedBulkRecorded', schemaVersion: 1, schema: z.object({ n: z.number().int(), padding: z.string() }) },
];
/** The service's classifications, and the bulk event's: every field served under `population.basic`. */
const classifications = new FeedClassifications({
  ...EVENT_CLASSIFICATIONS,
  population: { ...EVENT_CLASSIFICATIONS.population, FeedBulkRecorded: { resource: 'population.basic', subjects: [], fields: { n: { resource: 'population.basic' }, padding: { resource: 'population.basic' } } } },
});
const feedModule: SubgraphModule = {
  ...governanceModule,
  eventTypes: [...governanceModule.eventTypes, ...BULK_EVENTS],
  resolvers: (runtime) => withAuditQueries(governanceResolvers(runtime, classifications), runtime),
};
const MAX_BUFFER = 50;
/** Large messages fill the sockets' kernel buffers in a few hundred events. */
const PADDING = 'x'.repeat(16_384);
const FEED = 'subscription Feed($from: String) { events(fromPosition: $from, filter: { domains: ["population"] }) { position payload } }';

interface FeedClient {
  client: Client;
  positions: Position[];
  /** Resolves with the close event (or error) that ended the subscription. */
  ended: Promise<unknown>;
  socket(): WebSocket;
  waitFor(count: number, ms?: number): Promise<void>;
}

describe('back-pressure at the gateway (maxSubscriptionBuffer)', () => {
  let runtime: TestRuntime;
  let graph: TestGraph;
  let token: string;
  let n = 0;

  /** Appends `count` padded events in one append and returns their positions, visible to readers. */
  async function appendBulk(count: number): Promise<Position[]> {
    const events: NewEvent[] = Array.from({ length: count }, () => ({ type: 'FeedBulkRecorded', data: { n: n++, padding: PADDING }, metadata: testMetadata }));
    const result = await graph.runtime.store.append(`population.bulk-${n}`, events);
    const positions = result.events.map((e) => e.position);
    await waitUntilVisible(graph.runtime.store, positions[positions.length - 1]!);
    return positions;
  }

  function openFeed(from: Position): FeedClient {
    let socket: WebSocket | undefined;
    // Retries on: the slow-consumer close must be final all the same, or the client would re-subscribe from `from` again.
    const client = graph.wsClient(token, { retryAttempts: 5, on: { connected: (s) => (socket = s as WebSocket) } });
    const positions: Position[] = [];
    const ended = new Promise<unknown>((resolve) => {
      client.subscribe<{ events: { position: Position } | null }>(
        { query: FEED, variables: { from } },
        {
          next: (result) => {
            if (result.data?.events) positions.push(result.data.events.position);
          },
          error: resolve,
          complete: () => resolve('complete'),
        },
      );
    });
    return {
      client,
      positions,
      ended,
      socket: () => socket!,
      waitFor: (count, ms = 30_000) => untilReceived(positions, count, ms),
    };
  }

  /**
   * Resumes from `from` as a correct client does: when the gateway closes it as a slow consumer again
   * (catching up a backlog of large events can outrun this process's reads), it resumes from the
   * last position it received, until `count` events arrived. Returns the positions, in arrival order.
   */
  async function resumeUntil(from: Position, count: number): Promise<Position[]> {
    const received: Position[] = [];
    for (let attempt = 0; attempt < 10 && received.length < count; attempt++) {
      const feed = openFeed(received.at(-1) ?? from);
      // A feed that ends first leaves its wait to time out on its own: settled here, never unhandled.
      const done = feed.waitFor(count - received.length).then(
        () => 'all' as const,
        (error: unknown) => ({ error }),
      );
      const outcome = await Promise.race([done, feed.ended.then((closed) => ({ closed: closed as { code?: number } }))]);
      received.push(...feed.positions);
      await feed.client.dispose();
      if (outcome === 'all') continue;
      if ('error' in outcome) throw outcome.error;
      assert.equal(outcome.closed.code, SLOW_CONSUMER_CLOSE_CODE, `the resumed feed ended with ${JSON.stringify(outcome.closed)}`);
    }
    assert.equal(received.length, count, `received ${received.length} of ${count} events after resuming`);
    return received;
  }

  before(async () => {
    runtime = await openTestRuntime([feedModule]);
    graph = await startTestGraph({ modules: [feedModule], runtime, limits: { maxSubscriptionBuffer: MAX_BUFFER } });
    await graph.grant('slow-app', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
    token = await graph.tokenFor('slow-app', 'partner');
    // The gateway loads its schema on the first HTTP request; graphql-ws operations need it loaded.
    await graph.gql('{ catalog(first: 1) { totalCount } }', {}, token);
  });
  after(async () => {
    await graph.close();
    await runtime.close();
  });

  it('closes a client that stops reading with 1008 and a resume reason; resuming from its last position loses nothing', async () => {
    const metrics = graph.graph.gateway.metrics;
    const disconnectsBefore = await metrics.slowConsumerDisconnects();
    const [start] = await appendBulk(1);
    const slow = openFeed(start!);
    const appended = await appendBulk(1);
    await slow.waitFor(1);
    slow.socket().pause();

    // Keep appending until the gateway gives up on the client (the kernel's socket buffers fill first).
    for (let round = 0; round < 60 && (await metrics.slowConsumerDisconnects()) === disconnectsBefore; round++) {
      appended.push(...(await appendBulk(50)));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await metrics.slowConsumerDisconnects(), disconnectsBefore + 1, `not disconnected after ${appended.length} events`);
    const activeWhilePaused = slow.positions.length;
    slow.socket().resume();
    const closed = (await Promise.race([slow.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('no close within 30 s')), 30_000))])) as {
      code?: number;
      reason?: string;
    };
    assert.equal(closed.code, SLOW_CONSUMER_CLOSE_CODE);
    assert.equal(closed.reason, `slow consumer: more than ${MAX_BUFFER} messages buffered; resume from the last position you received`);
    assert.ok(slow.positions.length >= activeWhilePaused && slow.positions.length < appended.length, `${slow.positions.length} of ${appended.length} delivered before the close`);
    assert.deepEqual(slow.positions, appended.slice(0, slow.positions.length), 'what arrived before the close is in order, without gap or duplicate');
    const deliveredBeforeClose = slow.positions.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(slow.positions.length, deliveredBeforeClose, 'the client did not re-subscribe on its own');
    await slow.client.dispose();

    const resumed = await resumeUntil(slow.positions[slow.positions.length - 1]!, appended.length - slow.positions.length);
    assert.deepEqual([...slow.positions, ...resumed], appended, 'complete, in order, duplicate-free');
  });

  it('ends a server-sent-events subscription whose client stops reading with one SLOW_CONSUMER error; resuming loses nothing', async () => {
    const metrics = graph.graph.gateway.metrics;
    const disconnectsBefore = await metrics.slowConsumerDisconnects();
    const [start] = await appendBulk(1);
    const response = await fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: FEED, variables: { from: start } }),
    });
    assert.equal(response.status, 200);
    const appended: Position[] = [];
    // The body is not read while events keep coming.
    for (let round = 0; round < 60 && (await metrics.slowConsumerDisconnects()) === disconnectsBefore; round++) {
      appended.push(...(await appendBulk(50)));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await metrics.slowConsumerDisconnects(), disconnectsBefore + 1, `not disconnected after ${appended.length} events`);
    const results = (await response.text())
      .split('\n\n')
      .filter((message) => message.startsWith('event: next'))
      .map((message) => JSON.parse(message.slice(message.indexOf('data: ') + 'data: '.length)) as { data?: { events: { position: Position } }; errors?: { message: string; extensions: Record<string, unknown> }[] });
    const last = results.pop()!;
    assert.deepEqual(last.errors?.map((e) => e.extensions.code), ['SLOW_CONSUMER'], JSON.stringify(last));
    assert.match(last.errors![0]!.message, /more than 50 messages buffered; resume from the last position you received/);
    const delivered = results.map((r) => r.data!.events.position);
    assert.ok(delivered.length < appended.length, `${delivered.length} of ${appended.length} delivered before the end`);
    assert.deepEqual(delivered, appended.slice(0, delivered.length), 'in order, without gap or duplicate');

    const resumed = await resumeUntil(delivered[delivered.length - 1] ?? start!, appended.length - delivered.length);
    assert.deepEqual([...delivered, ...resumed], appended, 'complete, in order, duplicate-free');
  });

  it('keeps a client that reads as fast as events come', async () => {
    const metrics = graph.graph.gateway.metrics;
    const disconnectsBefore = await metrics.slowConsumerDisconnects();
    const [start] = await appendBulk(1);
    const reader = openFeed(start!);
    const appended: Position[] = [];
    for (let round = 0; round < 40; round++) {
      appended.push(...(await appendBulk(5)));
      await new Promise((r) => setTimeout(r, 25));
    }
    await reader.waitFor(appended.length);
    assert.deepEqual(reader.positions, appended);
    assert.equal(await metrics.slowConsumerDisconnects(), disconnectsBefore);
    await reader.client.dispose();
  });
});
