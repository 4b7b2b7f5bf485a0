/**
 * Administrative divisions at the four levels of the city's closed loop (§(十三)):
 * city (市) → district/county (区县) → street/town (镇街) → community/village (村社区).
 * Codes follow GB/T 2260 for the first two levels (6 digits) and the statistical extension for the
 * others: a street is its district's code plus 3 digits, a community its street's plus 3.
 */
import { ValidationError } from '../../../events/errors.ts';

export type DivisionLevel = 'CITY' | 'DISTRICT' | 'STREET' | 'COMMUNITY';

export interface Division {
  code: string;
  name: string;
  level: DivisionLevel;
  /** The enclosing division; null only for the city. */
  parentCode: string | null;
}

/**
 * The level a code's shape denotes, whether or not the catalogue knows it: 6 digits ending in `00`
 * is a prefecture-level city, other 6-digit codes are districts or counties, 9 digits a street or
 * town, 12 a community or village. Province codes (`xx0000`) are outside these levels.
 */
export function levelOf(code: string): DivisionLevel {
  if (/^\d{12}$/.test(code)) return 'COMMUNITY';
  if (/^\d{9}$/.test(code)) return 'STREET';
  if (/^\d{2}0000$/.test(code)) {
    throw new ValidationError(`division code ${code} is a province; use a city, district, street or community code`, {
      field: 'divisionCode',
    });
  }
  if (/^\d{4}00$/.test(code)) return 'CITY';
  if (/^\d{6}$/.test(code)) return 'DISTRICT';
  throw new ValidationError(
    `division code "${code}" is malformed: use 6 digits (city, district), 9 (street) or 12 (community)`,
    { field: 'divisionCode' },
  );
}
