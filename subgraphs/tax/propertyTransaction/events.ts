/**
 * Property transactions shared by the housing and land departments (§(十九): 住房城乡建设、自然资源
 * 和规划等部门 13 项数据), and the deed-tax supervision that follows each one: the buyer's deed-tax
 * declaration is matched to it, or a tax risk is raised once the deadline passes, resolved by the
 * declaration or by a documented exemption. The providing department is the event's provenance.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { subjectRefSchema, type SubjectRef } from '../taxpayer/events.ts';

export interface Property {
  /** 不动产单元号 as the land register writes it. */
  unitNumber: string;
  address: string;
  /** The district, street or community the property lies in. */
  divisionCode: string;
}

export type PropertyTransactionRecorded = DomainEvent<
  'PropertyTransactionRecorded',
  {
    transactionId: string;
    property: Property;
    seller: SubjectRef;
    buyer: SubjectRef;
    priceFen: number;
    /** `YYYY-MM-DD` the sale contract was signed (网签). */
    contractDate: string;
  }
>;

export const TAX_RISK_TYPES = ['DEED_TAX_NOT_DECLARED'] as const;
export type TaxRiskType = (typeof TAX_RISK_TYPES)[number];

export type TaxRiskFlagged = DomainEvent<
  'TaxRiskFlagged',
  {
    riskId: string;
    riskType: TaxRiskType;
    transactionId: string;
    /** Who should have declared. */
    buyer: SubjectRef;
    /** The last day a declaration was expected. */
    dueOn: string;
    /** The allowed days after the contract date the deadline was computed with. */
    deadlineDays: number;
    flaggedAt: string;
  }
>;

/** The buyer's deed-tax declaration names this transaction. */
export type DeedTaxDeclarationMatched = DomainEvent<
  'DeedTaxDeclarationMatched',
  { transactionId: string; taxpayerId: string; declarationId: string; declaredAt: string }
>;

/** 减免税: a documented exemption from deed tax for this transaction. */
export type TaxExemptionRecorded = DomainEvent<
  'TaxExemptionRecorded',
  {
    transactionId: string;
    /** The legal basis, e.g. 《契税法》第六条第一项. */
    basis: string;
    /** The exemption's document number (减免税备案/核准文书号). */
    documentNo: string;
    reason: string;
    recordedAt: string;
  }
>;

export const RISK_RESOLUTIONS = ['DECLARED', 'EXEMPTED'] as const;
export type RiskResolution = (typeof RISK_RESOLUTIONS)[number];

export type TaxRiskResolved = DomainEvent<
  'TaxRiskResolved',
  {
    riskId: string;
    transactionId: string;
    resolution: RiskResolution;
    /** For DECLARED: the declaration that resolved it. */
    taxpayerId: string | null;
    declarationId: string | null;
    /** For EXEMPTED: the exemption's document number. */
    documentNo: string | null;
    resolvedAt: string;
  }
>;

export type PropertyTransactionEvent =
  | PropertyTransactionRecorded
  | TaxRiskFlagged
  | DeedTaxDeclarationMatched
  | TaxExemptionRecorded
  | TaxRiskResolved;

export const PROPERTY_TRANSACTION_STREAM_PREFIX = 'tax.property-transaction-';
export const propertyTransactionStreamId = (transactionId: string): string => `${PROPERTY_TRANSACTION_STREAM_PREFIX}${transactionId}`;

/** One deed-tax risk per transaction at most. */
export const deedTaxRiskId = (transactionId: string): string => `deed-tax-${transactionId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const date = z.iso.date();

export const propertyTransactionEventDefinitions: readonly EventTypeDefinition[] = [
  {
    type: 'PropertyTransactionRecorded',
    schemaVersion: 1,
    schema: z.object({
      transactionId: id,
      property: z.object({ unitNumber: text, address: text, divisionCode: z.string().regex(/^\d{6}(\d{3}){0,2}$/) }),
      seller: subjectRefSchema,
      buyer: subjectRefSchema,
      priceFen: z.int().positive().max(Number.MAX_SAFE_INTEGER),
      contractDate: date,
    }),
  } satisfies EventTypeDefinition<PropertyTransactionRecorded['data']>,
  {
    type: 'TaxRiskFlagged',
    schemaVersion: 1,
    schema: z.object({
      riskId: id,
      riskType: z.enum(TAX_RISK_TYPES),
      transactionId: id,
      buyer: subjectRefSchema,
      dueOn: date,
      deadlineDays: z.int().positive(),
      flaggedAt: instant,
    }),
  } satisfies EventTypeDefinition<TaxRiskFlagged['data']>,
  {
    type: 'DeedTaxDeclarationMatched',
    schemaVersion: 1,
    schema: z.object({ transactionId: id, taxpayerId: id, declarationId: id, declaredAt: instant }),
  } satisfies EventTypeDefinition<DeedTaxDeclarationMatched['data']>,
  {
    type: 'TaxExemptionRecorded',
    schemaVersion: 1,
    schema: z.object({ transactionId: id, basis: text, documentNo: text, reason: text, recordedAt: instant }),
  } satisfies EventTypeDefinition<TaxExemptionRecorded['data']>,
  {
    type: 'TaxRiskResolved',
    schemaVersion: 1,
    schema: z.object({
      riskId: id,
      transactionId: id,
      resolution: z.enum(RISK_RESOLUTIONS),
      taxpayerId: id.nullable(),
      declarationId: id.nullable(),
      documentNo: text.nullable(),
      resolvedAt: instant,
    }),
  } satisfies EventTypeDefinition<TaxRiskResolved['data']>,
];
