/**
 * What the tax bureau and the housing department deliver through the aggregation channel
 * (kit/ingest.ts): tax declarations and property transactions (网签备案). Each is a fact:
 * `created` once, `alreadyPresent` when delivered again; a declaration is decided by the taxpayer
 * decider (with the named transaction's facts read in the same chunk), a transaction by the
 * property-transaction decider, as `declareTax` and `recordPropertyTransaction` decide them.
 * The declaration's and the transaction's ids derive from the department and the source id.
 */
import { z } from 'zod';
import { factRecord, plannedKind, type RecordPlanner } from '../kit/batchPlan.ts';
import type { IngestKind } from '../kit/ingest.ts';
import { entityIdOf, erased, recordSchema, yuan } from '../kit/ingestSchema.ts';
import { parseMoney } from '../kit/money.ts';
import { propertyTransactionDecider } from './propertyTransaction/decider.ts';
import { propertyTransactionStreamId } from './propertyTransaction/events.ts';
import { HOUSING_DEPARTMENT, TAX_DEPARTMENT } from './resolvers.ts';
import { transactionFactsOf } from './taxCommands.ts';
import { taxpayerDecider } from './taxpayer/decider.ts';
import { taxpayerStreamId } from './taxpayer/events.ts';
import { TAXPAYER_KINDS } from './taxTypes.ts';

const RESOURCE = 'tax.declarations';

/** A declaration, as `declareTax` takes it: amounts in yuan (`"1234.50"`); `propertyTransactionId` for deed tax. */
const declarationSchema = recordSchema({
  taxpayerId: z.string(),
  taxType: z.string(),
  period: z.string(),
  taxableAmount: yuan(),
  tax: yuan(),
  propertyTransactionId: z.string().optional(),
});
export type TaxDeclarationData = z.output<typeof declarationSchema>;

const planDeclaration: RecordPlanner<TaxDeclarationData> = (record, now) => {
  const { data } = record;
  const streamId = taxpayerStreamId(data.taxpayerId);
  const transactionId = data.propertyTransactionId ?? null;
  const transactionStream = transactionId === null ? null : propertyTransactionStreamId(transactionId);
  return factRecord(taxpayerDecider, streamId, transactionStream === null ? [] : [transactionStream], (chunk) => {
    const taxableAmountFen = parseMoney(data.taxableAmount, 'taxableAmount');
    const taxFen = parseMoney(data.tax, 'tax');
    const transaction = transactionId === null ? null : transactionFactsOf(transactionId, chunk.state(propertyTransactionDecider, transactionStream!));
    const declaration = { taxpayerId: data.taxpayerId, declarationId: entityIdOf(record, 'tax-declarations'), taxType: data.taxType, period: data.period, taxableAmountFen, taxFen };
    return { type: 'declareTax' as const, data: { ...declaration, propertyTransactionId: transactionId, transaction }, metadata: { now } };
  });
};

/**
 * A property sale as `recordPropertyTransaction` takes it. CSV: `property.unitNumber`,
 * `property.address`, `property.divisionCode`, `seller.kind`, `seller.id`, `buyer.kind`, `buyer.id`
 * columns; `price` in yuan.
 */
const subject = z.object({ kind: z.enum(TAXPAYER_KINDS), id: z.string() });
const transactionSchema = recordSchema({
  property: z.object({ unitNumber: z.string(), address: z.string(), divisionCode: z.string() }),
  seller: subject,
  buyer: subject,
  price: yuan(),
  contractDate: z.string(),
});
export type PropertyTransactionData = z.output<typeof transactionSchema>;

const planTransaction: RecordPlanner<PropertyTransactionData> = (record, now) => {
  const { data } = record;
  const transactionId = entityIdOf(record, 'property-transactions');
  const streamId = propertyTransactionStreamId(transactionId);
  const { property, seller, buyer } = data;
  return factRecord(propertyTransactionDecider, streamId, [], () => ({
    type: 'recordPropertyTransaction' as const,
    data: {
      transactionId,
      property: { unitNumber: property.unitNumber, address: property.address, divisionCode: property.divisionCode },
      seller: { kind: seller.kind, id: seller.id },
      buyer: { kind: buyer.kind, id: buyer.id },
      priceFen: parseMoney(data.price, 'price'),
      contractDate: data.contractDate,
    },
    metadata: { now },
  }));
};

export const taxDeclarationsKind = plannedKind<TaxDeclarationData>(
  {
    name: 'tax-declarations',
    title: '纳税申报 tax declarations',
    resource: RESOURCE,
    department: TAX_DEPARTMENT.department,
    system: TAX_DEPARTMENT.system,
    schema: declarationSchema,
  },
  planDeclaration,
);

export const propertyTransactionsKind = plannedKind<PropertyTransactionData>(
  {
    name: 'property-transactions',
    title: '房屋网签备案 property transactions',
    resource: RESOURCE,
    department: TAX_DEPARTMENT.department,
    system: HOUSING_DEPARTMENT.system,
    schema: transactionSchema,
  },
  planTransaction,
);

export const taxIngestKinds: readonly IngestKind[] = [erased(taxDeclarationsKind), erased(propertyTransactionsKind)];
