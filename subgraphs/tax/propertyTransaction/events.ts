/**
 * Property transactions shared by the housing and land departments (§(十九): 住房城乡建设、自然资源
 * 和规划等部门 13 项数据), and the deed-tax supervision that follows each one: the buyer's deed-tax
 * declaration is matched to it, or a tax risk is raised once the deadline passes, resolved by the
 * declaration or by a documented exemption. The providing department is the event's provenance.
 */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import { subjectRefSchema } from '../taxpayer/events.ts';

const { id, text, date, instant, divisionCode } = eventFields;

export const TAX_RISK_TYPES = ['DEED_TAX_NOT_DECLARED'] as const;
export type TaxRiskType = (typeof TAX_RISK_TYPES)[number];

export const RISK_RESOLUTIONS = ['DECLARED', 'EXEMPTED'] as const;
export type RiskResolution = (typeof RISK_RESOLUTIONS)[number];

/** `unitNumber`: 不动产单元号 as the land register writes it; `divisionCode`: the district, street or community it lies in. */
const property = z.object({ unitNumber: text, address: text, divisionCode });
export type Property = z.infer<typeof property>;

const propertyTransactionRecorded = eventType('PropertyTransactionRecorded', {
  transactionId: id,
  property,
  seller: subjectRefSchema,
  buyer: subjectRefSchema,
  priceFen: z.int().positive(),
  /** The day the sale contract was signed (网签). */
  contractDate: date,
});
export type PropertyTransactionRecorded = EventOf<typeof propertyTransactionRecorded>;

const taxRiskFlagged = eventType('TaxRiskFlagged', {
  riskId: id,
  riskType: z.enum(TAX_RISK_TYPES),
  transactionId: id,
  /** Who should have declared. */
  buyer: subjectRefSchema,
  /** The last day a declaration was expected. */
  dueOn: date,
  /** The allowed days after the contract date the deadline was computed with. */
  deadlineDays: z.int().positive(),
  flaggedAt: instant,
});
export type TaxRiskFlagged = EventOf<typeof taxRiskFlagged>;

/** The buyer's deed-tax declaration names this transaction. */
const deedTaxDeclarationMatched = eventType('DeedTaxDeclarationMatched', { transactionId: id, taxpayerId: id, declarationId: id, declaredAt: instant });
export type DeedTaxDeclarationMatched = EventOf<typeof deedTaxDeclarationMatched>;

/**
 * 减免税: a documented exemption from deed tax for this transaction; `basis` is the legal basis, e.g.
 * 《契税法》第六条第一项, `documentNo` the exemption's document number (减免税备案/核准文书号).
 */
const taxExemptionRecorded = eventType('TaxExemptionRecorded', { transactionId: id, basis: text, documentNo: text, reason: text, recordedAt: instant });
export type TaxExemptionRecorded = EventOf<typeof taxExemptionRecorded>;

const taxRiskResolved = eventType('TaxRiskResolved', {
  riskId: id,
  transactionId: id,
  resolution: z.enum(RISK_RESOLUTIONS),
  /** For DECLARED: the declaration that resolved it. */
  taxpayerId: id.nullable(),
  declarationId: id.nullable(),
  /** For EXEMPTED: the exemption's document number. */
  documentNo: text.nullable(),
  resolvedAt: instant,
});
export type TaxRiskResolved = EventOf<typeof taxRiskResolved>;

export const PROPERTY_TRANSACTION_STREAM_PREFIX = 'tax.property-transaction-';
export const propertyTransactionStreamId = (transactionId: string): string => `${PROPERTY_TRANSACTION_STREAM_PREFIX}${transactionId}`;

/** One deed-tax risk per transaction at most. */
export const deedTaxRiskId = (transactionId: string): string => `deed-tax-${transactionId}`;

export const propertyTransactionEventDefinitions = [propertyTransactionRecorded, taxRiskFlagged, deedTaxDeclarationMatched, taxExemptionRecorded, taxRiskResolved] as const satisfies readonly EventTypeDefinition[];
export type PropertyTransactionEvent = EventsOf<typeof propertyTransactionEventDefinitions>;
