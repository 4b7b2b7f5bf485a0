/**
 * The environment subgraph's figures (issue 6): the ingest rate of hourly air-quality observations
 * through the command path, the catch-up time of the districts' daily-ranking projection over the
 * whole history, and the latency of the ranking query the resolvers run.
 */
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { EventRegistry } from '../events/registry.ts';
import type { EventMetadata } from '../events/types.ts';
import { ReadModels } from '../projections/readModels.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import { environmentModule } from '../subgraphs/environment/index.ts';
import { RANKING_PROJECTION, RANKINGS, rankingProjection, type RankingDoc } from '../subgraphs/environment/readModels/ranking.ts';
import { addDays, canonicalInstant, chinaMidnight, HOUR_MS } from '../subgraphs/environment/shared/time.ts';
import { AirQualitySimulator } from '../subgraphs/environment/simulation.ts';
import type { StationKind } from '../subgraphs/environment/station/events.ts';
import { recordAirQualityObservations, registerMonitoringStation, type CommandPorts, type ObservationInput } from '../subgraphs/environment/station/handlers.ts';
import { runWorkers } from './lib/concurrency.ts';
import { openPglite, openPostgres } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { seededRandom } from './lib/random.ts';
import type { BackendId, BenchContext, BenchOption } from './lib/section.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';

export const name = 'environment';
export const description = 'hourly air-quality ingest through the command path, the daily-ranking projection\'s catch-up, the ranking query';

export const options: readonly BenchOption[] = [
  { name: 'stations', description: 'monitoring stations (a quarter national, a quarter provincial, half micro, over the 12 districts)', default: 500, quick: 50 },
  { name: 'days', description: 'days of hourly observations per station', default: 365, quick: 7 },
  { name: 'ingestWriters', description: 'concurrent command writers and pool size on PostgreSQL (PGlite is one session)', default: 4, quick: 4 },
  { name: 'rankingQueries', description: 'ranking queries timed for p50/p99', default: 3_000, quick: 300 },
];

/** Issue 6's targets, against PostgreSQL on this 2-core machine; PGlite is reported without targets. */
const POSTGRES_TARGETS: Record<string, readonly Target[]> = {
  'env.ingest.observations_per_s': [{ on: 'value', op: '>=', threshold: 20_000 }],
  'env.rankingQuery.p99_ms': [{ on: 'value', op: '<=', threshold: 20 }],
};

const FIGURE_PREFIX: Record<BackendId, string> = { postgres: 'pg', pglite: 'pglite' };
const DISTRICTS = ['370102', '370103', '370104', '370105', '370112', '370113', '370114', '370115', '370116', '370117', '370124', '370126'];
const KINDS: readonly StationKind[] = ['NATIONAL', 'PROVINCIAL', 'MICRO', 'MICRO'];
const FIRST_DATE = '2025-01-01';
const WARMUP = 50;

const metadata: EventMetadata = {
  provenance: { department: '市生态环境局', system: '环境空气质量监测网', channel: 'bench', collectedAt: new Date().toISOString() },
  actor: { consumerId: 'bench', role: 'system' },
  correlationId: 'bench:environment',
};

export async function run(ctx: BenchContext): Promise<void> {
  const stationCount = ctx.size('stations');
  const days = ctx.size('days');
  const simulator = new AirQualitySimulator(6, [{ from: chinaMidnight('2025-01-10'), to: chinaMidnight('2025-01-14'), peak: 3.5 }]);
  const stations = Array.from({ length: stationCount }, (_, index) => ({
    index,
    stationId: `bench-${index}`,
    kind: KINDS[index % KINDS.length]!,
    districtCode: DISTRICTS[index % DISTRICTS.length]!,
    districtFactor: 0.85 + 0.45 * ((index * 7) % 10) / 10,
    micro: KINDS[index % KINDS.length] === 'MICRO',
  }));
  ctx.fact('environment data', `${stationCount} stations × ${days} days × 24 h = ${stationCount * days * 24} observations, one command per station-day (24 events)`);

  for (const backend of ctx.backends) {
    const prefix = FIGURE_PREFIX[backend];
    const report = (key: string, value: number) => {
      const targets = backend === 'postgres' ? POSTGRES_TARGETS[key] : undefined;
      ctx.report({ backend: prefix, key, value, ...(targets && { targets }) });
    };
    const writers = backend === 'postgres' ? ctx.size('ingestWriters') : 1;
    ctx.signal.throwIfAborted();
    const opened = backend === 'pglite' ? await openPglite(ctx.defer) : await openPostgres(ctx.defer, writers + 1);
    for (const [fact, value] of Object.entries(opened.facts)) ctx.fact(fact, value);
    const store = await SqlEventStore.open(opened.db, new EventRegistry().registerAll(environmentModule.eventTypes));
    try {
      const ports: CommandPorts = { store, metadata, now: new Date().toISOString() };
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

      // Ingest: a day at a time, each station's 24 hours as one command; inputs are generated untimed.
      const progress = ctx.progress(`${prefix} ingest`, stationCount * days * 24);
      let ingestMs = 0;
      for (let d = 0; d < days; d++) {
        const midnight = chinaMidnight(addDays(FIRST_DATE, d));
        const inputs = stations.map((s) =>
          Array.from({ length: 24 }, (_, h): ObservationInput => {
            const ms = midnight + (h + 1) * HOUR_MS;
            return { hour: canonicalInstant(ms), ...simulator.hour(s, ms) };
          }),
        );
        const clock = stopwatch();
        await runWorkers(stationCount, writers, async (i) => {
          await recordAirQualityObservations(ports, stations[i]!.stationId, inputs[i]!);
          progress.increment(24);
        }, ctx.signal);
        ingestMs += clock.elapsedMs();
      }
      progress.stop();
      const observations = stationCount * days * 24;
      report('env.ingest.observations', observations);
      report('env.ingest.observations_per_s', perSecond(observations, ingestMs));

      // The ranking projection alone, from position 0 over everything ingested.
      const catchUp = ctx.progress(`${prefix} ranking catch-up`, observations + stationCount);
      const runner = new ProjectionRunner(opened.db, store, [rankingProjection], { onProgress: (p) => catchUp.increment(p.applied) });
      const clock = stopwatch();
      try {
        await runner.catchUp();
      } finally {
        catchUp.stop();
        await runner.stop();
      }
      const catchUpMs = clock.elapsedMs();
      report('env.rankingCatchUp.s', catchUpMs / 1000);
      report('env.rankingCatchUp.events_per_s', perSecond(observations + stationCount, catchUpMs));

      // The query behind `airQualityRanking(date)` and `Division.airQuality(date)`: one document per date.
      const rankings = new ReadModels(opened.db).of(RANKING_PROJECTION).collection<RankingDoc>(RANKINGS);
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
    } finally {
      await store.close();
      await opened.dispose();
    }
  }
}
