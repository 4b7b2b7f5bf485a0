import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../events/errors.ts';
import { survivalStatus } from './survival.ts';

describe('survivalStatus', () => {
  const now = '2026-03-01T02:00:00.000Z';

  it('is ALIVE_CONFIRMED while the last proof of life is within the window, and says until when', () => {
    assert.deepEqual(survivalStatus({ lastProofOfLifeAt: '2025-10-15T01:00:00.000Z', now, months: 6 }), {
      status: 'ALIVE_CONFIRMED',
      lastProofOfLifeAt: '2025-10-15T01:00:00.000Z',
      confirmedUntil: '2026-04-15T01:00:00.000Z',
    });
  });

  it('is UNCONFIRMED once the window has passed, from the moment the proof lapsed', () => {
    assert.deepEqual(survivalStatus({ lastProofOfLifeAt: '2025-08-01T00:00:00.000Z', now, months: 6 }), {
      status: 'UNCONFIRMED',
      lastProofOfLifeAt: '2025-08-01T00:00:00.000Z',
      unconfirmedSince: '2026-02-01T00:00:00.000Z',
    });
  });

  it('counts a proof exactly N months old as lapsed', () => {
    const result = survivalStatus({ lastProofOfLifeAt: '2025-09-01T02:00:00.000Z', now, months: 6 });
    assert.equal(result.status, 'UNCONFIRMED');
  });

  it('adds months on China’s calendar, clamping to the end of a shorter month', () => {
    // 31 Aug 2025 10:00 in Jinan + 6 months = 28 Feb 2026 10:00 in Jinan
    const end = survivalStatus({ lastProofOfLifeAt: '2025-08-31T02:00:00.000Z', now, months: 6 });
    assert.equal(end.status === 'UNCONFIRMED' && end.unconfirmedSince, '2026-02-28T02:00:00.000Z');
    // 1 Mar 01:00 in Jinan is still 28 Feb in UTC; one month later is 1 Apr 01:00 in Jinan
    const early = survivalStatus({ lastProofOfLifeAt: '2026-02-28T17:00:00.000Z', now, months: 1 });
    assert.equal(early.status === 'ALIVE_CONFIRMED' && early.confirmedUntil, '2026-03-31T17:00:00.000Z');
  });

  it('is UNCONFIRMED with nothing to go on when there never was a proof', () => {
    assert.deepEqual(survivalStatus({ now, months: 6 }), {
      status: 'UNCONFIRMED',
      lastProofOfLifeAt: null,
      unconfirmedSince: null,
    });
  });

  it('is DECEASED once the death is registered, whatever the proofs say', () => {
    assert.deepEqual(
      survivalStatus({ deceasedAt: '2026-02-01', lastProofOfLifeAt: '2026-02-20T00:00:00.000Z', now, months: 6 }),
      { status: 'DECEASED', deceasedAt: '2026-02-01' },
    );
  });

  it('ignores a death dated after now, so an asOf view of the past sees the person alive', () => {
    const result = survivalStatus({
      deceasedAt: '2026-03-02',
      lastProofOfLifeAt: '2026-02-20T00:00:00.000Z',
      now,
      months: 6,
    });
    assert.equal(result.status, 'ALIVE_CONFIRMED');
  });

  it('reads a date of death as the start of that day in China', () => {
    const beforeMidnightUtc = '2026-02-28T16:00:00.000Z'; // 1 March 00:00 in Jinan
    assert.equal(survivalStatus({ deceasedAt: '2026-03-01', now: beforeMidnightUtc, months: 6 }).status, 'DECEASED');
    assert.equal(
      survivalStatus({ deceasedAt: '2026-03-01', now: '2026-02-28T15:59:59.999Z', months: 6 }).status,
      'UNCONFIRMED',
    );
  });

  it('refuses a proof after now and a window that is not a positive whole number of months', () => {
    assert.throws(
      () => survivalStatus({ lastProofOfLifeAt: '2026-03-02T00:00:00.000Z', now, months: 6 }),
      /lastProofOfLifeAt .* is after now/,
    );
    assert.throws(() => survivalStatus({ now, months: 0 }), ValidationError);
    assert.throws(() => survivalStatus({ now, months: 1.5 }), ValidationError);
    assert.throws(() => survivalStatus({ now: 'today', months: 6 }), /now must be an ISO 8601 instant/);
  });
});
