/**
 * The gateway's configuration, validated with zod before anything starts: the same schema serves
 * programmatic options (`bin/graph.ts`, tests) and the environment (a production gateway process).
 * Every mistake is reported at once, one line each, naming the option or variable to fix.
 */
import { z } from 'zod';
import { ValidationError } from '../events/errors.ts';
import type { ClientTokenConfig } from '../platform/auth.ts';
import { gatewayLimitsSchema } from './limits.ts';
import { SUBGRAPH_NAMES, subgraphUrlVariable, subgraphUrls } from '../platform/subgraphs.ts';

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const MIN_SECRET_LENGTH = 32;
const isLoopback = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

export const gatewayAuthSchema = z
  .object({
    /** HS256 secret client tokens are signed with (also what `issueToken` signs with). */
    jwtSecret: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters (HS256 wants 256 bits of key)`).optional(),
    /** A JWKS URL publishing the issuer's public keys (RS/PS/ES/EdDSA), instead of `jwtSecret`. */
    jwksUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL of a JWKS document' }).optional(),
    /** Algorithms accepted from the JWKS keys. @default ['RS256', 'ES256', 'PS256', 'EdDSA'] */
    jwtAlgorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1, 'must name at least one algorithm').optional(),
    /** HS256 secret the gateway signs its per-request assertions with; shared with the subgraphs only. */
    assertionSecret: z
      .string({ error: `is required: a secret of at least ${MIN_SECRET_LENGTH} characters shared by the gateway and the subgraphs only` })
      .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`),
    /** Clock skew tolerated on `exp` / `nbf`. @default 5 */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
  })
  .superRefine((auth, ctx) => {
    if (auth.jwtSecret === undefined && auth.jwksUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwtSecret'], message: 'set either an HS256 secret or a JWKS URL (jwksUrl) to verify client tokens' });
    }
    if (auth.jwtSecret !== undefined && auth.jwksUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwksUrl'], message: 'set an HS256 secret or a JWKS URL, not both: a token would be accepted under two key regimes' });
    }
    if (auth.jwtSecret !== undefined && auth.jwtAlgorithms !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwtAlgorithms'], message: 'only applies to JWKS keys; an HS256 secret always verifies HS256' });
    }
    if (auth.jwksUrl !== undefined && auth.jwksUrl.startsWith('http:') && !isLoopback(new URL(auth.jwksUrl).hostname)) {
      ctx.addIssue({ code: 'custom', path: ['jwksUrl'], message: 'must use https (plain http is only accepted on localhost): keys fetched in clear can be swapped' });
    }
    if (auth.jwtSecret !== undefined && auth.jwtSecret === auth.assertionSecret) {
      ctx.addIssue({
        code: 'custom',
        path: ['assertionSecret'],
        message: 'must differ from the client token secret: whoever can issue client tokens must not be able to forge the gateway',
      });
    }
  });

export const gatewayOptionsSchema = z.object({
  auth: gatewayAuthSchema,
  limits: gatewayLimitsSchema.prefault({}),
  /** Introspection and the GraphiQL page. Never on in production. @default false */
  devMode: z.boolean().default(false),
  /** Where each subgraph is, overriding the URLs embedded in the supergraph. */
  subgraphUrls: z.record(z.string(), z.url({ protocol: /^https?$/, message: 'must be an http(s) URL such as http://127.0.0.1:4101/graphql' })).default({}),
  /** Per-subgraph timeout of the `/readyz` probe. @default 2000 */
  readinessTimeoutMs: z.number().int().min(1).default(2000),
  /**
   * Browser origins allowed to call the graph with credentials (CORS), each `scheme://host[:port]`.
   * None by default: no CORS headers are sent, so browsers refuse cross-origin calls. @default []
   */
  corsOrigins: z
    .array(z.string().regex(/^https?:\/\/[^/\s,*]+$/, 'must be an origin such as https://dashboard.example.org (scheme and host, no path, no wildcard)'))
    .default([]),
  /** Bearer token of the operator's endpoints (`/admin/*`, subgraph URLs in `/readyz`); none without it. */
  adminToken: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  /** On SIGTERM, how long in-flight requests may run before their connections are cut. @default 10000 */
  drainTimeoutMs: z.number().int().min(0).max(300_000).default(10_000),
  /**
   * Who plans each operation across the subgraphs: `rust`, Hive Router's query planner and executor
   * (a native addon in the npm package), or `js`, the gateway runtime's own. @default 'rust'
   */
  queryPlanner: z.enum(['rust', 'js'], { message: 'must be rust or js' }).default('rust'),
});

export type GatewayAuth = z.infer<typeof gatewayAuthSchema>;
export type GatewayAuthInput = z.input<typeof gatewayAuthSchema>;
export type GatewayOptions = z.infer<typeof gatewayOptionsSchema>;
export type GatewayOptionsInput = z.input<typeof gatewayOptionsSchema>;

function describe(error: z.ZodError, name: (path: PropertyKey[]) => string): string {
  return error.issues.map((i) => `  ${name(i.path)}: ${i.message}`).join('\n');
}

/** Validated options, or a ValidationError listing every mistake. */
export function parseGatewayOptions(input: GatewayOptionsInput): GatewayOptions {
  const result = gatewayOptionsSchema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(`invalid gateway configuration:\n${describe(result.error, (p) => p.map(String).join('.') || '(options)')}`);
  }
  return result.data;
}

/** How `verifyClientToken` (platform/auth.ts) checks a client token under these options. */
export function clientTokenConfig(auth: GatewayAuth): ClientTokenConfig {
  const common = { clockToleranceSeconds: auth.clockToleranceSeconds };
  if (auth.jwtSecret !== undefined) return { ...common, secret: auth.jwtSecret };
  if (auth.jwksUrl === undefined) throw new ValidationError('gateway auth has neither a secret nor a JWKS URL');
  return { ...common, jwksUrl: auth.jwksUrl, ...(auth.jwtAlgorithms && { algorithms: auth.jwtAlgorithms }) };
}

/** The environment variable each option is read from. */
const ENV_NAMES: Record<string, string> = {
  'auth.jwtSecret': 'JWT_SECRET',
  'auth.jwksUrl': 'JWT_JWKS_URL',
  'auth.jwtAlgorithms': 'JWT_ALGORITHMS',
  'auth.assertionSecret': 'GATEWAY_ASSERTION_SECRET',
  'auth.clockToleranceSeconds': 'JWT_CLOCK_TOLERANCE_SECONDS',
  'limits.maxDepth': 'GATEWAY_MAX_DEPTH',
  'limits.maxAliases': 'GATEWAY_MAX_ALIASES',
  'limits.maxTokens': 'GATEWAY_MAX_TOKENS',
  'limits.maxDirectives': 'GATEWAY_MAX_DIRECTIVES',
  'limits.maxCost': 'GATEWAY_MAX_COST',
  'limits.defaultListSize': 'GATEWAY_DEFAULT_LIST_SIZE',
  'limits.maxBodyBytes': 'GATEWAY_MAX_BODY_BYTES',
  'limits.executionTimeoutMs': 'GATEWAY_EXECUTION_TIMEOUT_MS',
  'limits.maxSubscriptionBuffer': 'GATEWAY_MAX_SUBSCRIPTION_BUFFER',
  devMode: 'GATEWAY_DEV_MODE',
  readinessTimeoutMs: 'GATEWAY_READINESS_TIMEOUT_MS',
  corsOrigins: 'GATEWAY_CORS_ORIGINS',
  adminToken: 'ADMIN_TOKEN',
  drainTimeoutMs: 'GATEWAY_DRAIN_TIMEOUT_MS',
  queryPlanner: 'GATEWAY_QUERY_PLANNER',
  ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`subgraphUrls.${name}`, subgraphUrlVariable(name)])),
};

export interface GatewayProcessConfig {
  options: GatewayOptions;
  /** `GATEWAY_PORT`. @default 4000 */
  port: number;
  /** `GATEWAY_HOST`. @default 127.0.0.1 */
  host: string;
  /** `ADMIN_TOKEN` (also in `options`): the bearer token of the operator's admin endpoint; without it there is none. */
  adminToken?: string;
}

/** Where the gateway listens (`GATEWAY_PORT`, `GATEWAY_HOST`); also where `status` looks for a running service. */
export const gatewayAddressSchema = z.object({
  GATEWAY_PORT: z.coerce.number({ message: 'must be a port number' }).int('must be a port number').min(0, 'must be a port number').max(65_535, 'must be a port number').default(4000),
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
});

/**
 * The gateway's configuration from the environment (variables in gateway/README.md). Numbers and
 * booleans are read from text; a variable that does not parse is reported under its own name.
 */
export function gatewayConfigFromEnv(env: Record<string, string | undefined> = process.env): GatewayProcessConfig {
  const problems: string[] = [];
  const number = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(value)) problems.push(`  ${name}: "${raw}" is not a number`);
    return value;
  };
  const text = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  let devMode: boolean | undefined;
  const rawDev = text('GATEWAY_DEV_MODE');
  if (rawDev !== undefined) {
    if (rawDev === 'true' || rawDev === '1') devMode = true;
    else if (rawDev === 'false' || rawDev === '0') devMode = false;
    else problems.push(`  GATEWAY_DEV_MODE: "${rawDev}" must be true or false`);
  }
  const limits = Object.fromEntries(
    Object.entries(ENV_NAMES)
      .filter(([path]) => path.startsWith('limits.'))
      .map(([path, name]) => [path.slice('limits.'.length), number(name)])
      .filter(([, value]) => value !== undefined),
  );
  const algorithms = text('JWT_ALGORITHMS')?.split(',').map((a) => a.trim()).filter(Boolean);
  const input = {
    auth: {
      jwtSecret: text('JWT_SECRET'),
      jwksUrl: text('JWT_JWKS_URL'),
      jwtAlgorithms: algorithms,
      assertionSecret: text('GATEWAY_ASSERTION_SECRET'),
      clockToleranceSeconds: number('JWT_CLOCK_TOLERANCE_SECONDS'),
    },
    limits,
    devMode,
    subgraphUrls: subgraphUrls(env),
    readinessTimeoutMs: number('GATEWAY_READINESS_TIMEOUT_MS'),
    corsOrigins: text('GATEWAY_CORS_ORIGINS')?.split(',').map((o) => o.trim()).filter(Boolean),
    adminToken: text('ADMIN_TOKEN'),
    drainTimeoutMs: number('GATEWAY_DRAIN_TIMEOUT_MS'),
    queryPlanner: text('GATEWAY_QUERY_PLANNER'),
  };
  const parsed = gatewayOptionsSchema.safeParse(input);
  const server = gatewayAddressSchema.safeParse(env);
  if (!parsed.success) problems.push(describe(parsed.error, (p) => ENV_NAMES[p.map(String).join('.')] ?? p.map(String).join('.')));
  if (!server.success) problems.push(describe(server.error, (p) => p.map(String).join('.')));
  if (problems.length || !parsed.success || !server.success) {
    throw new ValidationError(`invalid gateway configuration:\n${problems.join('\n')}`);
  }
  return {
    options: parsed.data,
    port: server.data.GATEWAY_PORT,
    host: server.data.GATEWAY_HOST,
    ...(parsed.data.adminToken !== undefined && { adminToken: parsed.data.adminToken }),
  };
}
