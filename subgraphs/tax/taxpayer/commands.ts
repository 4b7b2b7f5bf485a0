import type { Command } from '../../kit/command.ts';
import type { SubjectRef, TaxDeclarationAmended, TaxPaid } from './events.ts';

/**
 * What the registers say about the subject being registered, looked up by the command handler
 * (the decider does no I/O): null when no such legal person or person is registered.
 */
export interface SubjectFacts {
  name: string;
  taxpayerNumber: string;
  divisionCode: string;
  /** False for a deregistered legal person or a deceased person. */
  active: boolean;
  /** Why it is not active (`DEREGISTERED`, `DECEASED`), for the message. */
  statusNote?: string;
}

export type RegisterTaxpayer = Command<'registerTaxpayer', { taxpayerId: string; subject: SubjectRef; facts: SubjectFacts | null }>;

/** The recorded transaction a per-transaction declaration names, as the handler found it (null: none). */
export interface TransactionFacts {
  transactionId: string;
  buyer: SubjectRef;
  contractDate: string;
}

export type DeclareTax = Command<
  'declareTax',
  {
    taxpayerId: string;
    declarationId: string;
    taxType: string;
    period: string;
    taxableAmountFen: number;
    taxFen: number;
    propertyTransactionId: string | null;
    transaction: TransactionFacts | null;
  }
>;

export type AmendDeclaration = Command<
  'amendDeclaration',
  Omit<TaxDeclarationAmended['data'], 'previousTaxableAmountFen' | 'previousTaxFen' | 'amendedAt'>
>;

export type PayTax = Command<'payTax', Omit<TaxPaid['data'], 'paidAt'>>;

export type TaxpayerCommand = RegisterTaxpayer | DeclareTax | AmendDeclaration | PayTax;
