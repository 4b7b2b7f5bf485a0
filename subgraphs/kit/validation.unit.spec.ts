import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../events/errors.ts';
import { checkCharacterFailure, normalisedIdentifier, validOrThrow, type Validation } from './validation.ts';

/** A toy rule book: three digits, spaces around them allowed and trimmed. */
const validateCode = (value: string): Validation<{ code: string }, 'DIGITS'> =>
  /^\s*\d{3}\s*$/.test(value) ? { ok: true, code: value.trim() } : { ok: false, rule: 'DIGITS', message: 'three digits' };

describe('validOrThrow', () => {
  it('returns what a valid value decodes to, without the ok flag', () => {
    assert.deepEqual(validOrThrow(validateCode(' 123 '), ' 123 ', 'code'), { code: '123' });
  });

  it('throws a ValidationError naming the field and the rule', () => {
    assert.throws(
      () => validOrThrow(validateCode('12a'), '12a', 'code'),
      (err: unknown) => err instanceof ValidationError && /code 12a is invalid: three digits/.test(err.message),
    );
  });
});

describe('normalisedIdentifier', () => {
  const schema = normalisedIdentifier(validateCode, 'code', 'code');

  it('accepts only a valid value already in its normalised form', () => {
    assert.equal(schema.safeParse('123').success, true);
    assert.equal(schema.safeParse(' 123 ').success, false);
    assert.equal(schema.safeParse('12a').error?.issues[0]?.message, 'a valid, normalised code');
  });
});

describe('checkCharacterFailure', () => {
  it('is null when the last character is the expected one, and names both characters otherwise', () => {
    assert.equal(checkCharacterFailure('1234X', 'X'), null);
    assert.deepEqual(checkCharacterFailure('12341', 'X'), {
      ok: false,
      rule: 'CHECK_CHARACTER',
      message: 'check character should be X, got 1: one of the characters is probably mistyped',
    });
  });
});
