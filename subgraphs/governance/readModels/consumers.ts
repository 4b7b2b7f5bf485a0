/**
 * The consumers and grants read model (`governance.consumers`), for the administrators' queries.
 * Enforcement never reads it: the kit folds the consumer's stream on each request, so a revocation
 * applies before this projection has caught up.
 */
import type { RecordedEvent } from '../../../events/types.ts';
import { sourceOf, type Projection } from '../../../projections/types.ts';
import type { AccessGranted, AccessRevoked, ConsumerEvent, ConsumerKind, ConsumerRegistered, GrantTerms, JurisdictionAssigned } from '../consumer/events.ts';

export const CONSUMERS_PROJECTION = 'governance.consumers';

export interface ConsumerDoc extends Record<string, unknown> {
  consumerId: string;
  name: string;
  kind: ConsumerKind;
  department: string;
  registeredAt: string;
  /** The jurisdiction (JurisdictionAssigned); null until one is assigned. */
  divisionCode: string | null;
  unitId: string | null;
  unitName: string | null;
}

export interface GrantDoc extends Record<string, unknown>, GrantTerms {
  grantedAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revocationReason: string | null;
}

const CONSUMER_STREAM_PREFIX = 'governance.consumer-';

/** Grant ids are unique per consumer, so documents are keyed by both. */
export const grantDocId = (consumerId: string, grantId: string): string => `${consumerId}/${grantId}`;

export function grantDocOf(event: RecordedEvent<'AccessGranted', AccessGranted['data']>): GrantDoc {
  return { ...event.data, grantedAt: event.recordedAt, revokedAt: null, revokedBy: null, revocationReason: null };
}

export function revocationOf(event: RecordedEvent<'AccessRevoked', AccessRevoked['data']>): Pick<GrantDoc, 'revokedAt' | 'revokedBy' | 'revocationReason'> {
  return { revokedAt: event.recordedAt, revokedBy: event.data.revokedBy, revocationReason: event.data.reason };
}

export const consumersProjection: Projection = {
  name: CONSUMERS_PROJECTION,
  version: 2,
  eventTypes: ['ConsumerRegistered', 'AccessGranted', 'AccessRevoked', 'JurisdictionAssigned'] satisfies ConsumerEvent['type'][],
  indexes: [
    { collection: 'grants', fields: ['consumerId'] },
    { collection: 'consumers', fields: ['unitId'] },
  ],
  async apply(event, store) {
    const source = sourceOf(event);
    const consumerId = event.streamId.slice(CONSUMER_STREAM_PREFIX.length);
    switch (event.type) {
      case 'ConsumerRegistered': {
        const data = event.data as ConsumerRegistered['data'];
        await store
          .collection<ConsumerDoc>('consumers')
          .upsert(data.consumerId, { ...data, registeredAt: event.recordedAt, divisionCode: null, unitId: null, unitName: null }, source);
        return;
      }
      case 'JurisdictionAssigned': {
        const { divisionCode, unitId, unitName } = event.data as JurisdictionAssigned['data'];
        await store.collection<ConsumerDoc>('consumers').patch(consumerId, { divisionCode, unitId: unitId ?? null, unitName: unitName ?? null }, source);
        return;
      }
      case 'AccessGranted': {
        const granted = event as RecordedEvent<'AccessGranted', AccessGranted['data']>;
        await store.collection<GrantDoc>('grants').upsert(grantDocId(consumerId, granted.data.grantId), grantDocOf(granted), source);
        return;
      }
      case 'AccessRevoked': {
        const revoked = event as RecordedEvent<'AccessRevoked', AccessRevoked['data']>;
        await store.collection<GrantDoc>('grants').patch(grantDocId(consumerId, revoked.data.grantId), revocationOf(revoked), source);
        return;
      }
    }
  },
};
