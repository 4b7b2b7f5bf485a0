/** The canonical text that idempotency keys are hashed from and re-sent events compared by: it must never change for a stored payload. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonicalJson.ts';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units at every depth and leaves undefined fields out', () => {
    const value = { b: 1, a: undefined, é: 2, Z: [1, { y: undefined, x: 'q"' }], '\u{1F600}': 1, '\uFFFF': 2, '': 0, '10': 1, '9': 2 };
    assert.equal(canonicalJson(value), '{"":0,"10":1,"9":2,"Z":[1,{"x":"q\\""}],"b":1,"é":2,"\u{1F600}":1,"\uFFFF":2}');
  });

  it('gives a payload the same text whatever order its fields came in', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${(i * 7) % 40}`);
    const forward = Object.fromEntries(keys.map((k) => [k, { c: k, a: [k], b: null }]));
    const backward = Object.fromEntries(keys.toReversed().map((k) => [k, { b: null, a: [k], c: k }]));
    assert.equal(canonicalJson(forward), canonicalJson(backward));
    assert.equal(canonicalJson(backward), JSON.stringify(Object.fromEntries(keys.toSorted().map((k) => [k, { a: [k], b: null, c: k }]))));
  });

  it('writes scalars and empty containers as JSON.stringify does, an undefined array item as nothing (as it always has)', () => {
    assert.deepEqual(
      [null, 1, 'x', true, [], {}, [undefined, 1, null], { a: undefined }, new Date(0)].map(canonicalJson),
      ['null', '1', '"x"', 'true', '[]', '{}', '[,1,null]', '{}', '{}'],
    );
  });
});
