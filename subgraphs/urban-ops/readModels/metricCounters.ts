/**
 * The incident metrics of metrics.ts, kept incrementally. Each incident contributes counts
 * (metrics.ts `factsOf`) to every division containing it, at the level its case sits at (or at no
 * level, while the report awaits registration). On every event that changes its contribution, the
 * projection subtracts the old one and adds the new one, so a case moving between levels moves its
 * counts.
 *
 * One document per division holds its counts level by level (`metrics`), and one more its
 * time-to-close histograms level by level (`closeTimes`): an event that changes an incident's
 * contribution writes one document per division containing it (four), and only a closure writes the
 * histograms, which grow to a few hundred bins while the counts stay a dozen numbers per level. A
 * division's figures for all levels together are the sum of its levels, added up when read.
 *
 * Only what does not depend on the clock is counted: "due for closure" and "overdue now" change
 * with time alone, so they are counted at query time from the incidents' `overdueAfter` (indexed).
 */
import { closeMinutesBin, factsOf, ratio, type IncidentMetrics } from '../metrics.ts';
import { ancestorsOf, type Level } from '../levels.ts';
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

/** The counts kept in `metrics`: everything but the time-to-close histogram. */
export type LevelCounts = Omit<MetricCounts, 'closeMinutes'>;

/** A level, or `NONE` for reports awaiting registration. */
export type LevelKey = Level | 'NONE';

export const levelKey = (level: Level | null): LevelKey => level ?? 'NONE';

/**
 * One division's counts, level by level (a level appears once an incident has counted there). The
 * levels sit in one field, so the document's per-field sources stay two entries.
 */
export interface DivisionCounts extends Record<string, unknown> {
  divisionCode: string;
  levels: Partial<Record<LevelKey, LevelCounts>>;
}

/** One division's time-to-close histograms, level by level. */
export interface DivisionCloseTimes extends Record<string, unknown> {
  divisionCode: string;
  levels: Partial<Record<LevelKey, Record<string, number>>>;
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

/** The divisions an incident counts in: every division containing it. */
export function divisionsOf(view: IncidentView): string[] {
  return ancestorsOf(view.state.report.divisionCode);
}

/** A division's counts at `level`, or at every level together (`level` null); missing documents count nothing. */
export function countsAt(counts: DivisionCounts | null | undefined, closeTimes: DivisionCloseTimes | null | undefined, level: Level | null): MetricCounts {
  const total = emptyCounts();
  const keys = (levels: object): LevelKey[] => (level === null ? (Object.keys(levels) as LevelKey[]) : [level]);
  if (counts) for (const key of keys(counts.levels)) if (counts.levels[key]) addLevelCounts(total, counts.levels[key], 1);
  if (closeTimes) for (const key of keys(closeTimes.levels)) if (closeTimes.levels[key]) addHistogram(total.closeMinutes, closeTimes.levels[key], 1);
  return total;
}

const SCALAR_COUNTS = (Object.keys(emptyCounts()) as (keyof MetricCounts)[]).filter(
  (key): key is Exclude<keyof MetricCounts, 'closeMinutes'> => key !== 'closeMinutes',
);

/** `target += sign × counts`, in place, dropping histogram entries that reach zero. */
export function addCounts(target: MetricCounts, counts: MetricCounts, sign: 1 | -1): void {
  addLevelCounts(target, counts, sign);
  addHistogram(target.closeMinutes, counts.closeMinutes, sign);
}

/** `target += sign × counts` for every count but the histogram. */
export function addLevelCounts(target: LevelCounts, counts: LevelCounts, sign: 1 | -1): void {
  for (const key of SCALAR_COUNTS) target[key] += sign * counts[key];
}

/** `histogram += sign × other`, in place, dropping entries that reach zero. */
export function addHistogram(histogram: Record<string, number>, other: Record<string, number>, sign: 1 | -1): void {
  for (const minutes in other) {
    const next = (histogram[minutes] ?? 0) + sign * other[minutes]!;
    if (next === 0) delete histogram[minutes];
    else histogram[minutes] = next;
  }
}

/** The counts but the histogram. */
export function levelCountsOf(counts: MetricCounts): LevelCounts {
  const { closeMinutes: _histogram, ...scalars } = counts;
  return scalars;
}

/** Whether any count but the histogram is not zero (a delta that changes `metrics`). */
export const changesCounts = (delta: MetricCounts): boolean => SCALAR_COUNTS.some((key) => delta[key] !== 0);

/** Whether the histogram of a delta has any entry left (a delta that changes `closeTimes`). */
export const changesHistogram = (delta: MetricCounts): boolean => Object.keys(delta.closeMinutes).length > 0;

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
