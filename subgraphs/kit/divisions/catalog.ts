/**
 * Lookups over the division catalog: the static data every domain's statistics roll up along.
 * Pure and synchronous, so deciders may use it to validate division codes.
 */
import { NotFoundError, ValidationError } from '../../../events/errors.ts';
import type { Division, DivisionLevel } from './division.ts';
import { jinanDivisions } from './jinan.ts';

export { levelOf, type Division, type DivisionLevel } from './division.ts';

export const divisionCatalog: readonly Division[] = jinanDivisions;

const byCode: ReadonlyMap<string, Division> = new Map(divisionCatalog.map((d) => [d.code, d]));

const childrenByCode: ReadonlyMap<string, readonly Division[]> = (() => {
  const children = new Map<string, Division[]>();
  for (const division of divisionCatalog) {
    if (division.parentCode === null) continue;
    const siblings = children.get(division.parentCode) ?? [];
    siblings.push(division);
    children.set(division.parentCode, siblings);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => a.code.localeCompare(b.code));
  return children;
})();

export function getDivision(code: string): Division | undefined {
  return byCode.get(code);
}

/** `Query.division(code)` (@shareable: population and urban-ops answer it alike): null for an unknown code, BAD_USER_INPUT for a malformed one. */
export function divisionByCode(code: string): Division | null {
  if (!/^\d{6}(\d{3}){0,2}$/.test(code)) {
    throw new ValidationError(`"${code}" is not a division code: use 6 digits (city, district), 9 (street) or 12 (community)`, { field: 'code' });
  }
  return getDivision(code) ?? null;
}

function requireDivision(code: string): Division {
  const division = byCode.get(code);
  if (!division) throw new NotFoundError(`division ${code} is not in the division catalog`, { divisionCode: code });
  return division;
}

/** The divisions directly below `code`, by code. */
export function childrenOf(code: string): Division[] {
  requireDivision(code);
  return [...(childrenByCode.get(code) ?? [])];
}

/** The enclosing divisions, nearest first (a community: street, district, city). */
export function ancestorsOf(code: string): Division[] {
  const ancestors: Division[] = [];
  let parentCode = requireDivision(code).parentCode;
  while (parentCode !== null) {
    const parent = requireDivision(parentCode);
    ancestors.push(parent);
    parentCode = parent.parentCode;
  }
  return ancestors;
}

/**
 * True when `code` is `ancestorCode` itself or lies inside it, so "incidents in 历下区" includes
 * those recorded at the district level. Unknown codes are within nothing.
 */
export function isWithin(code: string, ancestorCode: string): boolean {
  let current = byCode.get(code);
  while (current) {
    if (current.code === ancestorCode) return true;
    current = current.parentCode === null ? undefined : byCode.get(current.parentCode);
  }
  return false;
}

/**
 * The catalog's division for a code given in a command, optionally of a required level; a
 * ValidationError that says what kind of code is expected otherwise.
 */
export function assertDivision(code: string, level?: DivisionLevel, field = 'divisionCode'): Division {
  const division = byCode.get(code);
  if (!division) {
    const wellFormed = /^\d{6}(\d{3}){0,2}$/.test(code);
    throw new ValidationError(
      wellFormed
        ? `${field} ${code} is not in the division catalog; check the code against the city's divisions`
        : `${field} "${code}" is not a division code: use 6 digits (city, district), 9 (street) or 12 (community)`,
      { field, divisionCode: code },
    );
  }
  if (level !== undefined && division.level !== level) {
    throw new ValidationError(
      `${field} ${code} is ${division.name}, a ${division.level}; a ${level} code is required here`,
      { field, divisionCode: code, level: division.level, requiredLevel: level },
    );
  }
  return division;
}

/**
 * The division of a code read from stored events. Events outlive the catalog (a division retired,
 * data from before the check): an unknown code is a NOT_FOUND error at the field's path, so the
 * (nullable) field answers null and the rest of the result is served.
 */
export function storedDivision(code: string): Division {
  return requireDivision(code);
}

/** A `Division` entity reference for a code read from stored events (see `storedDivision`). */
export function divisionReference(code: string): { __typename: 'Division'; code: string } {
  return { __typename: 'Division', code: requireDivision(code).code };
}

/**
 * `Division.name` for a subgraph that only holds division codes: the catalog is kit data every
 * subgraph has, so the name (@shareable) is served without a fetch to the population subgraph.
 */
export function divisionName(division: { code: string }): string {
  return storedDivision(division.code).name;
}
