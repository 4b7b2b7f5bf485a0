/**
 * Open cases per division by deadline, kept by the incidents projection: "due for closure" and
 * "overdue now" change with the clock alone, so what is kept is each open case's deadline (its
 * `overdueAfter`), level by level, and a division's figures as of any instant are sums over two
 * small documents (kit/tieredCounts.ts): the deadlines per day, and that instant's day deadline by
 * deadline — not COUNTs over the incidents.
 */
import { DAY_MS } from '../../kit/calendar.ts';
import { countUpTo, type TieredBucketDoc, type TieredCounts, type TieredEntry, type TieredSummaryDoc } from '../../kit/tieredCounts.ts';
import type { Level } from '../levels.ts';
import { NEVER_OVERDUE, type IncidentDoc } from './incidentView.ts';
import { levelKey, type ClockCounts } from './metricCounters.ts';

export const OPEN_DEADLINES: TieredCounts = { summaries: 'deadlineDays', buckets: 'deadlines', bucketOf: (instant) => instant.slice(0, 10) };

/** An open case with a deadline counts, at its level, in every division containing it. */
export function deadlineEntries(doc: IncidentDoc | undefined): TieredEntry[] {
  if (!doc || doc.overdueAfter === NEVER_OVERDUE) return [];
  const series = levelKey(doc.level);
  return [doc.cityCode, doc.districtCode, doc.streetCode, doc.communityCode].map((scope) => ({ scope, series, value: doc.overdueAfter }));
}

/** The day whose document `clockCountsAt` reads for `now`. */
export const deadlineDay = (now: string): string => OPEN_DEADLINES.bucketOf(now);

/**
 * A division's open cases at `level` (every level when null) whose deadline has arrived (`dueOpen`:
 * deadline ≤ now) or passed (`overdueNow`: deadline < now), from its summary and now's day document.
 */
export function clockCountsAt(summary: TieredSummaryDoc | null | undefined, today: TieredBucketDoc | null | undefined, level: Level | null, now: string): ClockCounts {
  return {
    dueOpen: countUpTo(OPEN_DEADLINES, summary, today, level, now, true),
    overdueNow: countUpTo(OPEN_DEADLINES, summary, today, level, now, false),
  };
}

/**
 * The instant `clockCountsAt`'s figures for `now` may next change: the first deadline of now's day
 * not yet passed (one at `now` itself passes a millisecond later), or the day's end, when the next
 * day's document is read.
 */
export function clockCountsChangeAt(today: TieredBucketDoc | null | undefined, now: string): number {
  let next = Date.parse(`${deadlineDay(now)}T00:00:00Z`) + DAY_MS;
  for (const tally of Object.values(today?.values ?? {})) {
    for (const deadline in tally) if (deadline >= now) next = Math.min(next, Date.parse(deadline));
  }
  return next;
}
