/**
 * The process's own Prometheus metrics, one registry per process, served by every `/metrics` (the
 * gateway's beside its own registry, gateway/metrics.ts; each subgraph process; the projector):
 * process stats, append latency, projection lag, the access records' group commits, the live feed,
 * and the subgraphs' requests by operation name. Names are in docs/operations.md.
 */
import type { ServerResponse } from 'node:http';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventStore } from '../events/types.ts';

export const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

/** Seconds buckets from 1 ms to 10 s: appends, commits and requests alike. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Operation names are chosen by clients: past this many distinct names a process reports the rest as
 * `other`, so a client sending random names cannot grow the series (and the scrape) without bound.
 */
export const MAX_OPERATION_NAMES = 200;
export const OTHER_OPERATIONS = 'other';
const operationNames = new Set<string>();

/** `name` as a label value: `Anonymous` for none, `other` once the budget of distinct names is spent. */
export function operationLabel(name: string | null | undefined): string {
  const label = name || 'Anonymous';
  if (operationNames.has(label)) return label;
  if (operationNames.size >= MAX_OPERATION_NAMES) return OTHER_OPERATIONS;
  operationNames.add(label);
  return label;
}

const appendDuration = new Histogram({
  name: 'city_brain_event_append_duration_seconds',
  help: 'Time an append (one stream) or appendMany (several, one transaction) took to commit, by method and backend',
  labelNames: ['method', 'backend'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [processRegistry],
});

const subgraphDuration = new Histogram({
  name: 'city_brain_subgraph_request_duration_seconds',
  help: 'Time a subgraph took to answer an HTTP GraphQL request, access record included, by subgraph, operation name and type',
  labelNames: ['subgraph', 'operation_name', 'operation_type'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [processRegistry],
});

const accessBatchSize = new Histogram({
  name: 'city_brain_access_record_batch_size',
  help: 'Access records written per group-committed append',
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
  registers: [processRegistry],
});

const accessBatchWait = new Histogram({
  name: 'city_brain_access_record_wait_seconds',
  help: "Time from a batch's oldest access record arriving to the batch being durable (the longest a served result waited for its record)",
  buckets: LATENCY_BUCKETS,
  registers: [processRegistry],
});

/** Read before every scrape. */
const collectors: (() => Promise<void> | void)[] = [];

/**
 * Sources read at scrape time. Each is held weakly (tests open many hubs) until the returned
 * function removes it (a stopped runner, whose database may be closed).
 */
function sampled<T extends object>(read: (sources: T[]) => Promise<void> | void): (source: T) => () => void {
  const sources = new Set<WeakRef<T>>();
  collectors.push(() => {
    const live: T[] = [];
    for (const ref of sources) {
      const source = ref.deref();
      if (source) live.push(source);
      else sources.delete(ref);
    }
    return read(live);
  });
  return (source) => {
    const ref = new WeakRef(source);
    sources.add(ref);
    return () => sources.delete(ref);
  };
}

/** A gauge in the process's registry (what /metrics serves). */
function processGauge<Label extends string>(name: string, help: string, labelNames: readonly Label[] = []): Gauge<Label> {
  return new Gauge({ name, help, labelNames, registers: [processRegistry] });
}

const lagEvents = processGauge('city_brain_projection_lag_events', "Events in the store after a projection's checkpoint", ['projection']);
const lagSeconds = processGauge('city_brain_projection_lag_seconds', 'Age of the oldest event a projection has not applied yet; 0 when caught up', ['projection']);
const projectionOwned = processGauge('city_brain_projection_owned', 'Whether this process owns the projection now (1) or another does (0)', ['projection']);

/** What the process reports of a projection's lag (the projector port's `ProjectionLag`; platform/ imports no projections/). */
interface Lag {
  projection: string;
  events: number;
  seconds: number;
  owned: boolean;
}

/** A projection runner whose lag the process reports (the projector; `npm start`), given to it as its `watch` option. */
export const watchProjections = sampled<{ lag(): Promise<Lag[]> }>(async (runners) => {
  for (const gauge of [lagEvents, lagSeconds, projectionOwned]) gauge.reset();
  for (const runner of runners) {
    for (const lag of await runner.lag()) {
      const labels = { projection: lag.projection };
      lagEvents.set(labels, lag.events);
      lagSeconds.set(labels, lag.seconds);
      projectionOwned.set(labels, lag.owned ? 1 : 0);
    }
  }
});

const feedSubscribers = processGauge('city_brain_feed_subscribers', 'Event feeds open now, by whether they follow the shared live reader (live) or read the store themselves (catching_up)', ['state']);
const feedBacklog = processGauge('city_brain_feed_backlog_events', 'Events read for live feeds but not yet delivered to their subscribers, summed over the feeds');

/** What an event feed hub reports (subgraphs/governance/feed/hub.ts). */
export interface FeedSource {
  /** Feeds open, and those of them taking live events from the hub. */
  feeds(): { open: number; live: number; backlog: number };
}

export const watchFeed = sampled<FeedSource>((hubs) => {
  let open = 0;
  let live = 0;
  let backlog = 0;
  for (const hub of hubs) {
    const feeds = hub.feeds();
    open += feeds.open;
    live += feeds.live;
    backlog += feeds.backlog;
  }
  feedSubscribers.set({ state: 'live' }, live);
  feedSubscribers.set({ state: 'catching_up' }, Math.max(0, open - live));
  feedBacklog.set(backlog);
});

/** One group-committed batch of access records: its size, and how long its oldest record waited (ms since `performance.now()`). */
export function observeAccessBatch(records: number, oldestSince: number): void {
  accessBatchSize.observe(records);
  accessBatchWait.observe((performance.now() - oldestSince) / 1000);
}

/** Starts timing one subgraph request; call the result with its operation once the response is ready. */
export function timeSubgraphRequest(subgraph: string): (operation: { name: string | null | undefined; type: string | undefined }) => void {
  const end = subgraphDuration.startTimer({ subgraph });
  return ({ name, type }) => end({ operation_name: operationLabel(name), operation_type: type ?? 'none' });
}

/**
 * `store` with its appends timed; every other method is the store's own. Decorated where the
 * platform opens the store, so no backend's SQL changes for it.
 */
export function timeAppends<S extends EventStore>(store: S): S {
  const timed = (method: 'append' | 'appendMany') => {
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    return (...args: unknown[]) => {
      const end = appendDuration.startTimer({ method, backend: store.backend });
      return original(...args).finally(end);
    };
  };
  // Methods bound once, so a hot read does not allocate a function per call.
  const methods = new Map<PropertyKey, unknown>([
    ['append', timed('append')],
    ['appendMany', timed('appendMany')],
  ]);
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let bound = methods.get(property);
      if (bound === undefined) methods.set(property, (bound = value.bind(target)));
      return bound;
    },
  });
}

/** The text exposition of this process's registry and any `more` (a gateway's own), for `GET /metrics`. */
export async function renderMetrics(...more: Registry[]): Promise<{ contentType: string; body: string }> {
  await Promise.all(collectors.map((collect) => collect()));
  const bodies = await Promise.all([processRegistry, ...more].map((registry) => registry.metrics()));
  return { contentType: processRegistry.contentType, body: bodies.join('\n') };
}

/** Answers `GET /metrics` with this process's metrics (and `more`). */
export async function serveMetrics(res: ServerResponse, ...more: Registry[]): Promise<void> {
  const { contentType, body } = await renderMetrics(...more);
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
