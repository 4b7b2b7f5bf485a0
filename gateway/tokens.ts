/**
 * Client tokens for development and tests (the `token --consumer <id>` command, `npm start`'s demo
 * token, e2e specs). Production tokens come from the city's identity provider; the gateway only
 * verifies them (HS256 secret or JWKS, gateway/config.ts).
 */
import { issueToken as signClientToken, type Role } from '../platform/auth.ts';

export interface TokenRequest {
  /** The consumer the token names (`sub`): a department, a partner app, an auditor. */
  consumerId: string;
  role: Role;
  /** The gateway's HS256 `JWT_SECRET`. */
  secret: string;
  /** Lifetime: seconds, or a span such as `'8h'` / `'30 days'`; negative gives an expired token (tests). @default '8h' */
  ttl?: number | string;
  /** Display name carried in the token. */
  name?: string;
  /** The person using the consumer's application (`uid` claim); events and access records name them. */
  userId?: string;
}

/** An HS256 client token with issuer `city-brain`, audience `city-brain-graph`, `sub` = consumer. */
export function issueToken({ consumerId, role, secret, ttl = '8h', name, userId }: TokenRequest): Promise<string> {
  return signClientToken({ consumerId, role, secret, expiresIn: ttl, ...(name !== undefined && { name }), ...(userId !== undefined && { userId }) });
}
