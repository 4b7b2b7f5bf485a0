/** Where a station stands in the division catalogue (read-only use of the population subgraph's catalogue). */
import { ancestorsOf, getDivision } from '../../kit/divisions/catalogue.ts';

/** The district or county (区县) a division lies in, itself if it is one; null outside the catalogue or above districts. */
export function districtOf(divisionCode: string): string | null {
  const division = getDivision(divisionCode);
  if (!division) return null;
  if (division.level === 'DISTRICT') return division.code;
  return ancestorsOf(division.code).find((d) => d.level === 'DISTRICT')?.code ?? null;
}
