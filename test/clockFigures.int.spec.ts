/**
 * The figures that change with the clock alone — age bands, the elderly living alone, children in
 * distress (population), open cases due and overdue (urban operations) — are read from counts the
 * projections keep by birth date and by deadline. On each store, after seeding a small city, they
 * must equal a COUNT over the register and the incidents on any day, in every division.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openPlatform, type Platform } from '../bin/platform.ts';
import type { Collection, Where } from '../projections/types.ts';
import { divisionCatalog } from '../subgraphs/kit/divisions/catalog.ts';
import { divisionField } from '../subgraphs/kit/divisions/division.ts';
import { bucketKey, type TieredBucketDoc, type TieredSummaryDoc } from '../subgraphs/kit/tieredCounts.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { bornOnOrBefore } from '../subgraphs/population/models/age.ts';
import { ADULT_AGE, ELDERLY_AGE } from '../subgraphs/population/models/vulnerable.ts';
import { AGE_BANDS, AGE_COHORTS, ageBandCounts, atLeast, readCohortDocs, youngerThan } from '../subgraphs/population/readModels/ageCohorts.ts';
import { PERSONS, REGISTRY_PROJECTION, type PersonDoc } from '../subgraphs/population/readModels/registry.ts';
import { seedPopulation } from '../subgraphs/population/seed.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { INCIDENTS, INCIDENTS_PROJECTION } from '../subgraphs/urban-ops/readModels/incidentsProjection.ts';
import type { IncidentDoc } from '../subgraphs/urban-ops/readModels/incidentView.ts';
import { clockCountsAt, clockCountsChangeAt, deadlineDay, OPEN_DEADLINES } from '../subgraphs/urban-ops/readModels/openDeadlines.ts';
import { seedIncidents } from '../subgraphs/urban-ops/seed.ts';
import { LEVELS } from '../subgraphs/urban-ops/levels.ts';
import { BACKENDS, type TestBackend } from './helpers/databases.ts';

const NOW = new Date('2026-06-15T04:00:00.000Z');
/** Today, the days around a birthday bound, and years ahead: the counts must follow the calendar. */
const DAYS = ['2026-06-15', '2026-06-16', '2027-02-28', '2027-03-01', '2031-12-31'];
const HOUR = 3_600_000;
/** Instants across the seeded deadlines (days before now to days after), and one exactly on a deadline. */
const INSTANTS = [-72, -6, 0, 1, 6, 30, 24 * 30].map((h) => new Date(NOW.getTime() + h * HOUR).toISOString());
/** The city, its districts, and every street and community of 历下区. */
const DIVISIONS = divisionCatalog.filter((d) => d.level === 'CITY' || d.level === 'DISTRICT' || d.code.startsWith('370102')).map((d) => d.code);

const within = (code: string): Where => ({ [divisionField(divisionCatalog.find((d) => d.code === code)!.level)]: code });

for (const openBackend of BACKENDS) {
  describe('figures that change with the clock, kept by the projections', () => {
    let backend: TestBackend;
    let platform: Platform;
    let persons: Collection<PersonDoc>;
    let incidents: Collection<IncidentDoc>;
    before(async () => {
      backend = await openBackend();
      platform = await openPlatform({ modules: [populationModule, urbanOpsModule], db: await backend.fresh(), env: {}, logger: pino({ level: 'silent' }), now: () => NOW });
      await seedPopulation(platform.runtime, { people: 400 });
      await seedIncidents(platform.runtime, { incidents: 200 });
      await platform.runner.catchUp();
      persons = platform.readModels.of(REGISTRY_PROJECTION).collection<PersonDoc>(PERSONS);
      incidents = platform.readModels.of(INCIDENTS_PROJECTION).collection<IncidentDoc>(INCIDENTS);
    });
    after(async () => {
      await platform?.close();
      await backend?.dispose();
    });

    it(`population: age bands, elderly living alone and children in distress equal a COUNT over the register (${openBackend.name.replace('Backend', '')})`, async () => {
      const summaries = platform.readModels.of(REGISTRY_PROJECTION).collection<TieredSummaryDoc>(AGE_COHORTS.summaries);
      const years = platform.readModels.of(REGISTRY_PROJECTION).collection<TieredBucketDoc>(AGE_COHORTS.buckets);
      const read = { summary: async (code: string) => (await summaries.get(code))?.doc, year: async (key: string) => (await years.get(key))?.doc };
      let living = 0;
      for (const on of DAYS) {
        for (const code of DIVISIONS) {
          const docs = await readCohortDocs(read, code, on, [...AGE_BANDS.map((b) => b.from), ELDERLY_AGE, ADULT_AGE]);
          const counted = await Promise.all(
            AGE_BANDS.map(async ({ band, from }, i) => {
              const next = AGE_BANDS[i + 1];
              const birthDate = { lte: bornOnOrBefore(on, from), ...(next && { gt: bornOnOrBefore(on, next.from) }) };
              return { band, count: await persons.count({ ...within(code), status: 'REGISTERED', birthDate }) };
            }),
          );
          assert.deepEqual(ageBandCounts(docs, on), counted, `${code} on ${on}`);
          const elderly = await persons.count({ ...within(code), status: 'REGISTERED', householdLiving: 1, birthDate: { lte: bornOnOrBefore(on, ELDERLY_AGE) } });
          assert.equal(atLeast(docs, 'alone', on, ELDERLY_AGE), elderly, `elderly living alone in ${code} on ${on}`);
          const distress = await persons.count({ ...within(code), status: 'REGISTERED', livingGuardians: 0, birthDate: { gt: bornOnOrBefore(on, ADULT_AGE) } });
          assert.equal(youngerThan(docs, 'unguarded', on, ADULT_AGE), distress, `children in distress in ${code} on ${on}`);
          if (code === '370100') living += counted.reduce((sum, b) => sum + b.count, 0);
        }
      }
      assert.ok(living > 0, 'the city has living residents to count');
    });

    it(`urban operations: open cases due and overdue equal a COUNT over the incidents, level by level (${openBackend.name.replace('Backend', '')})`, async () => {
      const summaries = platform.readModels.of(INCIDENTS_PROJECTION).collection<TieredSummaryDoc>(OPEN_DEADLINES.summaries);
      const days = platform.readModels.of(INCIDENTS_PROJECTION).collection<TieredBucketDoc>(OPEN_DEADLINES.buckets);
      const deadlines = (await incidents.find({ where: { overdueAfter: { lt: '9999' } }, first: 1000 })).items.map((i) => i.node.doc.overdueAfter);
      assert.ok(deadlines.length > 0, 'the seeded city has open cases with deadlines');
      let overdue = 0;
      for (const now of [...INSTANTS, deadlines[0]!]) {
        for (const code of DIVISIONS) {
          const summary = (await summaries.get(code))?.doc;
          const today = (await days.get(bucketKey(code, deadlineDay(now))))?.doc;
          for (const level of [null, ...LEVELS]) {
            const scope: Where = { ...within(code), ...(level !== null && { level }) };
            const counted = {
              dueOpen: await incidents.count({ ...scope, overdueAfter: { lte: now } }),
              overdueNow: await incidents.count({ ...scope, overdueAfter: { lt: now } }),
            };
            assert.deepEqual(clockCountsAt(summary, today, level, now), counted, `${code} at ${level ?? 'every level'} at ${now}`);
            if (code === '370100' && level === null) overdue += counted.overdueNow;
          }
        }
      }
      assert.ok(overdue > 0, 'some cases are overdue at some instant');
    });

    it(`urban operations: the counts hold until the instant clockCountsChangeAt names, and change there when it is a deadline (${openBackend.name.replace('Backend', '')})`, async () => {
      const days = platform.readModels.of(INCIDENTS_PROJECTION).collection<TieredBucketDoc>(OPEN_DEADLINES.buckets);
      const counted = async (code: string, at: number) => {
        const instant = new Date(at).toISOString();
        return [await incidents.count({ ...within(code), overdueAfter: { lte: instant } }), await incidents.count({ ...within(code), overdueAfter: { lt: instant } })];
      };
      let changedAtDeadline = 0;
      for (const now of INSTANTS) {
        const nowMs = Date.parse(now);
        for (const code of DIVISIONS) {
          const changesAt = clockCountsChangeAt((await days.get(bucketKey(code, deadlineDay(now))))?.doc, now);
          const dayEnd = Date.parse(`${deadlineDay(now)}T00:00:00Z`) + 24 * HOUR;
          assert.ok(changesAt > nowMs && changesAt <= dayEnd, `${code} at ${now}: ${new Date(changesAt).toISOString()}`);
          assert.deepEqual(await counted(code, changesAt - 1), await counted(code, nowMs), `${code} holds from ${now} until just before ${new Date(changesAt).toISOString()}`);
          if (changesAt < dayEnd) {
            assert.notDeepEqual(await counted(code, changesAt + 1), await counted(code, nowMs), `${code} changes at ${new Date(changesAt).toISOString()}`);
            changedAtDeadline++;
          }
        }
      }
      assert.ok(changedAtDeadline > 0, 'some division has a deadline later on its day');
    });
  });
}
