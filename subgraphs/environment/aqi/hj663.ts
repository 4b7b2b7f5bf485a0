/**
 * The statistics the AQI reports are computed from, with the data-validity rules of HJ 663-2013
 * 环境空气质量评价技术规范（试行）:
 * - a 24-hour average needs at least 20 hourly values;
 * - an 8-hour moving average needs at least 6 of its 8 hours;
 * - the day's maximum 8-hour O3 average is taken over the 17 windows ending 08:00 … 24:00 and needs
 *   at least 14 valid windows, unless it already exceeds the GB 3095-2012 grade II 8-hour limit
 *   (160 µg/m³): more data could only raise a maximum, so the exceedance stands.
 * The day's maximum 1-hour O3 average follows the 20-hour rule of a daily statistic, with the same
 * exception above the grade II 1-hour limit (200 µg/m³).
 * Results are rounded as HJ 663 publishes them (GB/T 8170, round half to even): whole µg/m³, CO to
 * 0.1 mg/m³. A statistic that fails its rule is null (NA).
 *
 * Hours are labelled by the instant they end, as Chinese monitoring data are (the 10时 value covers
 * 09:00–10:00), so the day D holds the hours labelled D 01:00 … D+1 00:00 China time.
 */
import { ValidationError } from '../../../events/errors.ts';
import { assertCalendarDate, chinaDateOf, chinaMidnight, HOUR_MS, parseWholeHour } from '../../kit/calendar.ts';
import {
  type Concentration,
  type Concentrations,
  type DailyConcentrations,
  type Pollutant,
  type RealTimeConcentrations,
} from './hj633.ts';

/**
 * The reporting day an hour belongs to: hours are labelled by the instant they end, so the day D
 * holds the hours labelled D 01:00 … D+1 00:00 China time.
 */
export const reportingDate = (hourMs: number): string => chinaDateOf(hourMs - HOUR_MS);

/** One station-hour of 1-hour averages; `hour` is the instant the averaged hour ends. */
export interface HourlyConcentrations extends Concentrations {
  hour: string;
}

export const MIN_HOURS_PER_DAY = 20;
export const MIN_HOURS_PER_8H_WINDOW = 6;
export const MIN_8H_WINDOWS_PER_DAY = 14;
/** GB 3095-2012 Table 1, grade II (二级) O3 limits, µg/m³. */
const O3_8H_LIMIT = 160;
const O3_1H_LIMIT = 200;

const DECIMALS: Readonly<Record<Pollutant, number>> = { SO2: 0, NO2: 0, PM10: 0, CO: 1, O3: 0, PM2_5: 0 };

/** GB/T 8170 rounding (四舍六入五成双) to `decimals` places, robust to binary noise at an exact half. */
export function roundHalfEven(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const scaled = value * factor;
  const floor = Math.floor(scaled);
  const isHalf = Math.abs(scaled - floor - 0.5) < 1e-9;
  const rounded = isHalf ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(scaled);
  return rounded / factor;
}

/** A statistic rounded to the digits HJ 663 publishes for the pollutant. */
export const roundConcentration = (pollutant: Pollutant, value: number): number =>
  roundHalfEven(value, DECIMALS[pollutant]);

/** The series indexed by the instant each hour ends; a duplicated hour is refused, not guessed at. */
function byHour(hourly: readonly HourlyConcentrations[]): Map<number, Concentrations> {
  const hours = new Map<number, Concentrations>();
  for (const [i, observation] of hourly.entries()) {
    const ms = parseWholeHour(observation.hour, `hourly[${i}].hour`);
    if (hours.has(ms)) {
      throw new ValidationError(
        `hour ${observation.hour} appears twice in the series; pass one value per hour (the corrected one)`,
        { field: `hourly[${i}].hour` },
      );
    }
    hours.set(ms, observation);
  }
  return hours;
}

/**
 * Consecutive hours, oldest first, one array per pollutant field (`null` or `undefined` where the hour
 * has no value). The statistics below read such columns directly (no hour labels to parse), so read
 * models that keep a day's hours by position compute them cheaply, and exactly as `dailyAverages` and
 * `realTimeIndicators` do.
 */
export type HourColumns = { readonly [Field in keyof Concentrations]: ArrayLike<Concentration | undefined> };

/** The 24-hour average of `column[from…to]` by the 20-hour rule, summed oldest first, rounded as published. */
function average24h(pollutant: Pollutant, column: ArrayLike<Concentration | undefined>, from: number, to: number): Concentration {
  let sum = 0;
  let count = 0;
  for (let i = Math.max(0, from); i <= to; i++) {
    const value = column[i];
    if (value === undefined || value === null) continue;
    sum += value;
    count++;
  }
  return count >= MIN_HOURS_PER_DAY ? roundConcentration(pollutant, sum / count) : null;
}

/**
 * One reporting day's statistics for the daily report (日报) from its 24 hours in order: index 0 is
 * the hour ending 01:00 China time, index 23 the one ending at 24:00 (the next day's 00:00).
 */
export function dailyStatistics(day: HourColumns): DailyConcentrations {
  const o3 = day.o3;
  // The 17 O3 8-hour windows end with hours 8 … 24 (indices 7 … 23).
  let windows = 0;
  let max8h = Number.NEGATIVE_INFINITY;
  for (let end = 7; end < 24; end++) {
    let sum = 0;
    let count = 0;
    for (let i = end - 7; i <= end; i++) {
      const value = o3[i];
      if (value === undefined || value === null) continue;
      sum += value;
      count++;
    }
    if (count < MIN_HOURS_PER_8H_WINDOW) continue;
    windows++;
    max8h = Math.max(max8h, sum / count);
  }
  const o3_8h_max =
    windows > 0 && (windows >= MIN_8H_WINDOWS_PER_DAY || max8h > O3_8H_LIMIT) ? roundConcentration('O3', max8h) : null;

  let o3Hours = 0;
  let max1h = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 24; i++) {
    const value = o3[i];
    if (value === undefined || value === null) continue;
    o3Hours++;
    max1h = Math.max(max1h, value);
  }
  const o3_1h_max =
    o3Hours > 0 && (o3Hours >= MIN_HOURS_PER_DAY || max1h > O3_1H_LIMIT) ? roundConcentration('O3', max1h) : null;

  return {
    so2_24h: average24h('SO2', day.so2, 0, 23),
    no2_24h: average24h('NO2', day.no2, 0, 23),
    pm10_24h: average24h('PM10', day.pm10, 0, 23),
    pm2_5_24h: average24h('PM2_5', day.pm2_5, 0, 23),
    co_24h: average24h('CO', day.co, 0, 23),
    o3_1h_max,
    o3_8h_max,
  };
}

/**
 * The real-time report's inputs for the hour at index `end` of `run`: its 1-hour values and the
 * 24-hour moving averages over indices `end − 23 … end` (hours before the run count as NA).
 */
export function realTimeIndicatorsAt(run: HourColumns, end: number): RealTimeConcentrations {
  const from = end - 23;
  return {
    so2: run.so2[end] ?? null,
    no2: run.no2[end] ?? null,
    co: run.co[end] ?? null,
    o3: run.o3[end] ?? null,
    pm10_24h: average24h('PM10', run.pm10, from, end),
    pm2_5_24h: average24h('PM2_5', run.pm2_5, from, end),
    so2_24h: average24h('SO2', run.so2, from, end),
  };
}

/** `count` consecutive hours ending with `lastMs` from a series, oldest first, as columns. */
function columnsEnding(hours: Map<number, Concentrations>, lastMs: number, count: number): HourColumns {
  const run = Array.from({ length: count }, (_, k) => hours.get(lastMs - (count - 1 - k) * HOUR_MS));
  const column = (field: keyof Concentrations) => run.map((h) => h?.[field]);
  return { pm2_5: column('pm2_5'), pm10: column('pm10'), so2: column('so2'), no2: column('no2'), co: column('co'), o3: column('o3') };
}

/**
 * One calendar day's statistics for the daily report (日报) from a station's hourly values. Hours
 * outside the day are ignored, so a caller may pass a longer series.
 */
export function dailyAverages(date: string, hourly: readonly HourlyConcentrations[]): DailyConcentrations {
  const midnight = chinaMidnight(assertCalendarDate(date, 'date'));
  return dailyStatistics(columnsEnding(byHour(hourly), midnight + 24 * HOUR_MS, 24));
}

/**
 * The real-time report's inputs for the hour ending at `hour`: that hour's 1-hour values and the
 * 24-hour moving averages (PM10, PM2.5, and SO2 for its above-800 rule) over it and the 23 before.
 * Hours outside that window are ignored.
 */
export function realTimeIndicators(hour: string, hourly: readonly HourlyConcentrations[]): RealTimeConcentrations {
  const end = parseWholeHour(hour, 'hour');
  return realTimeIndicatorsAt(columnsEnding(byHour(hourly), end, 24), 23);
}
