/** Identifiers checked by a rule book (ID numbers, credit codes): either decoded, or refused naming the rule broken. */
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
