/**
 * Development secrets of the embedded store (`npm start`), kept beside its data directory so tokens
 * survive a restart; the CLI reads them too. Apart from cli/start.ts so commands that only need the
 * secrets (`status`, `token`) do not load the gateway.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface DevSecrets {
  JWT_SECRET: string;
  GATEWAY_ASSERTION_SECRET: string;
  /** The admin endpoint's token; files written before it existed get one added. */
  ADMIN_TOKEN?: string;
}

const newSecret = () => randomBytes(32).toString('base64url');

/**
 * The environment the graph is configured from: the process's own, plus development secrets when
 * the embedded store runs without them. A PostgreSQL deployment must set its secrets itself.
 */
export function withDevelopmentSecrets(env: Record<string, string | undefined>, dataDir: string, options: { persist?: boolean } = {}): Record<string, string | undefined> {
  if (env.DATABASE_URL || (env.JWT_SECRET ?? env.JWT_JWKS_URL) !== undefined) return env;
  const file = join(dirname(dataDir), 'dev-secrets.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DevSecrets) : undefined;
  const secrets: DevSecrets = { JWT_SECRET: newSecret(), GATEWAY_ASSERTION_SECRET: newSecret(), ...stored };
  secrets.ADMIN_TOKEN ??= newSecret();
  if (stored?.ADMIN_TOKEN === undefined && options.persist !== false) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return {
    GATEWAY_DEV_MODE: 'true',
    ...env,
    ...secrets,
    ...(env.GATEWAY_ASSERTION_SECRET && { GATEWAY_ASSERTION_SECRET: env.GATEWAY_ASSERTION_SECRET }),
    ...(env.ADMIN_TOKEN && { ADMIN_TOKEN: env.ADMIN_TOKEN }),
  };
}
