/**
 * Claims screening throughput with a demo-sized city loaded: persons registered as
 * population events, the healthcare demo data seeded through the command path (visits, exams,
 * vaccinations, claims, settlements) and the `healthcare.views` read model caught up. Then:
 * - `screen`: claims screened — their facts looked up in the read model in batches (three round
 *   trips a batch) and every rule run — without appending;
 * - `submit`: claims submitted through the command path (`submitClaim`: facts, fold, decide with
 *   screening, append ClaimSubmitted + ClaimScreened with the expected revision), concurrently on
 *   PostgreSQL.
 */
import { pino } from 'pino';
import { EventRegistry } from '../events/registry.ts';
import { isEventOf } from '../events/typedReads.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { MedicalVisitRecorded } from '../subgraphs/healthcare/healthRecord/events.ts';
import { SqlReadModels } from '../projections/sql/readModels.ts';
import { ProjectionRunner } from '../projections/runner.ts';
import { claimEventDefinitions } from '../subgraphs/healthcare/claim/events.ts';
import { HOSPITALS } from '../subgraphs/healthcare/catalog.ts';
import { addDays, chinaDate } from '../subgraphs/kit/calendar.ts';
import { healthRecordEventDefinitions } from '../subgraphs/healthcare/healthRecord/events.ts';
import { loadScreeningFacts, submitClaim, type SubmitClaimInput } from '../subgraphs/healthcare/healthcareCommands.ts';
import { healthcareProjection } from '../subgraphs/healthcare/readModels/projection.ts';
import { DEFAULT_SCREENING_LIMITS, screenClaim } from '../subgraphs/healthcare/screening/rules.ts';
import { seedHealthcare } from '../subgraphs/healthcare/seed.ts';
import type { SubgraphRuntime } from '../subgraphs/kit/module.ts';
import { jinanDivisions } from '../subgraphs/kit/divisions/jinan.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { personEventDefinitions, personStreamId } from '../subgraphs/population/person/events.ts';
import { runWorkers } from './lib/concurrency.ts';
import { openBenchDatabase } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { seededRandom, type Random } from '../subgraphs/kit/random.ts';
import { backendReporter, FIGURE_PREFIX, type BackendId, type BenchContext, type BenchOption } from './lib/section.ts';
import { perSecond, stopwatch } from './lib/stats.ts';

export const name = 'healthcare';
export const description = 'claims screened per second (facts from the read model, every rule) and submitted through the command path, demo city loaded';

export const options: readonly BenchOption[] = [
  { name: 'healthPersons', description: 'persons registered and given health records and claims before timing', default: 1_000, quick: 200 },
  { name: 'claimsScreened', description: 'claims screened (facts looked up, rules run, nothing appended)', default: 50_000, quick: 5_000 },
  { name: 'screenBatch', description: 'claims whose facts are looked up together', default: 200, quick: 200 },
  { name: 'claimsSubmitted', description: 'claims submitted through the command path', default: 5_000, quick: 1_000 },
  { name: 'claimWriters', description: 'concurrent submitters and pool size on PostgreSQL (PGlite is one session)', default: 8, quick: 8 },
];

const TARGETS: Record<string, readonly Target[]> = {
  'claims.screen.claims_per_s': [{ on: 'value', op: '>=', threshold: 2_000 }],
};

const COMMUNITIES = jinanDivisions.filter((d) => d.level === 'COMMUNITY');
const ITEMS = [
  { code: '001102000010000', name: '普通门诊诊查费', quantity: 1, unitPriceFen: 1000 },
  { code: '250101015000000', name: '血常规检查', quantity: 1, unitPriceFen: 2000 },
  { code: 'XJ01CAA040A001010100442', name: '阿莫西林胶囊', quantity: 2, unitPriceFen: 1250 },
];

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function run(ctx: BenchContext): Promise<void> {
  const registry = new EventRegistry().registerAll([...personEventDefinitions, ...healthRecordEventDefinitions, ...claimEventDefinitions]);
  for (const backend of ctx.backends) {
    const writers = backend === 'postgres' ? ctx.size('claimWriters') : 1;
    ctx.signal.throwIfAborted();
    const opened = await openBenchDatabase(ctx, backend, writers + 2);
    const store = await SqlEventStore.open(opened.db, registry);
    const runner = new ProjectionRunner(opened.db, store, [healthcareProjection]);
    try {
      ctx.log(`${FIGURE_PREFIX[backend]}: ${opened.location}, ${writers} submitter${writers === 1 ? '' : 's'}`);
      const runtime: SubgraphRuntime = { store, readModels: new SqlReadModels(opened.db, 0), now: () => new Date(), logger: pino({ level: 'silent' }) };
      await measure(ctx, backend, runtime, runner, writers);
    } finally {
      await runner.stop();
      await store.close();
      await opened.dispose();
    }
  }
}

async function measure(ctx: BenchContext, backend: BackendId, runtime: SubgraphRuntime, runner: ProjectionRunner, writers: number): Promise<void> {
  const prefix = FIGURE_PREFIX[backend];
  const report = backendReporter(ctx, backend, TARGETS);
  const random = seededRandom(20221231);
  const { store } = runtime;

  // The demo city: persons as the population subgraph registers them, then healthcare's demo data.
  const persons = ctx.size('healthPersons');
  const loading = stopwatch();
  await runWorkers(
    persons,
    writers,
    async (i) => {
      const personId = uuid(random);
      const community = random.pick(COMMUNITIES);
      const birthDate = `${random.int(1940, 2015)}-${String(random.int(1, 12)).padStart(2, '0')}-${String(random.int(1, 28)).padStart(2, '0')}`;
      await store.append(personStreamId(personId), [
        {
          type: 'PersonRegistered',
          data: {
            personId,
            idNumber: makeIdNumber(community.code.slice(0, 6), birthDate, i % 999),
            name: `居民${i}`,
            gender: i % 2 ? 'MALE' : 'FEMALE',
            birthDate,
            residence: { address: `${community.name}${i}号`, divisionCode: community.code },
            reason: 'HOUSEHOLD_REGISTRATION',
          },
          metadata: {
            provenance: { department: 'bench', system: 'bench', channel: 'bench', collectedAt: new Date().toISOString() },
            actor: { consumerId: 'bench', role: 'admin' },
            correlationId: 'bench',
          },
        },
      ]);
    },
    ctx.signal,
  );
  await seedHealthcare(runtime, { persons });
  await runner.catchUp();
  const visits = (await store.readAll({ filter: { types: ['MedicalVisitRecorded'] }, limit: 100_000 }))
    .filter((e) => isEventOf<MedicalVisitRecorded>(['MedicalVisitRecorded'], e))
    .map((e) => e.data);
  const claimsSeeded = (await store.readAll({ filter: { types: ['ClaimSubmitted'] }, limit: 100_000 })).length;
  ctx.fact('healthcare dataset', `${persons} persons, ${visits.length} visits, ${claimsSeeded} claims seeded (${(loading.elapsedMs() / 1000).toFixed(1)} s to load)`);
  ctx.log(`${prefix}: loaded ${persons} persons, ${visits.length} visits, ${claimsSeeded} claims`);

  // Claims like the demo's: most at a hospital the patient visited that day, some elsewhere.
  const today = chinaDate(new Date().toISOString());
  const claimOf = (): SubmitClaimInput => {
    const visit = random.pick(visits);
    const hit = random.next() < 0.8;
    return {
      claimId: uuid(random),
      personId: visit.personId,
      hospitalCode: hit ? visit.hospitalCode : random.pick(HOSPITALS).code,
      serviceDate: hit ? visit.visitDate : addDays(today, -random.int(1, 180)),
      items: random.next() < 0.5 ? [ITEMS[0]!, ITEMS[2]!] : [ITEMS[1]!],
    };
  };

  const screenedCount = ctx.size('claimsScreened');
  const batch = ctx.size('screenBatch');
  const batches = Math.ceil(screenedCount / batch);
  const claims = Array.from({ length: batches }, (_, b) => Array.from({ length: Math.min(batch, screenedCount - b * batch) }, claimOf));
  let held = 0;
  let screened = 0;
  const screen = async (b: number) => {
    const group = claims[b]!;
    const facts = await loadScreeningFacts(runtime.readModels, group);
    group.forEach((claim, i) => {
      const outcome = screenClaim({ claim: { ...claim, totalFen: claim.items.reduce((s, it) => s + it.quantity * it.unitPriceFen, 0) }, ...facts[i]!.facts, limits: DEFAULT_SCREENING_LIMITS });
      screened++;
      if (outcome.outcome === 'HELD') held++;
    });
  };
  await runWorkers(Math.min(5, batches), writers, screen, ctx.signal); // warm-up
  [held, screened] = [0, 0];
  const screening = stopwatch();
  await runWorkers(batches, writers, screen, ctx.signal);
  const screenRate = perSecond(screened, screening.elapsedMs());
  if (screened !== screenedCount) throw new Error(`screened ${screened} claims, expected ${screenedCount}`);
  ctx.log(`${prefix}: screened ${screened} claims (${held} held) at ${Math.round(screenRate)}/s`);
  report('claims.screen.claims_per_s', screenRate);

  const submitted = ctx.size('claimsSubmitted');
  const inputs = Array.from({ length: submitted }, claimOf);
  const metadata = {
    provenance: { department: 'bench', system: 'bench', channel: 'bench', collectedAt: new Date().toISOString() },
    actor: { consumerId: 'bench', role: 'admin' },
    correlationId: 'bench-submit',
  };
  const submitting = stopwatch();
  await runWorkers(submitted, writers, (i) => submitClaim(runtime, inputs[i]!, DEFAULT_SCREENING_LIMITS, { metadata, now: new Date().toISOString() }).then(() => undefined), ctx.signal);
  const submitRate = perSecond(submitted, submitting.elapsedMs());
  ctx.log(`${prefix}: submitted ${submitted} claims at ${Math.round(submitRate)}/s`);
  report('claims.submit.claims_per_s', submitRate);
}
