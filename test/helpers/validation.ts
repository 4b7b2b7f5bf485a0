import assert from 'node:assert/strict';
import type { Validation } from '../../subgraphs/kit/validation.ts';

/** Asserts that `value` was refused under `rule` with a message matching `message`. */
export function assertRefused<Rule extends string>(result: Validation<unknown, Rule>, value: string, rule: Rule, message: RegExp): void {
  assert.equal(result.ok, false, `${value} should be refused`);
  if (!result.ok) {
    assert.equal(result.rule, rule);
    assert.match(result.message, message);
  }
}
