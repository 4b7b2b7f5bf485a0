/**
 * The clock as resolvers read it for figures that change with it alone (ages, days since, passed
 * deadlines): each such figure can tell when it next changes, and the host that keeps answers (the
 * gateway's response cache, kit/answerReads.ts) holds an answer with it until then rather than for
 * the clock's second only.
 */
import { chinaDateOf, chinaMidnight, DAY_MS } from './calendar.ts';
import type { SubgraphRuntime } from './module.ts';

/** The clock, read for a figure that may say when it next changes. */
export interface ClockReading {
  now: Date;
  /** What was read from `now` stays what it is until `changesAt` (ms). */
  holdsUntil(changesAt: number): void;
}

/** Reads the clock; where no host keeps answers, `holdsUntil` has nothing to tell. */
export function readClock(runtime: Pick<SubgraphRuntime, 'now' | 'readClock'>): ClockReading {
  return runtime.readClock?.() ?? { now: runtime.now(), holdsUntil: () => undefined };
}

/** Now, for a figure that depends on the calendar date in China only: it holds until the next midnight there. */
export function nowForChinaDate(runtime: Pick<SubgraphRuntime, 'now' | 'readClock'>): Date {
  const { now, holdsUntil } = readClock(runtime);
  holdsUntil(chinaMidnight(chinaDateOf(now.getTime())) + DAY_MS);
  return now;
}

/** Whole days from `since` (an instant) to now, never below 0: it changes when the next whole day has passed. */
export function daysSince(runtime: Pick<SubgraphRuntime, 'now' | 'readClock'>, since: string): number {
  const { now, holdsUntil } = readClock(runtime);
  const start = Date.parse(since);
  const days = Math.max(0, Math.floor((now.getTime() - start) / DAY_MS));
  holdsUntil(start + (days + 1) * DAY_MS);
  return days;
}
