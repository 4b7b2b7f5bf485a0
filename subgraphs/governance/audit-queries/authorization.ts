/**
 * "Was it authorised?": an access record checked against the consumer's grants as they
 * stood when the access was served — folded from the consumer's stream prefix with the governance
 * decider's `evolve` — so an auditor can check an access long after the grant was revoked.
 *
 * The instant is the record's `at` (when the subgraph produced the result, which is when the kit
 * checked the grants), not its `recordedAt`: records are group-committed a moment later, and a
 * revocation recorded in between must not make a covered access look uncovered.
 */
import { fold } from '../../../events/decider.ts';
import type { Recorded } from '../../../events/types.ts';
import { PUBLIC_RESOURCE, type AccessAction } from '../../kit/access.ts';
import type { DataAccessed } from '../../kit/dataAccessed.ts';
import { consumerDecider, grantStatus, type ConsumerState, type GrantRecord } from '../consumer/decider.ts';
import type { ConsumerEvent } from '../consumer/events.ts';

export interface CoveringGrant {
  id: string;
  purpose: string;
  actions: AccessAction[];
  validFrom: string;
  validUntil: string;
  approver: string;
  /** Revoked after the access (it was valid when the access was served). */
  revokedSince: boolean;
}

export interface ResourceAuthorization {
  resource: string;
  covered: boolean;
  /** Open to every authenticated consumer: covered without a grant. */
  public: boolean;
  /** The grant that covered it at the access's instant; null when none did (or it is public). */
  grant: CoveringGrant | null;
}

export interface AccessAuthorization {
  /** Every resource touched was covered. */
  authorized: boolean;
  /** The instant the grants were evaluated at (the record's `at`). */
  evaluatedAt: string;
  resources: ResourceAuthorization[];
}

const grantsOf = (state: ConsumerState): GrantRecord[] => (state.status === 'REGISTERED' ? state.grants : []);

/**
 * Pure: the authorization of `access` given the consumer's whole stream. Among the grants valid at
 * the access's instant that include a resource, the one the record names wins (that is the grant
 * the kit served it under); otherwise the first granted.
 */
export function authorizeAccess(access: DataAccessed['data'], consumerStream: readonly Recorded<ConsumerEvent>[]): AccessAuthorization {
  const at = new Date(access.at);
  const prefix = consumerStream.filter((e) => Date.parse(e.recordedAt) <= at.getTime());
  const then = grantsOf(fold(consumerDecider, prefix));
  const now = grantsOf(fold(consumerDecider, consumerStream));
  const valid = then.filter((g) => grantStatus({ ...g, revoked: g.revocation !== null }, at) === 'ACTIVE');

  const resources = access.resources.map((resource): ResourceAuthorization => {
    if (resource === PUBLIC_RESOURCE) return { resource, covered: true, public: true, grant: null };
    const candidates = valid.filter((g) => g.resources.includes(resource));
    const chosen = candidates.find((g) => access.grantIds.includes(g.grantId)) ?? candidates[0];
    if (!chosen) return { resource, covered: false, public: false, grant: null };
    const { grantId, purpose, actions, validFrom, validUntil, approver } = chosen;
    const revokedSince = Boolean(now.find((g) => g.grantId === grantId)?.revocation);
    return { resource, covered: true, public: false, grant: { id: grantId, purpose, actions, validFrom, validUntil, approver, revokedSince } };
  });
  return { authorized: resources.every((r) => r.covered), evaluatedAt: at.toISOString(), resources };
}
