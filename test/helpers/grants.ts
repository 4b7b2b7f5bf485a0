/**
 * Consumers and grants for integration tests, appended through the governance decider exactly as
 * the `registerConsumer` / `grantAccess` / `revokeAccess` mutations append them.
 */
import { randomUUID } from 'node:crypto';
import type { EventMetadata, EventStore } from '../../events/types.ts';
import { assignJurisdiction, handleConsumer } from '../../subgraphs/governance/consumer/handler.ts';
import { consumerStreamId, type ConsumerKind } from '../../subgraphs/governance/consumer/events.ts';
import type { ConsumerCommand } from '../../subgraphs/governance/consumer/commands.ts';
import type { AccessAction, Jurisdiction } from '../../subgraphs/kit/access.ts';
import { testMetadata } from './events.ts';

export interface TestGrant {
  actions?: AccessAction[];
  masked?: boolean;
  purpose?: string;
  /** @default a minute before `now` */
  validFrom?: Date;
  /** @default a day after `validFrom` */
  validUntil?: Date;
}

export interface TestGrants {
  /** Registers the consumer (for `department`, default `test-department`) unless it is registered already. */
  register(consumerId: string, kind?: ConsumerKind, department?: string): Promise<void>;
  /** Registers the consumer if needed and grants it `resources`; returns the grant id. */
  grant(consumerId: string, resources: readonly string[], options?: TestGrant): Promise<string>;
  revoke(consumerId: string, grantId: string): Promise<void>;
  /** Registers the consumer if needed and sets what it acts for (a centre's division, or a unit of it). */
  assignJurisdiction(consumerId: string, jurisdiction: Jurisdiction): Promise<void>;
}

export interface TestGrantsOptions {
  /** What a grant gives where the test does not say. @default READ, for an 'integration test' */
  defaults?: Pick<TestGrant, 'actions' | 'purpose'>;
  /** The metadata each consumer command is appended with. @default testMetadata */
  metadata?: () => EventMetadata;
}

export function testGrants(store: EventStore, now: () => Date = () => new Date(), options: TestGrantsOptions = {}): TestGrants {
  const metadata = options.metadata ?? (() => testMetadata);
  const run = (command: ConsumerCommand) => handleConsumer(store, command, metadata());
  const at = () => ({ now: now().toISOString() });
  const register = async (consumerId: string, kind: ConsumerKind = 'DEPARTMENT', department = 'test-department') => {
    if ((await store.streamRevision(consumerStreamId(consumerId))) !== undefined) return;
    await run({ type: 'registerConsumer', data: { consumerId, name: consumerId, kind, department }, metadata: at() });
  };
  return {
    register,
    async grant(consumerId, resources, grant = {}) {
      await register(consumerId);
      const grantId = randomUUID();
      const validFrom = grant.validFrom ?? new Date(now().getTime() - 60_000);
      const validUntil = grant.validUntil ?? new Date(validFrom.getTime() + 86_400_000);
      await run({
        type: 'grantAccess',
        data: {
          grantId,
          consumerId,
          resources: [...resources],
          actions: grant.actions ?? options.defaults?.actions ?? ['READ'],
          purpose: grant.purpose ?? options.defaults?.purpose ?? 'integration test',
          validFrom: validFrom.toISOString(),
          validUntil: validUntil.toISOString(),
          masked: grant.masked ?? false,
          approver: 'test-approver',
        },
        metadata: at(),
      });
      return grantId;
    },
    async revoke(consumerId, grantId) {
      await run({ type: 'revokeAccess', data: { consumerId, grantId, reason: 'end of the test', revokedBy: 'test-admin' }, metadata: at() });
    },
    async assignJurisdiction(consumerId, jurisdiction) {
      await register(consumerId);
      await assignJurisdiction(store, { type: 'assignJurisdiction', data: { consumerId, ...jurisdiction, assignedBy: 'test-admin' }, metadata: at() }, metadata());
    },
  };
}
