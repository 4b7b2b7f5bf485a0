/**
 * Tax periods (所属期) as taxpayers write them: a month `2026-03`, a quarter `2026Q1`, or a year
 * `2025` (annual settlement, 汇算清缴). Each covers a range of calendar months; the shell-company
 * assessment reads declarations month by month through `monthsOf`.
 */
import { ValidationError } from '../../events/errors.ts';

export type PeriodKind = 'MONTH' | 'QUARTER' | 'YEAR';

export interface TaxPeriod {
  /** As written: `2026-03`, `2026Q1`, `2025`. */
  code: string;
  kind: PeriodKind;
  /** First day, `YYYY-MM-DD`. */
  startsOn: string;
  /** Last day, `YYYY-MM-DD`. */
  endsOn: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const QUARTER = /^(\d{4})Q([1-4])$/;
const YEAR = /^(\d{4})$/;

const pad = (n: number): string => String(n).padStart(2, '0');
const lastDay = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

function range(code: string, kind: PeriodKind, year: number, firstMonth: number, lastMonth: number): TaxPeriod {
  if (year < 1994) {
    // The tax-sharing reform of 1994 is the start of today's tax types; earlier periods are typos.
    throw new ValidationError(`period ${code} is before 1994; check the year`, { field: 'period' });
  }
  return {
    code,
    kind,
    startsOn: `${year}-${pad(firstMonth)}-01`,
    endsOn: `${year}-${pad(lastMonth)}-${pad(lastDay(year, lastMonth))}`,
  };
}

/** The period a code names; a ValidationError explaining the three forms otherwise. */
export function parsePeriod(code: string, field = 'period'): TaxPeriod {
  const month = MONTH.exec(code);
  if (month) {
    const m = Number(month[2]);
    return range(code, 'MONTH', Number(month[1]), m, m);
  }
  const quarter = QUARTER.exec(code);
  if (quarter) {
    const q = Number(quarter[2]);
    return range(code, 'QUARTER', Number(quarter[1]), q * 3 - 2, q * 3);
  }
  const year = YEAR.exec(code);
  if (year) return range(code, 'YEAR', Number(year[1]), 1, 12);
  throw new ValidationError(`${field} "${code}" is not a tax period: write a month (2026-03), a quarter (2026Q1) or a year (2025)`, {
    field,
  });
}

/** The calendar months (`YYYY-MM`) a period covers, in order. */
export function monthsOf(period: TaxPeriod): string[] {
  const months: string[] = [];
  const year = period.startsOn.slice(0, 4);
  for (let m = Number(period.startsOn.slice(5, 7)); m <= Number(period.endsOn.slice(5, 7)); m++) months.push(`${year}-${pad(m)}`);
  return months;
}

/** `YYYY-MM` of the month `count` months after `month` (negative: before). */
export function addMonths(month: string, count: number): string {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + count;
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
}
