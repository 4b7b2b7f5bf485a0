/**
 * Which storage backend to open, from the environment: `DATABASE_URL` present → PostgreSQL,
 * otherwise the embedded PGlite in `DATA_DIR` (or in memory for tests). Every mistake is reported
 * at once, one line per variable.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseRetentionRules } from './crypto/retentionRules.ts';
import { ValidationError } from './errors.ts';
import { createPgliteDatabase, createPostgresDatabase, type SqlDatabase } from './sql/database.ts';

export const storageConfigSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// connection URL')
    .optional(),
  DATA_DIR: z.string().min(1, 'must name a directory').default('./data/pglite'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1, 'must be at least 1').max(200, 'must be at most 200').default(10),
  /** Ed25519 private key (PKCS#8 PEM file) that signs the hash chain's block seals. */
  SEAL_KEY_FILE: z.string().min(1, 'must name a PEM file').optional(),
  /** 32 random bytes in base64 (`openssl rand -base64 32`): wraps the data keys personal fields are encrypted with. */
  PERSONAL_DATA_KEY_FILE: z.string().min(1, 'must name a key file').optional(),
  /** Subjects (person ids, comma-separated) under a legal hold: their personal data cannot be erased. */
  PERSONAL_DATA_LEGAL_HOLDS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((id) => id.trim()).filter(Boolean)),
  /** Retention rules per resource (`retentionRules.ts`), e.g. `healthcare.records=30y after death`: run by governance's retention process manager. */
  PERSONAL_DATA_RETENTION: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const { rules, problems } = parseRetentionRules(text);
      for (const message of problems) ctx.addIssue({ code: 'custom', message });
      return rules;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
});

export type StorageConfig = z.infer<typeof storageConfigSchema>;

export function parseConfig<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ValidationError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** How long the first connection to PostgreSQL may take before the URL is reported as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function openDatabase(config: StorageConfig, options: { inMemory?: boolean } = {}): Promise<SqlDatabase> {
  if (config.DATABASE_URL) {
    const db = createPostgresDatabase({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
    // An unreachable server is a configuration mistake: one line naming it, not a driver stack trace.
    try {
      const silent = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS).unref());
      await Promise.race([db.query('SELECT 1'), silent]);
    } catch (error) {
      // Not awaited: a connection that never answers would hold the pool's end as long.
      void db.close().catch(() => undefined);
      const url = new URL(config.DATABASE_URL);
      throw new ValidationError(`invalid configuration:\n  DATABASE_URL: cannot connect to ${url.hostname}:${url.port || 5432}${url.pathname} (${error instanceof Error ? error.message : String(error)})`);
    }
    return db;
  }
  if (options.inMemory) return createPgliteDatabase(undefined);
  // PGlite creates the data directory itself, but not its parents.
  mkdirSync(dirname(resolve(config.DATA_DIR)), { recursive: true });
  return createPgliteDatabase(config.DATA_DIR);
}
