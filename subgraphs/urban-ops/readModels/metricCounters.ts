/**
 * The incident metrics of metrics.ts, kept incrementally. Each incident contributes counts
 * (metrics.ts `factsOf`) to one bucket per division containing it: the bucket of the level its case
 * sits at (or of no level, while the report awaits registration). On every event that changes its
 * contribution, the projection subtracts the old one and adds the new one, so a case moving between
 * levels moves its counts. A division's figures for all levels together are the sum of its five
 * buckets, added up when read (one batched read of five small documents), so an event writes one
 * bucket per division, not two.
 *
 * Only what does not depend on the clock is counted: "due for closure" and "overdue now" change
 * with time alone, so they are counted at query time from the incidents' `overdueAfter` (indexed).
 */
import { closeMinutesBin, factsOf, ratio, type IncidentMetrics } from '../metrics.ts';
import { LEVELS, ancestorsOf, type Level } from '../levels.ts';
import type { IncidentView } from './incidentView.ts';

export interface MetricCounts {
  reported: number;
  rejected: number;
  registered: number;
  closed: number;
  closedOnTime: number;
  reworked: number;
  evaluated: number;
  satisfactionSum: number;
  timedClosures: number;
  closeMinutesSum: number;
  /**
   * Time to close, binned by `closeMinutesBin` (minutes) → number of cases: percentiles without keeping
   * every case, in a document that stays small however many cases the division closes.
   */
  closeMinutes: Record<string, number>;
}

/**
 * One division's counts at one level. The counts sit in one field, so the document's per-field
 * sources (what every read-model document carries) stay three entries however many counts there are.
 */
export interface MetricsBucket extends Record<string, unknown> {
  divisionCode: string;
  /** null: reports at no level yet (awaiting registration). */
  level: Level | null;
  counts: MetricCounts;
}

export const emptyCounts = (): MetricCounts => ({
  reported: 0,
  rejected: 0,
  registered: 0,
  closed: 0,
  closedOnTime: 0,
  reworked: 0,
  evaluated: 0,
  satisfactionSum: 0,
  timedClosures: 0,
  closeMinutesSum: 0,
  closeMinutes: {},
});

export const bucketId = (divisionCode: string, level: Level | null): string => `${divisionCode}:${level ?? 'NONE'}`;

/** The buckets a division's figures are read from: the level's, or all five for every level together (`level` null). */
export const bucketIdsOf = (divisionCode: string, level: Level | null): string[] =>
  level === null ? [...LEVELS, null].map((l) => bucketId(divisionCode, l)) : [bucketId(divisionCode, level)];

export function countsOf(state: IncidentView['state']): MetricCounts {
  // The clock-free facts only: `due` and `overdueNow` are not used.
  const facts = factsOf(state, 0);
  const counts = emptyCounts();
  counts.reported = 1;
  counts.rejected = Number(facts.rejected);
  counts.registered = Number(facts.registered);
  counts.closed = Number(facts.closed);
  counts.closedOnTime = Number(facts.closedOnTime);
  counts.reworked = Number(facts.reworkedAndClosed);
  if (facts.satisfaction !== null) {
    counts.evaluated = 1;
    counts.satisfactionSum = facts.satisfaction;
  }
  if (facts.minutesToClose !== null) {
    counts.timedClosures = 1;
    counts.closeMinutesSum = facts.minutesToClose;
    counts.closeMinutes = { [String(closeMinutesBin(facts.minutesToClose))]: 1 };
  }
  return counts;
}

/** The buckets an incident counts in: one per division containing it, at the incident's level. */
export function bucketsOf(view: IncidentView, level: Level | null): { id: string; divisionCode: string; level: Level | null }[] {
  return ancestorsOf(view.state.report.divisionCode).map((divisionCode) => ({ id: bucketId(divisionCode, level), divisionCode, level }));
}

/** The counts of several buckets together (missing ones count nothing). */
export function sumCounts(buckets: readonly (MetricsBucket | null | undefined)[]): MetricCounts {
  const total = emptyCounts();
  for (const bucket of buckets) if (bucket) addCounts(total, bucket.counts, 1);
  return total;
}

const SCALAR_COUNTS = (Object.keys(emptyCounts()) as (keyof MetricCounts)[]).filter(
  (key): key is Exclude<keyof MetricCounts, 'closeMinutes'> => key !== 'closeMinutes',
);

/** `target += sign × counts`, in place, dropping histogram entries that reach zero. */
export function addCounts(target: MetricCounts, counts: MetricCounts, sign: 1 | -1): void {
  for (const key of SCALAR_COUNTS) target[key] += sign * counts[key];
  const histogram = target.closeMinutes;
  for (const minutes in counts.closeMinutes) {
    const next = (histogram[minutes] ?? 0) + sign * counts.closeMinutes[minutes]!;
    if (next === 0) delete histogram[minutes];
    else histogram[minutes] = next;
  }
}

/** Whether two incidents' contributions are the same (most events change none). */
export function sameCounts(a: MetricCounts, b: MetricCounts): boolean {
  if (SCALAR_COUNTS.some((key) => a[key] !== b[key])) return false;
  const keysA = Object.keys(a.closeMinutes);
  return keysA.length === Object.keys(b.closeMinutes).length && keysA.every((key) => a.closeMinutes[key] === b.closeMinutes[key]);
}

/** Nearest rank (metrics.ts): the ⌈p·n⌉-th smallest value, read off the histogram. */
function percentileOf(histogram: Record<string, number>, total: number, p: number): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [minutes, n] of Object.entries(histogram).map(([m, n]) => [Number(m), n] as const).sort((a, b) => a[0] - b[0])) {
    seen += n;
    if (seen >= rank) return minutes;
  }
  return null;
}

export interface ClockCounts {
  /** Open cases whose deadline has arrived (deadline ≤ now). */
  dueOpen: number;
  /** Open cases past their deadline (deadline < now). */
  overdueNow: number;
}

/** The indicators of metrics.ts from a bucket's counts and the counts taken at query time. */
export function finishMetrics(counts: MetricCounts, clock: ClockCounts): IncidentMetrics {
  const dueForClosure = counts.closed + clock.dueOpen;
  return {
    reported: counts.reported,
    rejected: counts.rejected,
    pendingRegistration: counts.reported - counts.registered - counts.rejected,
    registered: counts.registered,
    open: counts.registered - counts.closed,
    dueForClosure,
    closed: counts.closed,
    closedOnTime: counts.closedOnTime,
    closureRate: ratio(counts.closed, dueForClosure),
    onTimeClosureRate: ratio(counts.closedOnTime, dueForClosure),
    reworked: counts.reworked,
    reworkRate: ratio(counts.reworked, counts.closed),
    meanTimeToCloseMinutes: ratio(counts.closeMinutesSum, counts.timedClosures),
    p90TimeToCloseMinutes: percentileOf(counts.closeMinutes, counts.timedClosures, 0.9),
    overdueNow: clock.overdueNow,
    evaluated: counts.evaluated,
    meanSatisfaction: ratio(counts.satisfactionSum, counts.evaluated),
  };
}
