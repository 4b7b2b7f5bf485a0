import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aqiFields } from './aqiFields.ts';
import { meanConcentrations, rankDistricts } from './ranking.ts';

const entry = (districtCode: string, aqi: number | null) => ({ districtCode, ...aqiFields(undefined), aqi });

describe('district ranking', () => {
  it('ranks best first, equal AQIs share a rank and the next one skips, NA districts are unranked and last', () => {
    const ranked = rankDistricts([entry('370104', 120), entry('370102', 80), entry('370126', null), entry('370103', 80), entry('370105', 60)]);
    assert.deepEqual(
      ranked.map((d) => [d.districtCode, d.rank]),
      [
        ['370105', 1],
        ['370102', 2],
        ['370103', 2],
        ['370104', 4],
        ['370126', null],
      ],
    );
  });

  it('averages each pollutant over the stations that measured it', () => {
    const mean = meanConcentrations([
      { pm2_5: 40, pm10: 80, so2: null, no2: 30, co: 0.8, o3: null },
      { pm2_5: 60, pm10: null, so2: 10, no2: 50, co: 1.0, o3: null },
    ]);
    assert.deepEqual(mean, { pm2_5: 50, pm10: 80, so2: 10, no2: 40, co: 0.9, o3: null });
  });
});
