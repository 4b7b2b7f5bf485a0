/**
 * Instants and calendar dates as the registers keep them: dates `YYYY-MM-DD` in China Standard Time.
 * Commands carry an instant (`metadata.now`); rules such as "not born in the future" compare dates
 * as a clerk in Jinan sees them, so the instant is read in UTC+8 (China has had no daylight
 * saving time since 1991). Stored instants take one canonical UTC form
 * (`2026-03-01T02:00:00.000Z`), so the same instant written with another offset is the same key.
 */
import { ValidationError } from '../../events/errors.ts';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
export const CHINA_OFFSET_MS = 8 * HOUR_MS;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An instant with an offset: a local time without one would be read in the server's own time zone. */
const OFFSET_INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

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

/**
 * Milliseconds since the epoch of an ISO 8601 instant that states its offset; a ValidationError
 * naming the field otherwise. For data labelled by instruments, where a missing offset is an error
 * of the sender, not a local time.
 */
export function parseInstantWithOffset(value: string, field: string): number {
  const ms = OFFSET_INSTANT_PATTERN.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(
      `${field} must be an ISO 8601 instant with an offset, such as 2026-03-01T10:00:00+08:00, got "${value}"`,
      { field },
    );
  }
  return ms;
}

/** The canonical form every stored instant takes. */
export const canonicalInstant = (ms: number): string => new Date(ms).toISOString();

/** The instant of a whole hour (with an offset); refuses 10:30 or 10:00:05. */
export function parseWholeHour(value: string, field: string): number {
  const ms = parseInstantWithOffset(value, field);
  if (ms % HOUR_MS !== 0) {
    throw new ValidationError(`${field} ${value} is not on the hour; give the hour as e.g. 2026-03-01T10:00:00+08:00`, {
      field,
    });
  }
  return ms;
}

/** The calendar date in China (UTC+8) at an instant given in milliseconds since the epoch. */
export const chinaDateOf = (ms: number): string => new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);

/** The calendar date in China (UTC+8) at the given instant. */
export function chinaDate(instant: string, field = 'now'): string {
  return chinaDateOf(parseInstant(instant, field));
}

/** The instant midnight starts a China calendar date. */
export const chinaMidnight = (date: string): number => Date.parse(`${date}T00:00:00+08:00`);

/** The calendar date `days` after `date` (before it when negative); no time zone involved. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Throws a ValidationError naming the field unless `value` is a real `YYYY-MM-DD` date. */
export function assertCalendarDate(value: string, field: string): string {
  if (!isCalendarDate(value)) {
    throw new ValidationError(`${field} must be a real calendar date written YYYY-MM-DD, got "${value}"`, { field });
  }
  return value;
}
