/**
 * The access log read model (`governance.access-log`) for auditors: who accessed which data, of
 * which subjects, under which grants (DESIGN §2: "who looked at this person's data"). One document
 * per `DataAccessed`; the events themselves stay the evidence.
 */
import { singleFieldIndexes, sourceOf, type Projection } from '../../../projections/types.ts';
import type { Actor } from '../../../events/types.ts';
import type { DataAccessed } from '../../kit/dataAccessed.ts';

export const ACCESS_LOG_PROJECTION = 'governance.access-log';

/** `actor`: the principal served, as the record's metadata names it (consumer, user, role, division, unit). */
export type AccessRecordDoc = DataAccessed['data'] & { position: string; actor: Actor } & Record<string, unknown>;

export const accessLogProjection: Projection = {
  name: ACCESS_LOG_PROJECTION,
  version: 2,
  eventTypes: ['DataAccessed'] satisfies DataAccessed['type'][],
  indexes: singleFieldIndexes('records', 'at', 'consumerId'),
  async apply(event, store) {
    const data = event.data as DataAccessed['data'];
    await store.collection<AccessRecordDoc>('records').upsert(event.eventId, { ...data, position: event.position, actor: event.metadata.actor }, sourceOf(event));
  },
};
