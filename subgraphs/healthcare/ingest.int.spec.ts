/**
 * The healthcare ingest kinds (`health-visits`, `claims`) on both SQL backends, planned and committed
 * as the channel does, against what the health-record and claim handlers store and refuse given the
 * same facts.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { deliver, ingestMetadata, INGEST_NOW, kindOf, recordsOf, refusalOf, statuses, storePerTest } from '../../test/helpers/ingest.ts';
import { entityIdOf } from '../kit/ingestSchema.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { claimDecider } from './claim/decider.ts';
import { claimStreamId } from './claim/events.ts';
import { handleClaim, handleHealthRecord } from './healthcareCommands.ts';
import { healthRecordStreamId } from './healthRecord/events.ts';
import { healthcareModule } from './index.ts';
import { DEFAULT_SCREENING_LIMITS } from './screening/rules.ts';

const visits = kindOf(healthcareModule, 'health-visits');
const claims = kindOf(healthcareModule, 'claims');
const HOSPITAL = 'H37010201';
const PATIENT = { personId: 'p1', birthDate: '1975-01-01', death: null };

const visitRow = (sourceRecordId: string, extra: Record<string, string> = {}) => ({ sourceRecordId, personId: 'p1', hospitalCode: HOSPITAL, department: '内科', diagnoses: '["J06.9"]', visitedAt: '2026-03-01T10:00:00+08:00', ...extra });
const claimRow = (sourceRecordId: string, extra: Record<string, string> = {}) => ({
  sourceRecordId,
  personId: 'p1',
  hospitalCode: HOSPITAL,
  serviceDate: '2026-03-01',
  items: JSON.stringify([{ code: 'CBC001', name: '血常规', quantity: 1, unitPrice: '25.00' }]),
  ...extra,
});

for (const openBackend of BACKENDS) {
  describe('healthcare ingest kinds', () => {
    const store = storePerTest(openBackend, [populationModule, healthcareModule]);
    const metadata = ingestMetadata(visits, 'mutation');

    beforeEach(async () => {
      await createPopulationHandlers(store()).registerResident({ personId: 'p1', idNumber: makeIdNumber('370102', '1975-01-01', 11), name: 'p1', gender: 'MALE', birthDate: '1975-01-01', residence: { address: 'x', divisionCode: '370102001001' } }, { metadata, now: INGEST_NOW });
    });

    it('records visits as recordMedicalVisit does; a re-delivery is already present; an unknown patient is refused alike', async () => {
      const plan = await deliver(store(), visits, [visitRow('v1'), visitRow('v2', { personId: 'nobody' })]);
      const command = (personId: string, person: typeof PATIENT | null) => ({ type: 'recordMedicalVisit' as const, data: { personId, person, visitId: 'm1', hospitalCode: HOSPITAL, department: '内科', diagnoses: ['J06.9'], visitedAt: '2026-03-01T10:00:00+08:00' }, metadata: { now: INGEST_NOW } });
      assert.deepEqual(plan.outcomes, [{ status: 'created' }, { status: 'rejected', ...(await refusalOf(() => handleHealthRecord(store(), command('nobody', null), metadata))) }]);
      const [ingested] = await store().readStream(healthRecordStreamId('p1'));
      const [mutated] = (await handleHealthRecord(store(), command('p1', PATIENT), metadata)).events;
      assert.deepEqual({ ...(ingested!.data as object), visitId: 'm1' }, mutated!.data);
      const again = await visits.plan(store(), recordsOf(visits, [visitRow('v1')]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent'], []]);
    });

    it('submits claims screened on the day’s visits read from the health record, refusing bad items as submitClaim does', async () => {
      await deliver(store(), visits, [visitRow('v1')]);
      const plan = await deliver(store(), claims, [claimRow('c1'), claimRow('c2', { hospitalCode: 'H37010202' }), claimRow('c3', { items: '[{"code":"CBC001","name":"血常规","quantity":1,"unitPrice":"25.001"}]' })]);
      assert.deepEqual(plan.outcomes.slice(0, 2), [{ status: 'created' }, { status: 'created' }]);
      const flagsOf = async (sourceRecordId: string) => {
        const { state } = await store().aggregate(claimDecider, claimStreamId(entityIdOf({ metadata: ingestMetadata(claims, sourceRecordId), sourceRecordId }, 'claims')));
        return state.status === 'EMPTY' ? null : state.flags.map((f) => f.ruleId);
      };
      assert.deepEqual(await flagsOf('c1'), []);
      assert.deepEqual(await flagsOf('c2'), ['NO_VISIT_AT_HOSPITAL']);
      assert.deepEqual(plan.outcomes[2], { status: 'rejected', code: 'BAD_USER_INPUT', message: 'items[0].unitPrice "25.001" is not an amount: write yuan with at most two decimals, e.g. "1234.56"', field: 'items[0].unitPrice' });
      const unknown = await claims.plan(store(), recordsOf(claims, [claimRow('c4', { personId: 'nobody' })]), INGEST_NOW);
      const facts = { death: null, visits: [], settledClaims: [], limits: DEFAULT_SCREENING_LIMITS };
      const expected = await refusalOf(() => handleClaim(store(), { type: 'submitClaim', data: { claimId: 'm1', personId: 'nobody', hospitalCode: HOSPITAL, serviceDate: '2026-03-01', items: [], person: null, facts }, metadata: { now: INGEST_NOW } }, metadata));
      assert.deepEqual([unknown.outcomes, unknown.appends], [[{ status: 'rejected', ...expected }], []]);
      const again = await claims.plan(store(), recordsOf(claims, [claimRow('c1')]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent'], []]);
    });
  });
}
