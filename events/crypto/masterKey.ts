/**
 * The master key that wraps every subject's data key: `PERSONAL_DATA_KEY_FILE` (32 random bytes,
 * base64) when set; with the embedded store, one generated on first start beside the data directory
 * (development, like the seal key); with PostgreSQL and no key file, personal data is stored in clear
 * and cannot be erased (warned at start). Every process of a deployment must load the same file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { StorageConfig } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { assertMasterKey } from './subjectKeys.ts';

export function loadMasterKey(config: StorageConfig, logger: Logger): Buffer | undefined {
  let file = config.PERSONAL_DATA_KEY_FILE;
  if (!file && !config.DATABASE_URL) {
    file = join(dirname(config.DATA_DIR), 'personal-data-master.key');
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
      logger.info({ file }, 'generated a development master key for personal data');
    }
  }
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
