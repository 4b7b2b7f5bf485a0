import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { addMonths, monthsOf, parsePeriod } from './period.ts';

describe('tax periods', () => {
  it('reads months, quarters and years with their first and last days', () => {
    assert.deepEqual(parsePeriod('2026-03'), { code: '2026-03', kind: 'MONTH', startsOn: '2026-03-01', endsOn: '2026-03-31' });
    assert.deepEqual(parsePeriod('2024Q1'), { code: '2024Q1', kind: 'QUARTER', startsOn: '2024-01-01', endsOn: '2024-03-31' });
    assert.deepEqual(parsePeriod('2025'), { code: '2025', kind: 'YEAR', startsOn: '2025-01-01', endsOn: '2025-12-31' });
    assert.equal(parsePeriod('2024-02').endsOn, '2024-02-29');
  });

  it('refuses other spellings', () => {
    for (const bad of ['2026-3', '2026-13', '2026Q5', '2026q1', '26-03', '1990', '2026-03-01']) {
      assert.throws(() => parsePeriod(bad), ValidationError, bad);
    }
  });

  it('lists the months a period covers and counts months across years', () => {
    assert.deepEqual(monthsOf(parsePeriod('2026Q2')), ['2026-04', '2026-05', '2026-06']);
    assert.equal(monthsOf(parsePeriod('2025')).length, 12);
    assert.equal(addMonths('2026-01', -1), '2025-12');
    assert.equal(addMonths('2025-11', 14), '2027-01');
  });
});
