/**
 * Unified social credit codes (统一社会信用代码, GB 32100-2015): registration authority (1 char),
 * institution type (1), division code of the registering authority (6, GB/T 2260), organization
 * code (9, GB 11714, its last character its own check) and a check character, all drawn from 31
 * symbols (no I, O, S, V, Z).
 */
import { ValidationError } from '../../../events/errors.ts';
import { checkCharacterFailure, validOrThrow, type Validation } from '../../kit/validation.ts';

export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/**
 * Registration authority codes. GB 32100-2015 itself lists 1, 5, 9 and Y; the others were
 * assigned later (law firms 3…, trade unions 8…, rural collectives N…) and appear on real codes.
 */
export const REGISTRATION_AUTHORITIES: Readonly<Record<string, string>> = {
  '1': '机构编制',
  '2': '外交',
  '3': '司法行政',
  '4': '文化',
  '5': '民政',
  '6': '旅游',
  '7': '宗教',
  '8': '工会',
  '9': '工商',
  A: '中央军委改革和编制办公室',
  N: '农业',
  Y: '其他',
};

export type CreditCodeRule = 'LENGTH' | 'CHARACTERS' | 'REGISTRATION_AUTHORITY' | 'DIVISION' | 'CHECK_CHARACTER';

export interface ValidCreditCode {
  /** Normalised: trimmed and upper-cased. */
  creditCode: string;
  registrationAuthority: string;
  institutionType: string;
  /** Division of the registering authority (characters 3–8). */
  divisionCode: string;
  /** Characters 9–17. */
  organizationCode: string;
}

export type CreditCodeValidation = Validation<ValidCreditCode, CreditCodeRule>;

const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const ORGANIZATION_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

function symbolsValid(value: string): boolean {
  return [...value].every((c) => CREDIT_CODE_ALPHABET.includes(c));
}

/** The check character of the first 17 characters: 31 − (Σ value × weight mod 31), 31 read as 0. */
export function creditCodeCheckCharacter(first17: string): string {
  if (first17.length !== 17 || !symbolsValid(first17)) {
    throw new ValidationError(
      `the check character is computed from 17 characters of ${CREDIT_CODE_ALPHABET}, got "${first17}"`,
      { field: 'creditCode' },
    );
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CREDIT_CODE_ALPHABET.indexOf(first17.charAt(i)) * (WEIGHTS[i] ?? 0);
  return CREDIT_CODE_ALPHABET.charAt((31 - (sum % 31)) % 31);
}

/** GB 11714 check character of an 8-character organization code body: 11 − (Σ mod 11), 10 → X, 11 → 0. */
export function organizationCodeCheckCharacter(body: string): string {
  if (!/^[0-9A-Z]{8}$/.test(body)) {
    throw new ValidationError(`an organization code body is 8 digits or capital letters, got "${body}"`, {
      field: 'organizationCode',
    });
  }
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number.parseInt(body.charAt(i), 36) * (ORGANIZATION_WEIGHTS[i] ?? 0);
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : String(check % 11);
}

function failure(rule: CreditCodeRule, message: string): CreditCodeValidation {
  return { ok: false, rule, message };
}

export function validateCreditCode(value: string): CreditCodeValidation {
  const creditCode = value.trim().toUpperCase();
  if (creditCode.length !== 18) {
    return failure('LENGTH', `a unified social credit code has 18 characters, got ${creditCode.length}`);
  }
  const badIndex = [...creditCode].findIndex((c) => !CREDIT_CODE_ALPHABET.includes(c));
  if (badIndex >= 0) {
    return failure(
      'CHARACTERS',
      `character ${badIndex + 1} is "${creditCode.charAt(badIndex)}"; a credit code uses digits and capital letters except I, O, S, V and Z`,
    );
  }
  const registrationAuthority = creditCode.charAt(0);
  if (!(registrationAuthority in REGISTRATION_AUTHORITIES)) {
    return failure(
      'REGISTRATION_AUTHORITY',
      `registration authority code ${registrationAuthority} (character 1) does not exist; it is one of ${Object.keys(REGISTRATION_AUTHORITIES).join(', ')}`,
    );
  }
  const divisionCode = creditCode.slice(2, 8);
  if (!/^\d{6}$/.test(divisionCode)) {
    return failure('DIVISION', `division code ${divisionCode} (characters 3–8) must be 6 digits (GB/T 2260)`);
  }
  const mistyped = checkCharacterFailure(creditCode, creditCodeCheckCharacter(creditCode.slice(0, 17)));
  if (mistyped) return mistyped;
  return {
    ok: true,
    creditCode,
    registrationAuthority,
    institutionType: creditCode.charAt(1),
    divisionCode,
    organizationCode: creditCode.slice(8, 17),
  };
}

/** The validated, normalised code and its parts; a ValidationError naming the failed rule otherwise. */
export function assertCreditCode(value: string, field = 'creditCode'): ValidCreditCode {
  return validOrThrow(validateCreditCode(value), value, field);
}

export interface CreditCodeParts {
  /** Default `9` (工商, market regulation). */
  registrationAuthority?: string;
  /** Default `1` (enterprise). */
  institutionType?: string;
  divisionCode: string;
  /** The 8-character organization code body; its GB 11714 check character is appended. */
  organizationCode: string;
}

/** Builds a valid code (both check characters computed) for demo data and tests. */
export function makeCreditCode(parts: CreditCodeParts): string {
  const { registrationAuthority = '9', institutionType = '1', divisionCode, organizationCode } = parts;
  if (!(registrationAuthority in REGISTRATION_AUTHORITIES) || !/^\d$/.test(institutionType) || !/^\d{6}$/.test(divisionCode)) {
    throw new ValidationError(
      `a credit code needs a registration authority code, a 1-digit institution type and a 6-digit division code, got "${registrationAuthority}", "${institutionType}" and "${divisionCode}"`,
      { field: 'creditCode' },
    );
  }
  if (!symbolsValid(organizationCode)) {
    throw new ValidationError(`organization code ${organizationCode} uses a character credit codes exclude (I, O, S, V, Z)`, {
      field: 'organizationCode',
    });
  }
  const organization = `${organizationCode}${organizationCodeCheckCharacter(organizationCode)}`;
  const first17 = `${registrationAuthority}${institutionType}${divisionCode}${organization}`;
  return assertCreditCode(`${first17}${creditCodeCheckCharacter(first17)}`).creditCode;
}
