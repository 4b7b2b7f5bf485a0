/**
 * Keyed pseudonyms (HMAC-SHA256) for personal values a stream id must name, such as the ID number
 * whose claim stream keeps one person per number. The key is derived (HKDF) from the personal-data
 * master key, one per purpose, so a backup of the log without the master key reveals nothing, and
 * a pseudonym of one purpose says nothing about another. Who holds the master key can still test a
 * guessed value; no one can read one back.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { Pseudonyms } from '../types.ts';
import { assertMasterKey } from './subjectKeys.ts';

const SALT = 'city-brain/pseudonyms/v1';

export function keyedPseudonyms(masterKey: Buffer): Pseudonyms {
  assertMasterKey(masterKey);
  const keys = new Map<string, Buffer>();
  const keyOf = (purpose: string): Buffer => {
    let key = keys.get(purpose);
    if (!key) keys.set(purpose, (key = Buffer.from(hkdfSync('sha256', masterKey, SALT, purpose, 32))));
    return key;
  };
  return { of: (purpose, value) => createHmac('sha256', keyOf(purpose)).update(value, 'utf8').digest('hex') };
}
