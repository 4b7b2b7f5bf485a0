import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../events/errors.ts';
import { ageBand, ageOn } from './age.ts';

describe('ageOn', () => {
  it('counts completed years, turning a year older on the birthday', () => {
    assert.equal(ageOn('1990-03-07', '2026-03-06'), 35);
    assert.equal(ageOn('1990-03-07', '2026-03-07'), 36);
    assert.equal(ageOn('2026-03-01', '2026-03-01'), 0);
  });

  it('makes someone born on 29 February a year older on 1 March in a common year', () => {
    assert.equal(ageOn('2008-02-29', '2026-02-28'), 17);
    assert.equal(ageOn('2008-02-29', '2026-03-01'), 18);
    assert.equal(ageOn('2008-02-29', '2028-02-29'), 20);
  });

  it('refuses a date before birth and malformed dates', () => {
    assert.throws(() => ageOn('1990-03-07', '1990-03-06'), /before the birth date/);
    assert.throws(() => ageOn('1990-02-30', '2026-01-01'), ValidationError);
    assert.throws(() => ageOn('1990-03-07', '2026-03-01T00:00:00Z'), ValidationError);
  });
});

describe('ageBand', () => {
  it('puts each age in its band, boundaries included at the lower end', () => {
    const cases: [number, string][] = [
      [0, '0-17'],
      [17, '0-17'],
      [18, '18-34'],
      [34, '18-34'],
      [35, '35-59'],
      [59, '35-59'],
      [60, '60-64'],
      [64, '60-64'],
      [65, '65-79'],
      [79, '65-79'],
      [80, '80+'],
      [112, '80+'],
    ];
    for (const [age, band] of cases) assert.equal(ageBand(age), band, `age ${age}`);
  });

  it('refuses negative and fractional ages', () => {
    assert.throws(() => ageBand(-1), ValidationError);
    assert.throws(() => ageBand(17.5), ValidationError);
  });
});
