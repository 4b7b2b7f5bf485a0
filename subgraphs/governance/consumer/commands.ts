import type { Command } from '../../kit/command.ts';
import type { ConsumerKind, GrantTerms, JurisdictionAssignment } from './events.ts';

export type RegisterConsumer = Command<
  'registerConsumer',
  { consumerId: string; name: string; kind: ConsumerKind; department: string }
>;

/** The terms to grant; `validFrom` and `validUntil` are ISO 8601 instants with an offset. */
export type GrantAccess = Command<'grantAccess', GrantTerms>;

export type RevokeAccess = Command<
  'revokeAccess',
  { consumerId: string; grantId: string; reason: string; revokedBy: string }
>;

/** Sets what the consumer acts for (a centre's division, or a unit of it); `assignedBy` is the administrator. */
export type AssignJurisdiction = Command<'assignJurisdiction', JurisdictionAssignment>;

export type ConsumerCommand = RegisterConsumer | GrantAccess | RevokeAccess | AssignJurisdiction;
