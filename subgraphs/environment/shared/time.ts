/**
 * Instants, hours and dates as the environment domain compares them. Monitoring data is labelled in
 * China Standard Time (UTC+8, no daylight saving time since 1991); instants are kept as canonical
 * UTC strings (`2026-03-01T02:00:00.000Z`) so the same hour written with another offset is the same key.
 */
import { ValidationError } from '../../../events/errors.ts';

export const HOUR_MS = 60 * 60 * 1000;
export const CHINA_OFFSET_MS = 8 * HOUR_MS;

/** An offset is required: a local time without one would be read in the server's own time zone. */
const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds since the epoch of an ISO 8601 instant with an offset; a ValidationError naming the field otherwise. */
export function parseInstant(value: string, field: string): number {
  const ms = INSTANT_PATTERN.test(value) ? Date.parse(value) : Number.NaN;
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

/** The instant of a whole hour, canonical; refuses 10:30 or 10:00:05. */
export function parseWholeHour(value: string, field: string): number {
  const ms = parseInstant(value, field);
  if (ms % HOUR_MS !== 0) {
    throw new ValidationError(`${field} ${value} is not on the hour; give the hour as e.g. 2026-03-01T10:00:00+08:00`, {
      field,
    });
  }
  return ms;
}

/** The calendar date in China (UTC+8) at an instant. */
export const chinaDate = (ms: number): string => new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);

/** True for a real `YYYY-MM-DD` date (no 30 February, no month 13). */
export function isCalendarDate(value: string): boolean {
  const match = DATE_PATTERN.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function assertCalendarDate(value: string, field: string): string {
  if (!isCalendarDate(value)) {
    throw new ValidationError(`${field} must be a real calendar date written YYYY-MM-DD, got "${value}"`, { field });
  }
  return value;
}

/** The instant midnight starts a China calendar date. */
export const chinaMidnight = (date: string): number => Date.parse(`${date}T00:00:00+08:00`);

/**
 * The reporting day (HJ 663-2013) an hour belongs to: hours are labelled by the instant they end, so
 * the day D holds the hours labelled D 01:00 … D+1 00:00 China time.
 */
export const reportingDate = (hourMs: number): string => chinaDate(hourMs - HOUR_MS);

/** The calendar date `days` after `date` (negative: before). */
export const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 24 * HOUR_MS).toISOString().slice(0, 10);
