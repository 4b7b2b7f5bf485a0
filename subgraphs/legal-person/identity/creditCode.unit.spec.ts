import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../events/errors.ts';
import { assertRefused } from '../../../test/helpers/validation.ts';
import {
  assertCreditCode,
  creditCodeCheckCharacter,
  makeCreditCode,
  organizationCodeCheckCharacter,
  validateCreditCode,
  type CreditCodeRule,
} from './creditCode.ts';

const assertFails = (value: string, rule: CreditCodeRule, message: RegExp) => assertRefused(validateCreditCode(value), value, rule, message);

describe('validateCreditCode', () => {
  it('accepts the published test vectors and splits them into their parts', () => {
    assert.deepEqual(validateCreditCode('91350100M000100Y43'), {
      ok: true,
      creditCode: '91350100M000100Y43',
      registrationAuthority: '9',
      institutionType: '1',
      divisionCode: '350100',
      organizationCode: 'M000100Y4',
    });
    const second = validateCreditCode('91440101MA5CJQ4N59');
    assert.ok(second.ok);
    assert.equal(second.divisionCode, '440101');
  });

  it('normalises lowercase letters and surrounding spaces', () => {
    const result = validateCreditCode(' 91440101ma5cjq4n59 ');
    assert.ok(result.ok);
    assert.equal(result.creditCode, '91440101MA5CJQ4N59');
  });

  it('refuses a code that is not 18 characters long', () => {
    assertFails('91350100M000100Y4', 'LENGTH', /18 characters, got 17/);
  });

  it('refuses the letters the code never uses, naming the position', () => {
    assertFails('91350100M000100O43', 'CHARACTERS', /character 16 is "O"/);
    assertFails('91350100M000100Y4-', 'CHARACTERS', /character 18 is "-"/);
  });

  it('refuses an unknown registration authority, and accepts each authority of GB 32100', () => {
    assertFails('B1350100M000100Y43', 'REGISTRATION_AUTHORITY', /authority code B .* does not exist/);
    assertFails('01350100M000100Y43', 'REGISTRATION_AUTHORITY', /authority code 0/);
    for (const authority of ['1', '5', '9', 'Y']) {
      const code = makeCreditCode({ registrationAuthority: authority, divisionCode: '370100', organizationCode: 'MA3C0000' });
      assert.ok(validateCreditCode(code).ok, code);
    }
  });

  it('refuses a division code that is not six digits', () => {
    assertFails('91A50100M000100Y43', 'DIVISION', /division code A50100 .* must be 6 digits/);
  });

  it('refuses a wrong check character and names the expected one', () => {
    assertFails('91350100M000100Y44', 'CHECK_CHARACTER', /check character should be 3, got 4/);
    assertFails('91440101MA5CJQ4N5A', 'CHECK_CHARACTER', /should be 9, got A/);
  });
});

describe('assertCreditCode', () => {
  it('returns the parts without the ok flag', () => {
    assert.equal(assertCreditCode('91440101MA5CJQ4N59').organizationCode, 'MA5CJQ4N5');
  });

  it('throws a ValidationError naming the field and the failed rule', () => {
    assert.throws(
      () => assertCreditCode('91350100M000100Y44'),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /creditCode 91350100M000100Y44 is invalid: check character should be 3/);
        assert.deepEqual(err.details, { field: 'creditCode', rule: 'CHECK_CHARACTER' });
        return true;
      },
    );
  });
});

describe('creditCodeCheckCharacter', () => {
  it('computes 31 − (Σ mod 31) over the 31 symbols, reading 31 as 0', () => {
    assert.equal(creditCodeCheckCharacter('91350100M000100Y4'), '3');
    assert.equal(creditCodeCheckCharacter('91440101MA5CJQ4N5'), '9');
    assert.equal(creditCodeCheckCharacter('91370102MA3C0000H'), '0'); // Σ = 1705 = 55 × 31
  });

  it('refuses anything but 17 valid symbols', () => {
    for (const refused of ['91350100M000100Y', '91350100M000100I4']) assert.throws(() => creditCodeCheckCharacter(refused), ValidationError, refused);
  });
});

describe('organizationCodeCheckCharacter', () => {
  it('computes the GB 11714 check carried as character 17 of the test vectors', () => {
    assert.equal(organizationCodeCheckCharacter('M000100Y'), '4');
    assert.equal(organizationCodeCheckCharacter('MA5CJQ4N'), '5');
  });
});

describe('makeCreditCode', () => {
  it('rebuilds the test vectors from their parts', () => {
    assert.equal(makeCreditCode({ divisionCode: '350100', organizationCode: 'M000100Y' }), '91350100M000100Y43');
    assert.equal(makeCreditCode({ divisionCode: '440101', organizationCode: 'MA5CJQ4N' }), '91440101MA5CJQ4N59');
  });

  it('builds codes for other authorities and institution types', () => {
    const individual = makeCreditCode({ institutionType: '2', divisionCode: '370102', organizationCode: 'MA3C1234' });
    assert.match(individual, /^92370102MA3C1234/);
    assert.ok(validateCreditCode(individual).ok);
  });

  it('refuses malformed parts and excluded letters', () => {
    assert.throws(() => makeCreditCode({ divisionCode: '37010', organizationCode: 'MA3C1234' }), ValidationError);
    assert.throws(() => makeCreditCode({ registrationAuthority: 'B', divisionCode: '370102', organizationCode: 'MA3C1234' }), ValidationError);
    assert.throws(() => makeCreditCode({ divisionCode: '370102', organizationCode: 'MA3C12O4' }), /excludes? \(I, O, S, V, Z\)/);
  });
});
