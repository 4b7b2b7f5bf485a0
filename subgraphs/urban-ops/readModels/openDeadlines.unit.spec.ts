import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Recorded } from '../../../events/types.ts';
import { bucketKey, type TieredBucketDoc, type TieredSummaryDoc } from '../../kit/tieredCounts.ts';
import { MemoryDocuments } from '../../../test/helpers/memoryDocuments.ts';
import type { IncidentEvent } from '../incident/events.ts';
import { at, closed, dispatched, handled, lixiaCentre, registered, reported, started, streetOffice, verificationPassed } from '../incident/fixtures.ts';
import type { Level } from '../levels.ts';
import { incidentsProjection } from './incidentsProjection.ts';
import { clockCountsAt, deadlineDay, OPEN_DEADLINES } from './openDeadlines.ts';

const DEADLINE = at(130);
const ONE_DAY = 24 * 60;

let position = 0;
/** Applies `events` to one incident's stream, continuing its revisions. */
async function when(store: MemoryDocuments, events: IncidentEvent[]): Promise<void> {
  for (const event of events) {
    position++;
    const incidentId = (event.data as { incidentId: string }).incidentId;
    const revision = Number(store.docs<{ view: { revision: number } }>('incidents').get(incidentId)?.view.revision ?? -1) + 1;
    const recorded = { ...event, eventId: `e${position}`, streamId: `urban.incident-${incidentId}`, revision, position: `1:${position}`, sequence: position, schemaVersion: 1, recordedAt: at(0), metadata: {} };
    await incidentsProjection.apply(recorded as unknown as Recorded<IncidentEvent>, store);
  }
}

function clockAt(store: MemoryDocuments, code: string, now: string, level: Level | null = null) {
  const summary = store.docs<TieredSummaryDoc>(OPEN_DEADLINES.summaries).get(code);
  const today = store.docs<TieredBucketDoc>(OPEN_DEADLINES.buckets).get(bucketKey(code, deadlineDay(now)));
  return clockCountsAt(summary, today, level, now);
}

describe('open cases per division by deadline (urban-ops.incidents)', () => {
  it('counts a dispatched case as due when its deadline arrives and overdue once it has passed, with no event, in every enclosing division', async () => {
    const store = new MemoryDocuments();
    await when(store, [reported(), registered(lixiaCentre, 5)]);
    assert.deepEqual(clockAt(store, '370102', at(200)), { dueOpen: 0, overdueNow: 0 }, 'registered, not dispatched: no deadline yet');
    await when(store, [dispatched(streetOffice, lixiaCentre, 10, DEADLINE)]);
    for (const code of ['370102003001', '370102003', '370102', '370100']) {
      assert.deepEqual(clockAt(store, code, at(129)), { dueOpen: 0, overdueNow: 0 }, code);
      assert.deepEqual(clockAt(store, code, DEADLINE), { dueOpen: 1, overdueNow: 0 }, code);
      assert.deepEqual(clockAt(store, code, at(131)), { dueOpen: 1, overdueNow: 1 }, code);
      assert.deepEqual(clockAt(store, code, at(131 + 3 * ONE_DAY)), { dueOpen: 1, overdueNow: 1 }, `${code}, days later`);
    }
    assert.deepEqual(clockAt(store, '370103', at(131)), { dueOpen: 0, overdueNow: 0 }, 'another district');
    assert.deepEqual(clockAt(store, '370102', at(131), 'STREET'), { dueOpen: 1, overdueNow: 1 }, 'at the level the case sits');
    assert.deepEqual(clockAt(store, '370102', at(131), 'DISTRICT'), { dueOpen: 0, overdueNow: 0 });
  });

  it('counts a case no more once it is closed', async () => {
    const store = new MemoryDocuments();
    await when(store, [reported(), registered(lixiaCentre, 5), dispatched(streetOffice, lixiaCentre, 10, DEADLINE), started(streetOffice, 20), handled(streetOffice, 60)]);
    assert.deepEqual(clockAt(store, '370102', at(131)), { dueOpen: 1, overdueNow: 1 }, 'handled but not verified: still open');
    await when(store, [verificationPassed(140, lixiaCentre), closed(140, false)]);
    assert.deepEqual(clockAt(store, '370102', at(131 + ONE_DAY)), { dueOpen: 0, overdueNow: 0 });
    assert.deepEqual(store.docs<TieredSummaryDoc>(OPEN_DEADLINES.summaries).get('370102')?.buckets, { STREET: {} }, 'nothing left behind');
  });
});
