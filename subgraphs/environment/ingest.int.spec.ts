/**
 * The environment ingest kinds (`station-readings`, `emission-readings`) on both SQL backends, planned
 * and committed as the channel does, against what the mutations' handlers store and refuse.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { runIngestBatch } from '../../ingest/runner.ts';
import type { PlanCarry } from '../../ingest/types.ts';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { testGrants } from '../../test/helpers/grants.ts';
import { deliver, ingestMetadata, INGEST_NOW, kindOf, recordsOf, refusalOf, statuses, storePerTest } from '../../test/helpers/ingest.ts';
import { canonicalInstant, HOUR_MS } from '../kit/calendar.ts';
import { governanceModule } from '../governance/index.ts';
import { createLegalPersonHandlers } from '../legal-person/handlers.ts';
import { makeCreditCode } from '../legal-person/identity/creditCode.ts';
import { legalPersonModule } from '../legal-person/index.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { issueEmissionPermit, recordEmissionObservation } from './emission/handlers.ts';
import { emissionReadingsStreamId } from './emission/events.ts';
import { environmentModule } from './index.ts';
import { recordAirQualityObservations, registerMonitoringStation } from './station/handlers.ts';
import { airQualityStreamId } from './station/events.ts';

const stationReadings = kindOf(environmentModule, 'station-readings');
const emissionReadings = kindOf(environmentModule, 'emission-readings');
/** The hour ending `h` hours after 2026-03-01 00:00 in Jinan (hours 1…24: reporting day 2026-03-01). */
const hourOf = (h: number) => canonicalInstant(Date.parse('2026-03-01T00:00:00+08:00') + h * HOUR_MS);
const reading = (sourceRecordId: string, stationId: string, h: number, pm25 = '48') => ({
  sourceRecordId,
  stationId,
  observedAt: hourOf(h),
  'concentrations.pm25': pm25,
  'concentrations.pm10': '86',
  'concentrations.no2': '41',
  'concentrations.co': '0.7',
});

for (const openBackend of BACKENDS) {
  describe('environment ingest kinds', () => {
    const store = storePerTest(openBackend, [governanceModule, populationModule, legalPersonModule, environmentModule]);
    const ports = () => ({ store: store(), metadata: ingestMetadata(stationReadings, 'mutation'), now: INGEST_NOW });

    beforeEach(async () => {
      for (const stationId of ['s1', 'm1']) {
        await registerMonitoringStation(ports(), { stationId, code: stationId.toUpperCase(), name: `${stationId} 站`, kind: 'NATIONAL', divisionCode: '370102', location: { longitude: 117, latitude: 36.66 } });
      }
    });

    it('records station readings as recordAirQualityObservation does, on one read, and finds a re-delivery already present', async () => {
      const rows = [reading('r1', 's1', 1), reading('r2', 's1', 2), reading('r3', 's1', 25)];
      const plan = await deliver(store(), stationReadings, rows);
      assert.deepEqual(statuses(plan), ['created', 'created', 'created']);
      const viaMutation = await recordAirQualityObservations(ports(), 'm1', [{ hour: hourOf(1), pm2_5: 48, pm10: 86, so2: null, no2: 41, co: 0.7, o3: null }]);
      const [ingested] = await store().readStream(airQualityStreamId('s1', '2026-03-01'));
      assert.deepEqual({ ...(ingested!.data as object), stationId: 'm1' }, viaMutation.events[0]!.data);
      assert.equal((await store().readStream(airQualityStreamId('s1', '2026-03-02'))).length, 1);
      const again = await stationReadings.plan(store(), recordsOf(stationReadings, rows), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent', 'alreadyPresent', 'alreadyPresent'], []]);
    });

    it('refuses a bad value, an hour already observed and an unknown station with the mutation’s messages, appending none of them', async () => {
      const rows = [reading('r1', 's1', 3, '-5'), reading('r2', 's1', 4), reading('r3', 's1', 4, '50'), reading('r4', 'nowhere', 4)];
      const plan = await deliver(store(), stationReadings, rows);
      const single = (stationId: string, pm25: number) => () => recordAirQualityObservations(ports(), stationId, [{ hour: hourOf(4), pm2_5: pm25, pm10: 86, so2: null, no2: 41, co: 0.7, o3: null }]);
      assert.deepEqual(plan.outcomes, [
        { status: 'rejected', ...(await refusalOf(single('m1', -5))) },
        { status: 'created' },
        { status: 'rejected', ...(await refusalOf(single('s1', 50))) },
        { status: 'rejected', ...(await refusalOf(single('nowhere', 48))) },
      ]);
      assert.deepEqual(plan.outcomes.map((o) => o.status === 'rejected' && o.code), ['BAD_USER_INPUT', false, 'CONFLICT', 'BAD_USER_INPUT']);
      assert.equal((await store().readStream(airQualityStreamId('s1', '2026-03-01'))).length, 1);
    });

    it('records emission readings on the permit as recordEmissionObservation does, refusing an unknown permit alike', async () => {
      const population = createPopulationHandlers(store());
      await population.registerResident({ personId: 'rep', idNumber: makeIdNumber('370102', '1975-01-01', 11), name: 'rep', gender: 'MALE', birthDate: '1975-01-01', residence: { address: 'x', divisionCode: '370102001001' } }, { metadata: ports().metadata, now: INGEST_NOW });
      await createLegalPersonHandlers(store()).registerLegalPerson(
        { legalPersonId: 'lp', creditCode: makeCreditCode({ divisionCode: '370102', organizationCode: 'MA000011' }), name: '热电厂', type: 'ENTERPRISE', legalRepresentativeId: 'rep', registeredAddress: { address: 'x', divisionCode: '370102001001' }, registeredCapitalFen: 100, industry: { section: 'D', name: '热电' }, establishedOn: '2010-01-01' },
        { metadata: ports().metadata, now: INGEST_NOW },
      );
      await issueEmissionPermit(ports(), { permitId: 'ep-1', legalPersonId: 'lp', permitNo: 'P-1', outlets: [{ outletId: 'DA001', name: '1号排气筒', pollutants: [{ pollutant: 'SO2', limit: 35, unit: 'mg/m3' }] }], validFrom: '2025-01-01', validUntil: '2029-12-31' });
      const row = (sourceRecordId: string, permitId: string, value: string) => ({ sourceRecordId, permitId, outletId: 'DA001', pollutant: 'SO2', value, unit: 'MG_PER_M3', observedAt: '2026-03-01T10:00:00+08:00' });
      const plan = await deliver(store(), emissionReadings, [row('e1', 'ep-1', '12.5'), row('e2', 'nope', '1')]);
      const expected = await refusalOf(() => recordEmissionObservation(ports(), { permitId: 'nope', outletId: 'DA001', pollutant: 'SO2', value: 1, unit: 'mg/m3', observedAt: '2026-03-01T10:00:00+08:00' }));
      assert.deepEqual(plan.outcomes, [{ status: 'created' }, { status: 'rejected', ...expected }]);
      const [observed] = await store().readStream(emissionReadingsStreamId('ep-1', '2026-03-01'));
      assert.deepEqual(observed?.data, { permitId: 'ep-1', outletId: 'DA001', pollutant: 'SO2', value: 12.5, unit: 'mg/m3', observedAt: '2026-03-01T02:00:00.000Z' });
      const again = await emissionReadings.plan(store(), recordsOf(emissionReadings, [row('e1', 'ep-1', '12.5')]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent'], []]);
    });

    it('plans a delivery on the streams the previous one committed (continues), and plans it again when a mutation moved them meanwhile', async () => {
      const grants = testGrants(store(), () => new Date(INGEST_NOW));
      await grants.register('eco-sensors', 'DEPARTMENT', 'ecology-environment');
      await grants.grant('eco-sensors', ['environment.write'], { actions: ['WRITE'] });
      const read: string[] = [];
      const watched = store();
      const readStreams = watched.readStreams.bind(watched);
      watched.readStreams = ((ids: readonly string[]) => (read.push(...ids), readStreams(ids))) as typeof watched.readStreams;
      const deps = { store: watched, kinds: [stationReadings], now: () => new Date(INGEST_NOW) };
      const continues: PlanCarry = {};
      const deliverNow = async (rows: Record<string, unknown>[]) => {
        read.length = 0;
        async function* records() {
          for (const [i, fields] of rows.entries()) yield { line: i + 1, fields };
        }
        const { created, alreadyPresent } = await runIngestBatch(deps, { kind: 'station-readings', department: 'ecology-environment', channel: 'mqtt', actor: { consumerId: 'eco-sensors', role: 'department' }, continues }, records());
        return { created, alreadyPresent };
      };
      const day = airQualityStreamId('s1', '2026-03-01');

      assert.deepEqual(await deliverNow([reading('r1', 's1', 1), reading('r2', 's1', 2)]), { created: 2, alreadyPresent: 0 });
      assert.ok(read.includes(day) && continues.plan?.staged?.has(day), 'the first delivery reads the station-day and hands it on');
      assert.deepEqual(await deliverNow([reading('r3', 's1', 3), reading('r1', 's1', 1)]), { created: 1, alreadyPresent: 1 });
      assert.ok(!read.includes(day), 'the next delivery plans on the station-day as committed, without reading it');

      // Another writer (the mutation) appends to the carried stream: the carried plan is stale, its commit refused, the chunk read and planned again.
      await recordAirQualityObservations(ports(), 's1', [{ hour: hourOf(4), pm2_5: 48, pm10: 86, so2: null, no2: 41, co: 0.7, o3: null }]);
      assert.deepEqual(await deliverNow([reading('r5', 's1', 5), reading('r2', 's1', 2)]), { created: 1, alreadyPresent: 1 });
      assert.ok(read.includes(day), 'planned again on a fresh read');
      const stored = await store().readStream(day);
      assert.deepEqual(stored.map((e) => [e.revision, (e.data as { hour: string }).hour]), [1, 2, 3, 4, 5].map((h, i) => [i, hourOf(h)]));
    });
  });
}
