import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordedEvent } from '../../../events/types.ts';
import type { IncidentEvent } from '../incident/events.ts';
import { at, closed, dispatched, handled, lixiaCentre, registered, reported, started, streetOffice, verificationPassed } from '../incident/fixtures.ts';
import { LEVELS } from '../levels.ts';
import { addCounts, bucketId, bucketIdsOf, bucketsOf, countsOf, emptyCounts, sumCounts, type MetricsBucket } from './metricCounters.ts';
import { foldView } from './incidentView.ts';

const recorded = (events: IncidentEvent[]): RecordedEvent[] =>
  events.map((e, revision) => ({ ...e, eventId: `e${revision}`, streamId: 'urban.incident-inc-1', revision, position: `1:${revision + 1}`, sequence: revision + 1, schemaVersion: 1, recordedAt: at(revision), metadata: {} }) as unknown as RecordedEvent);

describe('metric buckets', () => {
  it('puts an incident in one bucket per division containing it, at its level (none while it awaits registration)', () => {
    const view = foldView(recorded([reported()]))!;
    assert.deepEqual(
      bucketsOf(view, null).map((b) => b.id),
      ['370102003001:NONE', '370102003:NONE', '370102:NONE', '370100:NONE'],
    );
    assert.deepEqual(
      bucketsOf(view, 'STREET').map((b) => [b.id, b.divisionCode, b.level]),
      [
        ['370102003001:STREET', '370102003001', 'STREET'],
        ['370102003:STREET', '370102003', 'STREET'],
        ['370102:STREET', '370102', 'STREET'],
        ['370100:STREET', '370100', 'STREET'],
      ],
    );
  });

  it('reads a level from its own bucket and all levels together from the five buckets of the division', () => {
    assert.deepEqual(bucketIdsOf('370102', 'DISTRICT'), [bucketId('370102', 'DISTRICT')]);
    assert.deepEqual(bucketIdsOf('370102', null), [...LEVELS.map((level) => `370102:${level}`), '370102:NONE']);
  });

  it('adds buckets up, histograms included, and counts nothing for a missing bucket', () => {
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
    const pending = foldView(recorded([reported()]))!;
    const street: MetricsBucket = { divisionCode: '370102', level: 'STREET', counts: emptyCounts() };
    addCounts(street.counts, countsOf(closedCase.state), 1);
    addCounts(street.counts, countsOf(closedCase.state), 1);
    const none: MetricsBucket = { divisionCode: '370102', level: null, counts: countsOf(pending.state) };
    const total = sumCounts([street, undefined, none, null]);
    assert.equal(total.reported, 3);
    assert.equal(total.registered, 2);
    assert.equal(total.closed, 2);
    assert.equal(total.closedOnTime, 2);
    assert.equal(total.closeMinutesSum, 80);
    assert.deepEqual(total.closeMinutes, { '40': 2 });
    // The buckets added up are left as they were.
    assert.equal(street.counts.reported, 2);
    assert.deepEqual(sumCounts([]), emptyCounts());
  });
});
