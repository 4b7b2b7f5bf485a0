import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../events/errors.ts';
import { assertCalendarDate, chinaDate, isCalendarDate, parseInstant } from './calendar.ts';

describe('population calendar', () => {
  it('accepts only real YYYY-MM-DD dates, leap days included', () => {
    assert.equal(isCalendarDate('2024-02-29'), true);
    assert.equal(isCalendarDate('2000-02-29'), true);
    for (const bad of ['2023-02-29', '1900-02-29', '2024-02-30', '2024-13-01', '2024-00-10', '2024-1-01', '20240101']) {
      assert.equal(isCalendarDate(bad), false, bad);
    }
    assert.throws(() => assertCalendarDate('2024-04-31', 'movedOn'), /movedOn must be a real calendar date/);
  });

  it('reads an instant as a date in China (UTC+8)', () => {
    assert.equal(chinaDate('2026-02-28T15:59:59Z'), '2026-02-28');
    assert.equal(chinaDate('2026-02-28T16:00:00Z'), '2026-03-01');
    assert.equal(chinaDate('2026-03-01T00:30:00+08:00'), '2026-03-01');
  });

  it('refuses values that are not instants, naming the field', () => {
    assert.throws(() => parseInstant('2026-03-01', 'confirmedAt'), /confirmedAt must be an ISO 8601 instant/);
    assert.throws(() => chinaDate('next Tuesday'), ValidationError);
  });
});
