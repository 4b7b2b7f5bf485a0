/**
 * The master key that wraps every subject's data key: `PERSONAL_DATA_KEY_FILE` (32 random bytes,
 * base64) when set; with the embedded store, one generated on first start beside the data directory
 * (development, like the seal key); with PostgreSQL and no key file, personal data is stored in clear
 * and cannot be erased (warned at start). Every process of a deployment must load the same file.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { StorageConfig } from '../config.ts';
import { loadKeyFile } from '../keyFile.ts';
import { assertMasterKey } from './subjectKeys.ts';

export function loadMasterKey(config: StorageConfig, logger: Logger): Buffer | undefined {
  return loadKeyFile(
    config,
    {
      setting: 'PERSONAL_DATA_KEY_FILE',
      name: 'personal-data-master.key',
      generate: () => `${randomBytes(32).toString('base64')}\n`,
      what: 'master key for personal data',
      without: 'personal fields of events are stored in clear and cannot be erased',
      parse: (text) => assertMasterKey(Buffer.from(text.trim(), 'base64')),
      expected: 'not 32 bytes in base64',
    },
    logger,
  );
}
