import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isChildInDistress, isElderlyLivingAlone } from './vulnerable.ts';

describe('isElderlyLivingAlone', () => {
  it('is true from 65 in a one-person household', () => {
    assert.equal(isElderlyLivingAlone(65, 1), true);
    assert.equal(isElderlyLivingAlone(90, 1), true);
  });

  it('is false under 65 or with anyone else in the household', () => {
    assert.equal(isElderlyLivingAlone(64, 1), false);
    assert.equal(isElderlyLivingAlone(80, 2), false);
  });
});

describe('isChildInDistress', () => {
  it('is true for a minor whose guardians are all deceased or missing', () => {
    assert.equal(isChildInDistress({ age: 10, guardians: [{ status: 'DECEASED' }, { status: 'MISSING' }] }), true);
    assert.equal(isChildInDistress({ age: 17, guardians: [{ status: 'DECEASED' }] }), true);
  });

  it('is true for a minor with no guardian registered at all', () => {
    assert.equal(isChildInDistress({ age: 3, guardians: [] }), true);
  });

  it('is false when any guardian is alive', () => {
    assert.equal(isChildInDistress({ age: 10, guardians: [{ status: 'DECEASED' }, { status: 'ALIVE' }] }), false);
  });

  it('is false for an adult, whatever their guardians', () => {
    assert.equal(isChildInDistress({ age: 18, guardians: [] }), false);
    assert.equal(isChildInDistress({ age: 30, guardians: [{ status: 'DECEASED' }] }), false);
  });
});
