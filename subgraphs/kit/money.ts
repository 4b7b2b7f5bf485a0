/**
 * Money in the registers (tax, legal persons' capital and revenue): whole fen (0.01 yuan) held as safe integers, never floating point.
 * Clients read and write amounts as decimal strings of yuan (`"1234.56"`); parsing is strict, so
 * `1.234`, `1e3`, `.5`, `+1`, `NaN` and amounts beyond the safe-integer range are refused rather than
 * rounded. Multiplication by a rate goes through bigint and rounds half up, once.
 */
import { ValidationError } from '../../events/errors.ts';

/** An amount in fen: a safe integer. */
export type Fen = number;

const AMOUNT = /^(-?)(0|[1-9]\d*)(?:\.(\d{1,2}))?$/;

export interface ParseMoneyOptions {
  /** Refunds and corrections may be negative; declared amounts may not. @default false */
  allowNegative?: boolean;
}

/** Fen from a decimal yuan string such as `"1234.56"`; a ValidationError naming `field` otherwise. */
export function parseMoney(text: unknown, field: string, options: ParseMoneyOptions = {}): Fen {
  if (typeof text !== 'string') {
    throw new ValidationError(`${field} must be a decimal string of yuan such as "1234.56", got ${typeof text === 'number' ? `the number ${text}` : typeof text}`, {
      field,
    });
  }
  const match = AMOUNT.exec(text);
  if (!match) {
    throw new ValidationError(`${field} "${text}" is not an amount: write yuan with at most two decimals, e.g. "1234.56"`, { field });
  }
  const [, sign, yuan, cents = ''] = match;
  if (sign && !options.allowNegative) throw new ValidationError(`${field} must not be negative, got "${text}"`, { field });
  const fen = BigInt(`${yuan}${cents.padEnd(2, '0')}`) * (sign ? -1n : 1n);
  return checkedFen(fen, field);
}

/** `"1234.56"` for 123456 fen; `"-0.05"` for -5. */
export function formatMoney(fen: Fen): string {
  assertFen(fen, 'amount');
  const negative = fen < 0;
  const digits = String(Math.abs(fen)).padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Throws unless `fen` is a safe integer (and, unless allowed, not negative). */
export function assertFen(fen: number, field: string, options: ParseMoneyOptions = { allowNegative: true }): Fen {
  if (!Number.isSafeInteger(fen)) throw new ValidationError(`${field} must be a whole number of fen, got ${fen}`, { field });
  if (fen < 0 && !options.allowNegative) throw new ValidationError(`${field} must not be negative, got ${formatMoney(fen)}`, { field });
  return fen;
}

function checkedFen(value: bigint, field: string): Fen {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ValidationError(`${field} is beyond the largest amount the register keeps exactly`, { field });
  }
  return Number(value);
}

/** Exact sum; refuses a total beyond the safe range instead of losing fen. */
export function addFen(...amounts: readonly Fen[]): Fen {
  return checkedFen(
    amounts.reduce((sum, a) => sum + BigInt(assertFen(a, 'amount')), 0n),
    'sum',
  );
}

export function subtractFen(a: Fen, b: Fen): Fen {
  return checkedFen(BigInt(assertFen(a, 'amount')) - BigInt(assertFen(b, 'amount')), 'difference');
}

/**
 * `fen × basisPoints / 10000`, rounded half away from zero to the fen: a 3% deed tax is 300 basis
 * points. One rounding, on the exact product.
 */
export function applyRate(fen: Fen, basisPoints: number): Fen {
  if (!Number.isSafeInteger(basisPoints) || basisPoints < 0) {
    throw new ValidationError(`a rate is a whole number of basis points, 0 or more, got ${basisPoints}`, { field: 'rate' });
  }
  const product = BigInt(assertFen(fen, 'amount')) * BigInt(basisPoints);
  const magnitude = product < 0n ? -product : product;
  const rounded = (magnitude + 5000n) / 10000n;
  return checkedFen(product < 0n ? -rounded : rounded, 'amount');
}

/** The shared GraphQL `Money` value type (served by legal-person and tax): fen and yuan as exact strings. */
export interface MoneyView {
  fen: string;
  yuan: string;
  currency: 'CNY';
}

export function moneyView(fen: Fen): MoneyView {
  return { fen: String(assertFen(fen, 'amount')), yuan: formatMoney(fen), currency: 'CNY' };
}
