/**
 * The taxpayer aggregate. Rules: one declaration per tax type and period (per transaction for
 * deed tax) — a second one is a CONFLICT, a correction is an amendment; amounts are whole fen, not
 * negative, and the tax never exceeds its taxable amount; a period that has not begun cannot be
 * declared; a payment never exceeds what is outstanding, and an amendment never brings the tax
 * below what has been paid (refunds are handled outside this register).
 */
import { assertNever, createOnce, type Decider } from '../../../events/decider.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { chinaDate } from '../../kit/calendar.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { assertFen, formatMoney, subtractFen, addFen } from '../../kit/money.ts';
import { parsePeriod } from '../../kit/period.ts';
import { assertTaxType, type TaxType } from '../taxTypes.ts';
import type { DeclareTax, RegisterTaxpayer, TaxpayerCommand } from './commands.ts';
import type { SubjectRef, TaxDeclared, TaxpayerEvent, TaxpayerRegistered } from './events.ts';

export interface DeclarationRecord {
  declarationId: string;
  taxType: TaxType;
  period: string;
  propertyTransactionId: string | null;
  taxableAmountFen: number;
  taxFen: number;
  paidFen: number;
  declaredAt: string;
  amendments: number;
  lastAmendedAt: string | null;
  paymentIds: string[];
}

export type TaxpayerRecord = TaxpayerRegistered['data'];

export type TaxpayerState =
  | { status: 'UNREGISTERED' }
  | { status: 'REGISTERED'; taxpayer: TaxpayerRecord; declarations: DeclarationRecord[] };

/** What makes two declarations the same one: type and period, or type and transaction for deed tax. */
export function declarationKey(taxType: string, period: string, propertyTransactionId: string | null): string {
  return propertyTransactionId === null ? `${taxType}:${period}` : `${taxType}:transaction:${propertyTransactionId}`;
}

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

/** Declared amounts: whole fen, not negative, and a tax no larger than its taxable amount. */
function amounts(taxableAmountFen: number, taxFen: number): { taxableAmountFen: number; taxFen: number } {
  assertFen(taxableAmountFen, 'taxableAmount', { allowNegative: false });
  assertFen(taxFen, 'tax', { allowNegative: false });
  if (taxFen > taxableAmountFen) {
    throw new ValidationError(`tax ${formatMoney(taxFen)} exceeds the taxable amount ${formatMoney(taxableAmountFen)}; no tax rate is above 100%`, {
      field: 'tax',
    });
  }
  return { taxableAmountFen, taxFen };
}

function sameSubject(a: SubjectRef, b: SubjectRef): boolean {
  return a.kind === b.kind && a.id === b.id;
}

function registration(command: RegisterTaxpayer): TaxpayerRegistered {
  const { taxpayerId, subject, facts } = command.data;
  const label = subject.kind === 'LEGAL_PERSON' ? 'legal person' : 'person';
  if (!facts) {
    throw new ValidationError(`${label} ${subject.id} is not registered; a taxpayer is a registered legal person or person`, {
      field: 'subject.id',
      subject,
    });
  }
  if (!facts.active) {
    throw new ValidationError(`${label} ${subject.id} is ${facts.statusNote ?? 'not active'}; it cannot be registered as a taxpayer`, {
      field: 'subject.id',
    });
  }
  return {
    type: 'TaxpayerRegistered',
    data: {
      taxpayerId,
      subject,
      taxpayerNumber: requiredText(facts.taxpayerNumber, 'taxpayerNumber'),
      name: requiredText(facts.name, 'name'),
      divisionCode: assertDivision(facts.divisionCode, undefined, 'divisionCode').code,
      registeredAt: command.metadata.now,
    },
  };
}

function declaration(command: DeclareTax, taxpayer: TaxpayerRecord, declarations: readonly DeclarationRecord[]): TaxDeclared {
  const { data } = command;
  const info = assertTaxType(data.taxType);
  if (!info.taxpayerKinds.includes(taxpayer.subject.kind)) {
    throw new ValidationError(`${info.code} (${info.name}) is not declared by a ${taxpayer.subject.kind}; it is declared by ${info.taxpayerKinds.join(' or ')}`, {
      field: 'taxType',
    });
  }
  const period = parsePeriod(data.period);
  if (!info.periodKinds.includes(period.kind)) {
    throw new ValidationError(`${info.code} is declared per ${info.periodKinds.join(' or ').toLowerCase()}, but ${period.code} is a ${period.kind.toLowerCase()}`, {
      field: 'period',
    });
  }
  const today = chinaDate(command.metadata.now);
  if (period.startsOn > today) {
    throw new ValidationError(`period ${period.code} has not begun (today is ${today}); a future period cannot be declared`, { field: 'period' });
  }
  const transactionId = data.propertyTransactionId;
  if (info.perTransaction) {
    if (transactionId === null) {
      throw new ValidationError(`${info.code} is declared per property transaction: give propertyTransactionId`, { field: 'propertyTransactionId' });
    }
    const transaction = data.transaction;
    if (!transaction || transaction.transactionId !== transactionId) {
      throw new ValidationError(`propertyTransactionId ${transactionId} is not a recorded property transaction; it comes from the housing or land department`, {
        field: 'propertyTransactionId',
      });
    }
    if (!sameSubject(transaction.buyer, taxpayer.subject)) {
      throw new ValidationError(`${info.code} for transaction ${transactionId} is declared by its buyer, and taxpayer ${taxpayer.taxpayerId} is not the buyer`, {
        field: 'propertyTransactionId',
      });
    }
    if (period.endsOn < transaction.contractDate) {
      throw new ValidationError(`period ${period.code} ends before the contract date ${transaction.contractDate} of transaction ${transactionId}`, {
        field: 'period',
      });
    }
  } else if (transactionId !== null) {
    throw new ValidationError(`${info.code} is not declared per transaction; leave propertyTransactionId empty`, { field: 'propertyTransactionId' });
  }
  const key = declarationKey(info.code, period.code, transactionId);
  if (declarations.some((d) => declarationKey(d.taxType, d.period, d.propertyTransactionId) === key)) {
    throw new ConflictError(
      `${info.code} for ${transactionId ? `transaction ${transactionId}` : period.code} has already been declared by taxpayer ${taxpayer.taxpayerId}; correct it with amendDeclaration`,
      { field: 'period', taxType: info.code, period: period.code },
    );
  }
  if (declarations.some((d) => d.declarationId === data.declarationId)) {
    throw new ConflictError(`declaration ${data.declarationId} already exists; use a new id`, { field: 'declarationId' });
  }
  return {
    type: 'TaxDeclared',
    data: {
      taxpayerId: taxpayer.taxpayerId,
      declarationId: requiredText(data.declarationId, 'declarationId'),
      taxType: info.code,
      period: period.code,
      propertyTransactionId: transactionId,
      ...amounts(data.taxableAmountFen, data.taxFen),
      declaredAt: command.metadata.now,
    },
  };
}

function findDeclaration(declarations: readonly DeclarationRecord[], declarationId: string, taxpayerId: string): DeclarationRecord {
  const found = declarations.find((d) => d.declarationId === declarationId);
  if (!found) {
    throw new NotFoundError(`taxpayer ${taxpayerId} has no declaration ${declarationId}`, { field: 'declarationId', declarationId });
  }
  return found;
}

export function decide(command: TaxpayerCommand, state: TaxpayerState): TaxpayerEvent[] {
  if (command.type === 'registerTaxpayer') {
    return createOnce(state.status !== 'UNREGISTERED', `taxpayer ${command.data.taxpayerId} is already registered`, { taxpayerId: command.data.taxpayerId }, () =>
      registration(command),
    );
  }
  if (state.status === 'UNREGISTERED') {
    throw new NotFoundError(`taxpayer ${command.data.taxpayerId} is not registered; register it with registerTaxpayer first`, {
      field: 'taxpayerId',
      taxpayerId: command.data.taxpayerId,
    });
  }
  const { taxpayer, declarations } = state;
  const { taxpayerId } = taxpayer;
  switch (command.type) {
    case 'declareTax':
      return [declaration(command, taxpayer, declarations)];
    case 'amendDeclaration': {
      const current = findDeclaration(declarations, command.data.declarationId, taxpayerId);
      const next = amounts(command.data.taxableAmountFen, command.data.taxFen);
      if (next.taxableAmountFen === current.taxableAmountFen && next.taxFen === current.taxFen) {
        throw new ValidationError('the amended amounts are the declared ones; nothing to amend', { field: 'taxableAmount' });
      }
      if (next.taxFen < current.paidFen) {
        throw new ValidationError(
          `tax ${formatMoney(next.taxFen)} is less than the ${formatMoney(current.paidFen)} already paid; a refund is claimed separately`,
          { field: 'tax' },
        );
      }
      return [
        {
          type: 'TaxDeclarationAmended',
          data: {
            taxpayerId,
            declarationId: current.declarationId,
            ...next,
            previousTaxableAmountFen: current.taxableAmountFen,
            previousTaxFen: current.taxFen,
            reason: requiredText(command.data.reason, 'reason'),
            amendedAt: command.metadata.now,
          },
        },
      ];
    }
    case 'payTax': {
      const current = findDeclaration(declarations, command.data.declarationId, taxpayerId);
      const amountFen = assertFen(command.data.amountFen, 'amount', { allowNegative: false });
      if (amountFen === 0) throw new ValidationError('a payment is more than 0.00', { field: 'amount' });
      if (current.paymentIds.includes(command.data.paymentId)) {
        throw new ConflictError(`payment ${command.data.paymentId} has already been recorded`, { field: 'paymentId' });
      }
      const outstanding = subtractFen(current.taxFen, current.paidFen);
      if (amountFen > outstanding) {
        throw new ValidationError(`the payment ${formatMoney(amountFen)} exceeds the ${formatMoney(outstanding)} outstanding on declaration ${current.declarationId}`, {
          field: 'amount',
        });
      }
      return [
        {
          type: 'TaxPaid',
          data: { taxpayerId, declarationId: current.declarationId, paymentId: requiredText(command.data.paymentId, 'paymentId'), amountFen, paidAt: command.metadata.now },
        },
      ];
    }
    default:
      return assertNever(command);
  }
}

/** The registered taxpayer with one declaration changed. */
function withDeclaration(state: Extract<TaxpayerState, { status: 'REGISTERED' }>, declarationId: string, change: (d: DeclarationRecord) => Partial<DeclarationRecord>): TaxpayerState {
  return { ...state, declarations: state.declarations.map((d) => (d.declarationId === declarationId ? { ...d, ...change(d) } : d)) };
}

export function evolve(state: TaxpayerState, event: TaxpayerEvent): TaxpayerState {
  if (event.type === 'TaxpayerRegistered') return { status: 'REGISTERED', taxpayer: event.data, declarations: [] };
  if (state.status === 'UNREGISTERED') return state;
  switch (event.type) {
    case 'TaxDeclared': {
      const { data } = event;
      const record: DeclarationRecord = {
        declarationId: data.declarationId,
        taxType: data.taxType,
        period: data.period,
        propertyTransactionId: data.propertyTransactionId,
        taxableAmountFen: data.taxableAmountFen,
        taxFen: data.taxFen,
        paidFen: 0,
        declaredAt: data.declaredAt,
        amendments: 0,
        lastAmendedAt: null,
        paymentIds: [],
      };
      return { ...state, declarations: [...state.declarations, record] };
    }
    case 'TaxDeclarationAmended': {
      const { data } = event;
      return withDeclaration(state, data.declarationId, (d) => ({
        taxableAmountFen: data.taxableAmountFen,
        taxFen: data.taxFen,
        amendments: d.amendments + 1,
        lastAmendedAt: data.amendedAt,
      }));
    }
    case 'TaxPaid': {
      const { data } = event;
      return withDeclaration(state, data.declarationId, (d) => ({ paidFen: addFen(d.paidFen, data.amountFen), paymentIds: [...d.paymentIds, data.paymentId] }));
    }
    default:
      return assertNever(event);
  }
}

export const initialState = (): TaxpayerState => ({ status: 'UNREGISTERED' });

export const taxpayerDecider: Decider<TaxpayerCommand, TaxpayerEvent, TaxpayerState> = { initialState, decide, evolve };
