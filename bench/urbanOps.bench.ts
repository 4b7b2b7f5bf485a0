/**
 * The urban-ops figures (issue 5): how fast the metrics projection catches up over a history of
 * incident events, and the sustained rate of workflow commands with a fixed number of cases open at
 * once, with the projector running beside the writers and its lag behind them sampled.
 *
 * Every incident lives the same loop — report, register, dispatch, start, report handled, fail
 * verification, re-dispatch, start, report handled, pass verification (closed), evaluate — half of
 * them handled by a district department, half by a street, over the twelve districts. A slot whose
 * incident is evaluated opens a new one, so the open cases stay at `--open-cases`.
 */
import { comparePositions } from '../events/position.ts';
import { EventRegistry } from '../events/registry.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { EventMetadata, Position } from '../events/types.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import type { Actor, IncidentCommand, UnitRef } from '../subgraphs/urban-ops/incident/commands.ts';
import { incidentDecider } from '../subgraphs/urban-ops/incident/decider.ts';
import { incidentStreamId, type IncidentEvent } from '../subgraphs/urban-ops/incident/events.ts';
import { registerIncident, runIncidentCommand } from '../subgraphs/urban-ops/incidentCommands.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { levelOfCode } from '../subgraphs/urban-ops/levels.ts';
import { incidentsProjection } from '../subgraphs/urban-ops/readModels/incidentsProjection.ts';
import { runWorkers } from './lib/concurrency.ts';
import { openPglite, openPostgres } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import type { BackendId, BenchContext, BenchOption } from './lib/section.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';

export const name = 'urbanOps';
export const description = 'incident workflow commands/s with many cases open and the metrics projection\'s lag beside them; the projection\'s catch-up';

export const options: readonly BenchOption[] = [
  { name: 'incidentEvents', description: 'incident events in the history the metrics projection catches up over', default: 100_000, quick: 10_000 },
  { name: 'openCases', description: 'incidents in progress at once during the workflow run', default: 1_000, quick: 200 },
  { name: 'workflowCommands', description: 'workflow commands timed', default: 20_000, quick: 2_000 },
  { name: 'workflowWriters', description: 'concurrent command writers and pool size on PostgreSQL (PGlite is one session)', default: 8, quick: 8 },
];

/** Issue 5's targets, against PostgreSQL on this 2-core machine; PGlite is reported without targets. */
const POSTGRES_TARGETS: Record<string, readonly Target[]> = {
  'urban.workflow.commands_per_s': [{ on: 'value', op: '>=', threshold: 1_000 }],
  'urban.metricsLag.max_ms': [{ on: 'value', op: '<=', threshold: 1_000 }],
};

const FIGURE_PREFIX: Record<BackendId, string> = { postgres: 'pg', pglite: 'pglite' };
const DISTRICTS = ['370102', '370103', '370104', '370105', '370112', '370113', '370114', '370115', '370116', '370117', '370124', '370126'];
/** The commands of one incident's life, in order; a slot starts its next incident after the last. */
const LIFE = ['report', 'register', 'dispatch', 'start', 'handled', 'fail', 'dispatch', 'start', 'handled', 'pass', 'evaluate'] as const;
const EVENTS_PER_LIFE = 12; // the passed verification also closes the case
const LAG_SAMPLE_MS = 200;

const metadata: EventMetadata = {
  provenance: { department: '城市运行管理服务中心', system: 'urban-ops', channel: 'bench', collectedAt: new Date().toISOString() },
  actor: { consumerId: 'bench', role: 'system' },
  correlationId: 'bench:urban-ops',
};

/** Where slot `slot`'s incidents happen and who handles them. */
function placeOf(slot: number): { community: string; centre: Actor; unit: UnitRef; unitActor: Actor } {
  const district = DISTRICTS[slot % DISTRICTS.length]!;
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

export async function run(ctx: BenchContext): Promise<void> {
  const historyEvents = ctx.size('incidentEvents');
  const openCases = ctx.size('openCases');
  const commands = ctx.size('workflowCommands');
  const lives = Math.ceil(historyEvents / EVENTS_PER_LIFE);
  ctx.fact('urban-ops data', `${lives} incident lives (${lives * EVENTS_PER_LIFE} events) for the catch-up; ${commands} workflow commands over ${openCases} open cases`);

  for (const backend of ctx.backends) {
    const prefix = FIGURE_PREFIX[backend];
    const report = (key: string, value: number) => {
      const targets = backend === 'postgres' ? POSTGRES_TARGETS[key] : undefined;
      ctx.report({ backend: prefix, key, value, ...(targets && { targets }) });
    };
    const writers = backend === 'postgres' ? ctx.size('workflowWriters') : 1;
    ctx.signal.throwIfAborted();
    // The writers, the projector's reads and its transaction.
    const opened = backend === 'pglite' ? await openPglite(ctx.defer) : await openPostgres(ctx.defer, writers + 3);
    for (const [fact, value] of Object.entries(opened.facts)) ctx.fact(fact, value);
    const store = await SqlEventStore.open(opened.db, new EventRegistry().registerAll(urbanOpsModule.eventTypes));
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

      // 3. Workflow commands with `openCases` in progress, the projector running beside them.
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
      // Report and register every slot's first case, untimed.
      await runWorkers(2 * openCases, writers, issue, ctx.signal);

      const samples: { position: Position; at: number }[] = [];
      const lags = new Latencies(Math.ceil(commands / 10));
      let projected: Position | null = null;
      const projector = new ProjectionRunner(opened.db, store, [incidentsProjection], {
        onProgress: (p) => {
          projected = p.checkpoint;
          const now = performance.now();
          while (samples.length > 0 && comparePositions(samples[0]!.position, p.checkpoint) <= 0) lags.add(now - samples.shift()!.at);
        },
      });
      await projector.start();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push({ position: await store.headPosition(), at: performance.now() });
          await new Promise((resolve) => setTimeout(resolve, LAG_SAMPLE_MS));
        }
      })();
      const progress = ctx.progress(`${prefix} workflow`, commands);
      const workflow = stopwatch();
      try {
        await runWorkers(
          commands,
          writers,
          async (i) => {
            await issue(2 * openCases + i);
            progress.increment(1);
          },
          ctx.signal,
        );
      } finally {
        progress.stop();
      }
      const workflowMs = workflow.elapsedMs();
      sampling = false;
      await sampler;
      // Drain: the last sample is resolved once the projector has applied everything written.
      const head = await store.headPosition();
      const drain = stopwatch();
      while (projected === null || comparePositions(projected, head) < 0) {
        ctx.signal.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const drainMs = drain.elapsedMs();
      await projector.stop();
      report('urban.workflow.open_cases', openCases);
      report('urban.workflow.commands_per_s', perSecond(commands, workflowMs));
      const [p50, max] = lags.percentiles(50, 100);
      report('urban.metricsLag.p50_ms', p50 ?? 0);
      report('urban.metricsLag.max_ms', Math.max(max ?? 0, drainMs));
    } finally {
      await store.close();
      await opened.dispose();
    }
  }
}
