/**
 * 事件闭环漏斗 by period: the incidents reported in a period (a cohort of report days in China) and
 * how far each got through the loop — reported, registered, dispatched, handled, verified, closed —
 * with on-time closure, rework and rejection. Stages, not statuses: a case closed counts as
 * dispatched, handled and verified too, so each stage holds at most the one before it.
 *
 * The projection keeps one document per division and report day (`divisionCode:date`): an event that
 * moves an incident to a new stage adds the difference to the day it was reported, in every division
 * containing it (four documents). A period is the sum of at most 30 days, read in one round trip.
 */
import { addDays, chinaDate, chinaDateOf } from '../../kit/calendar.ts';
import { ratio } from '../metrics.ts';
import type { IncidentView } from './incidentView.ts';

export const FUNNEL_STAGES = ['reported', 'rejected', 'registered', 'dispatched', 'handled', 'verified', 'closed', 'closedOnTime', 'reworked'] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];
export type FunnelCounts = Record<FunnelStage, number>;

/** One division's cohort of one report day. */
export interface FunnelDay extends Record<string, unknown> {
  divisionCode: string;
  /** The report day in China (YYYY-MM-DD). */
  date: string;
  counts: FunnelCounts;
}

export const funnelDayKey = (divisionCode: string, date: string): string => `${divisionCode}:${date}`;

export const emptyFunnel = (): FunnelCounts => ({ reported: 0, rejected: 0, registered: 0, dispatched: 0, handled: 0, verified: 0, closed: 0, closedOnTime: 0, reworked: 0 });

/** The stages one incident has reached (each 0 or 1). */
export function funnelStagesOf(state: IncidentView['state']): FunnelCounts {
  const counts = emptyFunnel();
  counts.reported = 1;
  counts.rejected = Number(state.status === 'REJECTED');
  if (!('caseFile' in state)) return counts;
  const { caseFile } = state;
  const closed = state.status === 'CLOSED';
  counts.registered = 1;
  counts.dispatched = Number(caseFile.firstDispatchedAt !== null);
  // A failed verification sends the work back, but it was handled once.
  counts.handled = Number(closed || state.status === 'HANDLED' || caseFile.lastVerification !== null);
  counts.verified = Number(closed || caseFile.lastVerification === 'PASSED');
  counts.closed = Number(closed);
  counts.closedOnTime = Number(closed && state.onTime);
  counts.reworked = Number(caseFile.reworkCount > 0);
  return counts;
}

/** The day an incident counts in: when it was reported, in China. */
export const reportDayOf = (view: IncidentView): string => chinaDateOf(Date.parse(view.state.report.reportedAt));

/** `after − before`, or null when they are the same (most events move no stage). */
export function funnelDelta(before: FunnelCounts | null, after: FunnelCounts): FunnelCounts | null {
  const delta = emptyFunnel();
  let changed = false;
  for (const stage of FUNNEL_STAGES) {
    delta[stage] = after[stage] - (before?.[stage] ?? 0);
    if (delta[stage] !== 0) changed = true;
  }
  return changed ? delta : null;
}

/** `target += other`, in place. */
export function addFunnel(target: FunnelCounts, other: FunnelCounts): void {
  for (const stage of FUNNEL_STAGES) target[stage] += other[stage];
}

export const FUNNEL_PERIODS = { TODAY: 1, LAST_7_DAYS: 7, LAST_30_DAYS: 30 } as const;
export type FunnelPeriod = keyof typeof FUNNEL_PERIODS;

/** The report days of a period ending today (China), oldest first. */
export function periodDates(period: FunnelPeriod, now: string): string[] {
  const today = chinaDate(now);
  const days = FUNNEL_PERIODS[period];
  return Array.from({ length: days }, (_, i) => addDays(today, i - days + 1));
}

export interface IncidentFunnel extends FunnelCounts {
  period: FunnelPeriod;
  from: string;
  to: string;
  /** closed ÷ registered. */
  closureRate: number | null;
  /** closed on time ÷ closed. */
  onTimeClosureRate: number | null;
  /** reworked ÷ handled. */
  reworkRate: number | null;
}

export function finishFunnel(period: FunnelPeriod, dates: readonly string[], counts: FunnelCounts): IncidentFunnel {
  return {
    ...counts,
    period,
    from: dates[0]!,
    to: dates[dates.length - 1]!,
    closureRate: ratio(counts.closed, counts.registered),
    onTimeClosureRate: ratio(counts.closedOnTime, counts.closed),
    reworkRate: ratio(counts.reworked, counts.handled),
  };
}
