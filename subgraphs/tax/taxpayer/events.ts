/** What the tax authority records about a taxpayer (纳税人): registration, declarations, payments. */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import { TAX_TYPES, TAXPAYER_KINDS } from '../taxTypes.ts';

const { id, text, instant, fen, divisionCode } = eventFields;

/** The legal person or person a taxpayer is, or a party to a transaction; `id` is a LegalPerson id or a Person id. */
export const subjectRefSchema = z.object({ kind: z.enum(TAXPAYER_KINDS), id });
export type SubjectRef = z.infer<typeof subjectRefSchema>;

const taxpayerRegistered = eventType('TaxpayerRegistered', {
  taxpayerId: id,
  subject: subjectRefSchema,
  /** 纳税人识别号: the credit code of a legal person, the resident ID number of a person. */
  taxpayerNumber: text,
  name: text,
  /** The division whose tax office is in charge: the registered address or the residence. */
  divisionCode,
  registeredAt: instant,
});
export type TaxpayerRegistered = EventOf<typeof taxpayerRegistered>;

/** The amounts a declaration states, in fen: 计税依据 and 应纳税额. */
const declaredAmounts = { taxableAmountFen: fen, taxFen: fen };

const taxDeclared = eventType('TaxDeclared', {
  taxpayerId: id,
  declarationId: id,
  taxType: z.enum(TAX_TYPES),
  /** `2026-03`, `2026Q1` or `2025`. */
  period: z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])|Q[1-4])?$/),
  /** The transaction a per-transaction tax (deed tax) is declared for; null otherwise. */
  propertyTransactionId: id.nullable(),
  ...declaredAmounts,
  declaredAt: instant,
});
export type TaxDeclared = EventOf<typeof taxDeclared>;

/** 更正申报: the amounts of an earlier declaration restated; the declaration keeps its id. */
const taxDeclarationAmended = eventType('TaxDeclarationAmended', {
  taxpayerId: id,
  declarationId: id,
  ...declaredAmounts,
  previousTaxableAmountFen: fen,
  previousTaxFen: fen,
  reason: text,
  amendedAt: instant,
});
export type TaxDeclarationAmended = EventOf<typeof taxDeclarationAmended>;

const taxPaid = eventType('TaxPaid', { taxpayerId: id, declarationId: id, paymentId: id, amountFen: fen.positive(), paidAt: instant });
export type TaxPaid = EventOf<typeof taxPaid>;

export const TAXPAYER_STREAM_PREFIX = 'tax.taxpayer-';
export const taxpayerStreamId = (taxpayerId: string): string => `${TAXPAYER_STREAM_PREFIX}${taxpayerId}`;

export const taxpayerEventDefinitions = [taxpayerRegistered, taxDeclared, taxDeclarationAmended, taxPaid] as const satisfies readonly EventTypeDefinition[];
export type TaxpayerEvent = EventsOf<typeof taxpayerEventDefinitions>;
