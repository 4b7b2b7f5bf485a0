import type { AccessAction } from '../../kit/access.ts';
import type { CommandMetadata } from '../../kit/command.ts';
import type { ConsumerKind } from './events.ts';

type Command<Type extends string, Data> = { type: Type; data: Data; metadata: CommandMetadata };

export type RegisterConsumer = Command<
  'registerConsumer',
  { consumerId: string; name: string; kind: ConsumerKind; department: string }
>;

export type GrantAccess = Command<
  'grantAccess',
  {
    grantId: string;
    consumerId: string;
    resources: string[];
    actions: AccessAction[];
    purpose: string;
    /** ISO 8601 instants with an offset. */
    validFrom: string;
    validUntil: string;
    masked: boolean;
    approver: string;
  }
>;

export type RevokeAccess = Command<
  'revokeAccess',
  { consumerId: string; grantId: string; reason: string; revokedBy: string }
>;

export type ConsumerCommand = RegisterConsumer | GrantAccess | RevokeAccess;
