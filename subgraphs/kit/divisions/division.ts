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
 * The level a code's shape denotes, whether or not the catalog knows it: 6 digits ending in `00`
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

/** The fields of a read-model document that place it at each level, so one equality finds it from any level. */
export interface DivisionFields {
  cityCode: string;
  districtCode: string;
  streetCode: string | null;
  communityCode: string | null;
}

/**
 * The enclosing codes of a district, street or community code, read from the code's shape alone
 * (a street is its district plus 3 digits, a community its street plus 3; the city is the
 * district's first four digits and `00`). Projections use it, so a division later dropped from the
 * catalog can never stop the projector.
 */
export function divisionFields(code: string): DivisionFields {
  const level = levelOf(code);
  if (level === 'CITY') {
    throw new ValidationError(`division code ${code} is a whole city; a district, street or community is required here`, {
      field: 'divisionCode',
    });
  }
  return {
    cityCode: `${code.slice(0, 4)}00`,
    districtCode: code.slice(0, 6),
    streetCode: level === 'DISTRICT' ? null : code.slice(0, 9),
    communityCode: level === 'COMMUNITY' ? code : null,
  };
}

/** The read-model field that holds codes of `level`. */
export function divisionField(level: DivisionLevel): keyof DivisionFields {
  switch (level) {
    case 'CITY':
      return 'cityCode';
    case 'DISTRICT':
      return 'districtCode';
    case 'STREET':
      return 'streetCode';
    case 'COMMUNITY':
      return 'communityCode';
  }
}
