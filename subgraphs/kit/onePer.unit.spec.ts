import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onePer } from './onePer.ts';

describe('onePer', () => {
  it('makes one value per owner, the first time it is asked for, and keeps owners apart', () => {
    const values = new WeakMap<object, { made: number }>();
    let made = 0;
    const make = () => ({ made: ++made });
    const a = {};
    const b = {};
    const first = onePer(values, a, make);
    assert.equal(onePer(values, a, make), first);
    assert.deepEqual(onePer(values, b, make), { made: 2 });
    assert.equal(made, 2);
  });
});
