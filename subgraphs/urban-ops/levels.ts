/**
 * The four levels of the closed loop (§(十三)): city (市) → district/county (区县) → street/town (镇街)
 * → community/village (村社区), read from the shape of a division code alone. GB/T 2260 gives the
 * 6-digit city and district codes; a street is its district's code plus 3 digits, a community its
 * street's plus 3. Urban-ops keeps these few functions itself so the subgraph does not depend on
 * the population catalog: whether a code is actually in the catalog is checked at the edge.
 */
import { assertNever } from '../../events/decider.ts';
import { ValidationError } from '../../events/errors.ts';

/** Top to bottom; the index is the depth. */
export const LEVELS = ['CITY', 'DISTRICT', 'STREET', 'COMMUNITY'] as const;
export type Level = (typeof LEVELS)[number];

export const LEVEL_NAMES: Record<Level, string> = { CITY: '市', DISTRICT: '区县', STREET: '镇街', COMMUNITY: '村社区' };

export const depthOf = (level: Level): number => LEVELS.indexOf(level);

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

/**
 * 6 digits ending in `00` is the city, other 6 digits a district or county, 9 a street, 12 a
 * community. Throws ValidationError for anything else, including a province (`xx0000`).
 */
export function levelOfCode(code: string, field = 'divisionCode'): Level {
  if (/^\d{12}$/.test(code)) return 'COMMUNITY';
  if (/^\d{9}$/.test(code)) return 'STREET';
  if (/^\d{6}$/.test(code)) {
    if (code.endsWith('0000')) {
      throw new ValidationError(`${field} ${code} is a province; use a city, district, street or community code`, {
        field,
      });
    }
    return code.endsWith('00') ? 'CITY' : 'DISTRICT';
  }
  throw new ValidationError(
    `${field} "${code}" is malformed: use 6 digits (city 370100, district 370102), 9 (street) or 12 (community)`,
    { field },
  );
}

/** The level, or null when the code is not a city, district, street or community code. */
export function tryLevelOfCode(code: string): Level | null {
  try {
    return levelOfCode(code);
  } catch {
    return null;
  }
}

/** The enclosing division's code; null for the city. */
export function parentCode(code: string): string | null {
  const level = levelOfCode(code);
  switch (level) {
    case 'CITY':
      return null;
    case 'DISTRICT':
      return `${code.slice(0, 4)}00`;
    case 'STREET':
      return code.slice(0, 6);
    case 'COMMUNITY':
      return code.slice(0, 9);
    default:
      return assertNever(level);
  }
}

/** The code itself and every division above it, bottom up (a community yields 4 codes). */
export function ancestorsOf(code: string): string[] {
  const chain: string[] = [];
  for (let current: string | null = code; current !== null; current = parentCode(current)) chain.push(current);
  return chain;
}

/**
 * Whether `code` lies inside `ancestor`, counting a division as inside itself (a district dispatching
 * to its own departments stays within its division). The city contains every code sharing its
 * first four digits.
 */
export function isWithin(code: string, ancestor: string): boolean {
  const depth = depthOf(levelOfCode(code));
  const ancestorLevel = levelOfCode(ancestor);
  if (depth < depthOf(ancestorLevel)) return false;
  if (ancestorLevel === 'CITY') return code.slice(0, 4) === ancestor.slice(0, 4);
  return code.startsWith(ancestor);
}

/** The level a case is escalated to (上报); null above the city. */
export function levelAbove(level: Level): Level | null {
  return LEVELS[depthOf(level) - 1] ?? null;
}

/** The level a division dispatches down to; null below the community. */
export function levelBelow(level: Level): Level | null {
  return LEVELS[depthOf(level) + 1] ?? null;
}
