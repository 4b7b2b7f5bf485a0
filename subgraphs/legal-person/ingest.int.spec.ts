/**
 * The legal-person ingest kinds (`legal-persons`, `annual-reports`) on both SQL backends, planned and
 * committed as the channel does, against what the mutations' handlers store and refuse.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { deliver, ingestMetadata, INGEST_NOW, kindOf, recordsOf, refusalOf, statuses, storePerTest } from '../../test/helpers/ingest.ts';
import { entityIdOf } from '../kit/ingestSchema.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { createLegalPersonHandlers } from './handlers.ts';
import { makeCreditCode } from './identity/creditCode.ts';
import { legalPersonModule } from './index.ts';
import { legalPersonDecider } from './legalPerson/decider.ts';
import { legalPersonStreamId } from './legalPerson/events.ts';

const legalPersons = kindOf(legalPersonModule, 'legal-persons');
const annualReports = kindOf(legalPersonModule, 'annual-reports');
const code = (organization: string) => makeCreditCode({ divisionCode: '370102', organizationCode: organization });
const idOf = (sourceRecordId: string) => entityIdOf({ metadata: ingestMetadata(legalPersons, sourceRecordId), sourceRecordId }, 'legal-persons');

/** A legal person row as a CSV file gives it: strings, nested values in dotted columns. */
const row = (sourceRecordId: string, creditCode: string, extra: Record<string, string> = {}) => ({
  sourceRecordId,
  creditCode,
  name: '济南泉城软件科技有限公司',
  type: 'ENTERPRISE',
  legalRepresentativeId: 'rep-1',
  'registeredAddress.address': '经十路88号',
  'registeredAddress.divisionCode': '370102001001',
  registeredCapital: '1000000.00',
  'industry.section': 'I',
  'industry.name': '软件开发',
  establishedOn: '2015-03-01',
  ...extra,
});

for (const openBackend of BACKENDS) {
  describe('legal-person ingest kinds', () => {
    const store = storePerTest(openBackend, [populationModule, legalPersonModule]);
    const ctx = { metadata: ingestMetadata(legalPersons, 'mutation'), now: INGEST_NOW };
    const handlers = () => createLegalPersonHandlers(store());
    const mutationData = (r: ReturnType<typeof row>, legalPersonId: string) => ({
      legalPersonId,
      creditCode: r.creditCode,
      name: r.name,
      type: 'ENTERPRISE' as const,
      legalRepresentativeId: r.legalRepresentativeId,
      registeredAddress: { address: r['registeredAddress.address'], divisionCode: r['registeredAddress.divisionCode'] },
      registeredCapitalFen: 100_000_000,
      industry: { section: 'I' as const, name: '软件开发' },
      establishedOn: r.establishedOn,
    });

    beforeEach(async () => {
      const population = createPopulationHandlers(store());
      for (const [personId, sequence] of [['rep-1', 11], ['rep-2', 13]] as const) {
        await population.registerResident({ personId, idNumber: makeIdNumber('370102', '1975-01-01', sequence), name: personId, gender: 'MALE', birthDate: '1975-01-01', residence: { address: 'x', divisionCode: '370102001001' } }, ctx);
      }
    });

    it('registers as registerLegalPerson does (claim included) and finds the same file again already present', async () => {
      const plan = await deliver(store(), legalPersons, [row('L1', code('MA000011')), row('L2', code('MA000022'))]);
      assert.deepEqual(statuses(plan), ['created', 'created']);
      const { state, events } = await store().aggregate(legalPersonDecider, legalPersonStreamId(idOf('L1')));
      assert.equal(state.status, 'ACTIVE');
      const viaMutation = await handlers().registerLegalPerson(mutationData(row('M', code('MA000033')), 'm1'), ctx);
      const strip = (data: unknown) => ({ ...(data as Record<string, unknown>), legalPersonId: '', creditCode: '' });
      assert.deepEqual(strip(events[0]!.data), strip(viaMutation.events.find((e) => e.type === 'LegalPersonRegistered')!.data));
      const again = await legalPersons.plan(store(), recordsOf(legalPersons, [row('L1', code('MA000011')), row('L2', code('MA000022'))]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent', 'alreadyPresent'], []]);
    });

    it('refuses a missing representative, a bad credit code and a taken one with the mutation’s messages, appending none of them', async () => {
      const missing = row('L1', code('MA000011'), { legalRepresentativeId: 'nobody' });
      const badCode = row('L2', `${code('MA000022').slice(0, 17)}0`);
      const plan = await deliver(store(), legalPersons, [missing, badCode, row('L3', code('MA000033')), row('L4', code('MA000033'))]);
      assert.deepEqual(plan.outcomes, [
        { status: 'rejected', ...(await refusalOf(() => handlers().registerLegalPerson(mutationData(missing, 'm1'), ctx))) },
        { status: 'rejected', ...(await refusalOf(() => handlers().registerLegalPerson(mutationData(badCode, 'm2'), ctx))) },
        { status: 'created' },
        { status: 'rejected', ...(await refusalOf(() => handlers().registerLegalPerson(mutationData(row('L4', code('MA000033')), 'm3'), ctx))) },
      ]);
      assert.deepEqual(plan.outcomes.map((o) => o.status === 'rejected' && [o.code, o.field]), [['NOT_FOUND', 'legalRepresentativeId'], ['BAD_USER_INPUT', 'creditCode'], false, ['CONFLICT', 'creditCode']]);
      assert.equal(await store().streamRevision(legalPersonStreamId(idOf('L1'))), undefined);
      assert.equal(await store().streamRevision(legalPersonStreamId(idOf('L4'))), undefined);
    });

    it('delivers the register again as increments: a new address and representative are changes, other differences are refused', async () => {
      await deliver(store(), legalPersons, [row('L1', code('MA000011')), row('L2', code('MA000022')), row('L3', code('MA000033'))]);
      const moved = row('L2', code('MA000022'), { 'registeredAddress.address': '泉城路1号', legalRepresentativeId: 'rep-2', changedOn: '2026-02-01' });
      const recapitalised = row('L3', code('MA000033'), { registeredCapital: '2000000' });
      const plan = await deliver(store(), legalPersons, [row('L1', code('MA000011'), { changedOn: '2026-02-01' }), moved, recapitalised]);
      assert.deepEqual(plan.outcomes.slice(0, 2), [{ status: 'unchanged' }, { status: 'changed' }]);
      assert.deepEqual(plan.outcomes[2], {
        status: 'rejected',
        code: 'BAD_USER_INPUT',
        message: 'registeredCapital differs from what the register holds for this legal person; a register delivery changes the registered address and the legal representative only; correct the source record',
        field: 'registeredCapital',
      });
      assert.deepEqual(plan.appends.flatMap((a) => a.events.map((e) => e.type)), ['RegisteredAddressChanged', 'LegalRepresentativeChanged']);
      const { state } = await store().aggregate(legalPersonDecider, legalPersonStreamId(idOf('L2')));
      assert.deepEqual(state.status === 'ACTIVE' && [state.legalPerson.registeredAddress.address, state.legalPerson.legalRepresentativeId], ['泉城路1号', 'rep-2']);
    });

    it('files annual reports as fileAnnualReport does: once per year, refusals with the mutation’s messages', async () => {
      await deliver(store(), legalPersons, [row('L1', code('MA000011'))]);
      const report = { sourceRecordId: 'R1', legalPersonSourceRecordId: 'L1', year: '2025', employees: '12', revenue: '350000.50' };
      const plan = await deliver(store(), annualReports, [report, { ...report, sourceRecordId: 'R2', employees: '13' }, { sourceRecordId: 'R3', legalPersonId: 'nobody', year: '2025', employees: '1', revenue: '1' }]);
      const lp = idOf('L1');
      assert.deepEqual(plan.outcomes, [
        { status: 'created' },
        { status: 'rejected', ...(await refusalOf(() => handlers().fileAnnualReport({ legalPersonId: lp, year: 2025, employees: 13, revenueFen: 35_000_050 }, ctx))) },
        { status: 'rejected', ...(await refusalOf(() => handlers().fileAnnualReport({ legalPersonId: 'nobody', year: 2025, employees: 1, revenueFen: 100 }, ctx))) },
      ]);
      assert.deepEqual(plan.outcomes.map((o) => o.status === 'rejected' && o.code), [false, 'CONFLICT', 'NOT_FOUND']);
      const { state } = await store().aggregate(legalPersonDecider, legalPersonStreamId(lp));
      assert.deepEqual(state.status === 'ACTIVE' && state.legalPerson.annualReportYears, [2025]);
      const again = await annualReports.plan(store(), recordsOf(annualReports, [report]), INGEST_NOW);
      assert.deepEqual([statuses(again), again.appends], [['alreadyPresent'], []]);
    });
  });
}
