/**
 * The urban-ops figures: how fast the metrics projection catches up over a history of
 * incident events; the sustained rate of workflow commands with a fixed number of cases open at
 * once, beside a baseline of raw one-event appends at the same concurrency; and the metrics
 * projection's lag behind the writers at the target rate. The projector runs beside the writers in
 * the same process throughout.
 *
 * Every incident lives the same loop — report, register, dispatch, start, report handled, fail
 * verification, re-dispatch, start, report handled, pass verification (closed), evaluate — half of
 * them handled by a district department, half by a street, over the twelve districts. A slot whose
 * incident is evaluated opens a new one, so the open cases stay at `--open-cases`.
 */
import { comparePositions } from '../events/position.ts';
import { z } from 'zod';
import { EventRegistry, type EventTypeDefinition } from '../events/registry.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { EventMetadata, Position } from '../events/types.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import type { Actor, IncidentCommand, UnitRef } from '../subgraphs/urban-ops/incident/commands.ts';
import { incidentDecider } from '../subgraphs/urban-ops/incident/decider.ts';
import { incidentStreamId, type IncidentEvent } from '../subgraphs/urban-ops/incident/events.ts';
import { groupCommitOf } from '../subgraphs/kit/groupCommit.ts';
import { registerIncident, runIncidentCommand } from '../subgraphs/urban-ops/incidentCommands.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { levelOfCode } from '../subgraphs/urban-ops/levels.ts';
import { incidentsProjection } from '../subgraphs/urban-ops/readModels/incidentsProjection.ts';
import { DISTRICT_CODES } from './lib/city.ts';
import { inTurn, runWorkers } from './lib/concurrency.ts';
import { openBenchDatabase } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { backendReporter, FIGURE_PREFIX, type BenchContext, type BenchOption } from './lib/section.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';

export const name = 'urbanOps';
export const description = 'incident workflow commands/s with many cases open and the metrics projection\'s lag beside them; the projection\'s catch-up';

export const options: readonly BenchOption[] = [
  { name: 'incidentEvents', description: 'incident events in the history the metrics projection catches up over', default: 100_000, quick: 10_000 },
  { name: 'openCases', description: 'incidents in progress at once during the workflow runs', default: 1_000, quick: 200 },
  { name: 'workflowCommands', description: 'workflow commands timed at full speed (and as many raw appends for the baseline)', default: 20_000, quick: 2_000 },
  { name: 'workflowWriters', description: 'concurrent command writers on PostgreSQL, and the pool size less 3 (PGlite is one session)', default: 32, quick: 32 },
  { name: 'lagRate', description: 'workflow commands per second offered while the metrics lag is measured', default: 1_000, quick: 1_000 },
  { name: 'lagSeconds', description: 'seconds the metrics lag is measured at --lag-rate', default: 15, quick: 4 },
];

/** The targets, against PostgreSQL on this 2-core machine; PGlite is reported without targets. */
const POSTGRES_TARGETS: Record<string, readonly Target[]> = {
  'urban.workflow.commands_per_s': [{ on: 'value', op: '>=', threshold: 1_000 }],
  'urban.metricsLag.max_ms': [{ on: 'value', op: '<=', threshold: 1_000 }],
};

/** The commands of one incident's life, in order; a slot starts its next incident after the last. */
const LIFE = ['report', 'register', 'dispatch', 'start', 'handled', 'fail', 'dispatch', 'start', 'handled', 'pass', 'evaluate'] as const;
const EVENTS_PER_LIFE = 12; // the passed verification also closes the case
const LAG_SAMPLE_MS = 200;
/** Ours and the baseline alternate in this many rounds, so background load weighs on both alike. */
const COMPARISON_ROUNDS = 4;

const metadata: EventMetadata = {
  provenance: { department: '城市运行管理服务中心', system: 'urban-ops', channel: 'bench', collectedAt: new Date().toISOString() },
  actor: { consumerId: 'bench', role: 'system' },
  correlationId: 'bench:urban-ops',
};

/** Where slot `slot`'s incidents happen and who handles them. */
function placeOf(slot: number): { community: string; centre: Actor; unit: UnitRef; unitActor: Actor } {
  const district = DISTRICT_CODES[slot % DISTRICT_CODES.length]!;
  const street = `${district}${String(1 + (slot % 3)).padStart(3, '0')}`;
  const community = `${street}${String(1 + (slot % 2)).padStart(3, '0')}`;
  const unitDivision = slot % 2 === 0 ? district : street;
  const unit: UnitRef = { unitId: `unit-${unitDivision}`, unitName: `bench unit ${unitDivision}`, divisionCode: unitDivision };
  return {
    community,
    centre: { level: 'DISTRICT', divisionCode: district },
    unit,
    unitActor: { level: levelOfCode(unitDivision), divisionCode: unitDivision, unitId: unit.unitId },
  };
}

type Step = (typeof LIFE)[number];

/** The command of `step` for incident `incidentId` of `slot` (registration's serial is the caller's). */
function commandOf(step: Exclude<Step, 'register'>, slot: number, incidentId: string, now: string): Exclude<IncidentCommand, { type: 'registerIncident' }> {
  const { community, centre, unit, unitActor } = placeOf(slot);
  const meta = { now };
  switch (step) {
    case 'report':
      return {
        type: 'reportIncident',
        data: {
          incidentId,
          channel: 'GRID_WORKER',
          category: 'MUNICIPAL_FACILITY',
          subcategory: 'MISSING_MANHOLE_COVER',
          description: '雨水井盖缺失',
          location: { longitude: 117 + (slot % 100) / 1000, latitude: 36.6 + (slot % 70) / 1000, address: `bench address ${slot}` },
          divisionCode: community,
          reporter: { kind: 'GRID_WORKER', id: `gw-${slot}` },
          attachments: [],
          reportedAt: now,
        },
        metadata: meta,
      };
    case 'dispatch':
      return { type: 'dispatchIncident', data: { incidentId, unit, actor: centre }, metadata: meta };
    case 'start':
      return { type: 'startHandling', data: { incidentId, actor: unitActor }, metadata: meta };
    case 'handled':
      return { type: 'reportHandled', data: { incidentId, evidence: ['photo://after'], note: '已处置', actor: unitActor }, metadata: meta };
    case 'fail':
      return { type: 'verifyIncident', data: { incidentId, passed: false, reason: '未处置到位', actor: centre }, metadata: meta };
    case 'pass':
      return { type: 'verifyIncident', data: { incidentId, passed: true, actor: centre }, metadata: meta };
    case 'evaluate':
      return { type: 'evaluateIncident', data: { incidentId, satisfaction: 1 + (slot % 5) }, metadata: meta };
  }
}

/** One incident's whole life decided in memory, a minute a step (for the catch-up history). */
function lifeEvents(slot: number, incidentId: string, serial: number, startMs: number): IncidentEvent[] {
  let state = incidentDecider.initialState();
  const events: IncidentEvent[] = [];
  LIFE.forEach((step, i) => {
    const now = new Date(startMs + i * 60_000 + (slot % 7) * 13_000).toISOString();
    const command: IncidentCommand =
      step === 'register'
        ? { type: 'registerIncident', data: { incidentId, serial, actor: placeOf(slot).centre }, metadata: { now } }
        : commandOf(step, slot, incidentId, now);
    for (const event of incidentDecider.decide(command, state)) {
      state = incidentDecider.evolve(state, event);
      events.push(event);
    }
  });
  return events;
}

/**
 * The baseline's event: the size of a workflow event (an `IncidentHandled`), with the same metadata,
 * validated by a zod schema as every event is, but of a type no projection reads.
 */
const BASELINE_EVENT = 'UrbanOpsBenchAppended';
const baselineEvent: EventTypeDefinition<{ incidentId: string; unitId: string; evidence: string[]; note: string; handledAt: string }> = {
  type: BASELINE_EVENT,
  schemaVersion: 1,
  schema: z.object({ incidentId: z.string().min(1), unitId: z.string().min(1), evidence: z.array(z.string()), note: z.string(), handledAt: z.string() }),
};

/**
 * The metrics projection's lag behind the writers: every `LAG_SAMPLE_MS` the visible head is sampled;
 * a sample's lag is the time until the projector's checkpoint passes it.
 */
class LagTracker {
  private readonly samples: { position: Position; at: number }[] = [];
  private sampling = false;
  private loop: Promise<void> = Promise.resolve();
  lags = new Latencies(1024);
  checkpoint: Position | null = null;

  constructor(private readonly store: SqlEventStore) {}

  /** Called by the runner after each batch. */
  onProgress(checkpoint: Position): void {
    this.checkpoint = checkpoint;
    const now = performance.now();
    while (this.samples.length > 0 && comparePositions(this.samples[0]!.position, checkpoint) <= 0) this.lags.add(now - this.samples.shift()!.at);
  }

  start(): void {
    this.lags = new Latencies(1024);
    this.sampling = true;
    this.loop = (async () => {
      while (this.sampling) {
        this.samples.push({ position: await this.store.headPosition(), at: performance.now() });
        await new Promise((resolve) => setTimeout(resolve, LAG_SAMPLE_MS));
      }
    })();
  }

  /** Stops sampling and waits until the projector has applied everything written: that wait counts as a lag too. */
  async stop(signal: AbortSignal): Promise<{ p50: number; max: number }> {
    this.sampling = false;
    await this.loop;
    const head = await this.store.headPosition();
    const drain = stopwatch();
    while (this.checkpoint === null || comparePositions(this.checkpoint, head) < 0) {
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const drainMs = drain.elapsedMs();
    this.samples.length = 0;
    if (this.lags.count === 0) return { p50: drainMs, max: drainMs };
    const [p50, max] = this.lags.percentiles(50, 100);
    return { p50: p50!, max: Math.max(max!, drainMs) };
  }
}

/**
 * Open loop: commands are issued at `rate` per second, whether or not earlier ones have finished
 * (a slot's next command waits for its previous one), at most `maxInFlight` at once. Returns the
 * rate achieved.
 */
async function paced(
  signal: AbortSignal,
  count: number,
  rate: number,
  maxInFlight: number,
  slots: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  const bySlot: Promise<void>[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const clock = stopwatch();
  for (let issued = 0; issued < count; ) {
    signal.throwIfAborted();
    if (failure !== undefined) throw failure;
    const due = Math.min(count, Math.floor((clock.elapsedMs() * rate) / 1000) + 1);
    while (issued < due && inFlight.size < maxInFlight) {
      const index = issued++;
      const slot = index % slots;
      const run = (bySlot[slot] ?? Promise.resolve()).then(() => task(index));
      const tracked = run.catch((error: unknown) => {
        failure ??= error;
      });
      bySlot[slot] = tracked;
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
    }
    await new Promise((resolve) => setTimeout(resolve, inFlight.size >= maxInFlight ? 1 : 2));
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return perSecond(count, clock.elapsedMs());
}

export async function run(ctx: BenchContext): Promise<void> {
  const historyEvents = ctx.size('incidentEvents');
  const openCases = ctx.size('openCases');
  const commands = ctx.size('workflowCommands');
  const lagRate = ctx.size('lagRate');
  const lagCommands = lagRate * ctx.size('lagSeconds');
  const lives = Math.ceil(historyEvents / EVENTS_PER_LIFE);
  ctx.fact(
    'urban-ops data',
    `${lives} incident lives (${lives * EVENTS_PER_LIFE} events) for the catch-up; ${commands} workflow commands at full speed over ${openCases} open cases ` +
      `(and ${commands} raw appends for the baseline), then ${lagCommands} at ${lagRate}/s for the lag`,
  );

  for (const backend of ctx.backends) {
    const prefix = FIGURE_PREFIX[backend];
    const report = backendReporter(ctx, backend, POSTGRES_TARGETS);
    const writers = backend === 'postgres' ? ctx.size('workflowWriters') : 1;
    ctx.signal.throwIfAborted();
    // The writers (and the baseline's, one connection each), the projector's reads and its transaction.
    const opened = await openBenchDatabase(ctx, backend, writers + 3);
    const store = await SqlEventStore.open(opened.db, new EventRegistry().registerAll([...urbanOpsModule.eventTypes, baselineEvent as EventTypeDefinition]));
    try {
      // 1. A history of whole incident lives, appended one stream at a time, untimed.
      const fill = ctx.progress(`${prefix} incident history`, lives);
      const historyStart = Date.parse('2026-01-01T00:00:00.000Z');
      let appended = 0;
      await runWorkers(
        lives,
        writers,
        async (i) => {
          const events = lifeEvents(i, `history-${i}`, 1 + i, historyStart + i * 30_000);
          await store.append(incidentStreamId(`history-${i}`), events.map((e) => ({ ...e, metadata })), { expectedRevision: 'no_stream' });
          appended += events.length;
          fill.increment(1);
        },
        ctx.signal,
      );
      fill.stop();

      // 2. The metrics projection from position 0 over the whole history.
      const catchUp = ctx.progress(`${prefix} metrics catch-up`, appended);
      const rebuild = new ProjectionRunner(opened.db, store, [incidentsProjection], { onProgress: (p) => catchUp.increment(p.applied) });
      const clock = stopwatch();
      try {
        await rebuild.catchUp();
      } finally {
        catchUp.stop();
        await rebuild.stop();
      }
      const catchUpMs = clock.elapsedMs();
      report('urban.metricsCatchUp.events', appended);
      report('urban.metricsCatchUp.s', catchUpMs / 1000);
      report('urban.metricsCatchUp.events_per_s', perSecond(appended, catchUpMs));

      // 3. Workflow commands with `openCases` in progress, through the command path, the projector running beside them.
      const generation = new Map<number, number>();
      const incidentOf = (slot: number) => `live-${slot}-${generation.get(slot) ?? 0}`;
      const issue = async (index: number): Promise<void> => {
        const slot = index % openCases;
        const step = LIFE[Math.floor(index / openCases) % LIFE.length]!;
        const incidentId = incidentOf(slot);
        const now = new Date().toISOString();
        if (step === 'register') await registerIncident(store, { incidentId, actor: placeOf(slot).centre }, now, metadata);
        else await runIncidentCommand(store, commandOf(step, slot, incidentId, now), metadata);
        if (step === 'evaluate') generation.set(slot, (generation.get(slot) ?? 0) + 1);
      };
      // The baseline: one raw append of one event per call (one transaction each), to the slot's
      // stream with its expected revision; no read, no fold, no decision, no group commit.
      const baselineRevisions = new Map<number, number>();
      const baselineAppend = async (index: number): Promise<void> => {
        const slot = index % openCases;
        const revision = baselineRevisions.get(slot) ?? -1;
        const data = { incidentId: `baseline-${slot}`, unitId: placeOf(slot).unit.unitId, evidence: ['photo://after'], note: '已处置', handledAt: new Date().toISOString() };
        const result = await store.append(`urban.bench-baseline-${slot}`, [{ type: BASELINE_EVENT, data, metadata }], {
          expectedRevision: revision < 0 ? 'no_stream' : revision,
        });
        baselineRevisions.set(slot, result.nextExpectedRevision);
      };
      // Report and register every slot's first case, untimed.
      await runWorkers(2 * openCases, writers, issue, ctx.signal);

      const lag = new LagTracker(store);
      /** Runs `work` with the projector following the writers, then waits for it to apply everything written. */
      const withProjector = async <T>(work: () => Promise<T>): Promise<{ result: T; lag: { p50: number; max: number } }> => {
        const projector = new ProjectionRunner(opened.db, store, [incidentsProjection], { onProgress: (p) => lag.onProgress(p.checkpoint) });
        await projector.start();
        try {
          lag.start();
          const result = await work();
          return { result, lag: await lag.stop(ctx.signal) };
        } finally {
          await projector.stop();
        }
      };

      // 3a. Full speed: ours (with the projector beside) and the baseline (the store alone) in
      // alternating rounds and alternating order.
      const progress = ctx.progress(`${prefix} workflow and baseline`, 2 * commands);
      const commit = groupCommitOf(store);
      const statsBefore = { ...commit.stats };
      let next = 2 * openCases;
      let oursMs = 0;
      let baselineMs = 0;
      let fullSpeedLagMax = 0;
      try {
        const rounds = Math.min(COMPARISON_ROUNDS, commands);
        for (let r = 0; r < rounds; r++) {
          const from = Math.floor((r * commands) / rounds);
          const size = Math.floor(((r + 1) * commands) / rounds) - from;
          const ours = async () => {
            const first = next;
            next += size;
            const { result, lag: roundLag } = await withProjector(async () => {
              const round = stopwatch();
              await runWorkers(size, writers, async (i) => { await issue(first + i); progress.increment(1); }, ctx.signal);
              return round.elapsedMs();
            });
            oursMs += result;
            fullSpeedLagMax = Math.max(fullSpeedLagMax, roundLag.max);
          };
          const baseline = async () => {
            const round = stopwatch();
            await runWorkers(size, writers, async (i) => { await baselineAppend(from + i); progress.increment(1); }, ctx.signal);
            baselineMs += round.elapsedMs();
          };
          await inTurn(r, baseline, ours);
        }
      } finally {
        progress.stop();
      }
      const units = commit.stats.units - statsBefore.units;
      const batches = commit.stats.batches - statsBefore.batches;
      report('urban.workflow.open_cases', openCases);
      report('urban.workflow.writers', writers);
      report('urban.workflow.commands_per_s', perSecond(commands, oursMs), { key: 'urban.baseline.append1.appends_per_s', value: perSecond(commands, baselineMs) });
      report('urban.workflow.group_commit.units_per_batch', batches > 0 ? units / batches : 0);
      report('urban.workflow.metricsLag.max_ms', fullSpeedLagMax);

      // 3b. The lag at the target rate: commands offered at `lagRate` per second.
      const pacedProgress = ctx.progress(`${prefix} workflow at ${lagRate}/s`, lagCommands);
      const first = next;
      const { result: achieved, lag: targetLag } = await withProjector(async () => {
        try {
          return await paced(ctx.signal, lagCommands, lagRate, 4 * writers, openCases, async (i) => {
            await issue(first + i);
            pacedProgress.increment(1);
          });
        } finally {
          pacedProgress.stop();
        }
      });
      report('urban.metricsLag.offered_commands_per_s', lagRate);
      report('urban.metricsLag.commands_per_s', achieved);
      report('urban.metricsLag.p50_ms', targetLag.p50);
      report('urban.metricsLag.max_ms', targetLag.max);
    } finally {
      await store.close();
      await opened.dispose();
    }
  }
}
