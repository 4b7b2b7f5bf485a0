import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../events/errors.ts';
import { ancestorsOf, isWithin, levelAbove, levelBelow, levelOfCode, parentCode, tryLevelOfCode } from './levels.ts';

describe('levels: codes', () => {
  it('reads the level from the shape of the code', () => {
    assert.deepEqual(
      ['370100', '370102', '370124', '370102003', '370102003001'].map((code) => levelOfCode(code)),
      ['CITY', 'DISTRICT', 'DISTRICT', 'STREET', 'COMMUNITY'],
    );
  });

  it('refuses provinces and malformed codes, naming the field', () => {
    assert.throws(() => levelOfCode('370000'), /divisionCode 370000 is a province/);
    assert.throws(() => levelOfCode('3701021', 'unit.divisionCode'), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /unit.divisionCode "3701021" is malformed: use 6 digits/);
      return true;
    });
    assert.equal(tryLevelOfCode('37010A'), null);
  });

  it('finds the parent one level up, and none above the city', () => {
    assert.deepEqual(
      ['370102003001', '370102003', '370102', '370100'].map((code) => parentCode(code)),
      ['370102003', '370102', '370100', null],
    );
    assert.deepEqual(ancestorsOf('370102003001'), ['370102003001', '370102003', '370102', '370100']);
  });

  it('knows which division lies within which, counting a division as within itself', () => {
    assert.equal(isWithin('370102003001', '370100'), true);
    assert.equal(isWithin('370124', '370100'), true);
    assert.equal(isWithin('370102003001', '370102'), true);
    assert.equal(isWithin('370102', '370102'), true);
    assert.equal(isWithin('370103001001', '370102'), false);
    assert.equal(isWithin('370102', '370102003'), false);
    assert.equal(isWithin('370202', '370100'), false);
    assert.equal(isWithin('370100', '370102'), false);
  });

  it('steps between levels, stopping at the top and the bottom', () => {
    assert.deepEqual([levelAbove('COMMUNITY'), levelAbove('STREET'), levelAbove('DISTRICT'), levelAbove('CITY')], ['STREET', 'DISTRICT', 'CITY', null]);
    assert.deepEqual([levelBelow('CITY'), levelBelow('COMMUNITY')], ['DISTRICT', null]);
  });
});
