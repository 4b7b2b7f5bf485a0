/**
 * The gateway's half of authentication (DESIGN §3, platform/auth.ts): verify the client's bearer
 * token before anything else happens, then hand every subgraph call the same token plus a fresh
 * gateway assertion bound to it. Subgraphs verify both, so they serve only what the gateway let in.
 */
import { randomUUID } from 'node:crypto';
import {
  ASSERTION_HEADER,
  MAX_ASSERTION_TTL_SECONDS,
  createGatewayAssertion,
  headerValue,
  parseBearer,
  verifyClientToken,
  type Caller,
  type ClientTokenConfig,
} from '../platform/auth.ts';

/** How long an assertion lives; it is re-signed when half of that has passed (long subscriptions). */
const ASSERTION_TTL_SECONDS = 30;
const REFRESH_AFTER_MS = (ASSERTION_TTL_SECONDS * 1000) / 2;

/** The authenticated caller of one operation, and what the gateway sends the subgraphs on its behalf. */
export class SubgraphCredentials {
  /** `Bearer <client token>`, forwarded unchanged. */
  readonly authorization: string;
  /** The current assertion; empty until signed. */
  private assertion = '';
  private signedAt = 0;
  private operationName: string | undefined;
  private oneExecution = false;

  /** Signs nothing yet: the assertion names the client's operation, known only once the gateway has parsed it. */
  constructor(
    readonly caller: Caller,
    readonly token: string,
    private readonly secret: string,
    readonly requestId: string = randomUUID(),
  ) {
    this.authorization = `Bearer ${token}`;
  }

  /** Headers for one subgraph request; the assertion is signed on first use and re-signed once it is half-way to expiry. */
  headers(): Record<string, string> {
    if (!this.assertion || Date.now() - this.signedAt > REFRESH_AFTER_MS) this.resign();
    return { authorization: this.authorization, [ASSERTION_HEADER]: this.assertion };
  }

  /** The client's operation name, once the gateway knows it (metrics label each subgraph call with it). */
  get clientOperationName(): string | undefined {
    return this.operationName;
  }

  /**
   * Names the client's operation in the assertion, so subgraphs record it even when sent anonymous
   * operations, and says whether it is one execution (query, mutation) or a subscription.
   */
  nameOperation(operationName: string | undefined, oneExecution: boolean): void {
    if (this.assertion && operationName === this.operationName && oneExecution === this.oneExecution) return;
    this.operationName = operationName;
    this.oneExecution = oneExecution;
    this.resign();
  }

  private resign(): void {
    this.assertion = sign(this.caller, this.token, this.requestId, this.secret, this.operationName, this.oneExecution);
    this.signedAt = Date.now();
  }
}

function sign(caller: Caller, token: string, requestId: string, secret: string, operationName: string | undefined, grantsPerRequest: boolean): string {
  return createGatewayAssertion({ caller, token, requestId, secret, operationName, grantsPerRequest, ttlSeconds: Math.min(ASSERTION_TTL_SECONDS, MAX_ASSERTION_TTL_SECONDS) });
}

/**
 * Authenticates a client from its HTTP headers or graphql-ws connection params; throws an
 * `UnauthenticatedError` saying what is wrong (missing, malformed, expired, wrong audience, …).
 */
export async function authenticateClient(
  headers: Readonly<Record<string, unknown>>,
  client: ClientTokenConfig,
): Promise<{ caller: Caller; token: string }> {
  const token = parseBearer(headerValue(headers, 'authorization'));
  return { caller: await verifyClientToken(token, client), token };
}
