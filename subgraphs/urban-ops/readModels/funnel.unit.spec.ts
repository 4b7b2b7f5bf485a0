import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Recorded } from '../../../events/types.ts';
import type { IncidentEvent } from '../incident/events.ts';
import { at, closed, dispatched, handled, lixiaCentre, registered, reported, started, streetOffice, verificationFailed, verificationPassed } from '../incident/fixtures.ts';
import { addFunnel, emptyFunnel, finishFunnel, funnelDelta, funnelStagesOf, periodDates, reportDayOf, FUNNEL_STAGES, type FunnelCounts } from './funnel.ts';
import { foldView } from './incidentView.ts';

const recorded = (events: IncidentEvent[]): Recorded<IncidentEvent>[] =>
  events.map(
    (e, revision) =>
      ({ ...e, eventId: `e${revision}`, streamId: 'urban.incident-inc-1', revision, position: `1:${revision + 1}`, sequence: revision + 1, schemaVersion: 1, recordedAt: at(revision), metadata: {} }) as unknown as Recorded<IncidentEvent>,
  );
const rejectedBy = (minutes: number): IncidentEvent => ({
  type: 'IncidentRejected',
  data: { incidentId: 'inc-1', reason: 'OUT_OF_SCOPE', note: '不属于城市管理范围', rejectedBy: lixiaCentre, rejectedAt: at(minutes) },
});
const stagesAfter = (events: IncidentEvent[]) => funnelStagesOf(foldView(recorded(events))!.state);
const reached = (counts: FunnelCounts) => FUNNEL_STAGES.filter((stage) => counts[stage] === 1);

describe('incident funnel by report day', () => {
  it('counts the stages an incident reached, a closed case in every stage before closure', () => {
    assert.deepEqual(reached(stagesAfter([reported()])), ['reported']);
    assert.deepEqual(reached(stagesAfter([reported(), rejectedBy(5)])), ['reported', 'rejected']);
    assert.deepEqual(reached(stagesAfter([reported(), registered(lixiaCentre, 5), dispatched(streetOffice, lixiaCentre, 10, at(130))])), ['reported', 'registered', 'dispatched']);
    const work = [reported(), registered(lixiaCentre, 5), dispatched(streetOffice, lixiaCentre, 10, at(130)), started(streetOffice, 11), handled(streetOffice, 40)];
    assert.deepEqual(reached(stagesAfter(work)), ['reported', 'registered', 'dispatched', 'handled']);
    // A failed verification sends the work back: it was handled, and it is rework.
    assert.deepEqual(reached(stagesAfter([...work, verificationFailed(45, lixiaCentre)])), ['reported', 'registered', 'dispatched', 'handled', 'reworked']);
    assert.deepEqual(reached(stagesAfter([...work, verificationPassed(50, lixiaCentre), closed(50, true)])), [
      'reported',
      'registered',
      'dispatched',
      'handled',
      'verified',
      'closed',
      'closedOnTime',
    ]);
  });

  it('adds only what an event changed, and nothing for events that move no stage', () => {
    const open = stagesAfter([reported(), registered(lixiaCentre, 5)]);
    const dispatchedCase = stagesAfter([reported(), registered(lixiaCentre, 5), dispatched(streetOffice, lixiaCentre, 10, at(130))]);
    assert.equal(funnelDelta(open, open), null);
    assert.deepEqual(reached(funnelDelta(open, dispatchedCase)!), ['dispatched']);
    assert.deepEqual(funnelDelta(null, open), open);
  });

  it('sums report days into a period and rates each stage against the one it depends on', () => {
    const total = emptyFunnel();
    addFunnel(total, stagesAfter([reported(), registered(lixiaCentre, 5)]));
    addFunnel(total, stagesAfter([reported(), registered(lixiaCentre, 5), dispatched(streetOffice, lixiaCentre, 10, at(130)), started(streetOffice, 11), handled(streetOffice, 40), verificationPassed(50, lixiaCentre), closed(50, false)]));
    const funnel = finishFunnel('LAST_7_DAYS', ['2026-11-28', '2026-12-04'], total);
    assert.deepEqual([funnel.from, funnel.to, funnel.reported, funnel.registered, funnel.closed], ['2026-11-28', '2026-12-04', 2, 2, 1]);
    assert.deepEqual([funnel.closureRate, funnel.onTimeClosureRate, funnel.reworkRate], [0.5, 0, 0]);
    assert.deepEqual(finishFunnel('TODAY', ['2026-12-04'], emptyFunnel()).closureRate, null);
  });

  it('takes periods in China days ending today, and files an incident under its report day in China', () => {
    // 2026-12-04T17:00Z is already 2026-12-05 in Jinan.
    assert.deepEqual(periodDates('TODAY', '2026-12-04T17:00:00.000Z'), ['2026-12-05']);
    const week = periodDates('LAST_7_DAYS', '2026-12-04T10:00:00.000Z');
    assert.deepEqual([week.length, week[0], week[6]], [7, '2026-11-28', '2026-12-04']);
    assert.equal(periodDates('LAST_30_DAYS', '2026-03-01T10:00:00.000Z')[0], '2026-01-31');
    const view = foldView(recorded([reported()]))!;
    assert.equal(reportDayOf(view), new Date(Date.parse(view.state.report.reportedAt) + 8 * 3_600_000).toISOString().slice(0, 10));
  });
});
