/**
 * Resident ID numbers (公民身份号码, GB 11643-1999): 6-digit division code of the first
 * registration (GB/T 2260), 8-digit birth date, 3-digit sequence (odd for men, even for women)
 * and an ISO 7064 MOD 11-2 check character.
 */
import { ValidationError } from '../../../events/errors.ts';
import { checkCharacterFailure, validOrThrow, type Validation } from '../../kit/validation.ts';
import { isCalendarDate } from '../../kit/calendar.ts';

export const GENDERS = ['MALE', 'FEMALE'] as const;
export type Gender = (typeof GENDERS)[number];

export type IdNumberRule =
  | 'LENGTH'
  | 'CHARACTERS'
  | 'DIVISION'
  | 'BIRTH_DATE'
  | 'BIRTH_DATE_MISMATCH'
  | 'CHECK_CHARACTER';

export interface ValidIdNumber {
  /** Normalised: trimmed, a final lowercase `x` upper-cased. */
  idNumber: string;
  /** `YYYY-MM-DD`. */
  birthDate: string;
  gender: Gender;
  divisionCode: string;
}

export type IdNumberValidation = Validation<ValidIdNumber, IdNumberRule>;

export interface IdNumberOptions {
  /** `YYYY-MM-DD`; when given, a birth date after it is refused. Use `chinaDate(command.metadata.now)`. */
  today?: string;
  /** `YYYY-MM-DD` the person claims; when given, it must equal the birth date in the number. */
  birthDate?: string;
}

/** GB/T 2260 province-level codes (including Taiwan 71, Hong Kong 81, Macao 82). */
const PROVINCE_CODES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15',
  '21', '22', '23',
  '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46',
  '50', '51', '52', '53', '54',
  '61', '62', '63', '64', '65',
  '71', '81', '82',
]);

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';
const EARLIEST_BIRTH_DATE = '1900-01-01';

/** The MOD 11-2 check character of the first 17 digits. */
export function idNumberCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new ValidationError(`the check character is computed from exactly 17 digits, got "${first17}"`, {
      field: 'idNumber',
    });
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS.charAt(sum % 11);
}

function failure(rule: IdNumberRule, message: string): IdNumberValidation {
  return { ok: false, rule, message };
}

export function validateIdNumber(value: string, options: IdNumberOptions = {}): IdNumberValidation {
  if (options.today !== undefined && !isCalendarDate(options.today)) {
    throw new ValidationError(`today must be a YYYY-MM-DD date, got "${options.today}"`, { field: 'today' });
  }
  const idNumber = value.trim().toUpperCase();
  if (idNumber.length !== 18) {
    return failure('LENGTH', `an ID number has 18 characters, got ${idNumber.length}`);
  }
  const badIndex = [...idNumber].findIndex((c, i) => !(/\d/.test(c) || (i === 17 && c === 'X')));
  if (badIndex >= 0) {
    return failure(
      'CHARACTERS',
      `an ID number is 17 digits followed by a digit or X; character ${badIndex + 1} is "${idNumber.charAt(badIndex)}"`,
    );
  }

  const divisionCode = idNumber.slice(0, 6);
  const province = divisionCode.slice(0, 2);
  if (!PROVINCE_CODES.has(province)) {
    return failure(
      'DIVISION',
      `division code ${divisionCode} is not a GB/T 2260 code: there is no province ${province}`,
    );
  }

  const raw = idNumber.slice(6, 14);
  const birthDate = `${raw.slice(0, 4)}-${raw.slice(4, 6)}-${raw.slice(6, 8)}`;
  if (!isCalendarDate(birthDate)) {
    return failure('BIRTH_DATE', `birth date ${raw} (characters 7–14) is not a real calendar date`);
  }
  if (birthDate < EARLIEST_BIRTH_DATE) {
    return failure('BIRTH_DATE', `birth date ${birthDate} is before ${EARLIEST_BIRTH_DATE}`);
  }
  if (options.today !== undefined && birthDate > options.today) {
    return failure('BIRTH_DATE', `birth date ${birthDate} is in the future (today is ${options.today})`);
  }

  const mistyped = checkCharacterFailure(idNumber, idNumberCheckCharacter(idNumber.slice(0, 17)));
  if (mistyped) return mistyped;

  if (options.birthDate !== undefined && options.birthDate !== birthDate) {
    return failure(
      'BIRTH_DATE_MISMATCH',
      `birth date ${options.birthDate} does not match the birth date ${birthDate} in the ID number`,
    );
  }

  const gender: Gender = Number(idNumber.charAt(16)) % 2 === 1 ? 'MALE' : 'FEMALE';
  return { ok: true, idNumber, birthDate, gender, divisionCode };
}

/** The validated, normalised number and what it encodes; a ValidationError naming the failed rule otherwise. */
export function assertIdNumber(value: string, options: IdNumberOptions = {}, field = 'idNumber'): ValidIdNumber {
  return validOrThrow(validateIdNumber(value, options), value, field);
}

/** For display to people without the right to see it: `3701**********123X`. */
export function maskIdNumber(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${value.slice(0, 4)}${'*'.repeat(value.length - 8)}${value.slice(-4)}`;
}

/**
 * Builds a valid number (check character computed) for demo data and tests.
 * `birthDate` is `YYYY-MM-DD`; `sequence` 0–999 (odd for men, even for women).
 */
export function makeIdNumber(divisionCode: string, birthDate: string, sequence: number | string): string {
  const seq = typeof sequence === 'number' ? String(sequence).padStart(3, '0') : sequence;
  if (!/^\d{6}$/.test(divisionCode) || !isCalendarDate(birthDate) || !/^\d{3}$/.test(seq)) {
    throw new ValidationError(
      `an ID number needs a 6-digit division code, a YYYY-MM-DD birth date and a 3-digit sequence, got "${divisionCode}", "${birthDate}" and "${seq}"`,
      { field: 'idNumber' },
    );
  }
  const first17 = `${divisionCode}${birthDate.replaceAll('-', '')}${seq}`;
  const idNumber = `${first17}${idNumberCheckCharacter(first17)}`;
  return assertIdNumber(idNumber).idNumber;
}
