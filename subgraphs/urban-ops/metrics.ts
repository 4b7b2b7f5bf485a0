/**
 * Digital urban-management indicators (DESIGN §8), computed from scratch over incident events. This
 * is the reference the incremental projection is checked against, so it favours plainness: fold
 * every incident with the decider's own `evolve`, reduce each to a few facts, then count.
 *
 * Definitions, as of `now` (the log passed in is the log up to `now`):
 * - reported: incidents reported; rejected; pendingRegistration: neither registered nor rejected yet.
 * - registered: cases (立案); open: registered and not closed.
 * - dueForClosure (应结案): closed cases plus open cases whose deadline has arrived (deadline ≤ now).
 *   A case closed early counts as due, so the closure rate cannot exceed 1. Deferral (缓办) does not
 *   exist in this workflow, so "due − deferred" is simply "due".
 * - closureRate = closed ÷ dueForClosure; onTimeClosureRate = closed on time ÷ dueForClosure.
 * - reworkRate = closed cases that failed verification at least once ÷ closed.
 * - time to close: closedAt − first dispatch (the clock starts at dispatch), in minutes; p90 of the
 *   times put in the bins of {@link closeMinutesBin} (so the projection can keep a bounded histogram) by the
 *   nearest-rank method (the ⌈0.9·n⌉-th smallest).
 * - overdueNow: open cases past their deadline (deadline < now).
 * - meanSatisfaction over evaluated cases.
 * Rates and means are null when their denominator is 0.
 *
 * Per division: every incident counts in its community and in each division above it. Per level:
 * each case counts at the level where it sits now (a closed case at its handling unit's level), a
 * rejected report at its rejecting centre's level; reports awaiting registration at no level.
 */
import { ValidationError } from '../../events/errors.ts';
import { incidentDecider, type IncidentState } from './incident/decider.ts';
import type { IncidentEvent } from './incident/events.ts';
import { LEVELS, ancestorsOf, levelOfCode, type Level } from './levels.ts';

export interface IncidentMetrics {
  reported: number;
  rejected: number;
  pendingRegistration: number;
  registered: number;
  open: number;
  dueForClosure: number;
  closed: number;
  closedOnTime: number;
  closureRate: number | null;
  onTimeClosureRate: number | null;
  /** Closed cases that failed verification at least once. */
  reworked: number;
  reworkRate: number | null;
  meanTimeToCloseMinutes: number | null;
  p90TimeToCloseMinutes: number | null;
  overdueNow: number;
  evaluated: number;
  meanSatisfaction: number | null;
}

export interface DivisionMetrics extends IncidentMetrics {
  divisionCode: string;
  level: Level;
}

export interface MetricsReport {
  asOf: string;
  /** Divisions with at least one incident, ordered by code. */
  divisions: DivisionMetrics[];
  levels: Record<Level, IncidentMetrics>;
}

/** What one incident contributes to the counts. */
export interface IncidentFacts {
  rejected: boolean;
  registered: boolean;
  closed: boolean;
  closedOnTime: boolean;
  due: boolean;
  overdueNow: boolean;
  reworkedAndClosed: boolean;
  minutesToClose: number | null;
  satisfaction: number | null;
}

const MINUTE_MS = 60_000;

export function factsOf(state: Exclude<IncidentState, { status: 'UNREPORTED' }>, nowMs: number): IncidentFacts {
  const facts: IncidentFacts = {
    rejected: state.status === 'REJECTED',
    registered: false,
    closed: false,
    closedOnTime: false,
    due: false,
    overdueNow: false,
    reworkedAndClosed: false,
    minutesToClose: null,
    satisfaction: null,
  };
  if (!('caseFile' in state)) return facts;
  const { caseFile } = state;
  const deadlineMs = caseFile.deadline === null ? null : Date.parse(caseFile.deadline);
  facts.registered = true;
  if (state.status === 'CLOSED') {
    facts.closed = true;
    facts.due = true;
    facts.closedOnTime = state.onTime;
    facts.reworkedAndClosed = caseFile.reworkCount > 0;
    if (caseFile.firstDispatchedAt !== null) {
      facts.minutesToClose = (Date.parse(state.closedAt) - Date.parse(caseFile.firstDispatchedAt)) / MINUTE_MS;
    }
    facts.satisfaction = state.evaluation?.satisfaction ?? null;
  } else if (deadlineMs !== null) {
    facts.due = deadlineMs <= nowMs;
    facts.overdueNow = deadlineMs < nowMs;
  }
  return facts;
}

export const ratio = (numerator: number, denominator: number): number | null => (denominator === 0 ? null : numerator / denominator);

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * The histogram bin of a time to close: the whole minute below 100 minutes, two significant figures
 * above (1,234 → 1,200), so a division's histogram holds about 100 + 90 bins per decade however many
 * cases it closes, and p90 is within 5 %. Monotonic, so the p90 of the binned times is the bin of the p90.
 */
export function closeMinutesBin(minutes: number): number {
  const whole = Math.round(minutes);
  if (whole < 100) return whole;
  const unit = 10 ** (Math.floor(Math.log10(whole)) - 1);
  return Math.round(whole / unit) * unit;
}

/** Nearest-rank percentile: the ⌈p·n⌉-th smallest value. */
function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? null;
}

function summarise(all: readonly IncidentFacts[]): IncidentMetrics {
  const count = (predicate: (f: IncidentFacts) => boolean): number => all.filter(predicate).length;
  const registered = count((f) => f.registered);
  const rejected = count((f) => f.rejected);
  const closed = count((f) => f.closed);
  const closedOnTime = count((f) => f.closedOnTime);
  const dueForClosure = count((f) => f.due);
  const reworked = count((f) => f.reworkedAndClosed);
  const times = all.flatMap((f) => (f.minutesToClose === null ? [] : [f.minutesToClose]));
  const satisfactions = all.flatMap((f) => (f.satisfaction === null ? [] : [f.satisfaction]));
  return {
    reported: all.length,
    rejected,
    pendingRegistration: all.length - registered - rejected,
    registered,
    open: registered - closed,
    dueForClosure,
    closed,
    closedOnTime,
    closureRate: ratio(closed, dueForClosure),
    onTimeClosureRate: ratio(closedOnTime, dueForClosure),
    reworked,
    reworkRate: ratio(reworked, closed),
    meanTimeToCloseMinutes: mean(times),
    p90TimeToCloseMinutes: percentile(times.map(closeMinutesBin), 0.9),
    overdueNow: count((f) => f.overdueNow),
    evaluated: satisfactions.length,
    meanSatisfaction: mean(satisfactions),
  };
}

/** The level an incident counts at, or null while it awaits registration. */
export function levelOfIncident(state: Exclude<IncidentState, { status: 'UNREPORTED' }>): Level | null {
  if ('caseFile' in state) return state.caseFile.level;
  if (state.status === 'REJECTED') return state.rejection.rejectedBy.level;
  return null;
}

export function computeMetrics(events: Iterable<IncidentEvent>, now: string): MetricsReport {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) throw new ValidationError(`now must be an ISO 8601 instant, got "${now}"`, { field: 'now' });

  const states = new Map<string, IncidentState>();
  for (const event of events) {
    const id = event.data.incidentId;
    states.set(id, incidentDecider.evolve(states.get(id) ?? incidentDecider.initialState(), event));
  }

  const byDivision = new Map<string, IncidentFacts[]>();
  const byLevel = new Map<Level, IncidentFacts[]>(LEVELS.map((level) => [level, []]));
  for (const state of states.values()) {
    if (state.status === 'UNREPORTED') continue;
    const facts = factsOf(state, nowMs);
    for (const code of ancestorsOf(state.report.divisionCode)) {
      const list = byDivision.get(code) ?? [];
      list.push(facts);
      byDivision.set(code, list);
    }
    const level = levelOfIncident(state);
    if (level !== null) byLevel.get(level)?.push(facts);
  }

  const divisions = [...byDivision.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([divisionCode, facts]) => ({ divisionCode, level: levelOfCode(divisionCode), ...summarise(facts) }));
  const levels = Object.fromEntries(LEVELS.map((level) => [level, summarise(byLevel.get(level) ?? [])])) as Record<
    Level,
    IncidentMetrics
  >;
  return { asOf: new Date(nowMs).toISOString(), divisions, levels };
}
