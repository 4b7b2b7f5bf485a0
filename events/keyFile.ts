/**
 * Where a secret key is read from: the configured file; with the embedded store (no DATABASE_URL),
 * a development key generated on first start beside its data directory; with PostgreSQL and no
 * file, none (a warning says what that means).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { ValidationError } from './errors.ts';
import type { StorageConfig } from './config.ts';

export interface KeyFileSpec<Key> {
  /** The setting that names the file, e.g. `SEAL_KEY_FILE`. */
  setting: 'SEAL_KEY_FILE' | 'PERSONAL_DATA_KEY_FILE';
  /** The development key's file name beside the data directory, and its content. */
  name: string;
  generate: () => string;
  /** What the key is, for the log line of a generated one. */
  what: string;
  /** Warned when there is no key: what the process does without it. */
  without: string;
  /** The key from the file's text; throws what is wrong with it. */
  parse: (text: string) => Key;
  /** What the file should hold, for the refusal of one that does not parse. */
  expected: string;
}

export function loadKeyFile<Key>(config: Pick<StorageConfig, 'DATA_DIR' | 'DATABASE_URL' | KeyFileSpec<Key>['setting']>, spec: KeyFileSpec<Key>, logger: Logger): Key | undefined {
  const file = keyFileOf(config, config[spec.setting], spec, logger);
  if (!file) {
    logger.warn(`${spec.setting} is not set: ${spec.without}`);
    return undefined;
  }
  try {
    return spec.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(`${spec.setting} ${file}: ${spec.expected} (${error instanceof Error ? error.message : String(error)})`);
  }
}

function keyFileOf(
  config: Pick<StorageConfig, 'DATA_DIR' | 'DATABASE_URL'>,
  configured: string | undefined,
  development: { name: string; generate: () => string; what: string },
  logger: Logger,
): string | undefined {
  if (configured || config.DATABASE_URL) return configured || undefined;
  const file = join(dirname(config.DATA_DIR), development.name);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, development.generate(), { mode: 0o600 });
    logger.info({ file }, `generated a development ${development.what}`);
  }
  return file;
}
