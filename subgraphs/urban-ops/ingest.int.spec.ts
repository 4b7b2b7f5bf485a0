/**
 * The `incidents` ingest kind on both SQL backends, planned and committed as the channel does,
 * against what `reportIncident`'s write path stores and refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { deliver, ingestMetadata, INGEST_NOW, kindOf, recordsOf, refusalOf, statuses, storePerTest } from '../../test/helpers/ingest.ts';
import { entityIdOf } from '../kit/ingestSchema.ts';
import { reportData } from './incident/fixtures.ts';
import { incidentStreamId } from './incident/events.ts';
import { runIncidentCommand } from './incidentCommands.ts';
import { urbanOpsModule } from './index.ts';

const incidents = kindOf(urbanOpsModule, 'incidents');

/** A report as a CSV row: dotted columns, attachments as JSON in a cell. */
const row = (sourceRecordId: string, extra: Record<string, string> = {}) => ({
  sourceRecordId,
  channel: reportData.channel,
  category: reportData.category,
  subcategory: reportData.subcategory,
  description: reportData.description,
  'location.longitude': String(reportData.location.longitude),
  'location.latitude': String(reportData.location.latitude),
  'location.address': reportData.location.address,
  divisionCode: reportData.divisionCode,
  'reporter.kind': reportData.reporter.kind,
  'reporter.id': reportData.reporter.id!,
  'reporter.name': reportData.reporter.name!,
  attachments: JSON.stringify(reportData.attachments),
  reportedAt: reportData.reportedAt,
  ...extra,
});

for (const openBackend of BACKENDS) {
  describe('urban-ops ingest kind (incidents)', () => {
    const store = storePerTest(openBackend, [urbanOpsModule]);
    const metadata = ingestMetadata(incidents, 'mutation');
    const report = (data: Partial<typeof reportData>) => () =>
      runIncidentCommand(store(), { type: 'reportIncident', data: { ...reportData, ...data }, metadata: { now: INGEST_NOW } }, metadata);

    it('records reports as reportIncident does and finds a re-delivery already present', async () => {
      const plan = await deliver(store(), incidents, [row('i1'), row('i2')]);
      assert.deepEqual(statuses(plan), ['created', 'created']);
      const id = entityIdOf({ metadata: ingestMetadata(incidents, 'i1'), sourceRecordId: 'i1' }, 'incidents');
      const [ingested] = await store().readStream(incidentStreamId(id));
      const viaMutation = await report({ incidentId: 'm1' })();
      assert.deepEqual({ ...(ingested!.data as object), incidentId: 'm1' }, viaMutation.events[0]!.data);
      const again = await incidents.plan(store(), recordsOf(incidents, [row('i1'), row('i2')]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent', 'alreadyPresent'], []]);
    });

    it('refuses an unknown division, a report from the future and a bad coordinate with the mutation’s messages, appending none', async () => {
      const plan = await deliver(store(), incidents, [row('i1', { divisionCode: '370102999999' }), row('i2', { reportedAt: '2027-01-01T00:00:00Z' }), row('i3', { 'location.latitude': '95' }), row('i4')]);
      assert.deepEqual(plan.outcomes, [
        { status: 'rejected', ...(await refusalOf(report({ incidentId: 'm1', divisionCode: '370102999999' }))) },
        { status: 'rejected', ...(await refusalOf(report({ incidentId: 'm2', reportedAt: '2027-01-01T00:00:00.000Z' }))) },
        { status: 'rejected', ...(await refusalOf(report({ incidentId: 'm3', location: { ...reportData.location, latitude: 95 } }))) },
        { status: 'created' },
      ]);
      assert.deepEqual(plan.outcomes.map((o) => o.status === 'rejected' && o.field), ['divisionCode', 'reportedAt', 'location.latitude', false]);
      assert.equal(plan.appends.length, 1);
    });
  });
}
