import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../events/errors.ts';
import {
  aqiCategory,
  dailyAqi,
  hourlyAqi,
  iaqi,
  type Averaging,
  type DailyConcentrations,
  type Pollutant,
  type RealTimeConcentrations,
} from './hj633.ts';

/**
 * HJ 633-2012 Table 1 transcribed independently of the module (from DESIGN §8), row by row, so a
 * typo in either copy fails here. null is the table's "—".
 */
const COLUMNS: readonly [Pollutant, Averaging][] = [
  ['SO2', '24h'],
  ['SO2', '1h'],
  ['NO2', '24h'],
  ['NO2', '1h'],
  ['PM10', '24h'],
  ['CO', '24h'],
  ['CO', '1h'],
  ['O3', '1h'],
  ['O3', '8h'],
  ['PM2_5', '24h'],
];
const TABLE_1: readonly [number, ...(number | null)[]][] = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  [50, 50, 150, 40, 100, 50, 2, 5, 160, 100, 35],
  [100, 150, 500, 80, 200, 150, 4, 10, 200, 160, 75],
  [150, 475, 650, 180, 700, 250, 14, 35, 300, 215, 115],
  [200, 800, 800, 280, 1200, 350, 24, 60, 400, 265, 150],
  [300, 1600, null, 565, 2340, 420, 36, 90, 800, 800, 250],
  [400, 2100, null, 750, 3090, 500, 48, 120, 1000, null, 350],
  [500, 2620, null, 940, 3840, 600, 60, 150, 1200, null, 500],
];

const realTime = (values: Partial<RealTimeConcentrations> = {}): RealTimeConcentrations => ({
  so2: 10,
  no2: 20,
  co: 0.5,
  o3: 60,
  pm10_24h: 40,
  pm2_5_24h: 20,
  so2_24h: 10,
  ...values,
});

const daily = (values: Partial<DailyConcentrations> = {}): DailyConcentrations => ({
  so2_24h: 10,
  no2_24h: 20,
  pm10_24h: 40,
  pm2_5_24h: 20,
  co_24h: 0.5,
  o3_1h_max: 80,
  o3_8h_max: 60,
  ...values,
});

describe('HJ 633 IAQI: the breakpoints of Table 1', () => {
  it('gives exactly the table IAQI at every breakpoint of every column', () => {
    let checked = 0;
    for (const [iaqiAtRow, ...limits] of TABLE_1) {
      for (const [column, limit] of limits.entries()) {
        const [pollutant, averaging] = COLUMNS[column] ?? assert.fail(`no column ${column}`);
        if (limit === null || limit === undefined) continue;
        assert.equal(iaqi(pollutant, limit, averaging), iaqiAtRow, `${pollutant} ${averaging} at ${limit}`);
        checked++;
      }
    }
    assert.equal(checked, 75);
  });

  it('gives 500 above the top of a column that reaches 500', () => {
    assert.equal(iaqi('PM2_5', 500.1, '24h'), 500);
    assert.equal(iaqi('PM2_5', 900, '24h'), 500);
    assert.equal(iaqi('CO', 151, '1h'), 500);
    assert.equal(iaqi('NO2', 5000, '1h'), 500);
  });

  it('refuses a 1-hour PM average, which Table 1 has no limits for', () => {
    assert.throws(
      () => iaqi('PM2_5', 40, '1h'),
      (err: unknown) =>
        err instanceof ValidationError && /no 1h limits for PM2_5; give its 24h average/.test(err.message),
    );
    assert.throws(() => iaqi('O3', 40, '24h'), /no 24h limits for O3; give its 1h or 8h average/);
  });

  it('refuses a negative or non-numeric concentration', () => {
    assert.throws(() => iaqi('SO2', -1, '24h'), /the 24h SO2 concentration must be a number of µg\/m³, 0 or more, got -1/);
    assert.throws(() => iaqi('CO', Number.NaN, '1h'), /CO concentration must be a number of mg\/m³/);
  });
});

describe('HJ 633 IAQI: interpolation and rounding up', () => {
  it('interpolates within a segment and rounds up to a whole number', () => {
    // PM2.5 24h 40: (100 − 50) / (75 − 35) × (40 − 35) + 50 = 56.25 → 57
    assert.equal(iaqi('PM2_5', 40, '24h'), 57);
    // SO2 24h 200: (150 − 100) / (475 − 150) × (200 − 150) + 100 = 107.69… → 108
    assert.equal(iaqi('SO2', 200, '24h'), 108);
    // O3 8h 180: (150 − 100) / (215 − 160) × (180 − 160) + 100 = 118.18… → 119
    assert.equal(iaqi('O3', 180, '8h'), 119);
    // PM10 24h 430: (400 − 300) / (500 − 420) × (430 − 420) + 300 = 312.5 → 313
    assert.equal(iaqi('PM10', 430, '24h'), 313);
    // CO 1h 12.5 mg/m³: (150 − 100) / (35 − 10) × (12.5 − 10) + 100 = 105 exactly
    assert.equal(iaqi('CO', 12.5, '1h'), 105);
  });

  it('rounds any fraction up, so a concentration just above a limit leaves its level', () => {
    // PM2.5 24h 35.1: 50 / 40 × 0.1 + 50 = 50.125 → 51 (良), where rounding to nearest would say 50 (优)
    assert.equal(iaqi('PM2_5', 35.1, '24h'), 51);
    // NO2 1h 200.2: 50 / 500 × 0.2 + 100 = 100.02 → 101
    assert.equal(iaqi('NO2', 200.2, '1h'), 101);
  });

  it('does not push an exact whole IAQI up because of decimal floating-point noise', () => {
    // CO 24h 2.4: 50 / 2 × 0.4 + 50 = 60 exactly, though 2.4 − 2 is 0.3999…98 in binary
    assert.equal(iaqi('CO', 2.4, '24h'), 60);
    // CO 1h 7.3: 50 / 5 × 2.3 + 50 = 73 exactly
    assert.equal(iaqi('CO', 7.3, '1h'), 73);
    // NO2 1h 2400: 100 / 750 × 60 + 300 = 308 exactly
    assert.equal(iaqi('NO2', 2400, '1h'), 308);
  });
});

describe('HJ 633 IAQI: the special rules', () => {
  it('computes no IAQI from a 1-hour SO2 above 800, but does at 800', () => {
    assert.equal(iaqi('SO2', 800, '1h'), 200);
    assert.equal(iaqi('SO2', 800.1, '1h'), undefined);
    assert.equal(iaqi('SO2', 3000, '1h'), undefined);
  });

  it('computes no IAQI from an 8-hour O3 above 800, but does at 800', () => {
    assert.equal(iaqi('O3', 800, '8h'), 300);
    assert.equal(iaqi('O3', 801, '8h'), undefined);
  });

  it('reports SO2 from its 24-hour average in the hourly AQI when the 1-hour value is above 800', () => {
    // SO2 24h 300: 50 / 325 × 150 + 100 = 123.08 → 124
    const result = hourlyAqi(realTime({ so2: 900, so2_24h: 300 }));
    assert.equal(result?.iaqi.SO2, 124);
    assert.equal(result?.basis.SO2, '24h');
    assert.equal(result?.aqi, 124);
    assert.deepEqual(result?.primaryPollutants, ['SO2']);
  });

  it('leaves SO2 NA in the hourly AQI when it is above 800 and no 24-hour average is valid', () => {
    const result = hourlyAqi(realTime({ so2: 900, so2_24h: null }));
    assert.equal(result?.iaqi.SO2, undefined);
    assert.deepEqual(Object.keys(result?.iaqi ?? {}).sort(), ['CO', 'NO2', 'O3', 'PM10', 'PM2_5']);
  });

  it('reports O3 from its 1-hour maximum in the daily AQI when the 8-hour maximum is above 800', () => {
    // O3 1h 1100: 100 / 200 × 100 + 400 = 450
    const result = dailyAqi(daily({ o3_8h_max: 850, o3_1h_max: 1100 }));
    assert.equal(result?.iaqi.O3, 450);
    assert.equal(result?.basis.O3, '1h');
    assert.equal(result?.aqi, 450);
  });
});

describe('HJ 633 hourly (real-time) AQI', () => {
  it('uses the 1-hour SO2, NO2, CO and O3 values and the 24-hour moving PM averages', () => {
    const result = hourlyAqi(realTime({ so2: 160, no2: 250, co: 3, o3: 170, pm10_24h: 160, pm2_5_24h: 80 }));
    assert.deepEqual(result, {
      // SO2 1h 160: 50/350×10+50 = 51.43 → 52; NO2 1h 250: 50/500×50+100 = 105;
      // CO 1h 3: 50/5×3 = 30; O3 1h 170: 50/40×10+50 = 62.5 → 63;
      // PM10 24h 160: 50/100×10+100 = 105; PM2.5 24h 80: 50/40×5+100 = 106.25 → 107
      aqi: 107,
      iaqi: { SO2: 52, NO2: 105, PM10: 105, CO: 30, O3: 63, PM2_5: 107 },
      basis: { SO2: '1h', NO2: '1h', PM10: '24h', CO: '1h', O3: '1h', PM2_5: '24h' },
      level: 3,
      levelName: '轻度污染',
      levelNameEn: 'LIGHTLY_POLLUTED',
      colour: '#FF7E00',
      primaryPollutants: ['PM2_5'],
      exceedingPollutants: ['NO2', 'PM10', 'PM2_5'],
    });
  });

  it('leaves out a pollutant with no value and is undefined when none has one', () => {
    const result = hourlyAqi(realTime({ o3: null, pm2_5_24h: null }));
    assert.equal(result?.iaqi.O3, undefined);
    assert.equal(result?.iaqi.PM2_5, undefined);
    assert.equal(result?.aqi, 40); // PM10 24h 40 → 40
    const nothing = { so2: null, no2: null, co: null, o3: null, pm10_24h: null, pm2_5_24h: null, so2_24h: null };
    assert.equal(hourlyAqi(nothing), undefined);
  });
});

describe('HJ 633 daily AQI', () => {
  it('uses the 24-hour averages and the higher of the O3 8-hour and 1-hour maxima', () => {
    // O3 8h 200: 50/55×40+100 = 136.4 → 137; O3 1h 220: 50/100×20+100 = 110
    const result = dailyAqi(daily({ o3_8h_max: 200, o3_1h_max: 220 }));
    assert.equal(result?.iaqi.O3, 137);
    assert.equal(result?.basis.O3, '8h');
    assert.deepEqual(result?.primaryPollutants, ['O3']);
    // O3 8h 150: 50/60×50+50 = 91.7 → 92; O3 1h 250: 50/100×50+100 = 125
    const peak = dailyAqi(daily({ o3_8h_max: 150, o3_1h_max: 250 }));
    assert.equal(peak?.iaqi.O3, 125);
    assert.equal(peak?.basis.O3, '1h');
  });

  it('uses the 24-hour SO2, NO2 and CO limits, not the 1-hour ones', () => {
    // SO2 24h 150 → 100 (the 1-h column would say 50); NO2 24h 80 → 100; CO 24h 4 → 100
    const result = dailyAqi(daily({ so2_24h: 150, no2_24h: 80, co_24h: 4 }));
    assert.deepEqual([result?.iaqi.SO2, result?.iaqi.NO2, result?.iaqi.CO], [100, 100, 100]);
  });
});

describe('HJ 633 primary and exceeding pollutants', () => {
  it('lists every pollutant tied at the highest IAQI as primary, in Table 1 order', () => {
    const result = hourlyAqi(realTime({ pm10_24h: 150, pm2_5_24h: 75, no2: 200 }));
    assert.equal(result?.aqi, 100);
    assert.deepEqual(result?.primaryPollutants, ['NO2', 'PM10', 'PM2_5']);
    assert.deepEqual(result?.exceedingPollutants, []);
  });

  it('names no primary pollutant when the AQI is 50 or less, even on a tie', () => {
    const result = hourlyAqi(realTime({ pm10_24h: 50, pm2_5_24h: 35 }));
    assert.equal(result?.aqi, 50);
    assert.deepEqual(result?.primaryPollutants, []);
  });

  it('names a primary pollutant from 51', () => {
    const result = hourlyAqi(realTime({ pm2_5_24h: 35.1 }));
    assert.equal(result?.aqi, 51);
    assert.deepEqual(result?.primaryPollutants, ['PM2_5']);
  });

  it('counts a pollutant as exceeding only above 100', () => {
    const atLimit = dailyAqi(daily({ pm2_5_24h: 75 }));
    assert.deepEqual(atLimit?.exceedingPollutants, []);
    const over = dailyAqi(daily({ pm2_5_24h: 76, pm10_24h: 151 }));
    assert.deepEqual(over?.exceedingPollutants, ['PM10', 'PM2_5']);
  });
});

describe('HJ 633 levels', () => {
  it('changes level exactly between 50/51, 100/101, 150/151, 200/201 and 300/301', () => {
    const cases: [number, number, string, string][] = [
      [0, 1, '优', '#00E400'],
      [50, 1, '优', '#00E400'],
      [51, 2, '良', '#FFFF00'],
      [100, 2, '良', '#FFFF00'],
      [101, 3, '轻度污染', '#FF7E00'],
      [150, 3, '轻度污染', '#FF7E00'],
      [151, 4, '中度污染', '#FF0000'],
      [200, 4, '中度污染', '#FF0000'],
      [201, 5, '重度污染', '#99004C'],
      [300, 5, '重度污染', '#99004C'],
      [301, 6, '严重污染', '#7E0023'],
      [500, 6, '严重污染', '#7E0023'],
    ];
    for (const [aqi, level, levelName, colour] of cases) {
      const category = aqiCategory(aqi);
      assert.deepEqual([category.level, category.levelName, category.colour], [level, levelName, colour], `AQI ${aqi}`);
    }
    assert.equal(aqiCategory(301).levelNameEn, 'SEVERELY_POLLUTED');
    assert.equal(aqiCategory(51).levelNameEn, 'GOOD');
  });

  it('reaches each level from concentrations at and just past a limit', () => {
    // PM2.5 24h: 75 → 100 良; 75.1 → 101 轻度污染; 250 → 300 重度污染; 250.1 → 301 严重污染
    assert.equal(dailyAqi(daily({ pm2_5_24h: 75 }))?.levelNameEn, 'GOOD');
    assert.equal(dailyAqi(daily({ pm2_5_24h: 75.1 }))?.levelNameEn, 'LIGHTLY_POLLUTED');
    assert.equal(dailyAqi(daily({ pm2_5_24h: 250 }))?.levelNameEn, 'HEAVILY_POLLUTED');
    assert.equal(dailyAqi(daily({ pm2_5_24h: 250.1 }))?.levelNameEn, 'SEVERELY_POLLUTED');
  });

  it('refuses an AQI that is not a whole number of 0 or more', () => {
    assert.throws(() => aqiCategory(50.5), /an AQI is a whole number, 0 or more, got 50.5/);
    assert.throws(() => aqiCategory(-1), ValidationError);
  });
});
