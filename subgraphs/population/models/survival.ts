/**
 * Survival status (居民生存状态认证, §(五)): whether a person has been seen alive recently enough for
 * benefits such as pensions to keep flowing without a fresh check.
 */
import { ValidationError } from '../../../events/errors.ts';
import { CHINA_OFFSET_MS, daysInMonth, isCalendarDate, parseInstant } from '../../kit/calendar.ts';

export type SurvivalStatus =
  | { status: 'DECEASED'; deceasedAt: string }
  /** Seen alive within the window; the confirmation lapses at `confirmedUntil`. */
  | { status: 'ALIVE_CONFIRMED'; lastProofOfLifeAt: string; confirmedUntil: string }
  /** No proof within the window; `unconfirmedSince` is when the last proof lapsed, null if there was none. */
  | { status: 'UNCONFIRMED'; lastProofOfLifeAt: string | null; unconfirmedSince: string | null };

export interface SurvivalInput {
  /** Date (`YYYY-MM-DD`, read as the start of that day in China) or instant of death, if registered. */
  deceasedAt?: string | null;
  /** Instant of the latest proof of life known at `now`. */
  lastProofOfLifeAt?: string | null;
  /** ISO 8601 instant the status is assessed at (a past one for `asOf`). */
  now: string;
  /** How many months a proof of life counts for. */
  months: number;
}

function instantMs(value: string, field: string): number {
  return isCalendarDate(value) ? Date.parse(`${value}T00:00:00+08:00`) : parseInstant(value, field);
}

/**
 * The instant `months` calendar months after `ms` on China's calendar, the day clamped to the
 * month's end (31 August + 6 months → 28 February).
 */
function addMonths(ms: number, months: number): number {
  const local = new Date(ms + CHINA_OFFSET_MS);
  const total = local.getUTCFullYear() * 12 + local.getUTCMonth() + months;
  const [year, month] = [Math.floor(total / 12), total % 12];
  const day = Math.min(local.getUTCDate(), daysInMonth(year, month + 1));
  const time = ms + CHINA_OFFSET_MS - Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  return Date.UTC(year, month, day) + time - CHINA_OFFSET_MS;
}

export function survivalStatus(input: SurvivalInput): SurvivalStatus {
  const { deceasedAt, lastProofOfLifeAt, now, months } = input;
  if (!Number.isInteger(months) || months < 1) {
    throw new ValidationError(`months must be a whole number of at least 1, got ${months}`, { field: 'months' });
  }
  const nowMs = parseInstant(now, 'now');
  // A death registered after `now` (an `asOf` view of the past) is not yet known.
  if (deceasedAt != null && instantMs(deceasedAt, 'deceasedAt') <= nowMs) {
    return { status: 'DECEASED', deceasedAt };
  }
  if (lastProofOfLifeAt == null) return { status: 'UNCONFIRMED', lastProofOfLifeAt: null, unconfirmedSince: null };

  const proofMs = parseInstant(lastProofOfLifeAt, 'lastProofOfLifeAt');
  if (proofMs > nowMs) {
    throw new ValidationError(
      `lastProofOfLifeAt ${lastProofOfLifeAt} is after now (${now}); pass the latest proof known at now`,
      { field: 'lastProofOfLifeAt' },
    );
  }
  const untilMs = addMonths(proofMs, months);
  const until = new Date(untilMs).toISOString();
  return nowMs < untilMs
    ? { status: 'ALIVE_CONFIRMED', lastProofOfLifeAt, confirmedUntil: until }
    : { status: 'UNCONFIRMED', lastProofOfLifeAt, unconfirmedSince: until };
}
