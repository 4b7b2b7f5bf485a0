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
import { assertCalendarDate, chinaMidnight, HOUR_MS, parseWholeHour } from '../shared/time.ts';
import {
  CONCENTRATION_FIELD,
  type Concentration,
  type Concentrations,
  type DailyConcentrations,
  type Pollutant,
  type RealTimeConcentrations,
} from './hj633.ts';

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

function valuesAt(hours: Map<number, Concentrations>, pollutant: Pollutant, ends: readonly number[]): number[] {
  const field = CONCENTRATION_FIELD[pollutant];
  return ends.flatMap((ms) => {
    const value = hours.get(ms)?.[field];
    return value === undefined || value === null ? [] : [value];
  });
}

const mean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

/** The `count` hour labels ending with `lastMs`, oldest first. */
const hoursEnding = (lastMs: number, count: number): number[] =>
  Array.from({ length: count }, (_, k) => lastMs - (count - 1 - k) * HOUR_MS);

function average24h(hours: Map<number, Concentrations>, pollutant: Pollutant, ends: readonly number[]): Concentration {
  const values = valuesAt(hours, pollutant, ends);
  return values.length >= MIN_HOURS_PER_DAY ? roundConcentration(pollutant, mean(values)) : null;
}

/**
 * One calendar day's statistics for the daily report (日报) from a station's hourly values. Hours
 * outside the day are ignored, so a caller may pass a longer series.
 */
export function dailyAverages(date: string, hourly: readonly HourlyConcentrations[]): DailyConcentrations {
  const midnight = chinaMidnight(assertCalendarDate(date, 'date'));
  const day = hoursEnding(midnight + 24 * HOUR_MS, 24);
  const hours = byHour(hourly);

  const windows = hoursEnding(midnight + 24 * HOUR_MS, 17).flatMap((end) => {
    const values = valuesAt(hours, 'O3', hoursEnding(end, 8));
    return values.length >= MIN_HOURS_PER_8H_WINDOW ? [mean(values)] : [];
  });
  const max8h = windows.length ? Math.max(...windows) : null;
  const o3_8h_max =
    max8h !== null && (windows.length >= MIN_8H_WINDOWS_PER_DAY || max8h > O3_8H_LIMIT)
      ? roundConcentration('O3', max8h)
      : null;

  const o3Hours = valuesAt(hours, 'O3', day);
  const max1h = o3Hours.length ? Math.max(...o3Hours) : null;
  const o3_1h_max =
    max1h !== null && (o3Hours.length >= MIN_HOURS_PER_DAY || max1h > O3_1H_LIMIT)
      ? roundConcentration('O3', max1h)
      : null;

  return {
    so2_24h: average24h(hours, 'SO2', day),
    no2_24h: average24h(hours, 'NO2', day),
    pm10_24h: average24h(hours, 'PM10', day),
    pm2_5_24h: average24h(hours, 'PM2_5', day),
    co_24h: average24h(hours, 'CO', day),
    o3_1h_max,
    o3_8h_max,
  };
}

/**
 * The real-time report's inputs for the hour ending at `hour`: that hour's 1-hour values and the
 * 24-hour moving averages (PM10, PM2.5, and SO2 for its above-800 rule) over it and the 23 before.
 * Hours outside that window are ignored.
 */
export function realTimeIndicators(hour: string, hourly: readonly HourlyConcentrations[]): RealTimeConcentrations {
  const end = parseWholeHour(hour, 'hour');
  const hours = byHour(hourly);
  const current = hours.get(end);
  const window = hoursEnding(end, 24);
  return {
    so2: current?.so2 ?? null,
    no2: current?.no2 ?? null,
    co: current?.co ?? null,
    o3: current?.o3 ?? null,
    pm10_24h: average24h(hours, 'PM10', window),
    pm2_5_24h: average24h(hours, 'PM2_5', window),
    so2_24h: average24h(hours, 'SO2', window),
  };
}
