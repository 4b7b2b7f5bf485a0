import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEta } from './progress.ts';

describe('formatEta', () => {
  it('rounds to 5 s before splitting minutes and hours, so no "4m60s"', () => {
    assert.equal(formatEta(299), '5m00s');
    assert.equal(formatEta(273), '4m35s');
    assert.equal(formatEta(59), '1m00s');
    assert.equal(formatEta(12), '10s');
    assert.equal(formatEta(3599), '1h00m');
    assert.equal(formatEta(7384), '2h03m');
  });
});
