import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedFields } from './changedFields.ts';

describe('changedFields', () => {
  it('keeps only the top-level fields whose value differs, comparing nested values deeply', () => {
    const before = { id: 'c-1', status: 'SUBMITTED', flags: ['R1'], file: { items: [1, 2] }, revision: 0 };
    const after = { id: 'c-1', status: 'HELD', flags: ['R1'], file: { items: [1, 2, 3] }, revision: 1 };
    assert.deepEqual(changedFields(before, after), { status: 'HELD', file: { items: [1, 2, 3] }, revision: 1 });
    assert.deepEqual(changedFields(before, { ...before }), {});
  });
});
