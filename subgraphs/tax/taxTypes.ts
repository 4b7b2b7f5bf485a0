/**
 * The tax catalog (税种): which taxes the register accepts declarations of, who may declare each,
 * over which periods, and which are declared per property transaction (so one taxpayer may declare
 * several in one month, one for each transaction).
 */
import { ValidationError } from '../../events/errors.ts';
import type { PeriodKind } from '../kit/period.ts';

export const TAXPAYER_KINDS = ['LEGAL_PERSON', 'PERSON'] as const;
export type TaxpayerKind = (typeof TAXPAYER_KINDS)[number];

export const TAX_TYPES = [
  'VAT',
  'CORPORATE_INCOME_TAX',
  'INDIVIDUAL_INCOME_TAX',
  'DEED_TAX',
  'LAND_VALUE_INCREMENT_TAX',
  'URBAN_MAINTENANCE_TAX',
  'STAMP_DUTY',
  'PROPERTY_TAX',
] as const;
export type TaxType = (typeof TAX_TYPES)[number];

export interface TaxTypeInfo {
  code: TaxType;
  /** The Chinese name, as on the declaration form. */
  name: string;
  /** Who may declare it. */
  taxpayerKinds: readonly TaxpayerKind[];
  periodKinds: readonly PeriodKind[];
  /** Declared once per property transaction, which the declaration must name. */
  perTransaction: boolean;
}

export const TAX_CATALOG: Readonly<Record<TaxType, TaxTypeInfo>> = {
  VAT: { code: 'VAT', name: '增值税', taxpayerKinds: ['LEGAL_PERSON', 'PERSON'], periodKinds: ['MONTH', 'QUARTER'], perTransaction: false },
  CORPORATE_INCOME_TAX: {
    code: 'CORPORATE_INCOME_TAX',
    name: '企业所得税',
    taxpayerKinds: ['LEGAL_PERSON'],
    periodKinds: ['QUARTER', 'YEAR'],
    perTransaction: false,
  },
  INDIVIDUAL_INCOME_TAX: {
    code: 'INDIVIDUAL_INCOME_TAX',
    name: '个人所得税',
    taxpayerKinds: ['PERSON'],
    periodKinds: ['MONTH', 'YEAR'],
    perTransaction: false,
  },
  DEED_TAX: { code: 'DEED_TAX', name: '契税', taxpayerKinds: ['LEGAL_PERSON', 'PERSON'], periodKinds: ['MONTH'], perTransaction: true },
  LAND_VALUE_INCREMENT_TAX: {
    code: 'LAND_VALUE_INCREMENT_TAX',
    name: '土地增值税',
    taxpayerKinds: ['LEGAL_PERSON', 'PERSON'],
    periodKinds: ['MONTH', 'QUARTER'],
    perTransaction: false,
  },
  URBAN_MAINTENANCE_TAX: {
    code: 'URBAN_MAINTENANCE_TAX',
    name: '城市维护建设税',
    taxpayerKinds: ['LEGAL_PERSON', 'PERSON'],
    periodKinds: ['MONTH', 'QUARTER'],
    perTransaction: false,
  },
  STAMP_DUTY: { code: 'STAMP_DUTY', name: '印花税', taxpayerKinds: ['LEGAL_PERSON', 'PERSON'], periodKinds: ['MONTH', 'QUARTER', 'YEAR'], perTransaction: false },
  PROPERTY_TAX: { code: 'PROPERTY_TAX', name: '房产税', taxpayerKinds: ['LEGAL_PERSON', 'PERSON'], periodKinds: ['QUARTER', 'YEAR'], perTransaction: false },
};

export function isTaxType(value: string): value is TaxType {
  return (TAX_TYPES as readonly string[]).includes(value);
}

export function assertTaxType(value: string, field = 'taxType'): TaxTypeInfo {
  if (!isTaxType(value)) {
    throw new ValidationError(`${field} ${value} is not in the tax catalog; use one of ${TAX_TYPES.join(', ')}`, { field });
  }
  return TAX_CATALOG[value];
}
