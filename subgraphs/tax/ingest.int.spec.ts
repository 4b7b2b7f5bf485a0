/**
 * The tax ingest kinds (`tax-declarations`, `property-transactions`) on both SQL backends, planned and
 * committed as the channel does, against what `declareTax` and `recordPropertyTransaction` store and refuse.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { deliver, ingestMetadata, INGEST_NOW, kindOf, recordsOf, refusalOf, statuses, storePerTest } from '../../test/helpers/ingest.ts';
import { entityIdOf } from '../kit/ingestSchema.ts';
import { legalPersonModule } from '../legal-person/index.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { taxModule } from './index.ts';
import { propertyTransactionDecider } from './propertyTransaction/decider.ts';
import { propertyTransactionStreamId } from './propertyTransaction/events.ts';
import { declareTax, registerTaxpayer, runPropertyTransactionCommand } from './taxCommands.ts';
import { taxpayerDecider } from './taxpayer/decider.ts';
import { taxpayerStreamId } from './taxpayer/events.ts';

const declarations = kindOf(taxModule, 'tax-declarations');
const transactions = kindOf(taxModule, 'property-transactions');
const PERIOD = INGEST_NOW.slice(0, 7);

const transactionRow = (sourceRecordId: string, extra: Record<string, string> = {}) => ({
  sourceRecordId,
  'property.unitNumber': '370102001001GB00001F00010001',
  'property.address': '历下区经十路1号1-101',
  'property.divisionCode': '370102001001',
  'seller.kind': 'PERSON',
  'seller.id': 'seller',
  'buyer.kind': 'PERSON',
  'buyer.id': 'buyer',
  price: '1000000.00',
  contractDate: '2026-02-20',
  ...extra,
});

for (const openBackend of BACKENDS) {
  describe('tax ingest kinds', () => {
    const store = storePerTest(openBackend, [populationModule, legalPersonModule, taxModule]);
    const metadata = ingestMetadata(declarations, 'mutation');

    beforeEach(async () => {
      const population = createPopulationHandlers(store());
      for (const [personId, sequence] of [['buyer', 11], ['seller', 13]] as const) {
        await population.registerResident({ personId, idNumber: makeIdNumber('370102', '1975-01-01', sequence), name: personId, gender: 'MALE', birthDate: '1975-01-01', residence: { address: 'x', divisionCode: '370102001001' } }, { metadata, now: INGEST_NOW });
      }
      await registerTaxpayer(store(), { taxpayerId: 't-buyer', subject: { kind: 'PERSON', id: 'buyer' } }, metadata, INGEST_NOW);
    });

    it('records transactions and the deed-tax declarations naming them as the mutations do; a re-delivery is already present', async () => {
      const recorded = await deliver(store(), transactions, [transactionRow('tx1')]);
      assert.deepEqual(statuses(recorded), ['created']);
      const transactionId = entityIdOf({ metadata: ingestMetadata(transactions, 'tx1'), sourceRecordId: 'tx1' }, 'property-transactions');
      const viaMutation = await runPropertyTransactionCommand(
        store(),
        { type: 'recordPropertyTransaction', data: { transactionId: 'm1', property: { unitNumber: '370102001001GB00001F00010001', address: '历下区经十路1号1-101', divisionCode: '370102001001' }, seller: { kind: 'PERSON', id: 'seller' }, buyer: { kind: 'PERSON', id: 'buyer' }, priceFen: 100_000_000, contractDate: '2026-02-20' }, metadata: { now: INGEST_NOW } },
        metadata,
      );
      const { state } = await store().aggregate(propertyTransactionDecider, propertyTransactionStreamId(transactionId));
      assert.deepEqual(state.status !== 'UNRECORDED' && { ...state.transaction, transactionId: 'm1' }, viaMutation.state.status !== 'UNRECORDED' && viaMutation.state.transaction);
      const deed = { sourceRecordId: 'd1', taxpayerId: 't-buyer', taxType: 'DEED_TAX', period: PERIOD, taxableAmount: '1000000.00', tax: '30000.00', propertyTransactionId: transactionId };
      const declared = await deliver(store(), declarations, [deed]);
      assert.deepEqual(statuses(declared), ['created']);
      const { state: taxpayer } = await store().aggregate(taxpayerDecider, taxpayerStreamId('t-buyer'));
      assert.equal(taxpayer.status === 'REGISTERED' && taxpayer.declarations.length, 1);
      for (const [kind, rows] of [[transactions, [transactionRow('tx1')]], [declarations, [deed]]] as const) {
        const again = await kind.plan(store(), recordsOf(kind, rows), INGEST_NOW);
        assert.deepEqual([statuses(again), again.appends], [['alreadyPresent'], []]);
      }
    });

    it('refuses bad amounts, an unknown taxpayer and a bad price with the mutations’ messages, appending none of them', async () => {
      const row = (sourceRecordId: string, extra: Record<string, string>) => ({ sourceRecordId, taxpayerId: 't-buyer', taxType: 'INDIVIDUAL_INCOME_TAX', period: PERIOD, taxableAmount: '200.00', tax: '26.00', ...extra });
      const mutation = (data: { taxpayerId?: string; taxableAmountFen?: number; taxFen?: number }) => () =>
        declareTax(store(), { taxpayerId: 't-buyer', declarationId: 'm', taxType: 'INDIVIDUAL_INCOME_TAX', period: PERIOD, taxableAmountFen: 20_000, taxFen: 2_600, propertyTransactionId: null, ...data }, metadata, INGEST_NOW);
      // The mutation's refusals first: the accepted record below takes the period.
      const expected = [await refusalOf(mutation({ taxFen: 20_001 })), await refusalOf(mutation({ taxpayerId: 'nobody' }))];
      const plan = await deliver(store(), declarations, [row('d1', { tax: '200.01' }), row('d2', { taxpayerId: 'nobody' }), row('d3', { taxableAmount: '1.234' }), row('d4', {})]);
      assert.deepEqual(plan.outcomes.slice(0, 2), expected.map((refusal) => ({ status: 'rejected', ...refusal })));
      assert.deepEqual(plan.outcomes.slice(2).map((o) => (o.status === 'rejected' ? [o.code, o.field, o.message] : o.status)), [['BAD_USER_INPUT', 'taxableAmount', 'taxableAmount "1.234" is not an amount: write yuan with at most two decimals, e.g. "1234.56"'], 'created']);
      assert.equal(plan.appends.length, 1);
      const badPrice = await deliver(store(), transactions, [transactionRow('tx1', { price: '-1' })]);
      assert.deepEqual(badPrice.outcomes.map((o) => o.status === 'rejected' && o.field), ['price']);
      assert.deepEqual(badPrice.appends, []);
    });
  });
}
