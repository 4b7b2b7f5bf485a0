/**
 * Counts of dated things per scope (a division), kept by a projection so that "how many are dated
 * on or before x" — figures that change with the clock alone: ages, overdue deadlines — is read
 * from two small documents whatever x is, instead of a COUNT over the things themselves.
 *
 * Values are strings that order as they compare (ISO dates and instants of one format). Each scope
 * has a summary document counting values per bucket (a prefix of the value: its year, its day), and
 * one document per bucket counting each exact value. Everything before the bound's bucket is a sum
 * over the summary; only the bound's own bucket is looked at value by value. Counts come in named
 * series (a cohort, a level), summed or read one at a time.
 */
import type { DocumentStore, FieldSource } from '../../projections/types.ts';

/** Value (or bucket) → how many. Entries that reach zero are dropped, so documents stay small. */
export type Tally = Record<string, number>;

/** One thing counted: in `scope`, series `series`, dated `value`. */
export interface TieredEntry {
  scope: string;
  series: string;
  value: string;
}

/** Per scope: series → bucket → count. */
export interface TieredSummaryDoc extends Record<string, unknown> {
  scope: string;
  buckets: Record<string, Tally>;
}

/** Per scope and bucket: series → value → count. */
export interface TieredBucketDoc extends Record<string, unknown> {
  scope: string;
  bucket: string;
  values: Record<string, Tally>;
}

/** Where a kind of counts lives, and how a value falls in its bucket. */
export interface TieredCounts {
  summaries: string;
  buckets: string;
  /** The bucket of a value: a prefix of it, so buckets order as their values do. */
  bucketOf(value: string): string;
}

export const bucketKey = (scope: string, bucket: string): string => `${scope}:${bucket}`;

const entryKey = (e: TieredEntry): string => `${e.scope}\u0000${e.series}\u0000${e.value}`;

/** `tally[key] += by`, dropping the entry when it reaches zero. */
export function bump(tally: Tally, key: string, by: number): void {
  const next = (tally[key] ?? 0) + by;
  if (next === 0) delete tally[key];
  else tally[key] = next;
}

/** What changes when a thing counted as `before` is now counted as `after`: +1/−1 per entry, unchanged ones left out. */
export function tieredDelta(before: readonly TieredEntry[], after: readonly TieredEntry[]): { entry: TieredEntry; by: number }[] {
  const delta = new Map<string, { entry: TieredEntry; by: number }>();
  for (const [entries, sign] of [
    [before, -1],
    [after, 1],
  ] as const) {
    for (const entry of entries) {
      const key = entryKey(entry);
      const change = delta.get(key) ?? { entry, by: 0 };
      change.by += sign;
      delta.set(key, change);
    }
  }
  return [...delta.values()].filter((c) => c.by !== 0);
}

/** Deltas not written yet, summed per entry, with the source each document they touch was last changed by. */
interface PendingDelta {
  changes: Map<string, { entry: TieredEntry; by: number }>;
  summarySources: Map<string, FieldSource>;
  buckets: Map<string, { scope: string; bucket: string; source: FieldSource }>;
}

/**
 * Adds a delta to the summary and bucket documents it touches: two reads and the writes of the
 * scopes changed. Within a batch that the store writes at once (`DocumentStore.deferred`) the deltas
 * of its events are summed and written once: the summaries of a city and its districts are touched by
 * nearly every event, and reading and writing them whole per event was most of a rebuild's work.
 */
export async function applyTieredDelta(store: DocumentStore, counts: TieredCounts, delta: readonly { entry: TieredEntry; by: number }[], source: FieldSource): Promise<void> {
  if (delta.length === 0) return;
  const pending = store.deferred?.<PendingDelta>(counts, () => ({ changes: new Map(), summarySources: new Map(), buckets: new Map() }), (p) => writeTieredDelta(store, counts, p));
  const target = pending ?? { changes: new Map(), summarySources: new Map(), buckets: new Map() };
  for (const change of delta) {
    const key = entryKey(change.entry);
    const summed = target.changes.get(key);
    // An entry summed to zero still creates its documents, as applying its deltas one by one does.
    if (summed) summed.by += change.by;
    else target.changes.set(key, { ...change });
    target.summarySources.set(change.entry.scope, source);
    const bucket = counts.bucketOf(change.entry.value);
    target.buckets.set(bucketKey(change.entry.scope, bucket), { scope: change.entry.scope, bucket, source });
  }
  if (!pending) await writeTieredDelta(store, counts, target);
}

async function writeTieredDelta(store: DocumentStore, counts: TieredCounts, { changes, summarySources, buckets: touched }: PendingDelta): Promise<void> {
  const summaries = store.collection<TieredSummaryDoc>(counts.summaries);
  const buckets = store.collection<TieredBucketDoc>(counts.buckets);
  const scopes = [...summarySources.keys()];
  const bucketIds = [...touched.keys()];
  const summaryDocs = await summaries.getMany(scopes);
  const bucketDocs = await buckets.getMany(bucketIds);
  const summaryOf = new Map(scopes.map((scope, i) => [scope, summaryDocs[i]?.doc ?? { scope, buckets: {} }]));
  const bucketOf = new Map(bucketIds.map((id, i) => [id, bucketDocs[i]?.doc ?? { scope: touched.get(id)!.scope, bucket: touched.get(id)!.bucket, values: {} }]));
  for (const { entry, by } of changes.values()) {
    const bucket = counts.bucketOf(entry.value);
    const summary = summaryOf.get(entry.scope)!;
    bump((summary.buckets[entry.series] ??= {}), bucket, by);
    const values = bucketOf.get(bucketKey(entry.scope, bucket))!.values;
    bump((values[entry.series] ??= {}), entry.value, by);
  }
  for (const [scope, doc] of summaryOf) await summaries.upsert(scope, doc, summarySources.get(scope)!);
  for (const [id, doc] of bucketOf) await buckets.upsert(id, doc, touched.get(id)!.source);
}

/** How many of `series` are counted in the scope, whatever their value. */
export function tieredTotal(summary: TieredSummaryDoc | null | undefined, series: string): number {
  let total = 0;
  for (const n of Object.values(summary?.buckets[series] ?? {})) total += n;
  return total;
}

/**
 * How many of `series` (every series when null) are dated before `bound` (`inclusive`: on or before),
 * from the scope's summary and the document of the bound's bucket (either may be missing: none counted).
 */
export function countUpTo(
  counts: Pick<TieredCounts, 'bucketOf'>,
  summary: TieredSummaryDoc | null | undefined,
  boundBucket: TieredBucketDoc | null | undefined,
  series: string | null,
  bound: string,
  inclusive: boolean,
): number {
  const last = counts.bucketOf(bound);
  const pick = <T>(bySeries: Record<string, T> | undefined): T[] =>
    !bySeries ? [] : series === null ? Object.values(bySeries) : bySeries[series] ? [bySeries[series]] : [];
  let total = 0;
  for (const tally of pick(summary?.buckets)) for (const bucket in tally) if (bucket < last) total += tally[bucket]!;
  for (const tally of pick(boundBucket?.values)) for (const value in tally) if (inclusive ? value <= bound : value < bound) total += tally[value]!;
  return total;
}
