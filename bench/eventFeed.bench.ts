/**
 * The generic event feed under load (issue 9): `subscribers` graphql-ws clients of one gateway
 * process (governance subgraph behind it, PGlite) follow `Subscription.events` while events are
 * appended at `rate` per second for `seconds`. Reports append-to-delivery latency p50/p99 (the
 * payload carries the append instant) and the messages lost (expected − received, over every
 * subscriber). Every subscriber has its own store subscription and every delivered event reloads
 * its consumer's grants and writes an access record, so the cost grows with subscribers × rate.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { z } from 'zod';
import type { EventTypeDefinition } from '../events/registry.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import type { SubgraphModule } from '../subgraphs/kit/module.ts';
import { testMetadata } from '../test/helpers/events.ts';
import { openTestRuntime, startTestGraph } from '../test/helpers/graph.ts';
import type { BenchContext, BenchOption } from './lib/section.ts';
import { Latencies } from './lib/stats.ts';

export const name = 'eventFeed';
export const description =
  'generic event feed: N graphql-ws subscribers on one gateway receiving R events/s; append-to-delivery p50/p99 and messages lost (PGlite)';

export const options: readonly BenchOption[] = [
  { name: 'feedSubscribers', description: 'concurrent subscribers of Subscription.events', default: 1000, quick: 10 },
  { name: 'feedRate', description: 'events appended per second', default: 500, quick: 50 },
  { name: 'feedSeconds', description: 'seconds of appending', default: 10, quick: 2 },
];

const BENCH_EVENTS: readonly EventTypeDefinition[] = [
  { type: 'FeedBenchTicked', schemaVersion: 1, schema: z.object({ n: z.number().int(), sentAt: z.number() }) },
];
const feedModule: SubgraphModule = { ...governanceModule, eventTypes: [...governanceModule.eventTypes, ...BENCH_EVENTS] };
const QUERY = 'subscription { events(filter: { domains: ["population"] }) { position payload } }';

export async function run(ctx: BenchContext): Promise<void> {
  const subscribers = ctx.size('feedSubscribers');
  const rate = ctx.size('feedRate');
  const seconds = ctx.size('feedSeconds');
  const runtime = await openTestRuntime([feedModule]);
  const graph = await startTestGraph({ modules: [feedModule], runtime });
  ctx.defer(async () => {
    await graph.close();
    await runtime.close();
  });
  await graph.grant('bench-feed', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
  const token = await graph.tokenFor('bench-feed', 'partner');
  await graph.gql('{ catalog(first: 1) { totalCount } }', {}, token);

  const latencies = new Latencies(subscribers * rate * seconds);
  let received = 0;
  const clients: Client[] = [];
  const started: Promise<void>[] = [];
  for (let i = 0; i < subscribers; i++) {
    const client = createClient({ url: graph.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    clients.push(client);
    started.push(new Promise<void>((resolve) => client.on('connected', () => resolve())));
    client.subscribe<{ events: { payload: { sentAt: number } } | null }>(
      { query: QUERY },
      {
        next: (result) => {
          const sentAt = result.data?.events?.payload.sentAt;
          if (sentAt === undefined) return;
          received++;
          latencies.add(Date.now() - sentAt);
        },
        error: (error: unknown) => ctx.log(`a subscriber failed: ${String(error)}`),
        complete: () => undefined,
      },
    );
  }
  ctx.defer(async () => {
    for (const client of clients) await client.dispose();
  });
  await Promise.all(started);
  // Each subscription starts at the head when it reaches the subgraph: let every one get there.
  await new Promise((r) => setTimeout(r, 1000 + subscribers * 5));
  ctx.log(`${subscribers} subscribers connected; appending ${rate} events/s for ${seconds} s`);

  const total = rate * seconds;
  const intervalMs = 1000 / rate;
  const start = Date.now();
  for (let n = 0; n < total; n++) {
    const due = start + n * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void runtime.runtime.store.append(`population.bench-${n % 50}`, [{ type: 'FeedBenchTicked', data: { n, sentAt: Date.now() }, metadata: testMetadata }]);
  }
  const expected = total * subscribers;
  const deadline = Date.now() + 30_000;
  while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const [p50, p99] = latencies.percentiles(50, 99);
  ctx.fact('eventFeed.subscribers', String(subscribers));
  ctx.fact('eventFeed.rate', `${rate} events/s for ${seconds} s`);
  ctx.report({ backend: 'pglite', key: 'eventFeed.delivery.p50_ms', value: p50 ?? NaN });
  ctx.report({ backend: 'pglite', key: 'eventFeed.delivery.p99_ms', value: p99 ?? NaN, targets: [{ on: 'value', op: '<=', threshold: 250 }] });
  ctx.report({ backend: 'pglite', key: 'eventFeed.lost_messages', value: expected - received, targets: [{ on: 'value', op: '<=', threshold: 0 }] });
}
