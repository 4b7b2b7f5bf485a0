/**
 * The event store's figures on PGlite and PostgreSQL: append throughput with 1 and
 * 100 events per append, each append to a new stream with an expected-revision check, beside plain
 * INSERTs of the same rows through the same driver; then the store filled to `--events` events,
 * `readAll` throughput and `readStream` latency over random 100-event streams, and the rebuild of a
 * projection over the whole store.
 */
import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '../events/sql/database.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { START, type NewEvent, type RecordedEvent } from '../events/types.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import { sourceOf, type DocumentStore, type Projection } from '../projections/types.ts';
import { inTurn, letSignalsIn, runWorkers } from './lib/concurrency.ts';
import { openBenchDatabase } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { backendReporter, FIGURE_PREFIX, type BackendId, type BenchContext, type BenchOption } from './lib/section.ts';
import { seededRandom } from '../subgraphs/kit/random.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';
import { PayloadGenerator, benchRegistry, payloadBytes, type AirQualityObservedData, type IncidentReportedData } from './eventStore/payloads.ts';

export const name = 'eventStore';
export const description = 'appends (1 and 100 events) beside plain INSERTs, fill, readAll, readStream and a projection rebuild';

export const options: readonly BenchOption[] = [
  { name: 'writers', description: 'concurrent writers and pool size on PostgreSQL (PGlite is one session)', default: 4, quick: 4 },
  { name: 'batch1Appends', description: 'one-event appends timed (and as many one-row INSERTs)', default: 5_000, quick: 500 },
  { name: 'batch100Appends', description: '100-event appends timed (and as many 100-row INSERTs)', default: 1_000, quick: 100 },
  { name: 'pageSize', description: 'events per readAll page', default: 1_000, quick: 1_000 },
  { name: 'streamReads', description: 'readStream calls timed for p50/p99', default: 3_000, quick: 500 },
];

/** The targets, against PostgreSQL on this 2-core machine; PGlite is reported without targets. */
const POSTGRES_TARGETS: Record<string, readonly Target[]> = {
  'append.batch100.events_per_s': [
    { on: 'value', op: '>=', threshold: 30_000 },
    { on: 'ratio', op: '>=', threshold: 1 / 1.5 },
  ],
  'rebuild.events_per_s': [{ on: 'value', op: '>=', threshold: 20_000 }],
  'readStream.p50_ms': [{ on: 'value', op: '<=', threshold: 1 }],
  'readStream.p99_ms': [{ on: 'value', op: '<=', threshold: 10 }],
};

const STREAM_LENGTH = 100;
/** Untimed calls before each kind of timing: connections, plan caches and the JIT warm up first. */
const WARMUP = 50;
const COMPARISON_ROUNDS = 4;

/**
 * The baseline: the same columns and types as `es_events` (identity key, transaction id and time
 * defaults), without the unique event id, the unique (stream, revision), the position index, the
 * streams table, the append-only trigger or any check.
 */
const PLAIN_TABLE = /* sql */ `
CREATE TABLE bench_plain_events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text NOT NULL,
  stream_revision integer NOT NULL,
  event_id        uuid NOT NULL,
  type            text NOT NULL,
  schema_version  integer NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
)`;

const insertSql = new Map<number, string>();
/** A multi-row INSERT of `rows` events (one row for a single event), cached per size like a driver would. */
function plainInsertSql(rows: number): string {
  let sql = insertSql.get(rows);
  if (!sql) {
    const tuples = Array.from({ length: rows }, (_, i) => {
      const p = i * 7;
      return `($${p + 1}, $${p + 2}, $${p + 3}::uuid, $${p + 4}, $${p + 5}, $${p + 6}::jsonb, $${p + 7}::jsonb)`;
    });
    sql = `INSERT INTO bench_plain_events (stream_id, stream_revision, event_id, type, schema_version, data, metadata) VALUES ${tuples.join(', ')}`;
    insertSql.set(rows, sql);
  }
  return sql;
}

async function insertPlain(db: SqlDatabase, streamId: string, events: readonly NewEvent[]): Promise<void> {
  const params: unknown[] = [];
  events.forEach((e, revision) => {
    params.push(streamId, revision, randomUUID(), e.type, 1, JSON.stringify(e.data), JSON.stringify(e.metadata));
  });
  await db.query(plainInsertSql(events.length), params);
}

/** Runs appends `from … to - 1` on `writers` workers; returns the elapsed milliseconds. */
async function timeAppends(
  signal: AbortSignal,
  range: { from: number; to: number },
  writers: number,
  append: (i: number) => Promise<unknown>,
): Promise<number> {
  const clock = stopwatch();
  await runWorkers(
    range.to - range.from,
    writers,
    async (i) => {
      await append(range.from + i);
    },
    signal,
  );
  return clock.elapsedMs();
}

/**
 * Ours and the baseline in alternating rounds (and alternating order), so a checkpoint or another
 * process's burst on this shared machine weighs on both alike. Returns events per second of each.
 */
async function compareAppends(
  signal: AbortSignal,
  appends: number,
  writers: number,
  eventsPerAppend: number,
  ours: (i: number) => Promise<unknown>,
  baseline: (i: number) => Promise<unknown>,
): Promise<{ ours: number; baseline: number }> {
  const rounds = Math.min(COMPARISON_ROUNDS, appends);
  let oursMs = 0;
  let baselineMs = 0;
  for (let r = 0; r < rounds; r++) {
    const range = { from: Math.floor((r * appends) / rounds), to: Math.floor(((r + 1) * appends) / rounds) };
    await inTurn(
      r,
      async () => (baselineMs += await timeAppends(signal, range, writers, baseline)),
      async () => (oursMs += await timeAppends(signal, range, writers, ours)),
    );
  }
  const events = appends * eventsPerAppend;
  return { ours: perSecond(events, oursMs), baseline: perSecond(events, baselineMs) };
}

async function countEvents(db: SqlDatabase): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events');
  return Number(rows[0]?.n ?? 0);
}

/**
 * Payloads are generated before any timing and cycled: what is measured is the store and the
 * driver, not the generator (the database has no reason to care that two readings are alike).
 */
interface Payloads {
  incidents: readonly NewEvent[];
  readings: readonly (readonly NewEvent[])[];
}

export async function run(ctx: BenchContext): Promise<void> {
  const registry = benchRegistry();
  const generator = new PayloadGenerator(1);
  const payloads: Payloads = {
    incidents: Array.from({ length: 1_000 }, (_, i) => generator.incidentReported(i)),
    readings: Array.from({ length: 64 }, (_, station) => generator.airQualityReadings(station, STREAM_LENGTH)),
  };
  const air = payloadBytes(payloads.readings.flat());
  const incidents = payloadBytes(payloads.incidents);
  ctx.fact(
    'payloads',
    `AirQualityObserved ${air.data} B data + ${air.metadata} B metadata; IncidentReported ${incidents.data} B + ${incidents.metadata} B (JSON, mean)`,
  );

  for (const backend of ctx.backends) {
    const writers = backend === 'postgres' ? ctx.size('writers') : 1;
    ctx.signal.throwIfAborted();
    const opened = await openBenchDatabase(ctx, backend, writers);
    const store = await SqlEventStore.open(opened.db, registry);
    try {
      ctx.log(`${FIGURE_PREFIX[backend]}: ${opened.location}, ${writers} writer${writers === 1 ? '' : 's'}`);
      await measure(ctx, { backend, store, db: opened.db, writers, payloads });
    } finally {
      await store.close();
      // Released as soon as this store is measured: two 1M-event stores need not coexist.
      await opened.dispose();
    }
  }
}

interface Subject {
  backend: BackendId;
  store: SqlEventStore;
  db: SqlDatabase;
  writers: number;
  payloads: Payloads;
}

async function measure(ctx: BenchContext, { backend, store, db, writers, payloads }: Subject): Promise<void> {
  const prefix = FIGURE_PREFIX[backend];
  await db.exec(PLAIN_TABLE);

  const report = backendReporter(ctx, backend, POSTGRES_TARGETS);
  const incidentStream = (set: string, i: number) => `urban.incident-${set}${i}`;
  const stationStream = (set: string, i: number) => `environment.station-${set}${i}`;
  const incident = (i: number) => payloads.incidents[i % payloads.incidents.length]!;
  const readings = (i: number) => payloads.readings[i % payloads.readings.length]!;

  await compareAppends(
    ctx.signal,
    WARMUP,
    writers,
    1,
    (i) => store.append(incidentStream('w', i), [incident(i)], { expectedRevision: 'no_stream' }),
    (i) => insertPlain(db, incidentStream('w', i), [incident(i)]),
  );

  const batch1 = await compareAppends(
    ctx.signal,
    ctx.size('batch1Appends'),
    writers,
    1,
    (i) => store.append(incidentStream('m', i), [incident(i)], { expectedRevision: 'no_stream' }),
    (i) => insertPlain(db, incidentStream('m', i), [incident(i)]),
  );
  report('append.batch1.events_per_s', batch1.ours, { key: 'baseline.insert.batch1.events_per_s', value: batch1.baseline });
  ctx.log(`${prefix}: 1 event per append: ${batch1.ours.toFixed(0)} events/s, plain INSERT ${batch1.baseline.toFixed(0)} events/s`);

  const batch100Appends = ctx.size('batch100Appends');
  const batch100 = await compareAppends(
    ctx.signal,
    batch100Appends,
    writers,
    STREAM_LENGTH,
    (i) => store.append(stationStream('m', i), readings(i), { expectedRevision: 'no_stream' }),
    (i) => insertPlain(db, stationStream('m', i), readings(i)),
  );
  report('append.batch100.events_per_s', batch100.ours, { key: 'baseline.insert.batch100.events_per_s', value: batch100.baseline });
  ctx.log(`${prefix}: 100 events per append: ${batch100.ours.toFixed(0)} events/s, plain INSERT ${batch100.baseline.toFixed(0)} events/s`);
  await db.exec('DROP TABLE bench_plain_events');

  // Fill to the target size with the store's own append, 100 events to a new stream each.
  const target = ctx.size('events');
  const fillAppends = Math.max(0, Math.ceil((target - (await countEvents(db))) / STREAM_LENGTH));
  if (fillAppends > 0) {
    const progress = ctx.progress(`${prefix} fill`, fillAppends * STREAM_LENGTH);
    const fillMs = await timeAppends(ctx.signal, { from: 0, to: fillAppends }, writers, async (i) => {
      await store.append(stationStream('f', i), readings(i), { expectedRevision: 'no_stream' });
      progress.increment(STREAM_LENGTH);
    });
    progress.stop();
    report('fill.events_per_s', perSecond(fillAppends * STREAM_LENGTH, fillMs));
  }
  await db.exec('ANALYZE es_events; ANALYZE es_streams');
  const total = await countEvents(db);
  report('store.events', total);

  // readAll: everything, page after page, each from the last position the previous one returned.
  const pageSize = ctx.size('pageSize');
  const scan = ctx.progress(`${prefix} readAll`, total);
  const clock = stopwatch();
  let read = 0;
  let from = START;
  for (;;) {
    await letSignalsIn();
    ctx.signal.throwIfAborted();
    const page = await store.readAll({ fromPosition: from, limit: pageSize });
    read += page.length;
    scan.increment(page.length);
    if (page.length < pageSize) break;
    from = page[page.length - 1]!.position;
  }
  const readAllRate = perSecond(read, clock.elapsedMs());
  scan.stop();
  if (read !== total) throw new Error(`readAll returned ${read} events of the ${total} stored: the scan lost or repeated events`);
  report('readAll.events_per_s', readAllRate);

  // readStream: random 100-event streams (those timed above and the fill's), one reader.
  const streams = batch100Appends + fillAppends;
  const pickStream = (k: number) => (k < batch100Appends ? stationStream('m', k) : stationStream('f', k - batch100Appends));
  const random = seededRandom(42);
  const readOne = async (streamId: string) => {
    const events = await store.readStream(streamId);
    if (events.length !== STREAM_LENGTH) throw new Error(`readStream(${streamId}) returned ${events.length} events, expected ${STREAM_LENGTH}`);
  };
  const reads = ctx.size('streamReads');
  const latencies = new Latencies(reads);
  for (let i = -WARMUP; i < reads; i++) {
    await letSignalsIn();
    ctx.signal.throwIfAborted();
    const streamId = pickStream(random.int(0, streams - 1));
    if (i < 0) await readOne(streamId);
    else await latencies.time(() => readOne(streamId));
  }
  const [p50, p99] = latencies.percentiles(50, 99);
  report('readStream.p50_ms', p50!);
  report('readStream.p99_ms', p99!);
  ctx.log(`${prefix}: readAll ${readAllRate.toFixed(0)} events/s; readStream p50 ${p50!.toFixed(2)} ms, p99 ${p99!.toFixed(2)} ms`);

  ctx.signal.throwIfAborted();
  const rebuildRate = await measureRebuild(ctx, `${prefix} rebuild`, db, store, total);
  report('rebuild.events_per_s', rebuildRate, { key: 'baseline.readAll.events_per_s', value: readAllRate });
  ctx.log(`${prefix}: rebuild ${rebuildRate.toFixed(0)} events/s into read models (readAll alone ${readAllRate.toFixed(0)} events/s)`);
}

/**
 * A read model shaped like the domains' (one document per station with its latest reading, one per
 * incident), so the rebuild pays for JSON documents, per-field provenance and checkpoints.
 */
const latestByStream: Projection = {
  name: 'bench.latest',
  version: 1,
  eventTypes: ['AirQualityObserved', 'IncidentReported'],
  indexes: [{ collection: 'stations', fields: ['divisionCode'] }],
  async apply(event: RecordedEvent, store: DocumentStore) {
    const source = sourceOf(event);
    if (event.type === 'AirQualityObserved') {
      const data = event.data as AirQualityObservedData;
      await store.collection('stations').patch(data.stationId, { divisionCode: data.divisionCode, aqi: data.aqi, observedAt: data.observedAt }, source);
    } else {
      const data = event.data as IncidentReportedData;
      await store.collection('incidents').upsert(data.incidentId, { category: data.category, channel: data.channel, reportedAt: data.reportedAt }, source);
    }
  },
};

/** A rebuild from position 0 of the whole store, through the production runner and batch size. */
async function measureRebuild(ctx: BenchContext, label: string, db: SqlDatabase, store: SqlEventStore, total: number): Promise<number> {
  const progress = ctx.progress(label, total);
  const runner = new ProjectionRunner(db, store, [latestByStream], { onProgress: (p) => progress.increment(p.applied) });
  const clock = stopwatch();
  try {
    await runner.catchUp();
  } finally {
    progress.stop();
    await runner.stop();
  }
  return perSecond(total, clock.elapsedMs());
}
