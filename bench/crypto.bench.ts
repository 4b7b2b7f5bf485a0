/**
 * Personal data encrypted per subject (crypto-shredding) beside the same work in clear,
 * measured in the same run, each mode on a database of its own, emptied at each round; every append
 * and read is made in both modes in turn, so background load weighs on both.
 * - `append.batch100`: persons registered 100 per `appendMany` (each a new subject: a key created per person);
 * - `append.batch1`: one residence change per `append`, of a person registered before (their key known);
 * - `append.batch1_new_subject`: one new person per `append` (their key stored by the append's own statement);
 * - `rebuild.population`: the population projections rebuilt from position 0 over those persons
 *   (decrypting every registration);
 * - `readStream.person`: a person's stream read (what `history` and `asOf` fold), p99: the two modes'
 *   stores are kept side by side (a database each) and read alternately, so a stall of the shared
 *   machine or a collection weighs on both, which a p99 of separate phases did not make sure of;
 * - `personQuery`: the issue's "person query", p99: `person(id)` through the gateway of a graph in each
 *   mode (population and governance subgraphs, the same persons registered in both, the response cache
 *   off so every query is executed), one client, the two graphs asked alternately. The read models hold
 *   what the graph serves, so this path decrypts nothing; `history` and `asOf` read the stream, as
 *   `readStream.person` does.
 */
import { randomBytes } from 'node:crypto';
import { openPersonalDataStore } from '../events/crypto/personalDataStore.ts';
import { EventRegistry } from '../events/registry.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { EventStore, NewEvent } from '../events/types.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import { jinanDivisions } from '../subgraphs/kit/divisions/jinan.ts';
import { personalFieldRules } from '../subgraphs/kit/personalData.ts';
import { seededRandom } from '../subgraphs/kit/random.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { personStreamId } from '../subgraphs/population/person/events.ts';
import { openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';
import { openBenchDatabase } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { FIGURE_PREFIX, type BenchContext, type BenchOption } from './lib/section.ts';
import { Latencies, perSecond, stopwatch } from './lib/stats.ts';

export const name = 'crypto';
export const description = 'personal data encrypted per subject beside the same appends, rebuilds and reads in clear';

export const options: readonly BenchOption[] = [
  { name: 'cryptoPersons', description: 'persons registered 100 per append in each mode and round', default: 10_000, quick: 2_000 },
  { name: 'cryptoSingles', description: 'single appends of new and of registered persons in each mode and round', default: 500, quick: 300 },
  { name: 'cryptoReads', description: 'person streams read for the latency figure in each mode and round', default: 3_000, quick: 500 },
  { name: 'cryptoRounds', description: 'alternating rounds of both modes', default: 2, quick: 1 },
  { name: 'cryptoQueryPersons', description: 'persons registered in each mode\'s graph for the person query', default: 2_000, quick: 300 },
  { name: 'cryptoQueries', description: 'person queries timed in each mode', default: 2_000, quick: 300 },
];

const RATIO = (threshold: number): Target[] => [{ on: 'ratio', op: '>=', threshold }];
const COMMUNITIES = jinanDivisions.filter((d) => d.level === 'COMMUNITY');
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄'];

type Mode = 'clear' | 'encrypted';
const MODES: readonly Mode[] = ['clear', 'encrypted'];

interface Totals {
  batch100: { events: number; ms: number };
  batch1: { events: number; ms: number };
  newSubject: { events: number; ms: number };
  rebuild: { events: number; ms: number };
  reads: Latencies;
}

function personEvent(i: number, round: number): { streamId: string; event: NewEvent } {
  const random = seededRandom(i * 31 + round);
  const community = COMMUNITIES[i % COMMUNITIES.length]!;
  const birthDate = `${1940 + (i % 70)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
  const personId = `${round}${String(i).padStart(7, '0')}-0000-4000-8000-${randomBytes(6).toString('hex')}`.slice(0, 36);
  return {
    streamId: personStreamId(personId),
    event: {
      type: 'PersonRegistered',
      data: {
        personId,
        idNumber: makeIdNumber(community.code.slice(0, 6), birthDate, i % 999),
        name: `${random.pick(SURNAMES)}${random.pick(['伟', '芳', '娜', '秀英', '敏', '静'])}`,
        gender: (i % 999) % 2 ? 'MALE' : 'FEMALE',
        birthDate,
        residence: { address: `${community.name} ${i % 300} 号 ${i % 6} 单元`, divisionCode: community.code },
        reason: 'HOUSEHOLD_REGISTRATION',
      },
      metadata: {
        provenance: { department: 'bench', system: 'bench', channel: 'bench', collectedAt: new Date().toISOString() },
        actor: { consumerId: 'bench', role: 'admin' },
        correlationId: 'bench-crypto',
      },
    },
  };
}

async function openStore(db: SqlDatabase, registry: EventRegistry, mode: Mode): Promise<EventStore> {
  await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  return mode === 'clear' ? SqlEventStore.open(db, registry) : openPersonalDataStore(db, registry, randomBytes(32), personalFieldRules());
}

/** Person streams read from both modes' stores alternately (the first of each pair alternating too), after 50 untimed reads each. */
async function readAlternately(ctx: BenchContext, opened: Record<Mode, { store: EventStore; streams: string[] }>, round: number, totals: Record<Mode, Totals>): Promise<void> {
  const random = seededRandom(round + 7);
  const read = async (mode: Mode, timed: boolean) => {
    const { store, streams } = opened[mode];
    const streamId = random.pick(streams);
    const [first] = timed ? await totals[mode].reads.time(() => store.readStream(streamId)) : await store.readStream(streamId);
    if ((first?.data as { name?: string }).name?.startsWith('[')) throw new Error(`${mode}: a person read back with name ${(first!.data as { name: string }).name}`);
  };
  for (let i = 0; i < 50; i++) for (const mode of MODES) await read(mode, false);
  for (let i = 0; i < ctx.size('cryptoReads'); i++) {
    ctx.signal.throwIfAborted();
    for (const mode of i % 2 ? [...MODES].reverse() : MODES) await read(mode, true);
  }
}

const PERSON_QUERY = 'query Person($id: ID!) { person(id: $id) { id name idNumber gender birthDate residence { address division { code } } } }';

/** `person(id)` through the gateway of a graph in each mode, the same persons in both, asked alternately (which mode first alternating). */
async function personQueries(ctx: BenchContext, backend: 'pglite' | 'postgres'): Promise<Record<Mode, Latencies>> {
  const modules = [governanceModule, populationModule];
  const persons = Array.from({ length: ctx.size('cryptoQueryPersons') }, (_, i) => personEvent(i, 9));
  const graphs: Partial<Record<Mode, { graph: TestGraph; token: string }>> = {};
  const runtimes: TestRuntime[] = [];
  try {
    for (const mode of MODES) {
      // Readers keep table locations as `npm start` does, not per query as tests do.
      const runtime = await openTestRuntime(modules, backend, { readModelRefreshMs: 60_000, ...(mode === 'encrypted' && { personalData: {} }) });
      runtimes.push(runtime);
      const graph = await startTestGraph({ modules, runtime, responseCache: false });
      graphs[mode] = { graph, token: '' };
      for (let i = 0; i < persons.length; i += 100) {
        await runtime.runtime.store.appendMany(persons.slice(i, i + 100).map(({ streamId, event }) => ({ streamId, events: [event], options: { expectedRevision: 'no_stream' } })));
      }
      await runtime.catchUp();
      await graph.grant('crypto-bench', ['population.basic', 'population.identity']);
      graphs[mode]!.token = await graph.tokenFor('crypto-bench');
    }
    const opened = graphs as Record<Mode, { graph: TestGraph; token: string }>;
    const latencies: Record<Mode, Latencies> = { clear: new Latencies(), encrypted: new Latencies() };
    const random = seededRandom(11);
    const ask = async (mode: Mode, timed: boolean) => {
      const { graph, token } = opened[mode];
      const { personId, name } = random.pick(persons).event.data as { personId: string; name: string };
      const query = () => graph.gql<{ person: { name: string } | null }>(PERSON_QUERY, { id: personId }, token);
      const response = timed ? await latencies[mode].time(query) : await query();
      if (response.body.data?.person?.name !== name) throw new Error(`${mode}: person ${personId} answered ${JSON.stringify(response.body)}`);
    };
    for (let i = 0; i < 50; i++) for (const mode of MODES) await ask(mode, false);
    for (let i = 0; i < ctx.size('cryptoQueries'); i++) {
      ctx.signal.throwIfAborted();
      for (const mode of i % 2 ? [...MODES].reverse() : MODES) await ask(mode, true);
    }
    return latencies;
  } finally {
    // A graph closes only a runtime it opened itself.
    for (const opened of Object.values(graphs)) await opened.graph.close();
    for (const runtime of runtimes) await runtime.close();
  }
}

/**
 * One round: both modes' stores emptied, their appends made one operation at a time in turn (which mode
 * goes first alternating), so a stall of the shared machine weighs on both, then each mode's rebuild
 * (which first alternating by round), then the reads alternately.
 */
async function runRound(ctx: BenchContext, label: string, databases: Record<Mode, SqlDatabase>, registry: EventRegistry, round: number, totals: Record<Mode, Totals>): Promise<void> {
  const stores: Partial<Record<Mode, EventStore>> = {};
  try {
    for (const mode of MODES) stores[mode] = await openStore(databases[mode], registry, mode);
    const opened = stores as Record<Mode, EventStore>;
    /** `count` operations, each timed in both modes in turn; `op` returns how many events it appended. */
    const inTurn = async (figure: 'batch100' | 'newSubject' | 'batch1', count: number, op: (store: EventStore, i: number) => Promise<number>) => {
      for (let i = 0; i < count; i++) {
        ctx.signal.throwIfAborted();
        for (const mode of (i + round) % 2 ? [...MODES].reverse() : MODES) {
          const watch = stopwatch();
          const events = await op(opened[mode], i);
          totals[mode][figure].ms += watch.elapsedMs();
          totals[mode][figure].events += events;
        }
      }
    };
    const persons = ctx.size('cryptoPersons');
    const batches = Array.from({ length: Math.ceil(persons / 100) }, (_, b) => Array.from({ length: Math.min(100, persons - b * 100) }, (_, i) => personEvent(b * 100 + i, round)));
    ctx.log(`${label}: round ${round + 1}: appends of both modes in turn`);
    await inTurn('batch100', batches.length, async (store, b) => {
      await store.appendMany(batches[b]!.map(({ streamId, event }) => ({ streamId, events: [event], options: { expectedRevision: 'no_stream' } })));
      return batches[b]!.length;
    });
    const singles = Array.from({ length: ctx.size('cryptoSingles') }, (_, i) => personEvent(persons + i, round));
    await inTurn('newSubject', singles.length, async (store, i) => {
      await store.append(singles[i]!.streamId, [singles[i]!.event], { expectedRevision: 'no_stream' });
      return 1;
    });
    // The usual single append: a fact about a person already registered (their key known).
    const moves = batches.flat().slice(0, singles.length);
    await inTurn('batch1', moves.length, async (store, i) => {
      const { streamId, event } = moves[i]!;
      const { personId, residence } = event.data as { personId: string; residence: { address: string; divisionCode: string } };
      const moved = { ...residence, address: `${residence.address} ${i} 室` };
      await store.append(streamId, [{ type: 'ResidenceChanged', data: { personId, residence: moved, previousResidence: residence, movedOn: '2026-01-01' }, metadata: event.metadata }], { expectedRevision: 0 });
      return 1;
    });

    for (const mode of round % 2 ? [...MODES].reverse() : MODES) {
      ctx.log(`${label}: round ${round + 1}: rebuild, ${mode}`);
      const runner = new ProjectionRunner(databases[mode], opened[mode], populationModule.projections, { batchSize: 1000 });
      const rebuilding = stopwatch();
      await runner.catchUp(600_000);
      totals[mode].rebuild.ms += rebuilding.elapsedMs();
      totals[mode].rebuild.events += persons + singles.length + moves.length;
      await runner.stop();
    }

    ctx.log(`${label}: round ${round + 1}: reads of both modes in turn`);
    const streams = batches.flat().map((b) => b.streamId);
    await readAlternately(ctx, { clear: { store: opened.clear, streams }, encrypted: { store: opened.encrypted, streams } }, round, totals);
  } finally {
    for (const store of Object.values(stores)) await store.close();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const registry = new EventRegistry().registerAll(populationModule.eventTypes);
  for (const backend of ctx.backends) {
    ctx.signal.throwIfAborted();
    // A database per mode, so both modes' stores are there at once for the alternating reads.
    const databases = { clear: await openBenchDatabase(ctx, backend, 4), encrypted: await openBenchDatabase(ctx, backend, 4) };
    const prefix = FIGURE_PREFIX[backend];
    const totals: Record<Mode, Totals> = {
      clear: { batch100: { events: 0, ms: 0 }, batch1: { events: 0, ms: 0 }, newSubject: { events: 0, ms: 0 }, rebuild: { events: 0, ms: 0 }, reads: new Latencies() },
      encrypted: { batch100: { events: 0, ms: 0 }, batch1: { events: 0, ms: 0 }, newSubject: { events: 0, ms: 0 }, rebuild: { events: 0, ms: 0 }, reads: new Latencies() },
    };
    try {
      for (let round = 0; round < ctx.size('cryptoRounds'); round++) await runRound(ctx, prefix, { clear: databases.clear.db, encrypted: databases.encrypted.db }, registry, round, totals);
    } finally {
      await databases.clear.dispose();
      await databases.encrypted.dispose();
    }
    const rate = (t: { events: number; ms: number }) => perSecond(t.events, t.ms);
    const figure = (key: string, baselineKey: string, value: number, baseline: number, targets: Target[]) =>
      ctx.report({ backend: prefix, key, value, baseline: { key: baselineKey, value: baseline }, targets });
    const { clear, encrypted } = totals;
    figure('crypto.append.batch100.events_per_s', 'crypto.baseline.append.batch100.events_per_s', rate(encrypted.batch100), rate(clear.batch100), RATIO(0.85));
    figure('crypto.append.batch1.events_per_s', 'crypto.baseline.append.batch1.events_per_s', rate(encrypted.batch1), rate(clear.batch1), RATIO(0.85));
    // A new subject's first append also stores their key (in the same statement), shown without a target.
    figure('crypto.append.batch1_new_subject.events_per_s', 'crypto.baseline.append.batch1_new_subject.events_per_s', rate(encrypted.newSubject), rate(clear.newSubject), []);
    figure('crypto.rebuild.population.events_per_s', 'crypto.baseline.rebuild.population.events_per_s', rate(encrypted.rebuild), rate(clear.rebuild), RATIO(0.8));
    // Latency: lower is better, so the ratio held is ours ÷ baseline ≤ 1.2.
    const p99 = (name: string, latencies: Record<Mode, Latencies>) =>
      ctx.report({
        backend: prefix,
        key: `crypto.${name}.p99_ms`,
        value: latencies.encrypted.percentiles(99)[0]!,
        baseline: { key: `crypto.baseline.${name}.p99_ms`, value: latencies.clear.percentiles(99)[0]! },
        targets: [{ on: 'ratio', op: '<=', threshold: 1.2 }],
      });
    p99('readStream.person', { clear: clear.reads, encrypted: encrypted.reads });
    ctx.log(`${prefix}: person queries through the gateway, both modes in turn`);
    p99('personQuery', await personQueries(ctx, backend));
  }
}
