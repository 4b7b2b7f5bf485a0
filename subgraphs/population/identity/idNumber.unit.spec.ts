import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../events/errors.ts';
import { assertRefused } from '../../../test/helpers/validation.ts';
import {
  assertIdNumber,
  idNumberCheckCharacter,
  makeIdNumber,
  maskIdNumber,
  validateIdNumber,
  type IdNumberRule,
} from './idNumber.ts';

const assertFails = (value: string, rule: IdNumberRule, message: RegExp, options = {}) =>
  assertRefused(validateIdNumber(value, options), value, rule, message);

describe('validateIdNumber', () => {
  it('accepts the published test vectors and reads birth date, gender and division from them', () => {
    const vectors = [
      ['11010519491231002X', { birthDate: '1949-12-31', gender: 'FEMALE', divisionCode: '110105' }],
      ['34052419800101001X', { birthDate: '1980-01-01', gender: 'MALE', divisionCode: '340524' }],
    ] as const;
    for (const [idNumber, parts] of vectors) assert.deepEqual(validateIdNumber(idNumber), { ok: true, idNumber, ...parts });
  });

  it('accepts a lowercase x and surrounding spaces, and returns the normalised number', () => {
    const result = validateIdNumber(' 11010519491231002x ');
    assert.ok(result.ok);
    assert.equal(result.idNumber, '11010519491231002X');
  });

  it('refuses a wrong check character and names the expected one', () => {
    assertFails('110105194912310023', 'CHECK_CHARACTER', /check character should be X, got 3/);
  });

  it('refuses a number that is not 18 characters long', () => {
    assertFails('11010519491231002', 'LENGTH', /18 characters, got 17/);
    assertFails('11010519491231002X1', 'LENGTH', /18 characters, got 19/);
  });

  it('refuses letters among the first 17 characters and names the position', () => {
    assertFails('1101051949123A002X', 'CHARACTERS', /character 14 is "A"/);
    assertFails('11010519491231002Y', 'CHARACTERS', /character 18 is "Y"/);
  });

  it('refuses a division code whose province does not exist', () => {
    const first17 = '99010519491231002';
    assertFails(`${first17}${idNumberCheckCharacter(first17)}`, 'DIVISION', /990105 .* no province 99/);
  });

  it('refuses an impossible date such as 30 February', () => {
    const first17 = '11010519490230002';
    assertFails(`${first17}${idNumberCheckCharacter(first17)}`, 'BIRTH_DATE', /19490230 .* not a real calendar date/);
  });

  it('refuses a birth date before 1900', () => {
    const first17 = '11010518991231002';
    assertFails(`${first17}${idNumberCheckCharacter(first17)}`, 'BIRTH_DATE', /before 1900-01-01/);
  });

  it('refuses a birth date after today, and accepts one born today', () => {
    const number = makeIdNumber('370102', '2026-03-02', 11);
    assertFails(number, 'BIRTH_DATE', /in the future \(today is 2026-03-01\)/, { today: '2026-03-01' });
    assert.ok(validateIdNumber(number, { today: '2026-03-02' }).ok);
  });

  it('refuses a claimed birth date that differs from the one in the number', () => {
    assertFails('11010519491231002X', 'BIRTH_DATE_MISMATCH', /1950-01-01 does not match .* 1949-12-31/, {
      birthDate: '1950-01-01',
    });
    assert.ok(validateIdNumber('11010519491231002X', { birthDate: '1949-12-31' }).ok);
  });

  it('throws when today is not a date, since that is a programming mistake, not user input', () => {
    assert.throws(() => validateIdNumber('11010519491231002X', { today: '2026-02-30' }), ValidationError);
  });
});

describe('assertIdNumber', () => {
  it('returns the decoded number without the ok flag', () => {
    assert.deepEqual(assertIdNumber('34052419800101001x'), {
      idNumber: '34052419800101001X',
      birthDate: '1980-01-01',
      gender: 'MALE',
      divisionCode: '340524',
    });
  });

  it('throws a ValidationError naming the field and the failed rule', () => {
    assert.throws(
      () => assertIdNumber('110105194912310023', {}, 'guardian.idNumber'),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /guardian.idNumber 110105194912310023 is invalid: check character should be X/);
        assert.deepEqual(err.details, { field: 'guardian.idNumber', rule: 'CHECK_CHARACTER' });
        return true;
      },
    );
  });
});

describe('idNumberCheckCharacter', () => {
  it('maps the weighted sum mod 11 through 1 0 X 9 8 7 6 5 4 3 2', () => {
    assert.equal(idNumberCheckCharacter('11010519491231002'), 'X'); // sum mod 11 = 2
    assert.equal(idNumberCheckCharacter('37010219900307100'), '0'); // sum 232, mod 11 = 1
    assert.equal(idNumberCheckCharacter('37010219900307105'), '1'); // sum 242, mod 11 = 0
    assert.equal(idNumberCheckCharacter('37010219900307118'), '2'); // mod 11 = 10
  });

  it('refuses anything but 17 digits', () => {
    for (const refused of ['1101051949123100', '1101051949123100A']) assert.throws(() => idNumberCheckCharacter(refused), ValidationError, refused);
  });
});

describe('maskIdNumber', () => {
  it('keeps the first four and last four characters', () => {
    assert.equal(maskIdNumber('37010219900307123X'), '3701**********123X');
  });

  it('hides a short value entirely', () => {
    assert.equal(maskIdNumber('1234'), '****');
  });
});

describe('makeIdNumber', () => {
  it('builds a valid number whose sequence parity gives the gender', () => {
    const man = makeIdNumber('370102', '1990-03-07', 123);
    const woman = makeIdNumber('370102', '1990-03-07', '124');
    assert.equal(man.slice(0, 17), '37010219900307123');
    assert.deepEqual(
      [validateIdNumber(man), validateIdNumber(woman)].map((r) => (r.ok ? r.gender : r.rule)),
      ['MALE', 'FEMALE'],
    );
  });

  it('pads a small sequence number to three digits', () => {
    assert.equal(makeIdNumber('110105', '1949-12-31', 2), '11010519491231002X');
  });

  it('refuses malformed parts', () => {
    const refused: Parameters<typeof makeIdNumber>[] = [['37010', '1990-03-07', 1], ['370102', '1990-02-30', 1], ['370102', '1990-03-07', 1000]];
    for (const args of refused) assert.throws(() => makeIdNumber(...args), ValidationError, JSON.stringify(args));
  });
});
