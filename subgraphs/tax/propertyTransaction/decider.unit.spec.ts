import { describe, it } from 'node:test';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { given } from '../../../test/helpers/decider.ts';
import type { MatchDeedTaxDeclaration, PropertyTransactionCommand, RecordPropertyTransaction, RecordTaxExemption } from './commands.ts';
import { propertyTransactionDecider } from './decider.ts';
import type { PropertyTransactionEvent, PropertyTransactionRecorded, TaxRiskFlagged } from './events.ts';

const NOW = '2026-05-01T02:00:00.000Z';
const metadata = { now: NOW };
const BUYER = { kind: 'PERSON' as const, id: 'buyer-1' };
const SELLER = { kind: 'LEGAL_PERSON' as const, id: 'developer-1' };

const data: PropertyTransactionRecorded['data'] = {
  transactionId: 'tx-1',
  property: { unitNumber: '370102001001GB00001F00010001', address: '历下区经十路100号1-1-101', divisionCode: '370102' },
  seller: SELLER,
  buyer: BUYER,
  priceFen: 2_000_000_00,
  contractDate: '2026-03-01',
};
const recorded: PropertyTransactionRecorded = { type: 'PropertyTransactionRecorded', data };
const record = (overrides: Partial<RecordPropertyTransaction['data']> = {}): RecordPropertyTransaction => ({
  type: 'recordPropertyTransaction',
  data: { ...data, ...overrides },
  metadata,
});
const flag: PropertyTransactionCommand = { type: 'flagDeedTaxRisk', data: { transactionId: 'tx-1', dueOn: '2026-03-31', deadlineDays: 30 }, metadata };
const flagged: TaxRiskFlagged = {
  type: 'TaxRiskFlagged',
  data: { riskId: 'deed-tax-tx-1', riskType: 'DEED_TAX_NOT_DECLARED', transactionId: 'tx-1', buyer: BUYER, dueOn: '2026-03-31', deadlineDays: 30, flaggedAt: NOW },
};
const match: MatchDeedTaxDeclaration = {
  type: 'matchDeedTaxDeclaration',
  data: { transactionId: 'tx-1', taxpayerId: 't-1', declarationId: 'd-1', declaredAt: '2026-04-20T00:00:00.000Z' },
  metadata,
};
const matched: PropertyTransactionEvent = { type: 'DeedTaxDeclarationMatched', data: match.data };
const exempt: RecordTaxExemption = {
  type: 'recordTaxExemption',
  data: { transactionId: 'tx-1', basis: '《契税法》第六条', documentNo: '济税减免〔2026〕12号', reason: '法定减免' },
  metadata,
};
const exemption: PropertyTransactionEvent = { type: 'TaxExemptionRecorded', data: { ...exempt.data, recordedAt: NOW } };

const when = (events: PropertyTransactionEvent[], command: PropertyTransactionCommand) => given(propertyTransactionDecider, events).when(command);

describe('property transaction: recording', () => {
  it('records a transaction shared by the housing department', () => {
    when([], record()).then([recorded]);
  });

  it('refuses a second recording, a future contract, a zero price, one party on both sides, or a city-wide location', () => {
    when([recorded], record()).thenThrows(ConflictError, /already recorded/);
    when([], record({ contractDate: '2026-06-01' })).thenThrows(ValidationError, /in the future/);
    when([], record({ priceFen: 0 })).thenThrows(ValidationError, /more than 0.00/);
    when([], record({ priceFen: -5 })).thenThrows(ValidationError, /price must not be negative/);
    when([], record({ seller: BUYER })).thenThrows(ValidationError, /same party/);
    when([], record({ property: { ...data.property, divisionCode: '370100' } })).thenThrows(ValidationError, /whole city/);
    when([], record({ property: { ...data.property, address: ' ' } })).thenThrows(ValidationError, /property.address must not be empty/);
  });

  it('refuses every later step on a transaction that was never recorded', () => {
    when([], flag).thenThrows(NotFoundError, /tx-1 is not recorded/);
  });
});

describe('property transaction: deed-tax risk', () => {
  it('flags a risk naming the transaction once the deadline has passed', () => {
    when([recorded], flag).then([flagged]);
    when([recorded], { ...flag, metadata: { now: '2026-03-31T15:00:00.000Z' } }).thenThrows(ValidationError, /has not passed/);
  });

  it('flags nothing twice, and nothing once declared or exempted', () => {
    when([recorded, flagged], flag).then([]);
    when([recorded, matched], flag).then([]);
    when([recorded, exemption], flag).then([]);
  });

  it('matches a declaration made in time without a risk, and resolves a risk already flagged', () => {
    when([recorded], match).then([matched]);
    when([recorded, flagged], match).then([
      matched,
      {
        type: 'TaxRiskResolved',
        data: { riskId: 'deed-tax-tx-1', transactionId: 'tx-1', resolution: 'DECLARED', taxpayerId: 't-1', declarationId: 'd-1', documentNo: null, resolvedAt: NOW },
      },
    ]);
    when([recorded, matched], match).then([]);
  });

  it('resolves a risk by a documented exemption, and refuses an exemption after a declaration or twice', () => {
    when([recorded, flagged], exempt).then([
      exemption,
      {
        type: 'TaxRiskResolved',
        data: { riskId: 'deed-tax-tx-1', transactionId: 'tx-1', resolution: 'EXEMPTED', taxpayerId: null, declarationId: null, documentNo: '济税减免〔2026〕12号', resolvedAt: NOW },
      },
    ]);
    when([recorded], exempt).then([exemption]);
    when([recorded, matched], exempt).thenThrows(InvalidTransitionError, /DEED_TAX_DECLARED/);
    when([recorded, exemption], exempt).thenThrows(ConflictError, /already recorded/);
    when([recorded], { ...exempt, data: { ...exempt.data, documentNo: '' } } as PropertyTransactionCommand).thenThrows(ValidationError, /documentNo must not be empty/);
  });
});
