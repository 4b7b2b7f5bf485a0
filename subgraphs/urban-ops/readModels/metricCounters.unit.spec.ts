import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Recorded } from '../../../events/types.ts';
import type { IncidentEvent } from '../incident/events.ts';
import { at, closed, dispatched, handled, lixiaCentre, registered, reported, started, streetOffice, verificationPassed } from '../incident/fixtures.ts';
import {
  addCounts,
  addLevelCounts,
  changesCounts,
  changesHistogram,
  countsAt,
  countsOf,
  divisionsOf,
  emptyCounts,
  levelCountsOf,
  type DivisionCloseTimes,
  type DivisionCounts,
  type MetricCounts,
} from './metricCounters.ts';
import { foldView, type IncidentView } from './incidentView.ts';

const recorded = (events: IncidentEvent[]): Recorded<IncidentEvent>[] =>
  events.map(
    (e, revision) =>
      ({ ...e, eventId: `e${revision}`, streamId: 'urban.incident-inc-1', revision, position: `1:${revision + 1}`, sequence: revision + 1, schemaVersion: 1, recordedAt: at(revision), metadata: {} }) as unknown as Recorded<IncidentEvent>,
  );
const pending = foldView(recorded([reported()]))!;
const open = foldView(recorded([reported(), registered(lixiaCentre, 5)]))!;
const closedCase = foldView(
  recorded([
    reported(),
    registered(lixiaCentre, 5),
    dispatched(streetOffice, lixiaCentre, 10, at(130)),
    started(streetOffice, 11),
    handled(streetOffice, 40),
    verificationPassed(50, lixiaCentre),
    closed(50, true),
  ]),
)!;

describe('metric counters per division', () => {
  it('counts an incident in every division containing it', () => {
    assert.deepEqual(divisionsOf(pending), ['370102003001', '370102003', '370102', '370100']);
  });

  it('reads a level from its own counts and all levels together as their sum, histograms included', () => {
    const counts: DivisionCounts = { divisionCode: '370102', levels: { STREET: levelCountsOf(emptyCounts()), NONE: levelCountsOf(countsOf(pending.state)) } };
    addLevelCounts(counts.levels.STREET!, countsOf(closedCase.state), 1);
    addLevelCounts(counts.levels.STREET!, countsOf(closedCase.state), 1);
    assert.equal('closeMinutes' in counts.levels.STREET!, false, 'the counts document holds no histogram');
    const closeTimes: DivisionCloseTimes = { divisionCode: '370102', levels: { STREET: { '40': 2 } } };

    const street = countsAt(counts, closeTimes, 'STREET');
    assert.deepEqual([street.reported, street.registered, street.closed, street.closedOnTime, street.closeMinutesSum], [2, 2, 2, 2, 80]);
    assert.deepEqual(street.closeMinutes, { '40': 2 });
    const all = countsAt(counts, closeTimes, null);
    assert.deepEqual([all.reported, all.registered, all.closed], [3, 2, 2]);
    assert.deepEqual(all.closeMinutes, { '40': 2 });
    assert.deepEqual(countsAt(counts, closeTimes, 'CITY'), emptyCounts());
    assert.deepEqual(countsAt(undefined, null, null), emptyCounts());
    // The documents read are left as they were.
    assert.equal(counts.levels.STREET!.reported, 2);
    assert.deepEqual(closeTimes.levels.STREET, { '40': 2 });
  });

  it('tells which documents a change of contribution writes: the counts for any count, the histograms only for a closure', () => {
    const delta = (before: IncidentView, after: IncidentView): MetricCounts => {
      const change = emptyCounts();
      addCounts(change, countsOf(before.state), -1);
      addCounts(change, countsOf(after.state), 1);
      return change;
    };
    assert.deepEqual([changesCounts(delta(open, open)), changesHistogram(delta(open, open))], [false, false]);
    assert.deepEqual([changesCounts(delta(pending, open)), changesHistogram(delta(pending, open))], [true, false]);
    assert.deepEqual([changesCounts(delta(open, closedCase)), changesHistogram(delta(open, closedCase))], [true, true]);
  });
});
