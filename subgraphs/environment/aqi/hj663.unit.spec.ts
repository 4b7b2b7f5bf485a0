import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../events/errors.ts';
import { dailyAqi, hourlyAqi, type Concentrations } from './hj633.ts';
import { dailyAverages, realTimeIndicators, roundHalfEven, type HourlyConcentrations } from './hj663.ts';

const MIDNIGHT = Date.parse('2026-03-01T00:00:00+08:00');
/** The hour of 2026-03-01 (China time) ending k hours after midnight: k = 1 … 24. */
const hourEnding = (k: number): string => new Date(MIDNIGHT + k * 3_600_000).toISOString();

const clean: Concentrations = { pm2_5: 20, pm10: 40, so2: 8, no2: 30, co: 0.6, o3: 50 };
const at = (k: number, values: Partial<Concentrations> = {}): HourlyConcentrations => ({
  hour: hourEnding(k),
  ...clean,
  ...values,
});
const hours = (ks: Iterable<number>, values: (k: number) => Partial<Concentrations> = () => ({})) =>
  [...ks].map((k) => at(k, values(k)));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('HJ 663 rounding', () => {
  it('rounds half to even (GB/T 8170), also at halves that binary fractions miss', () => {
    assert.equal(roundHalfEven(74.5, 0), 74);
    assert.equal(roundHalfEven(75.5, 0), 76);
    assert.equal(roundHalfEven(75.51, 0), 76);
    assert.equal(roundHalfEven(0.85, 1), 0.8);
    assert.equal(roundHalfEven(0.95, 1), 1);
    assert.equal(roundHalfEven(20.4 / 24, 1), 0.8); // 0.8499999999999998 in binary
  });
});

describe('HJ 663 daily statistics', () => {
  it('averages the 24 hours ending 01:00 … 24:00 and rounds as published (whole µg/m³, CO to 0.1 mg/m³)', () => {
    const result = dailyAverages('2026-03-01', hours(range(1, 24), (k) => ({ pm2_5: k % 2 ? 75 : 75.8, co: 0.85 })));
    assert.equal(result.pm2_5_24h, 75); // mean 75.4
    assert.equal(result.co_24h, 0.8); // 0.85, half to even
    assert.equal(result.pm10_24h, 40);
    assert.equal(result.so2_24h, 8);
    assert.equal(result.no2_24h, 30);
  });

  it('takes the O3 maximum 8-hour moving average over the windows ending 08:00 … 24:00, and the 1-hour maximum', () => {
    // O3 = 10·k: the window ending at k averages 10·(k − 3.5); the highest ends at 24:00 → 205
    const result = dailyAverages('2026-03-01', hours(range(1, 24), (k) => ({ o3: 10 * k })));
    assert.equal(result.o3_8h_max, 205);
    assert.equal(result.o3_1h_max, 240);
  });

  it('needs 20 hourly values for a daily average', () => {
    const twenty = dailyAverages('2026-03-01', hours(range(1, 20)));
    assert.equal(twenty.pm2_5_24h, 20);
    const nineteen = dailyAverages('2026-03-01', hours(range(1, 19)));
    assert.equal(nineteen.pm2_5_24h, null);
    const nullValues = dailyAverages('2026-03-01', hours(range(1, 24), (k) => ({ so2: k > 19 ? null : 8 })));
    assert.equal(nullValues.so2_24h, null);
    assert.equal(nullValues.no2_24h, 30);
  });

  it('needs 6 of 8 hours for an 8-hour window and 14 valid windows for the day, unless the maximum exceeds 160', () => {
    // hours 1–20: windows ending 8–22 have ≥ 6 hours (15 windows) → valid
    assert.equal(dailyAverages('2026-03-01', hours(range(1, 20))).o3_8h_max, 50);
    // hours 1–18: windows ending 8–20 have ≥ 6 hours (13 windows) → not enough
    assert.equal(dailyAverages('2026-03-01', hours(range(1, 18))).o3_8h_max, null);
    // … but a maximum above the grade II limit already stands
    assert.equal(dailyAverages('2026-03-01', hours(range(1, 18), () => ({ o3: 200 }))).o3_8h_max, 200);
    // one window of 5 hours is not averaged: hours 4–8 only give no valid window at all
    assert.equal(dailyAverages('2026-03-01', hours(range(4, 8), () => ({ o3: 300 }))).o3_8h_max, null);
  });

  it('keeps a 1-hour O3 maximum from fewer than 20 hours only when it exceeds 200', () => {
    assert.equal(dailyAverages('2026-03-01', hours(range(1, 19), () => ({ o3: 150 }))).o3_1h_max, null);
    assert.equal(dailyAverages('2026-03-01', hours(range(1, 19), (k) => ({ o3: k === 15 ? 250 : 150 }))).o3_1h_max, 250);
  });

  it('ignores hours outside the day: the hour ending at the first midnight belongs to the day before', () => {
    const series = [...hours(range(1, 24)), at(0, { pm2_5: 900 }), at(25, { pm2_5: 900 })];
    assert.equal(dailyAverages('2026-03-01', series).pm2_5_24h, 20);
  });

  it('refuses the same hour twice, also when written with another offset', () => {
    const series = [...hours(range(1, 24)), { ...at(1), hour: '2026-03-01T01:00:00+08:00' }];
    assert.throws(
      () => dailyAverages('2026-03-01', series),
      (err: unknown) => err instanceof ValidationError && /hour 2026-03-01T01:00:00\+08:00 appears twice/.test(err.message),
    );
  });

  it('refuses an hour label that is not on the hour, and a date that is not a date', () => {
    assert.throws(() => dailyAverages('2026-03-01', [{ ...at(1), hour: '2026-03-01T01:30:00+08:00' }]), /is not on the hour/);
    assert.throws(() => dailyAverages('2026-02-30', []), /date must be a real calendar date/);
  });

  it('feeds the daily AQI: a PM2.5 mean of 75.4 is published as 75, which is 良', () => {
    const day = dailyAverages('2026-03-01', hours(range(1, 24), (k) => ({ pm2_5: k % 2 ? 75 : 75.8 })));
    const report = dailyAqi(day);
    assert.equal(report?.aqi, 100);
    assert.equal(report?.levelName, '良');
  });
});

describe('HJ 663 real-time indicators', () => {
  it("takes the hour's 1-hour values and the 24-hour moving averages ending with it", () => {
    // hours 2–25 (the window ending at 25) have PM2.5 = 100; hour 1 (outside it) 900
    const series = [at(1, { pm2_5: 900 }), ...hours(range(2, 25), (k) => ({ pm2_5: 100, so2: k === 25 ? 850 : 10 }))];
    const input = realTimeIndicators(hourEnding(25), series);
    assert.deepEqual(input, {
      so2: 850,
      no2: 30,
      co: 0.6,
      o3: 50,
      pm10_24h: 40,
      pm2_5_24h: 100,
      so2_24h: 45, // (23 × 10 + 850) / 24 = 45
    });
    // SO2 1h above 800 → the 24-h 45 gives IAQI 45; PM2.5 24h 100: 50/40×25+100 = 131.25 → 132
    const report = hourlyAqi(input);
    assert.equal(report?.iaqi.SO2, 45);
    assert.equal(report?.aqi, 132);
  });

  it('gives NA for what the hour lacks and for a moving average of fewer than 20 hours', () => {
    const input = realTimeIndicators(hourEnding(24), hours(range(6, 23)));
    assert.deepEqual(input, { so2: null, no2: null, co: null, o3: null, pm10_24h: null, pm2_5_24h: null, so2_24h: null });
    assert.equal(hourlyAqi(input), undefined);
  });
});

/**
 * The statistics as first written (hour labels parsed into a map, values collected per window), kept
 * here as the reference the slot-based computation must reproduce exactly, value for value.
 */
const reference = (() => {
  const HOUR = 3_600_000;
  const FIELD = { SO2: 'so2', NO2: 'no2', PM10: 'pm10', CO: 'co', O3: 'o3', PM2_5: 'pm2_5' } as const;
  const DECIMALS = { SO2: 0, NO2: 0, PM10: 0, CO: 1, O3: 0, PM2_5: 0 } as const;
  type P = keyof typeof FIELD;
  const byHour = (hourly: readonly HourlyConcentrations[]) => new Map(hourly.map((h) => [Date.parse(h.hour), h]));
  const valuesAt = (hours: Map<number, Concentrations>, p: P, ends: readonly number[]) =>
    ends.flatMap((ms) => {
      const value = hours.get(ms)?.[FIELD[p]];
      return value === undefined || value === null ? [] : [value];
    });
  const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const ending = (last: number, count: number) => Array.from({ length: count }, (_, k) => last - (count - 1 - k) * HOUR);
  const round = (p: P, v: number) => roundHalfEven(v, DECIMALS[p]);
  const average24h = (hours: Map<number, Concentrations>, p: P, ends: readonly number[]) => {
    const values = valuesAt(hours, p, ends);
    return values.length >= 20 ? round(p, mean(values)) : null;
  };
  return {
    daily(date: string, hourly: readonly HourlyConcentrations[]) {
      const midnight = Date.parse(`${date}T00:00:00+08:00`);
      const day = ending(midnight + 24 * HOUR, 24);
      const hours = byHour(hourly);
      const windows = ending(midnight + 24 * HOUR, 17).flatMap((end) => {
        const values = valuesAt(hours, 'O3', ending(end, 8));
        return values.length >= 6 ? [mean(values)] : [];
      });
      const max8h = windows.length ? Math.max(...windows) : null;
      const o3Hours = valuesAt(hours, 'O3', day);
      const max1h = o3Hours.length ? Math.max(...o3Hours) : null;
      return {
        so2_24h: average24h(hours, 'SO2', day),
        no2_24h: average24h(hours, 'NO2', day),
        pm10_24h: average24h(hours, 'PM10', day),
        pm2_5_24h: average24h(hours, 'PM2_5', day),
        co_24h: average24h(hours, 'CO', day),
        o3_1h_max: max1h !== null && (o3Hours.length >= 20 || max1h > 200) ? round('O3', max1h) : null,
        o3_8h_max: max8h !== null && (windows.length >= 14 || max8h > 160) ? round('O3', max8h) : null,
      };
    },
    realTime(hour: string, hourly: readonly HourlyConcentrations[]) {
      const end = Date.parse(hour);
      const hours = byHour(hourly);
      const current = hours.get(end);
      const window = ending(end, 24);
      return {
        so2: current?.so2 ?? null,
        no2: current?.no2 ?? null,
        co: current?.co ?? null,
        o3: current?.o3 ?? null,
        pm10_24h: average24h(hours, 'PM10', window),
        pm2_5_24h: average24h(hours, 'PM2_5', window),
        so2_24h: average24h(hours, 'SO2', window),
      };
    },
  };
})();

describe('HJ 663 statistics over hour runs', () => {
  it('reproduce the label-based computation exactly on thousands of random days with gaps, NA values and haze', () => {
    let state = 20260301;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const value = (scale: number, digits = 0) => (random() < 0.05 ? null : Number((random() * scale).toFixed(digits)));
    let compared = 0;
    for (let day = 0; day < 2_000; day++) {
      const gaps = random() * 0.4;
      const haze = random() < 0.2 ? 6 : 1;
      // 48 hours: the day before and the day (hours −23 … 24), some missing.
      const series = range(-23, 24)
        .filter(() => random() >= gaps)
        .map((k) => ({
          hour: hourEnding(k),
          pm2_5: value(120 * haze),
          pm10: value(200 * haze),
          so2: value(random() < 0.02 ? 2000 : 60),
          no2: value(150),
          co: value(4, 1),
          o3: value(random() < 0.1 ? 900 : 260, 1),
        }));
      assert.deepEqual(dailyAverages('2026-03-01', series), reference.daily('2026-03-01', series), `day ${day}`);
      for (const k of [1, 7, 19, 20, 24]) {
        assert.deepEqual(realTimeIndicators(hourEnding(k), series), reference.realTime(hourEnding(k), series), `day ${day}, hour ${k}`);
        compared++;
      }
    }
    assert.equal(compared, 10_000);
  });
});
