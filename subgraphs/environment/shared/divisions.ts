/** Where a station stands in the division catalog (read-only use of the population subgraph's catalog). */
import { ancestorsOf, getDivision } from '../../kit/divisions/catalog.ts';

/** The district or county (区县) a division lies in, itself if it is one; null outside the catalog or above districts. */
export function districtOf(divisionCode: string): string | null {
  const division = getDivision(divisionCode);
  if (!division) return null;
  if (division.level === 'DISTRICT') return division.code;
  return ancestorsOf(division.code).find((d) => d.level === 'DISTRICT')?.code ?? null;
}
