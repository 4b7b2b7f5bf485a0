/** A resolver context for tests that call a subgraph's resolvers without a server. */
import { pino } from 'pino';
import { RequestAccess, type AccessGrant, type Jurisdiction } from '../../subgraphs/kit/access.ts';
import type { Caller } from '../../platform/auth.ts';
import type { SubgraphContext } from '../../subgraphs/kit/context.ts';

export function testSubgraphContext(options: { caller?: Partial<Caller>; requestId?: string; grants?: readonly AccessGrant[]; jurisdiction?: Jurisdiction | null } = {}): SubgraphContext {
  const logger = pino({ level: 'silent' });
  return {
    caller: { consumerId: 'test-consumer', role: 'department', tokenId: 'test-token', expiresAt: new Date(Date.now() + 3_600_000), ...options.caller },
    requestId: options.requestId ?? 'test-request',
    loaders: new Map(),
    logger,
    access: new RequestAccess(async () => ({ grants: options.grants ?? [], jurisdiction: options.jurisdiction ?? null }), logger),
  };
}
