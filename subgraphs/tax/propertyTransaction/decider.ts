/**
 * A property transaction and its deed tax. Deed tax is PENDING from the recording until the
 * buyer's declaration is matched (DECLARED) or an exemption is documented (EXEMPT). A risk is
 * flagged at most once, only while the tax is PENDING and only after the deadline; the declaration
 * or the exemption resolves it. Flagging and matching are idempotent (a repeated one decides
 * nothing), since the process manager may issue them again.
 */
import { createOnce, deciderOf, requireStatus } from '../../../events/decider.ts';
import { ConflictError, InvalidTransitionError, ValidationError } from '../../../events/errors.ts';
import { assertCalendarDate, chinaDate } from '../../kit/calendar.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { assertFen } from '../../kit/money.ts';
import type { PropertyTransactionCommand, RecordPropertyTransaction } from './commands.ts';
import { deedTaxRiskId, type PropertyTransactionEvent, type PropertyTransactionRecorded, type TaxRiskResolved } from './events.ts';

export type DeedTaxStatus = 'PENDING' | 'DECLARED' | 'EXEMPT';

export interface RiskRecord {
  riskId: string;
  status: 'OPEN' | 'RESOLVED';
}

export type PropertyTransactionState =
  | { status: 'UNRECORDED' }
  | { status: 'RECORDED'; transaction: PropertyTransactionRecorded['data']; deedTax: DeedTaxStatus; risk: RiskRecord | null };

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

function recording(command: RecordPropertyTransaction): PropertyTransactionRecorded {
  const { data } = command;
  const today = chinaDate(command.metadata.now);
  assertCalendarDate(data.contractDate, 'contractDate');
  if (data.contractDate > today) {
    throw new ValidationError(`contractDate ${data.contractDate} is in the future (today is ${today})`, { field: 'contractDate' });
  }
  const division = assertDivision(data.property.divisionCode, undefined, 'property.divisionCode');
  if (division.level === 'CITY') {
    throw new ValidationError(`property.divisionCode ${division.code} is the whole city; give at least the district`, { field: 'property.divisionCode' });
  }
  assertFen(data.priceFen, 'price', { allowNegative: false });
  if (data.priceFen === 0) throw new ValidationError('price must be more than 0.00', { field: 'price' });
  if (data.seller.kind === data.buyer.kind && data.seller.id === data.buyer.id) {
    throw new ValidationError('the buyer and the seller are the same party', { field: 'buyer' });
  }
  return {
    type: 'PropertyTransactionRecorded',
    data: {
      transactionId: data.transactionId,
      property: {
        unitNumber: requiredText(data.property.unitNumber, 'property.unitNumber'),
        address: requiredText(data.property.address, 'property.address'),
        divisionCode: division.code,
      },
      seller: { kind: data.seller.kind, id: requiredText(data.seller.id, 'seller.id') },
      buyer: { kind: data.buyer.kind, id: requiredText(data.buyer.id, 'buyer.id') },
      priceFen: data.priceFen,
      contractDate: data.contractDate,
    },
  };
}

function resolved(state: RecordedTransaction, data: Omit<TaxRiskResolved['data'], 'riskId' | 'transactionId'>): TaxRiskResolved[] {
  if (state.risk?.status !== 'OPEN') return [];
  return [{ type: 'TaxRiskResolved', data: { riskId: state.risk.riskId, transactionId: state.transaction.transactionId, ...data } }];
}

type RecordedTransaction = Extract<PropertyTransactionState, { status: 'RECORDED' }>;

function recorded(command: Exclude<PropertyTransactionCommand, RecordPropertyTransaction>, state: PropertyTransactionState): RecordedTransaction {
  const { transactionId } = command.data;
  return requireStatus(command, state, 'RECORDED', {
    status: 'UNRECORDED',
    message: `property transaction ${transactionId} is not recorded`,
    details: { field: 'transactionId', transactionId },
  });
}

export const propertyTransactionDecider = deciderOf<PropertyTransactionCommand, PropertyTransactionEvent, PropertyTransactionState>({
  initialState: () => ({ status: 'UNRECORDED' }),
  decide: {
    recordPropertyTransaction: (command, state) =>
      createOnce(state.status !== 'UNRECORDED', `property transaction ${command.data.transactionId} is already recorded`, { transactionId: command.data.transactionId }, () => recording(command)),
    flagDeedTaxRisk: (command, state) => {
      const { transaction, deedTax, risk } = recorded(command, state);
      if (deedTax !== 'PENDING' || risk !== null) return [];
      const now = command.metadata.now;
      const today = chinaDate(now);
      if (today <= command.data.dueOn) {
        throw new ValidationError(`the deed-tax deadline ${command.data.dueOn} has not passed (today is ${today})`, { field: 'dueOn' });
      }
      return [
        {
          type: 'TaxRiskFlagged',
          data: {
            riskId: deedTaxRiskId(transaction.transactionId),
            riskType: 'DEED_TAX_NOT_DECLARED',
            transactionId: transaction.transactionId,
            buyer: transaction.buyer,
            dueOn: command.data.dueOn,
            deadlineDays: command.data.deadlineDays,
            flaggedAt: now,
          },
        },
      ];
    },
    matchDeedTaxDeclaration: (command, state) => {
      const current = recorded(command, state);
      if (current.deedTax !== 'PENDING') return [];
      const { taxpayerId, declarationId, declaredAt } = command.data;
      return [
        { type: 'DeedTaxDeclarationMatched', data: { transactionId: current.transaction.transactionId, taxpayerId, declarationId, declaredAt } },
        ...resolved(current, { resolution: 'DECLARED', taxpayerId, declarationId, documentNo: null, resolvedAt: command.metadata.now }),
      ];
    },
    recordTaxExemption: (command, state) => {
      const current = recorded(command, state);
      const { transactionId } = current.transaction;
      if (current.deedTax === 'EXEMPT') {
        throw new ConflictError(`an exemption is already recorded for property transaction ${transactionId}`, { field: 'transactionId' });
      }
      if (current.deedTax === 'DECLARED') throw new InvalidTransitionError('recordTaxExemption', 'DEED_TAX_DECLARED', []);
      const documentNo = requiredText(command.data.documentNo, 'documentNo');
      const now = command.metadata.now;
      return [
        {
          type: 'TaxExemptionRecorded',
          data: {
            transactionId,
            basis: requiredText(command.data.basis, 'basis'),
            documentNo,
            reason: requiredText(command.data.reason, 'reason'),
            recordedAt: now,
          },
        },
        ...resolved(current, { resolution: 'EXEMPTED', taxpayerId: null, declarationId: null, documentNo, resolvedAt: now }),
      ];
    },
  },
  evolve: {
    PropertyTransactionRecorded: (event) => ({ status: 'RECORDED', transaction: event.data, deedTax: 'PENDING', risk: null }),
    TaxRiskFlagged: (event, state) => (state.status === 'UNRECORDED' ? state : { ...state, risk: { riskId: event.data.riskId, status: 'OPEN' } }),
    DeedTaxDeclarationMatched: (_event, state) => (state.status === 'UNRECORDED' ? state : { ...state, deedTax: 'DECLARED' }),
    TaxExemptionRecorded: (_event, state) => (state.status === 'UNRECORDED' ? state : { ...state, deedTax: 'EXEMPT' }),
    TaxRiskResolved: (event, state) => (state.status === 'UNRECORDED' ? state : { ...state, risk: { riskId: event.data.riskId, status: 'RESOLVED' } }),
  },
});
