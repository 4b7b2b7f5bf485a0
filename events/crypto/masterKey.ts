/**
 * The master key that wraps every subject's data key: `PERSONAL_DATA_KEY_FILE` (32 random bytes,
 * base64) when set; with the embedded store, one generated on first start beside the data directory
 * (development, like the seal key); with PostgreSQL and no key file, personal data is stored in clear
 * and cannot be erased (warned at start). Every process of a deployment must load the same file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { StorageConfig } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { keyFileOf } from '../keyFile.ts';
import { assertMasterKey } from './subjectKeys.ts';

export function loadMasterKey(config: StorageConfig, logger: Logger): Buffer | undefined {
  const file = keyFileOf(config, config.PERSONAL_DATA_KEY_FILE, {
    name: 'personal-data-master.key',
    generate: () => `${randomBytes(32).toString('base64')}\n`,
    what: 'master key for personal data',
  }, logger);
  if (!file) {
    logger.warn('PERSONAL_DATA_KEY_FILE is not set: personal fields of events are stored in clear and cannot be erased');
    return undefined;
  }
  try {
    return assertMasterKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  } catch (error) {
    throw new ValidationError(`PERSONAL_DATA_KEY_FILE ${file}: not 32 bytes in base64 (${error instanceof Error ? error.message : String(error)})`);
  }
}
