/**
 * The write path's keys in memory: kept in two generations, and never one of either generation
 * across an erasure made through this instance.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SubjectKeys, type StoredKey, type SubjectKeyStore } from './subjectKeys.ts';

/** A key store in memory that counts the round trips the keys make to it. */
function memoryKeyStore(): SubjectKeyStore & { trips: number } {
  const rows = new Map<string, StoredKey>();
  return {
    trips: 0,
    async get(ids) {
      this.trips++;
      return new Map(ids.filter((id) => rows.has(id)).map((id) => [id, rows.get(id)!]));
    },
    async create(keys) {
      this.trips++;
      for (const [id, wrapped] of keys) if (!rows.has(id)) rows.set(id, wrapped);
      return new Map([...keys.keys()].map((id) => [id, rows.get(id)!]));
    },
    async erase(ids) {
      this.trips++;
      const live = ids.filter((id) => rows.get(id));
      for (const id of ids) rows.set(id, null);
      return live.length;
    },
    async counts() {
      return { live: [...rows.values()].filter(Boolean).length, erased: [...rows.values()].filter((k) => !k).length };
    },
  };
}

describe('SubjectKeys: write keys kept in memory', () => {
  it('keeps the keys of the last writes without a round trip, the older generation included', async () => {
    const store = memoryKeyStore();
    const keys = new SubjectKeys(store, randomBytes(32), 4);
    const first = await keys.forWriting(['a', 'b', 'c']);
    const trips = store.trips;
    // 'a' and 'b' filled the young generation; 'c' started a new one: all three are still kept.
    assert.deepEqual(await keys.forWriting(['a', 'b', 'c']), first);
    assert.equal(store.trips, trips);
  });

  it('forgets an erased key in either generation: the next write of the subject gets no key', async () => {
    const store = memoryKeyStore();
    const keys = new SubjectKeys(store, randomBytes(32), 2);
    await keys.forWriting(['old']);
    await keys.forWriting(['young']);
    assert.equal(await keys.erase(['old', 'young']), 2);
    assert.deepEqual(await keys.forWriting(['old', 'young']), new Map([['old', null], ['young', null]]));
  });
});

describe('SubjectKeys: read keys kept beside the bytes they were unwrapped from', () => {
  it('opens a key id only from the very bytes it was unwrapped from: other bytes, or its bytes under another key id, are unwrapped and refused', async () => {
    const store = memoryKeyStore();
    const keys = new SubjectKeys(store, randomBytes(32));
    const written = await keys.forWriting(['a']);
    const wrapped = (await store.get(['a'])).get('a')!;
    assert.deepEqual(keys.opened('a', wrapped), written.get('a'));
    // The key is now kept: a copy of its bytes (as another read returns them) still opens it.
    assert.deepEqual(keys.opened('a', Uint8Array.from(wrapped)), written.get('a'));
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 1]! ^= 1;
    assert.throws(() => keys.opened('a', tampered), /does not open with the configured master key/);
    assert.throws(() => keys.opened('b', wrapped), /does not open with the configured master key/);
    assert.equal(keys.opened('a', null), null);
  });
});
