/**
 * Living residents per division by birth date, kept by the registry projection beside the person
 * documents it counts: the age bands, the elderly living alone and the children in distress of a
 * division are sums over a few small documents (kit/tieredCounts.ts), not COUNTs over its residents.
 * Ages move with the calendar alone, so what is kept is the birth date, never an age: a band as of
 * any day is the residents born between two dates. Counts per birth year (one summary per division)
 * and per birth date within a year (one document per division and year) make "born on or before
 * D" the years before D's plus the dates of D's year up to D.
 */
import type { Collection } from '../../../projections/types.ts';
import { bucketKey, countUpTo, tieredDelta, tieredTotal, type TieredBucketDoc, type TieredCounts, type TieredEntry, type TieredSummaryDoc } from '../../kit/tieredCounts.ts';
import { ageBand, bornOnOrBefore, type AgeBand } from '../models/age.ts';
import type { PersonDoc } from './registry.ts';

export const AGE_COHORTS: TieredCounts = { summaries: 'cohortYears', buckets: 'cohortDays', bucketOf: (birthDate) => birthDate.slice(0, 4) };

/**
 * `living`: every registered resident whose death is not registered; `alone`: those of them who are
 * the only living member of their household; `unguarded`: those none of whose guardians is alive
 * (or who have none registered).
 */
export type Cohort = 'living' | 'alone' | 'unguarded';

/** The cohorts a person document counts in, in each division containing the residence. */
export function cohortEntries(person: PersonDoc | undefined): TieredEntry[] {
  if (!person || person.status !== 'REGISTERED') return [];
  const cohorts: Cohort[] = ['living'];
  if (person.householdLiving === 1) cohorts.push('alone');
  if (person.livingGuardians === 0) cohorts.push('unguarded');
  const scopes = [person.cityCode, person.districtCode, person.streetCode, person.communityCode].filter((c): c is string => c !== null);
  return scopes.flatMap((scope) => cohorts.map((series) => ({ scope, series, value: person.birthDate })));
}

/**
 * The person collection as one event's `apply` writes it, noting each person's cohorts before its
 * first write and after its last, so `delta()` is what the event changed in the counts.
 */
export function cohortTracking(persons: Collection<PersonDoc>): { persons: Collection<PersonDoc>; delta(): ReturnType<typeof tieredDelta> } {
  const touched = new Map<string, { before: TieredEntry[]; latest: PersonDoc | undefined }>();
  const track = async (id: string) => {
    let entry = touched.get(id);
    if (!entry) {
      const doc = (await persons.get(id))?.doc;
      entry = { before: cohortEntries(doc), latest: doc };
      touched.set(id, entry);
    }
    return entry;
  };
  return {
    persons: {
      get: (id) => persons.get(id),
      getMany: (ids) => persons.getMany(ids),
      find: (options) => persons.find(options),
      count: (where) => persons.count(where),
      async upsert(id, doc, source) {
        (await track(id)).latest = doc;
        await persons.upsert(id, doc, source);
      },
      async patch(id, fields, source) {
        const entry = await track(id);
        entry.latest = { ...entry.latest, ...fields } as PersonDoc;
        await persons.patch(id, fields, source);
      },
      async delete(id) {
        (await track(id)).latest = undefined;
        await persons.delete(id);
      },
    },
    delta: () =>
      tieredDelta(
        [...touched.values()].flatMap((t) => t.before),
        [...touched.values()].flatMap((t) => cohortEntries(t.latest)),
      ),
  };
}

/** A division's documents of the counts as read for one day: its summary and the birth years asked for. */
export interface CohortDocs {
  summary: TieredSummaryDoc | null | undefined;
  /** Birth year → that year's document (absent or null: nobody of the division born that year). */
  years: ReadonlyMap<string, TieredBucketDoc | null | undefined>;
}

/** The bands of `ageBand`, each with the first age in it, read off the model so the two never disagree. */
export const AGE_BANDS: readonly { band: AgeBand; from: number }[] = (() => {
  const bands: { band: AgeBand; from: number }[] = [];
  for (let age = 0; age <= 150; age++) {
    const band = ageBand(age);
    if (bands.at(-1)?.band !== band) bands.push({ band, from: age });
  }
  return bands;
})();

/** The birth year whose document `atLeast(…, age)` reads. */
export const boundaryYear = (today: string, age: number): string => AGE_COHORTS.bucketOf(bornOnOrBefore(today, age));

/** Reads a division's summary and the birth-year documents the ages `ages` on `today` need (in parallel: a loader batches them). */
export async function readCohortDocs(
  read: { summary(code: string): Promise<TieredSummaryDoc | null | undefined>; year(key: string): Promise<TieredBucketDoc | null | undefined> },
  code: string,
  today: string,
  ages: readonly number[],
): Promise<CohortDocs> {
  const years = [...new Set(ages.map((age) => boundaryYear(today, age)))];
  const [summary, docs] = await Promise.all([read.summary(code), Promise.all(years.map((year) => read.year(bucketKey(code, year))))]);
  return { summary, years: new Map(years.map((year, i) => [year, docs[i]])) };
}

/** Members of `cohort` at least `age` years old on `today` (`YYYY-MM-DD`), as `ageOn` counts years. */
export function atLeast(docs: CohortDocs, cohort: Cohort, today: string, age: number): number {
  const bound = bornOnOrBefore(today, age);
  return countUpTo(AGE_COHORTS, docs.summary, docs.years.get(AGE_COHORTS.bucketOf(bound)), cohort, bound, true);
}

/** Members of `cohort` younger than `age` on `today`. */
export function youngerThan(docs: CohortDocs, cohort: Cohort, today: string, age: number): number {
  return tieredTotal(docs.summary, cohort) - atLeast(docs, cohort, today, age);
}

/** Living residents per age band on `today`: those at least the band's first age, less those at least the next band's. */
export function ageBandCounts(docs: CohortDocs, today: string): { band: AgeBand; count: number }[] {
  return AGE_BANDS.map(({ band, from }, i) => {
    const next = AGE_BANDS[i + 1];
    return { band, count: atLeast(docs, 'living', today, from) - (next ? atLeast(docs, 'living', today, next.from) : 0) };
  });
}
