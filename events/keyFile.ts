/**
 * Where a secret key is read from: the configured file; with the embedded store (no DATABASE_URL),
 * a development key generated on first start beside its data directory; with PostgreSQL and no
 * file, none (the caller says what that means).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { StorageConfig } from './config.ts';

export function keyFileOf(
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
