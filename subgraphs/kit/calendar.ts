/**
 * Calendar dates as the registers keep them: `YYYY-MM-DD`, in China Standard Time.
 * Commands carry an instant (`metadata.now`); rules such as "not born in the future" compare dates
 * as a clerk in Jinan sees them, so the instant is read in UTC+8 (China has had no daylight
 * saving time since 1991).
 */
import { ValidationError } from '../../events/errors.ts';

export const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real `YYYY-MM-DD` date (no 30 February, no month 13). */
export function isCalendarDate(value: string): boolean {
  const match = DATE_PATTERN.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds since the epoch of an ISO 8601 instant; refuses anything else. */
export function parseInstant(value: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(`${field} must be an ISO 8601 instant such as 2026-01-31T09:30:00+08:00, got "${value}"`, {
      field,
    });
  }
  return ms;
}

/** The calendar date in China (UTC+8) at the given instant. */
export function chinaDate(instant: string, field = 'now'): string {
  return new Date(parseInstant(instant, field) + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Throws a ValidationError naming the field unless `value` is a real `YYYY-MM-DD` date. */
export function assertCalendarDate(value: string, field: string): string {
  if (!isCalendarDate(value)) {
    throw new ValidationError(`${field} must be a real calendar date written YYYY-MM-DD, got "${value}"`, { field });
  }
  return value;
}
