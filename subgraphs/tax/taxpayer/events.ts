/** What the tax authority records about a taxpayer (纳税人): registration, declarations, payments. */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { TAX_TYPES, TAXPAYER_KINDS, type TaxpayerKind, type TaxType } from '../taxTypes.ts';

/** The legal person or person a taxpayer is, or a party to a transaction. */
export interface SubjectRef {
  kind: TaxpayerKind;
  /** A LegalPerson id or a Person id. */
  id: string;
}

export type TaxpayerRegistered = DomainEvent<
  'TaxpayerRegistered',
  {
    taxpayerId: string;
    subject: SubjectRef;
    /** 纳税人识别号: the credit code of a legal person, the resident ID number of a person. */
    taxpayerNumber: string;
    name: string;
    /** The division whose tax office is in charge: the registered address or the residence. */
    divisionCode: string;
    registeredAt: string;
  }
>;

export type TaxDeclared = DomainEvent<
  'TaxDeclared',
  {
    taxpayerId: string;
    declarationId: string;
    taxType: TaxType;
    /** `2026-03`, `2026Q1` or `2025`. */
    period: string;
    /** The transaction a per-transaction tax (deed tax) is declared for; null otherwise. */
    propertyTransactionId: string | null;
    /** 计税依据, in fen. */
    taxableAmountFen: number;
    /** 应纳税额, in fen. */
    taxFen: number;
    declaredAt: string;
  }
>;

/** 更正申报: the amounts of an earlier declaration restated; the declaration keeps its id. */
export type TaxDeclarationAmended = DomainEvent<
  'TaxDeclarationAmended',
  {
    taxpayerId: string;
    declarationId: string;
    taxableAmountFen: number;
    taxFen: number;
    previousTaxableAmountFen: number;
    previousTaxFen: number;
    reason: string;
    amendedAt: string;
  }
>;

export type TaxPaid = DomainEvent<
  'TaxPaid',
  { taxpayerId: string; declarationId: string; paymentId: string; amountFen: number; paidAt: string }
>;

export type TaxpayerEvent = TaxpayerRegistered | TaxDeclared | TaxDeclarationAmended | TaxPaid;

export const TAXPAYER_STREAM_PREFIX = 'tax.taxpayer-';
export const taxpayerStreamId = (taxpayerId: string): string => `${TAXPAYER_STREAM_PREFIX}${taxpayerId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const fen = z.int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const subjectRefSchema = z.object({ kind: z.enum(TAXPAYER_KINDS), id });

export const taxpayerEventDefinitions: readonly EventTypeDefinition[] = [
  {
    type: 'TaxpayerRegistered',
    schemaVersion: 1,
    schema: z.object({
      taxpayerId: id,
      subject: subjectRefSchema,
      taxpayerNumber: text,
      name: text,
      divisionCode: z.string().regex(/^\d{6}(\d{3}){0,2}$/),
      registeredAt: instant,
    }),
  } satisfies EventTypeDefinition<TaxpayerRegistered['data']>,
  {
    type: 'TaxDeclared',
    schemaVersion: 1,
    schema: z.object({
      taxpayerId: id,
      declarationId: id,
      taxType: z.enum(TAX_TYPES),
      period: z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])|Q[1-4])?$/),
      propertyTransactionId: id.nullable(),
      taxableAmountFen: fen,
      taxFen: fen,
      declaredAt: instant,
    }),
  } satisfies EventTypeDefinition<TaxDeclared['data']>,
  {
    type: 'TaxDeclarationAmended',
    schemaVersion: 1,
    schema: z.object({
      taxpayerId: id,
      declarationId: id,
      taxableAmountFen: fen,
      taxFen: fen,
      previousTaxableAmountFen: fen,
      previousTaxFen: fen,
      reason: text,
      amendedAt: instant,
    }),
  } satisfies EventTypeDefinition<TaxDeclarationAmended['data']>,
  {
    type: 'TaxPaid',
    schemaVersion: 1,
    schema: z.object({ taxpayerId: id, declarationId: id, paymentId: id, amountFen: fen.positive(), paidAt: instant }),
  } satisfies EventTypeDefinition<TaxPaid['data']>,
];
