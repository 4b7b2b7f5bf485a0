/**
 * The air quality index of HJ 633-2012 环境空气质量指数（AQI）技术规定（试行）: the individual index
 * (IAQI) of each pollutant from its concentration, the AQI as the highest IAQI, its level, and the
 * primary and exceeding pollutants. Pure: no clock, no I/O.
 *
 * Units: CO in mg/m³, every other pollutant in µg/m³ (Table 1's units).
 */
import { ValidationError } from '../../../events/errors.ts';

/** In the order of HJ 633-2012 Table 1's columns. */
export const POLLUTANTS = ['SO2', 'NO2', 'PM10', 'CO', 'O3', 'PM2_5'] as const;
export type Pollutant = (typeof POLLUTANTS)[number];

export type Averaging = '1h' | '8h' | '24h';

/** A concentration as reported; null when there is none (NA: calibration, a fault, too few valid hours). */
export type Concentration = number | null;

/** One hour's 1-hour average concentrations at a station (µg/m³; `co` in mg/m³). */
export interface Concentrations {
  pm2_5: Concentration;
  pm10: Concentration;
  so2: Concentration;
  no2: Concentration;
  /** mg/m³. */
  co: Concentration;
  o3: Concentration;
}

/** Which field of `Concentrations` carries each pollutant. */
export const CONCENTRATION_FIELD: Readonly<Record<Pollutant, keyof Concentrations>> = {
  SO2: 'so2',
  NO2: 'no2',
  PM10: 'pm10',
  CO: 'co',
  O3: 'o3',
  PM2_5: 'pm2_5',
};

export const UNIT: Readonly<Record<Pollutant, 'µg/m³' | 'mg/m³'>> = {
  SO2: 'µg/m³',
  NO2: 'µg/m³',
  PM10: 'µg/m³',
  CO: 'mg/m³',
  O3: 'µg/m³',
  PM2_5: 'µg/m³',
};

/** The IAQI at each row of Table 1. */
export const IAQI_STEPS = [0, 50, 100, 150, 200, 300, 400, 500] as const;

/**
 * HJ 633-2012 Table 1 (空气质量分指数及对应的污染物项目浓度限值), column by column: the concentration
 * limit (BP) at each IAQI of `IAQI_STEPS`. The SO2 1-h and O3 8-h columns stop at 800 (Table 1,
 * notes 2 and 3): above it the standard computes no IAQI from that average and reports the SO2
 * 24-h, respectively the O3 1-h, IAQI instead. The 1-h SO2, NO2 and CO limits serve the real-time
 * report only (note 1). There are no 1-h PM limits.
 */
export const BREAKPOINTS: Readonly<Record<Pollutant, Readonly<Partial<Record<Averaging, readonly number[]>>>>> = {
  SO2: { '24h': [0, 50, 150, 475, 800, 1600, 2100, 2620], '1h': [0, 150, 500, 650, 800] },
  NO2: { '24h': [0, 40, 80, 180, 280, 565, 750, 940], '1h': [0, 100, 200, 700, 1200, 2340, 3090, 3840] },
  PM10: { '24h': [0, 50, 150, 250, 350, 420, 500, 600] },
  CO: { '24h': [0, 2, 4, 14, 24, 36, 48, 60], '1h': [0, 5, 10, 35, 60, 90, 120, 150] },
  O3: { '1h': [0, 160, 200, 300, 400, 800, 1000, 1200], '8h': [0, 100, 160, 215, 265, 800] },
  PM2_5: { '24h': [0, 35, 75, 115, 150, 250, 350, 500] },
};

interface Segment {
  bpLo: number;
  bpHi: number;
  iaqiLo: number;
  iaqiHi: number;
}

function* zip<A, B>(as: Iterable<A>, bs: Iterable<B>): Generator<[A, B]> {
  const bIterator = bs[Symbol.iterator]();
  for (const a of as) {
    const b = bIterator.next();
    if (b.done) return;
    yield [a, b.value];
  }
}

function segmentsOf(column: readonly number[]): Segment[] {
  const segments: Segment[] = [];
  let previous: { bp: number; iaqi: number } | undefined;
  for (const [bp, iaqi] of zip(column, IAQI_STEPS)) {
    if (previous) segments.push({ bpLo: previous.bp, bpHi: bp, iaqiLo: previous.iaqi, iaqiHi: iaqi });
    previous = { bp, iaqi };
  }
  return segments;
}

const SEGMENTS = Object.fromEntries(
  POLLUTANTS.map((p) => [
    p,
    Object.fromEntries(Object.entries(BREAKPOINTS[p]).map(([averaging, column]) => [averaging, segmentsOf(column)])),
  ]),
) as Record<Pollutant, Partial<Record<Averaging, Segment[]>>>;

const TOP_IAQI = 500;

/**
 * Absorbs binary floating-point noise from decimal concentrations (2.4 − 2 is 0.3999…98), so an
 * exact whole IAQI is not pushed up to the next integer by rounding up.
 */
const ROUNDING_TOLERANCE = 1e-9;

/**
 * The individual index (IAQI, 空气质量分指数) of one pollutant's concentration, by HJ 633-2012
 * formula (1): IAQI = (IAQI_Hi − IAQI_Lo) / (BP_Hi − BP_Lo) × (C − BP_Lo) + IAQI_Lo, rounded up to a
 * whole number (进位取整), so a value just above a limit never reads as within it.
 *
 * Above the top of a column that reaches IAQI 500 the IAQI is 500. Returns `undefined` when the
 * standard computes no IAQI from this value: SO2 1-h above 800 µg/m³ (use the 24-h value) and O3
 * 8-h above 800 µg/m³ (use the 1-h value).
 */
export function iaqi(pollutant: Pollutant, concentration: number, averaging: Averaging): number | undefined {
  const segments = SEGMENTS[pollutant][averaging];
  if (!segments) {
    const available = Object.keys(BREAKPOINTS[pollutant]).join(' or ');
    throw new ValidationError(
      `HJ 633-2012 Table 1 has no ${averaging} limits for ${pollutant}; give its ${available} average`,
      { pollutant, averaging },
    );
  }
  if (!Number.isFinite(concentration) || concentration < 0) {
    throw new ValidationError(
      `the ${averaging} ${pollutant} concentration must be a number of ${UNIT[pollutant]}, 0 or more, got ${concentration}`,
      { pollutant, averaging },
    );
  }
  const segment = segments.find((s) => concentration <= s.bpHi);
  if (!segment) {
    const reachesTop = segments.at(-1)?.iaqiHi === TOP_IAQI;
    return reachesTop ? TOP_IAQI : undefined;
  }
  const { bpLo, bpHi, iaqiLo, iaqiHi } = segment;
  const exact = iaqiLo + ((iaqiHi - iaqiLo) * (concentration - bpLo)) / (bpHi - bpLo);
  // The tolerance must not take C = BP_Lo below IAQI_Lo (at 0 it would give −0).
  return Math.max(iaqiLo, Math.ceil(exact - ROUNDING_TOLERANCE));
}

export type AqiLevel = 1 | 2 | 3 | 4 | 5 | 6;

export interface AqiCategory {
  level: AqiLevel;
  /** The category (空气质量指数类别). */
  levelName: '优' | '良' | '轻度污染' | '中度污染' | '重度污染' | '严重污染';
  levelNameEn:
    | 'EXCELLENT'
    | 'GOOD'
    | 'LIGHTLY_POLLUTED'
    | 'MODERATELY_POLLUTED'
    | 'HEAVILY_POLLUTED'
    | 'SEVERELY_POLLUTED';
  /** The colour of HJ 633-2012 Appendix A, as RGB hex. */
  colour: '#00E400' | '#FFFF00' | '#FF7E00' | '#FF0000' | '#99004C' | '#7E0023';
  /** The AQI range of the level, inclusive; `max` null for the open top level. */
  min: number;
  max: number | null;
}

/** HJ 633-2012 Table 2 (空气质量指数及相关信息) with the colours of Appendix A. */
export const AQI_CATEGORIES: readonly AqiCategory[] = [
  { level: 1, levelName: '优', levelNameEn: 'EXCELLENT', colour: '#00E400', min: 0, max: 50 },
  { level: 2, levelName: '良', levelNameEn: 'GOOD', colour: '#FFFF00', min: 51, max: 100 },
  { level: 3, levelName: '轻度污染', levelNameEn: 'LIGHTLY_POLLUTED', colour: '#FF7E00', min: 101, max: 150 },
  { level: 4, levelName: '中度污染', levelNameEn: 'MODERATELY_POLLUTED', colour: '#FF0000', min: 151, max: 200 },
  { level: 5, levelName: '重度污染', levelNameEn: 'HEAVILY_POLLUTED', colour: '#99004C', min: 201, max: 300 },
  { level: 6, levelName: '严重污染', levelNameEn: 'SEVERELY_POLLUTED', colour: '#7E0023', min: 301, max: null },
];

/** The level of a whole AQI value (as `iaqi` and the reports produce). */
export function aqiCategory(aqi: number): AqiCategory {
  if (!Number.isInteger(aqi) || aqi < 0) {
    throw new ValidationError(`an AQI is a whole number, 0 or more, got ${aqi}`, { aqi });
  }
  const category = AQI_CATEGORIES.find((c) => c.max === null || aqi <= c.max);
  if (!category) throw new Error('AQI_CATEGORIES must end with an open level');
  return category;
}

export interface AqiReport {
  aqi: number;
  /** The IAQI of each pollutant that had a value; a pollutant without one is NA and left out. */
  iaqi: Partial<Record<Pollutant, number>>;
  /** Which average each IAQI came from (e.g. O3 `8h`, or SO2 `24h` when its 1-h value was above 800). */
  basis: Partial<Record<Pollutant, Averaging>>;
  level: AqiLevel;
  levelName: AqiCategory['levelName'];
  levelNameEn: AqiCategory['levelNameEn'];
  colour: AqiCategory['colour'];
  /** 首要污染物: when the AQI is above 50, every pollutant whose IAQI equals it; empty otherwise. */
  primaryPollutants: Pollutant[];
  /** 超标污染物: every pollutant with an IAQI above 100. */
  exceedingPollutants: Pollutant[];
}

type Indices = Partial<Record<Pollutant, { iaqi: number; basis: Averaging }>>;

/** The report over whichever IAQIs could be computed; undefined when there are none (AQI NA). */
function report(indices: Indices): AqiReport | undefined {
  const present = POLLUTANTS.flatMap((p) => {
    const index = indices[p];
    return index ? [{ pollutant: p, ...index }] : [];
  });
  if (present.length === 0) return undefined;
  const aqi = Math.max(...present.map((p) => p.iaqi));
  const { level, levelName, levelNameEn, colour } = aqiCategory(aqi);
  return {
    aqi,
    iaqi: Object.fromEntries(present.map((p) => [p.pollutant, p.iaqi])),
    basis: Object.fromEntries(present.map((p) => [p.pollutant, p.basis])),
    level,
    levelName,
    levelNameEn,
    colour,
    primaryPollutants: aqi > 50 ? present.filter((p) => p.iaqi === aqi).map((p) => p.pollutant) : [],
    exceedingPollutants: present.filter((p) => p.iaqi > 100).map((p) => p.pollutant),
  };
}

function indexOf(pollutant: Pollutant, concentration: Concentration, averaging: Averaging) {
  if (concentration === null) return undefined;
  const value = iaqi(pollutant, concentration, averaging);
  return value === undefined ? undefined : { iaqi: value, basis: averaging };
}

/** The higher of two candidate indices for one pollutant; on a tie the first. */
function higher(a: Indices[Pollutant], b: Indices[Pollutant]): Indices[Pollutant] {
  if (!a) return b;
  if (!b) return a;
  return b.iaqi > a.iaqi ? b : a;
}

/**
 * The inputs of the real-time (hourly) report (实时报). Table 1 has no 1-hour PM limits, so PM10
 * and PM2.5 enter as their 24-hour moving averages ending with the hour.
 */
export interface RealTimeConcentrations {
  /** The hour's 1-hour averages. */
  so2: Concentration;
  no2: Concentration;
  /** mg/m³. */
  co: Concentration;
  o3: Concentration;
  /** 24-hour moving averages ending with the hour. */
  pm10_24h: Concentration;
  pm2_5_24h: Concentration;
  /** The SO2 24-hour moving average: its IAQI replaces the 1-hour one when that is above 800 µg/m³. */
  so2_24h: Concentration;
}

/** The real-time AQI of one station-hour; undefined when no pollutant has a value. */
export function hourlyAqi(input: RealTimeConcentrations): AqiReport | undefined {
  return report({
    SO2: input.so2 === null ? undefined : (indexOf('SO2', input.so2, '1h') ?? indexOf('SO2', input.so2_24h, '24h')),
    NO2: indexOf('NO2', input.no2, '1h'),
    CO: indexOf('CO', input.co, '1h'),
    O3: indexOf('O3', input.o3, '1h'),
    PM10: indexOf('PM10', input.pm10_24h, '24h'),
    PM2_5: indexOf('PM2_5', input.pm2_5_24h, '24h'),
  });
}

/** The inputs of the daily report (日报): one calendar day's statistics. */
export interface DailyConcentrations {
  so2_24h: Concentration;
  no2_24h: Concentration;
  pm10_24h: Concentration;
  pm2_5_24h: Concentration;
  /** mg/m³. */
  co_24h: Concentration;
  /** The day's highest 1-hour O3 average. */
  o3_1h_max: Concentration;
  /** The day's highest 8-hour moving O3 average. */
  o3_8h_max: Concentration;
}

/**
 * The daily AQI. The daily report's O3 indicators are both the day's maximum 1-hour and maximum
 * 8-hour moving average; the O3 IAQI is the higher of the two, which is also how the rule "O3 8-h
 * above 800: report the 1-h IAQI" comes out, since the 8-h value then yields none.
 */
export function dailyAqi(day: DailyConcentrations): AqiReport | undefined {
  return report({
    SO2: indexOf('SO2', day.so2_24h, '24h'),
    NO2: indexOf('NO2', day.no2_24h, '24h'),
    PM10: indexOf('PM10', day.pm10_24h, '24h'),
    CO: indexOf('CO', day.co_24h, '24h'),
    O3: higher(indexOf('O3', day.o3_8h_max, '8h'), indexOf('O3', day.o3_1h_max, '1h')),
    PM2_5: indexOf('PM2_5', day.pm2_5_24h, '24h'),
  });
}
