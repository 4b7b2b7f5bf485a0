/** Identifiers checked by a rule book (ID numbers, credit codes): either decoded, or refused naming the rule broken. */
import { z } from 'zod';
import { ValidationError } from '../../events/errors.ts';

export type Validation<Valid, Rule extends string> = ({ ok: true } & Valid) | { ok: false; rule: Rule; message: string };

/** What a valid `value` decodes to; a ValidationError naming `field` and the rule otherwise. */
export function validOrThrow<Valid, Rule extends string>(result: Validation<Valid, Rule>, value: string, field: string): Valid {
  if (!result.ok) {
    throw new ValidationError(`${field} ${value} is invalid: ${result.message}`, { field, rule: result.rule });
  }
  const { ok: _ok, ...valid } = result;
  return valid as Valid;
}

/** The refusal of an identifier whose last character is not the check character `expected`; null when it is. */
export function checkCharacterFailure(value: string, expected: string): { ok: false; rule: 'CHECK_CHARACTER'; message: string } | null {
  const actual = value.charAt(value.length - 1);
  if (actual === expected) return null;
  return { ok: false, rule: 'CHECK_CHARACTER', message: `check character should be ${expected}, got ${actual}: one of the characters is probably mistyped` };
}

/** A string an event may carry only as a valid identifier already in its normalised form (`key` of what `validate` decodes). */
export function normalisedIdentifier<Key extends string>(validate: (value: string) => Validation<Record<Key, string>, string>, key: Key, label: string) {
  return z.string().refine((value) => {
    const result = validate(value);
    return result.ok && result[key] === value;
  }, `a valid, normalised ${label}`);
}
