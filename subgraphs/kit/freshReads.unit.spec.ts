import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { freshSharedReads } from './freshReads.ts';

/** A store whose read returns the value as it was when the read was issued, some time later. */
function slowStore() {
  const store = { value: 1, reads: 0 };
  const read = async (key: string) => {
    store.reads++;
    const seen = store.value;
    await sleep(20);
    return `${key}:${seen}`;
  };
  return { store, read };
}

describe('freshSharedReads', () => {
  it('answers the callers asking while a read is in flight with one next read', async () => {
    const { store, read } = slowStore();
    const shared = freshSharedReads(read);
    const answers = await Promise.all(Array.from({ length: 10 }, () => shared('c')));
    assert.equal(store.reads, 2);
    assert.deepEqual(new Set(answers), new Set(['c:1']));
  });

  it('never answers a caller with a read issued before it asked: a change made before it asked is seen', async () => {
    const { store, read } = slowStore();
    const shared = freshSharedReads(read);
    const before = shared('c');
    store.value = 2; // e.g. a grant revoked while the first read runs
    const after = shared('c');
    assert.equal(await before, 'c:1');
    assert.equal(await after, 'c:2');
  });

  it('keeps keys apart, and a failed read fails only its own callers', async () => {
    let fail = true;
    const shared = freshSharedReads(async (key: string) => {
      await sleep(5);
      if (key === 'bad' && fail) throw new Error('store down');
      return key;
    });
    const [bad, good] = await Promise.allSettled([shared('bad'), shared('good')]);
    assert.equal(bad.status, 'rejected');
    assert.deepEqual(good, { status: 'fulfilled', value: 'good' });
    fail = false;
    assert.equal(await shared('bad'), 'bad');
  });
});
