/**
 * Keyed pseudonyms: the same value gives the same pseudonym under one master key, and nothing a
 * reader without the key can link to the value: another purpose or another master key gives another.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyedPseudonyms } from './pseudonyms.ts';

describe('keyed pseudonyms', () => {
  const masterKey = randomBytes(32);
  const idNumber = '370102195211200446';

  it('name a value the same way each time, as 64 hex digits that do not hold it', () => {
    const pseudonym = keyedPseudonyms(masterKey).of('population.id-number', idNumber);
    assert.equal(keyedPseudonyms(Buffer.from(masterKey)).of('population.id-number', idNumber), pseudonym);
    assert.match(pseudonym, /^[0-9a-f]{64}$/);
    assert.ok(!pseudonym.includes(idNumber.slice(0, 6)));
  });

  it('differ per purpose, per value and per master key', () => {
    const pseudonyms = keyedPseudonyms(masterKey);
    const all = [
      pseudonyms.of('population.id-number', idNumber),
      pseudonyms.of('legal-person.credit-code', idNumber),
      pseudonyms.of('population.id-number', `${idNumber.slice(0, 17)}7`),
      keyedPseudonyms(randomBytes(32)).of('population.id-number', idNumber),
    ];
    assert.equal(new Set(all).size, all.length);
  });

  it('refuse a master key that is not 32 bytes', () => {
    assert.throws(() => keyedPseudonyms(randomBytes(16)), /must be 32 bytes/);
  });
});
