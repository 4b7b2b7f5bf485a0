/**
 * The environment subgraph's figures: the ingest rate of hourly air-quality observations
 * through the batch command path (beside the same appends written raw, the store's ceiling, and
 * beside the one-command-per-station-day path), the catch-up time of the districts' daily-ranking
 * projection over the whole history (beside reading the same events alone), and the latency of the
 * ranking query the resolvers run.
 */
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { EventRegistry } from '../events/registry.ts';
import type { EventMetadata, EventStore, Position, StreamAppend } from '../events/types.ts';
import { SqlReadModels } from '../projections/sql/readModels.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import { environmentModule } from '../subgraphs/environment/index.ts';
import { RANKING_PROJECTION, RANKINGS, rankingProjection, type RankingDoc } from '../subgraphs/environment/readModels/ranking.ts';
import { addDays, canonicalInstant, chinaMidnight, HOUR_MS } from '../subgraphs/kit/calendar.ts';
import { AirQualitySimulator } from '../subgraphs/environment/simulation.ts';
import { airQualityStreamId, type StationKind } from '../subgraphs/environment/station/events.ts';
import {
  ingestAirQualityObservations,
  recordAirQualityObservations,
  registerMonitoringStation,
  type CommandPorts,
  type ObservationInput,
} from '../subgraphs/environment/station/handlers.ts';
import { DISTRICT_CODES } from './lib/city.ts';
import { inTurn, runWorkers } from './lib/concurrency.ts';
import { openBenchDatabase, type BenchDatabase } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { seededRandom } from '../subgraphs/kit/random.ts';
import { backendReporter, FIGURE_PREFIX, type BackendId, type BenchContext, type BenchOption } from './lib/section.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';

export const name = 'environment';
export const description =
  'hourly air-quality ingest through the batch command path (beside raw appendMany and one command per station-day), the daily-ranking projection\'s catch-up (beside readAll), the ranking query';

export const options: readonly BenchOption[] = [
  { name: 'stations', description: 'monitoring stations (a quarter national, a quarter provincial, half micro, over the 12 districts)', default: 500, quick: 50 },
  { name: 'days', description: 'days of hourly observations per station', default: 365, quick: 7 },
  { name: 'ingestBatch', description: 'stations per ingest batch (each with its 24 hours of the day): one transaction', default: 100, quick: 25 },
  { name: 'ingestWriters', description: 'concurrent batch writers and pool size on PostgreSQL (PGlite is one session)', default: 4, quick: 4 },
  { name: 'stationDayDays', description: 'days also ingested one command per station-day, for comparison (into a store of their own)', default: 7, quick: 2 },
  { name: 'rankingQueries', description: 'ranking queries timed for p50/p99', default: 3_000, quick: 300 },
];

/** The targets, against PostgreSQL on this 2-core machine; PGlite is reported without targets. */
const POSTGRES_TARGETS: Record<string, readonly Target[]> = {
  'env.ingest.observations_per_s': [{ on: 'value', op: '>=', threshold: 20_000 }],
  'env.rankingQuery.p99_ms': [{ on: 'value', op: '<=', threshold: 20 }],
};

const KINDS: readonly StationKind[] = ['NATIONAL', 'PROVINCIAL', 'MICRO', 'MICRO'];
const FIRST_DATE = '2025-01-01';
const WARMUP = 50;
/** Events per read, as the projection runner reads them. */
const PAGE = 500;
const EVENT_TYPES = ['MonitoringStationRegistered', 'AirQualityObserved', 'AirQualityObservationCorrected'];

const metadata: EventMetadata = {
  provenance: { department: '市生态环境局', system: '环境空气质量监测网', channel: 'bench', collectedAt: new Date().toISOString() },
  actor: { consumerId: 'bench', role: 'system' },
  correlationId: 'bench:environment',
};

interface BenchStation {
  index: number;
  stationId: string;
  kind: StationKind;
  districtCode: string;
  districtFactor: number;
  micro: boolean;
}

interface BenchStore {
  opened: BenchDatabase;
  store: SqlEventStore;
  /** Closes the store and drops its database (once; also at the end of the section, or on Ctrl-C). */
  dispose(): Promise<void>;
}

async function openStore(backend: BackendId, ctx: BenchContext, poolSize: number): Promise<BenchStore> {
  const opened = await openBenchDatabase(ctx, backend, poolSize);
  const store = await SqlEventStore.open(opened.db, new EventRegistry().registerAll(environmentModule.eventTypes));
  const close = ctx.defer(() => store.close());
  return {
    opened,
    store,
    async dispose() {
      await close();
      await opened.dispose();
    },
  };
}

async function registerAll(ports: CommandPorts, stations: readonly BenchStation[]): Promise<void> {
  for (const s of stations) {
    await registerMonitoringStation(ports, {
      stationId: s.stationId,
      code: `B${s.index}`,
      name: `bench station ${s.index}`,
      kind: s.kind,
      divisionCode: s.districtCode,
      location: { longitude: 117 + (s.index % 50) / 100, latitude: 36.5 + (s.index % 30) / 100 },
    });
  }
}

/** Reads every event the ranking projection handles, page after page as the runner does; returns how many. */
async function readAllOfProjection(store: EventStore): Promise<number> {
  let count = 0;
  let fromPosition: Position | undefined;
  for (;;) {
    const page = await store.readAll({ limit: PAGE, filter: { types: EVENT_TYPES }, ...(fromPosition !== undefined && { fromPosition }) });
    count += page.length;
    if (page.length < PAGE) return count;
    fromPosition = page.at(-1)!.position;
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const stationCount = ctx.size('stations');
  const days = ctx.size('days');
  const batchSize = ctx.size('ingestBatch');
  const stationDayDays = Math.min(days, ctx.size('stationDayDays'));
  const simulator = new AirQualitySimulator(6, [{ from: chinaMidnight('2025-01-10'), to: chinaMidnight('2025-01-14'), peak: 3.5 }]);
  const stations: BenchStation[] = Array.from({ length: stationCount }, (_, index) => ({
    index,
    stationId: `bench-${index}`,
    kind: KINDS[index % KINDS.length]!,
    districtCode: DISTRICT_CODES[index % DISTRICT_CODES.length]!,
    districtFactor: 0.85 + (0.45 * ((index * 7) % 10)) / 10,
    micro: KINDS[index % KINDS.length] === 'MICRO',
  }));
  const batches = Array.from({ length: Math.ceil(stationCount / batchSize) }, (_, b) => stations.slice(b * batchSize, (b + 1) * batchSize));
  ctx.fact(
    'environment data',
    `${stationCount} stations × ${days} days × 24 h = ${stationCount * days * 24} observations, ingested a day at a time in batches of ${batchSize} stations (${batchSize * 24} observations per transaction)`,
  );
  /** A day's 24 hours of every station, generated before the day is timed. */
  const dayInputs = (d: number): ObservationInput[][] => {
    const midnight = chinaMidnight(addDays(FIRST_DATE, d));
    return stations.map((s) =>
      Array.from({ length: 24 }, (_, h): ObservationInput => {
        const ms = midnight + (h + 1) * HOUR_MS;
        return { hour: canonicalInstant(ms), ...simulator.hour(s, ms) };
      }),
    );
  };

  for (const backend of ctx.backends) {
    const prefix = FIGURE_PREFIX[backend];
    const report = backendReporter(ctx, backend, POSTGRES_TARGETS);
    const writers = backend === 'postgres' ? ctx.size('ingestWriters') : 1;
    ctx.signal.throwIfAborted();
    // Ours, and the raw appends in a store of their own (same server, same growing table size).
    const ours = await openStore(backend, ctx, writers + 1);
    const raw = await openStore(backend, ctx, writers + 1);
    const { store } = ours;
    const ports: CommandPorts = { store, metadata, now: new Date().toISOString() };
    await registerAll(ports, stations);
    await registerAll({ ...ports, store: raw.store }, stations);

    // Ingest, a day at a time: ours (read every registration and station-day of a batch in one round
    // trip, decide, appendMany) and the same appends written raw, in alternating order.
    const observations = stationCount * days * 24;
    const progress = ctx.progress(`${prefix} ingest (batch commands and raw appendMany)`, 2 * observations);
    let oursMs = 0;
    let rawMs = 0;
    for (let d = 0; d < days; d++) {
      const inputs = dayInputs(d);
      const date = addDays(FIRST_DATE, d);
      const rawBatches: StreamAppend[][] = batches.map((batch) =>
        batch.map((s) => ({
          streamId: airQualityStreamId(s.stationId, date),
          events: inputs[s.index]!.map(({ hour, ...values }) => ({ type: 'AirQualityObserved', data: { stationId: s.stationId, hour, ...values }, metadata })),
          options: { expectedRevision: 'no_stream' as const },
        })),
      );
      const timeOurs = async () => {
        const clock = stopwatch();
        await runWorkers(batches.length, writers, async (b) => {
          const batch = batches[b]!;
          await ingestAirQualityObservations(ports, batch.map((s) => ({ stationId: s.stationId, observations: inputs[s.index]! })));
          progress.increment(batch.length * 24);
        }, ctx.signal);
        oursMs += clock.elapsedMs();
      };
      const timeRaw = async () => {
        const clock = stopwatch();
        await runWorkers(rawBatches.length, writers, async (b) => {
          await raw.store.appendMany(rawBatches[b]!);
          progress.increment(rawBatches[b]!.length * 24);
        }, ctx.signal);
        rawMs += clock.elapsedMs();
      };
      await inTurn(d, timeOurs, timeRaw);
    }
    progress.stop();
    await raw.dispose();
    report('env.ingest.observations', observations);
    const ingestRate = perSecond(observations, oursMs);
    const rawRate = perSecond(observations, rawMs);
    report('env.ingest.observations_per_s', ingestRate, { key: 'env.baseline.appendMany.observations_per_s', value: rawRate });
    ctx.log(`${prefix}: ingest ${ingestRate.toFixed(0)} observations/s through the batch commands, ${rawRate.toFixed(0)}/s raw appendMany`);

    // The same first days through one command per station-day (the path before batches), in a store of their own.
    {
      const single = await openStore(backend, ctx, writers + 1);
      const singlePorts = { ...ports, store: single.store };
      await registerAll(singlePorts, stations);
      const singleProgress = ctx.progress(`${prefix} ingest, one command per station-day`, stationCount * stationDayDays * 24);
      let singleMs = 0;
      for (let d = 0; d < stationDayDays; d++) {
        const inputs = dayInputs(d);
        const clock = stopwatch();
        await runWorkers(stationCount, writers, async (i) => {
          await recordAirQualityObservations(singlePorts, stations[i]!.stationId, inputs[i]!);
          singleProgress.increment(24);
        }, ctx.signal);
        singleMs += clock.elapsedMs();
      }
      singleProgress.stop();
      await single.dispose();
      report('env.ingest.stationDayCommands.observations_per_s', perSecond(stationCount * stationDayDays * 24, singleMs));
    }

    // The ranking projection alone, from position 0 over everything ingested, beside reading the same events alone.
    const events = observations + stationCount;
    const readClock = stopwatch();
    const read = await readAllOfProjection(store);
    const readMs = readClock.elapsedMs();
    if (read !== events) throw new Error(`readAll returned ${read} events, expected ${events}`);
    const catchUp = ctx.progress(`${prefix} ranking catch-up`, events);
    const runner = new ProjectionRunner(ours.opened.db, store, [rankingProjection], { onProgress: (p) => catchUp.increment(p.applied) });
    const clock = stopwatch();
    try {
      await runner.catchUp(24 * 3_600_000);
    } finally {
      catchUp.stop();
      await runner.stop();
    }
    const catchUpMs = clock.elapsedMs();
    report('env.rankingCatchUp.s', catchUpMs / 1000);
    report('env.rankingCatchUp.events_per_s', perSecond(events, catchUpMs), { key: 'env.baseline.readAll.events_per_s', value: perSecond(events, readMs) });

    // The query behind `airQualityRanking(date)` and `Division.airQuality(date)`: one document per date.
    const rankings = new SqlReadModels(ours.opened.db).of(RANKING_PROJECTION).collection<RankingDoc>(RANKINGS);
    const random = seededRandom(6);
    const queries = ctx.size('rankingQueries');
    const latencies = new Latencies(queries);
    let ranked = 0;
    for (let q = 0; q < WARMUP + queries; q++) {
      const date = addDays(FIRST_DATE, random.int(0, days - 1));
      const start = performance.now();
      const doc = await rankings.get(date);
      if (q >= WARMUP) latencies.add(performance.now() - start);
      if (doc?.doc.districts.some((r) => r.rank !== null)) ranked++;
    }
    if (ranked === 0) throw new Error('no ranking was found: the projection did not rank any district');
    const [p50, p99] = latencies.percentiles(50, 99);
    report('env.rankingQuery.p50_ms', p50!);
    report('env.rankingQuery.p99_ms', p99!);
    await ours.dispose();
  }
}
