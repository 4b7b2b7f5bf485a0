/**
 * Calling a subgraph directly the way the gateway does: a client token for the consumer plus the
 * gateway's assertion bound to it (`platform/auth.ts`), for integration tests that start
 * subgraph servers without a gateway.
 */
import { randomUUID } from 'node:crypto';
import { ASSERTION_HEADER, createGatewayAssertion, issueToken, verifyClientToken, type Role, type SubgraphAuthConfig } from '../../platform/auth.ts';

export const SUBGRAPH_TEST_AUTH: SubgraphAuthConfig = {
  client: { secret: 'subgraph-test-client-token-secret-long-enough' },
  assertionSecret: 'subgraph-test-gateway-assertion-secret-long-enough',
};

/** Headers of a request relayed by the gateway for `consumerId`; `requestId` defaults to a fresh UUID. */
export async function relayedHeaders(
  consumerId: string,
  role: Role = 'department',
  options: { requestId?: string; auth?: SubgraphAuthConfig } = {},
): Promise<Record<string, string>> {
  const auth = options.auth ?? SUBGRAPH_TEST_AUTH;
  if (auth.client.secret === undefined) throw new Error('relayedHeaders signs with an HS256 secret; give a config with client.secret');
  const token = await issueToken({ consumerId, role, secret: auth.client.secret });
  const caller = await verifyClientToken(token, auth.client);
  const assertion = createGatewayAssertion({ caller, token, requestId: options.requestId ?? randomUUID(), secret: auth.assertionSecret });
  return { authorization: `Bearer ${token}`, [ASSERTION_HEADER]: assertion };
}

export interface SubgraphResponse<Data = Record<string, unknown>> {
  status: number;
  body: { data?: Data | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

/** POSTs one GraphQL request to a subgraph's `/graphql`. */
export async function postGraphQL<Data = Record<string, unknown>>(
  url: string,
  headers: Record<string, string>,
  query: string,
  variables?: Record<string, unknown>,
): Promise<SubgraphResponse<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, ...(variables && { variables }) }),
  });
  return { status: response.status, body: (await response.json()) as SubgraphResponse<Data>['body'] };
}
