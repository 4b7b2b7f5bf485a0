import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { given } from '../../../test/helpers/decider.ts';
import type { DeclareTax, SubjectFacts, TaxpayerCommand } from './commands.ts';
import { taxpayerDecider } from './decider.ts';
import type { SubjectRef, TaxDeclared, TaxpayerEvent, TaxpayerRegistered } from './events.ts';

const NOW = '2026-04-15T02:00:00.000Z';
const metadata = { now: NOW };
const COMPANY = { kind: 'LEGAL_PERSON' as const, id: 'lp-1' };
const PERSON = { kind: 'PERSON' as const, id: 'p-1' };
const facts: SubjectFacts = { name: '济南示例科技有限公司', taxpayerNumber: '91350100M000100Y43', divisionCode: '370102', active: true };

const registered = (subject: SubjectRef = COMPANY): TaxpayerRegistered => ({
  type: 'TaxpayerRegistered',
  data: { taxpayerId: 't-1', subject, taxpayerNumber: facts.taxpayerNumber, name: facts.name, divisionCode: '370102', registeredAt: '2026-01-05T01:00:00.000Z' },
});

const declare = (overrides: Partial<DeclareTax['data']> = {}): DeclareTax => ({
  type: 'declareTax',
  data: {
    taxpayerId: 't-1',
    declarationId: 'd-1',
    taxType: 'VAT',
    period: '2026-03',
    taxableAmountFen: 10_000_00,
    taxFen: 1_300_00,
    propertyTransactionId: null,
    transaction: null,
    ...overrides,
  },
  metadata,
});

const declared = (overrides: Partial<TaxDeclared['data']> = {}): TaxDeclared => ({
  type: 'TaxDeclared',
  data: {
    taxpayerId: 't-1',
    declarationId: 'd-1',
    taxType: 'VAT',
    period: '2026-03',
    propertyTransactionId: null,
    taxableAmountFen: 10_000_00,
    taxFen: 1_300_00,
    declaredAt: NOW,
    ...overrides,
  },
});

const when = (events: TaxpayerEvent[], command: TaxpayerCommand) => given(taxpayerDecider, events).when(command);

describe('taxpayer: registration', () => {
  it('registers a legal person with the facts of its register', () => {
    when([], { type: 'registerTaxpayer', data: { taxpayerId: 't-1', subject: COMPANY, facts }, metadata }).then([
      { type: 'TaxpayerRegistered', data: { taxpayerId: 't-1', subject: COMPANY, taxpayerNumber: facts.taxpayerNumber, name: facts.name, divisionCode: '370102', registeredAt: NOW } },
    ]);
  });

  it('refuses a subject that is not registered, or no longer active', () => {
    when([], { type: 'registerTaxpayer', data: { taxpayerId: 't-1', subject: COMPANY, facts: null }, metadata }).thenThrows(ValidationError, /legal person lp-1 is not registered/);
    when([], { type: 'registerTaxpayer', data: { taxpayerId: 't-1', subject: PERSON, facts: { ...facts, active: false, statusNote: 'DECEASED' } }, metadata }).thenThrows(
      ValidationError,
      /person p-1 is DECEASED/,
    );
  });

  it('registers a taxpayer once', () => {
    when([registered()], { type: 'registerTaxpayer', data: { taxpayerId: 't-1', subject: COMPANY, facts }, metadata }).thenThrows(ConflictError, /already registered/);
  });
});

describe('taxpayer: declarations', () => {
  it('records a declaration at the instant of the command', () => {
    when([registered()], declare()).then([declared()]);
  });

  it('refuses a declaration for a taxpayer that does not exist', () => {
    when([], declare()).thenThrows(NotFoundError, /taxpayer t-1 is not registered/);
  });

  it('refuses a period and tax type declared twice: CONFLICT, amend instead', () => {
    when([registered(), declared()], declare({ declarationId: 'd-2', taxableAmountFen: 0, taxFen: 0 })).thenThrows(ConflictError, /VAT for 2026-03 has already been declared.*amendDeclaration/);
  });

  it('accepts the same type for another period and another type for the same period', () => {
    when([registered(), declared()], declare({ declarationId: 'd-2', period: '2026-02' })).then([declared({ declarationId: 'd-2', period: '2026-02' })]);
    when([registered(), declared()], declare({ declarationId: 'd-2', taxType: 'STAMP_DUTY', taxFen: 300 })).then([
      declared({ declarationId: 'd-2', taxType: 'STAMP_DUTY', taxFen: 300 }),
    ]);
  });

  it('refuses negative or fractional amounts, and a tax above its taxable amount', () => {
    when([registered()], declare({ taxFen: -1 })).thenThrows(ValidationError, /tax must not be negative/);
    when([registered()], declare({ taxableAmountFen: 10.5 })).thenThrows(ValidationError, /taxableAmount must be a whole number of fen/);
    when([registered()], declare({ taxableAmountFen: 100, taxFen: 101 })).thenThrows(ValidationError, /exceeds the taxable amount 1.00/);
  });

  it('checks the catalog: tax type, who declares it, its periods, and that the period has begun', () => {
    when([registered()], declare({ taxType: 'SALT_TAX' })).thenThrows(ValidationError, /not in the tax catalog/);
    when([registered()], declare({ taxType: 'INDIVIDUAL_INCOME_TAX' })).thenThrows(ValidationError, /not declared by a LEGAL_PERSON/);
    when([registered()], declare({ taxType: 'CORPORATE_INCOME_TAX', period: '2026-03' })).thenThrows(ValidationError, /per quarter or year/);
    when([registered()], declare({ period: '2026-05' })).thenThrows(ValidationError, /2026-05 has not begun/);
    when([registered()], declare({ period: '2026/03' })).thenThrows(ValidationError, /not a tax period/);
  });

  it('declares deed tax per transaction, by its buyer only', () => {
    const transaction = { transactionId: 'tx-1', buyer: PERSON, contractDate: '2026-03-20' };
    const deed = { taxType: 'DEED_TAX', period: '2026-04', taxableAmountFen: 1_000_000_00, taxFen: 30_000_00 };
    when([registered(PERSON)], declare({ ...deed, propertyTransactionId: 'tx-1', transaction })).then([
      declared({ ...deed, taxType: 'DEED_TAX', propertyTransactionId: 'tx-1' }),
    ]);
    when([registered(PERSON)], declare(deed)).thenThrows(ValidationError, /give propertyTransactionId/);
    when([registered(PERSON)], declare({ ...deed, propertyTransactionId: 'tx-9', transaction: null })).thenThrows(ValidationError, /propertyTransactionId tx-9 is not a recorded property transaction/);
    when([registered(COMPANY)], declare({ ...deed, propertyTransactionId: 'tx-1', transaction })).thenThrows(ValidationError, /declared by its buyer/);
    when([registered(PERSON)], declare({ ...deed, period: '2026-02', propertyTransactionId: 'tx-1', transaction })).thenThrows(ValidationError, /ends before the contract date/);
    when([registered(PERSON), declared({ ...deed, taxType: 'DEED_TAX', propertyTransactionId: 'tx-1' })], declare({ ...deed, declarationId: 'd-2', period: '2026-03', propertyTransactionId: 'tx-1', transaction })).thenThrows(
      ConflictError,
      /DEED_TAX for transaction tx-1 has already been declared/,
    );
    when([registered()], declare({ propertyTransactionId: 'tx-1', transaction })).thenThrows(ValidationError, /not declared per transaction/);
  });
});

describe('taxpayer: amendments and payments', () => {
  it('amends a declaration, keeping the previous amounts in the event', () => {
    when([registered(), declared()], { type: 'amendDeclaration', data: { taxpayerId: 't-1', declarationId: 'd-1', taxableAmountFen: 12_000_00, taxFen: 1_560_00, reason: '漏报收入' }, metadata }).then([
      {
        type: 'TaxDeclarationAmended',
        data: {
          taxpayerId: 't-1',
          declarationId: 'd-1',
          taxableAmountFen: 12_000_00,
          taxFen: 1_560_00,
          previousTaxableAmountFen: 10_000_00,
          previousTaxFen: 1_300_00,
          reason: '漏报收入',
          amendedAt: NOW,
        },
      },
    ]);
  });

  it('refuses an amendment that changes nothing, names no declaration, or goes below what was paid', () => {
    const amend = (taxFen: number, declarationId = 'd-1') =>
      ({ type: 'amendDeclaration', data: { taxpayerId: 't-1', declarationId, taxableAmountFen: 10_000_00, taxFen, reason: '更正' }, metadata }) as const;
    when([registered(), declared()], amend(1_300_00)).thenThrows(ValidationError, /nothing to amend/);
    when([registered(), declared()], amend(1_000_00, 'd-9')).thenThrows(NotFoundError, /no declaration d-9/);
    const paid = { type: 'TaxPaid' as const, data: { taxpayerId: 't-1', declarationId: 'd-1', paymentId: 'pay-1', amountFen: 1_300_00, paidAt: NOW } };
    when([registered(), declared(), paid], amend(1_000_00)).thenThrows(ValidationError, /less than the 1300.00 already paid/);
  });

  it('records payments up to the outstanding tax, each payment once', () => {
    const pay = (paymentId: string, amountFen: number) => ({ type: 'payTax' as const, data: { taxpayerId: 't-1', declarationId: 'd-1', paymentId, amountFen }, metadata });
    const first = { type: 'TaxPaid' as const, data: { taxpayerId: 't-1', declarationId: 'd-1', paymentId: 'pay-1', amountFen: 1_000_00, paidAt: NOW } };
    when([registered(), declared()], pay('pay-1', 1_000_00)).then([first]);
    when([registered(), declared(), first], pay('pay-2', 300_01)).thenThrows(ValidationError, /exceeds the 300.00 outstanding/);
    when([registered(), declared(), first], pay('pay-1', 100)).thenThrows(ConflictError, /pay-1 has already been recorded/);
    when([registered(), declared()], pay('pay-3', 0)).thenThrows(ValidationError, /more than 0.00/);
    const state = given(taxpayerDecider, [registered(), declared(), first]).state;
    assert.equal(state.status === 'REGISTERED' && state.declarations[0]?.paidFen, 1_000_00);
  });
});
