/**
 * Authentication (DESIGN §3). Clients present a bearer JWT naming a consumer; the gateway verifies
 * it, forwards it, and adds a short-lived gateway assertion bound to that exact token. Subgraphs
 * verify both, so a subgraph reached directly — with no token, a forged one, or a genuine client
 * token without the gateway's assertion — serves nothing.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { z } from 'zod';
import { UnauthenticatedError } from '../events/errors.ts';

export const ROLES = ['department', 'partner', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const CLIENT_TOKEN_ISSUER = 'city-brain';
export const CLIENT_TOKEN_AUDIENCE = 'city-brain-graph';
export const ASSERTION_ISSUER = 'city-brain-gateway';
export const ASSERTION_AUDIENCE = 'city-brain-subgraphs';
/** The header (HTTP) or connection parameter (graphql-ws) carrying the gateway's assertion. */
export const ASSERTION_HEADER = 'x-gateway-assertion';
/**
 * The subscribe message extension (graphql-ws) carrying one operation's `authorization` and assertion,
 * when the gateway sends many callers' subscriptions over one connection opened without credentials.
 */
export const CREDENTIALS_EXTENSION = 'credentials';
/** The longest an assertion may live: it only has to survive one hop from the gateway. */
export const MAX_ASSERTION_TTL_SECONDS = 60;

/** The authenticated consumer a request is served for. */
export interface Caller {
  consumerId: string;
  role: Role;
  /** Display name from the token, when it has one. */
  name?: string;
  /** The person using the consumer's application (`uid` claim), when the token names one. */
  userId?: string;
  /** The token's `jti`, or a hash of the token when the issuer sets none; names the token in access records. */
  tokenId: string;
  expiresAt: Date;
}

/** Client-token verification keys: an HS256 shared secret, or a JWKS URL for RS/ES/PS/EdDSA keys. */
export type ClientTokenConfig = (
  | { secret: string; jwksUrl?: undefined }
  | {
      jwksUrl: string;
      secret?: undefined;
      /** @default ['RS256', 'ES256', 'PS256', 'EdDSA'] */
      algorithms?: string[];
    }
) & {
  /** Allowed clock skew when checking `exp` and `nbf`. @default 5 */
  clockToleranceSeconds?: number;
};

export interface SubgraphAuthConfig {
  client: ClientTokenConfig;
  /** HS256 secret shared by the gateway and the subgraphs only (never the token issuer's). */
  assertionSecret: string;
}

export interface AuthenticatedRequest {
  caller: Caller;
  /** The gateway's request id, so every subgraph's logs and access records can be joined. */
  requestId: string;
  /** The client's bearer token, as presented. */
  token: string;
  /** The client's operation name, as the gateway asserted it (a query planner may send subgraphs anonymous operations). */
  operationName?: string;
  /**
   * The gateway asserted one execution (a query or mutation): its subgraph calls may share one read
   * of the caller's grants. False for a subscription, whose events are each checked anew.
   */
  grantsPerRequest: boolean;
}

export type UnauthenticatedReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'invalid_claims'
  | 'keys_unavailable'
  | 'missing_assertion'
  | 'invalid_assertion'
  | 'assertion_mismatch';

function unauthenticated(reason: UnauthenticatedReason, message: string): UnauthenticatedError {
  return new UnauthenticatedError(message, { reason });
}

const encoder = new TextEncoder();

/** How long a passed signature check is reused at most, whatever the token's own lifetime (bounds a JWKS key rotation's reach). */
const VERIFIED_REUSE_SECONDS = 60;
/** Tokens remembered per key; the oldest is forgotten first. */
const VERIFIED_MAX_ENTRIES = 10_000;

/**
 * Tokens whose signature and claims already passed, by their exact text, until they expire. The
 * gateway and each subgraph fetch of one request verify the same client token and assertion again,
 * and every HMAC through WebCrypto is a thread-pool round trip (a query of the operations screen paid ~10).
 * Only successes are kept, and an entry ends at the token's `exp` (tolerance not reused), so the
 * answer is the one a fresh verification would give; grants are still checked on every request.
 *
 * An entry is forgotten once it has expired, not only when it is asked for again: a gateway
 * assertion is made per request (each subscription brings its own), so most are never presented
 * again, and without that they would stay until `VERIFIED_MAX_ENTRIES` newer ones pushed them out.
 * Entries are in the order they were remembered and none outlives `VERIFIED_REUSE_SECONDS`, so
 * each `set` drops the expired ones at the front: an entry is gone by the first `set` after it is
 * `VERIFIED_REUSE_SECONDS` old, at a cost of one deletion per entry.
 */
class VerifiedTokens<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  get(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (Date.now() / 1000 < entry.until) return entry.value;
    this.entries.delete(token);
    return undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  set(token: string, value: T, exp: number): void {
    const now = Date.now() / 1000;
    for (const [oldest, entry] of this.entries) {
      if (entry.until > now && this.entries.size < VERIFIED_MAX_ENTRIES) break;
      this.entries.delete(oldest);
    }
    this.entries.set(token, { value, until: Math.min(exp, now + VERIFIED_REUSE_SECONDS) });
  }
}

/** One memo per verification key: a token verified under one key proves nothing under another. */
function memoIn<K, T>(memos: { get(key: K): VerifiedTokens<T> | undefined; set(key: K, memo: VerifiedTokens<T>): unknown }, key: K): VerifiedTokens<T> {
  let memo = memos.get(key);
  if (!memo) {
    memo = new VerifiedTokens<T>();
    memos.set(key, memo);
  }
  return memo;
}
const verifiedClientTokens = new WeakMap<ClientTokenConfig, VerifiedTokens<Caller>>();
const DEFAULT_ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];

type VerificationKey = Uint8Array | JWTVerifyGetKey;
const keysByConfig = new WeakMap<ClientTokenConfig, VerificationKey>();
const remoteKeySets = new Map<string, JWTVerifyGetKey>();

function verificationKey(config: ClientTokenConfig): VerificationKey {
  let key = keysByConfig.get(config);
  if (!key) {
    if (config.secret !== undefined) {
      key = encoder.encode(config.secret);
    } else {
      // One key set per URL: jose caches and refreshes the keys inside it.
      key = remoteKeySets.get(config.jwksUrl);
      if (!key) {
        key = createRemoteJWKSet(new URL(config.jwksUrl));
        remoteKeySets.set(config.jwksUrl, key);
      }
    }
    keysByConfig.set(config, key);
  }
  return key;
}

/** base64url SHA-256 of a token: binds an assertion to one client token without repeating it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Reads one header (HTTP headers or graphql-ws connection params), case-insensitively. */
export function headerValue(headers: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const first: unknown = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first : undefined;
  }
  return undefined;
}

/** The token in an `Authorization: Bearer <token>` header. */
export function parseBearer(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw unauthenticated(
      'missing',
      'no bearer token: send "Authorization: Bearer <token>" (graphql-ws: connectionParams { authorization: "Bearer <token>" }); a development token comes from the `token --consumer <id>` command',
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) {
    throw unauthenticated('malformed', 'the Authorization header must read "Bearer <token>" with a JWT after one space');
  }
  return match[1];
}

const joseCode = (error: unknown): string | undefined =>
  error instanceof joseErrors.JOSEError ? error.code : undefined;

function explainClientTokenError(error: unknown): UnauthenticatedError {
  if (error instanceof joseErrors.JWTExpired) {
    const exp = typeof error.payload.exp === 'number' ? new Date(error.payload.exp * 1000).toISOString() : 'an unknown time';
    return unauthenticated('expired', `the bearer token expired at ${exp}; ask for a new token`);
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return unauthenticated('wrong_audience', `the bearer token is not meant for this graph: its audience must be "${CLIENT_TOKEN_AUDIENCE}"`);
      case 'iss':
        return unauthenticated('wrong_issuer', `the bearer token was not issued by "${CLIENT_TOKEN_ISSUER}"`);
      case 'nbf':
        return unauthenticated('not_yet_valid', 'the bearer token is not valid yet (nbf is in the future); check the issuer\'s clock');
      default:
        return unauthenticated('invalid_claims', `the bearer token's "${error.claim}" claim is invalid (${error.reason}); ask for a new token`);
    }
  }
  switch (joseCode(error)) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return unauthenticated('bad_signature', 'the bearer token\'s signature does not verify with this graph\'s keys; it was not issued for this graph or was altered');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return unauthenticated('keys_unavailable', 'the token signing keys could not be fetched from the JWKS URL; try again shortly');
    default:
      return unauthenticated('malformed', 'the bearer token is not a well-formed signed JWT');
  }
}

const clientClaimsSchema = z.object({
  sub: z.string().min(1, 'must name the consumer'),
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
  name: z.string().min(1).optional(),
  uid: z.string().min(1).optional(),
  jti: z.string().min(1).optional(),
  exp: z.number(),
});

function claimsProblem(error: z.ZodError): string {
  return error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ');
}

/** Verifies a client's bearer token (signature, issuer, audience, lifetime, claims). */
export async function verifyClientToken(token: string, config: ClientTokenConfig): Promise<Caller> {
  if (token === '') throw parseBearer(undefined);
  const verified = memoIn(verifiedClientTokens, config);
  const known = verified.get(token);
  if (known) return known;
  const key = verificationKey(config);
  const options: JWTVerifyOptions = {
    issuer: CLIENT_TOKEN_ISSUER,
    audience: CLIENT_TOKEN_AUDIENCE,
    algorithms: config.secret !== undefined ? ['HS256'] : (config.algorithms ?? DEFAULT_ASYMMETRIC_ALGORITHMS),
    clockTolerance: config.clockToleranceSeconds ?? 5,
    requiredClaims: ['sub', 'exp'],
  };
  let payload: JWTPayload;
  try {
    ({ payload } = key instanceof Uint8Array ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
  } catch (error) {
    throw explainClientTokenError(error);
  }
  const claims = clientClaimsSchema.safeParse(payload);
  if (!claims.success) {
    throw unauthenticated('invalid_claims', `the bearer token's claims are invalid: ${claimsProblem(claims.error)}`);
  }
  const { sub, role, name, uid, jti, exp } = claims.data;
  const caller: Caller = {
    consumerId: sub,
    role,
    ...(name !== undefined && { name }),
    ...(uid !== undefined && { userId: uid }),
    tokenId: jti ?? hashToken(token),
    expiresAt: new Date(exp * 1000),
  };
  // Frozen: one object now serves every request presenting this token.
  verified.set(token, Object.freeze(caller), exp);
  return caller;
}

export interface IssueTokenInput {
  consumerId: string;
  role: Role;
  name?: string;
  /** The person using the consumer's application (`uid` claim). */
  userId?: string;
  /** A jose time span (`'8h'`, `'30 days'`) or seconds from now; negative gives an expired token (tests). @default '1h' */
  expiresIn?: string | number;
  /** HS256 signing secret (the gateway's `JWT_SECRET`). */
  secret: string;
  /** @default a random UUID */
  tokenId?: string;
}

/** Issues an HS256 client token (the development `token` command and tests). */
export async function issueToken(input: IssueTokenInput): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = input.expiresIn ?? '1h';
  return new SignJWT({ role: input.role, ...(input.name !== undefined && { name: input.name }), ...(input.userId !== undefined && { uid: input.userId }) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(CLIENT_TOKEN_ISSUER)
    .setAudience(CLIENT_TOKEN_AUDIENCE)
    .setSubject(input.consumerId)
    .setJti(input.tokenId ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(typeof expiresIn === 'number' ? now + expiresIn : expiresIn)
    .sign(encoder.encode(input.secret));
}

export interface GatewayAssertionInput {
  caller: Caller;
  /** The client's token exactly as it will be forwarded. */
  token: string;
  requestId: string;
  secret: string;
  /** @default 30 (at most {@link MAX_ASSERTION_TTL_SECONDS}) */
  ttlSeconds?: number;
  /** The client's operation name, for the subgraphs' access records. */
  operationName?: string | undefined;
  /** One execution, not a subscription (`AuthenticatedRequest.grantsPerRequest`). @default false */
  grantsPerRequest?: boolean;
}

/** The gateway's statement "I authenticated this token for this request", for the subgraphs. */
export function createGatewayAssertion(input: GatewayAssertionInput): string {
  const ttl = Math.min(input.ttlSeconds ?? 30, MAX_ASSERTION_TTL_SECONDS);
  const now = Math.floor(Date.now() / 1000);
  const { caller } = input;
  return signHs256({
    role: caller.role,
    tid: caller.tokenId,
    tokenHash: hashToken(input.token),
    rid: input.requestId,
    ...(input.operationName && { op: input.operationName }),
    ...(input.grantsPerRequest && { gpr: true }),
    iss: ASSERTION_ISSUER,
    aud: ASSERTION_AUDIENCE,
    sub: caller.consumerId,
    iat: now,
    exp: now + ttl,
  }, input.secret);
}

const base64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

/**
 * A compact HS256 JWT signed with node:crypto: WebCrypto's HMAC (jose's way) cost ~1.5 ms a
 * signature on this machine, and the gateway signs one assertion per request, so signing is on every request's path.
 */
function signHs256(claims: JWTPayload, secret: string): string {
  const signingInput = `${HS256_HEADER}.${base64url(claims)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

const HS256_HEADER = base64url({ alg: 'HS256', typ: 'JWT' });
/** Seconds of clock difference between gateway and subgraph accepted on `iat` and `exp`. */
const ASSERTION_CLOCK_TOLERANCE_SECONDS = 5;

/**
 * The payload of an assertion `signHs256` made with `secret`, or undefined: the header must be the
 * very one it writes (no other algorithm, no `none`), the signature must match (compared in constant
 * time), and the issuer, audience, issue time and expiry must hold now. Synchronous, with
 * node:crypto, for the reason `signHs256` gives: a subgraph verifies one per request.
 */
function verifyHs256(jwt: string, secret: string): JWTPayload | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts[0] !== HS256_HEADER) return undefined;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const signature = Buffer.from(parts[2]!, 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected) || signature.toString('base64url') !== parts[2]) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { iss, aud, iat, exp } = payload as JWTPayload;
  const now = Date.now() / 1000;
  if (iss !== ASSERTION_ISSUER || aud !== ASSERTION_AUDIENCE || typeof iat !== 'number' || typeof exp !== 'number') return undefined;
  if (exp <= now - ASSERTION_CLOCK_TOLERANCE_SECONDS || iat > now + ASSERTION_CLOCK_TOLERANCE_SECONDS) return undefined;
  if (now - iat > MAX_ASSERTION_TTL_SECONDS + 2 * ASSERTION_CLOCK_TOLERANCE_SECONDS) return undefined;
  return payload as JWTPayload;
}

const assertionClaimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  tokenHash: z.string().min(1),
  rid: z.string().min(1),
  op: z.string().min(1).optional(),
  gpr: z.literal(true).optional(),
  iat: z.number(),
  exp: z.number(),
});

const relayOnly = 'this subgraph serves only requests relayed by the gateway; send the query to the gateway\'s /graphql';

/**
 * Authenticates a request reaching a subgraph: the client's token is verified again, and the
 * gateway's assertion must be valid, fresh, and bound to that very token and caller.
 * `headers` are HTTP request headers, graphql-ws connection params or a subscribe message's `CREDENTIALS_EXTENSION`.
 */
export async function authenticateSubgraphRequest(
  headers: Readonly<Record<string, unknown>>,
  config: SubgraphAuthConfig,
): Promise<AuthenticatedRequest> {
  const token = parseBearer(headerValue(headers, 'authorization'));
  const caller = await verifyClientToken(token, config.client);
  const assertion = headerValue(headers, ASSERTION_HEADER);
  if (!assertion) throw unauthenticated('missing_assertion', `no gateway assertion: ${relayOnly}`);
  const asserted = await verifyAssertion(assertion, config.assertionSecret);
  if (asserted.tokenHash !== hashToken(token) || asserted.sub !== caller.consumerId || asserted.role !== caller.role) {
    throw unauthenticated('assertion_mismatch', `the gateway assertion was issued for another token: ${relayOnly}`);
  }
  return { caller, requestId: asserted.rid, token, ...(asserted.op !== undefined && { operationName: asserted.op }), grantsPerRequest: asserted.gpr === true };
}

type AssertionClaims = z.infer<typeof assertionClaimsSchema>;
const verifiedAssertions = new Map<string, VerifiedTokens<AssertionClaims>>();

/** Gateway assertions remembered as verified right now, over every assertion secret (for tests and operators). */
export function rememberedAssertionCount(): number {
  let count = 0;
  for (const memo of verifiedAssertions.values()) count += memo.size;
  return count;
}

/** The claims of a valid, fresh gateway assertion signed with `secret` (each subgraph fetch of a request brings the same one). */
async function verifyAssertion(assertion: string, secret: string): Promise<AssertionClaims> {
  const verified = memoIn(verifiedAssertions, secret);
  const known = verified.get(assertion);
  if (known) return known;
  const payload = verifyHs256(assertion, secret);
  if (!payload) throw unauthenticated('invalid_assertion', `the gateway assertion is invalid or expired: ${relayOnly}`);
  const claims = assertionClaimsSchema.safeParse(payload);
  if (!claims.success || claims.data.exp - claims.data.iat > MAX_ASSERTION_TTL_SECONDS) {
    throw unauthenticated('invalid_assertion', `the gateway assertion is malformed: ${relayOnly}`);
  }
  verified.set(assertion, Object.freeze(claims.data), claims.data.exp);
  return claims.data;
}
