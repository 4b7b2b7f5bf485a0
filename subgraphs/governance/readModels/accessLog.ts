/**
 * The access log read model (`governance.access-log`) for auditors: who accessed which data, of
 * which subjects, under which grants (DESIGN §2: "who looked at this person's data"). One document
 * per request served: one per `DataAccessed`, or one per subscription a record of feed deliveries
 * lists (`requestRecordsOf`); the events themselves stay the evidence.
 */
import { singleFieldIndexes, sourceOf, type Projection } from '../../../projections/types.ts';
import type { Actor } from '../../../events/types.ts';
import { requestRecordsOf, type DataAccessed, type RequestRecord } from '../../kit/dataAccessed.ts';

export const ACCESS_LOG_PROJECTION = 'governance.access-log';

/** `actor`: the principal served, as the record's metadata names it (consumer, user, role, division, unit). */
export type AccessRecordDoc = RequestRecord & { position: string; actor: Actor } & Record<string, unknown>;

export const accessLogProjection: Projection = {
  name: ACCESS_LOG_PROJECTION,
  version: 2,
  eventTypes: ['DataAccessed'] satisfies DataAccessed['type'][],
  indexes: singleFieldIndexes('records', 'at', 'consumerId'),
  async apply(event, store) {
    const records = store.collection<AccessRecordDoc>('records');
    for (const { id, record } of requestRecordsOf(event.eventId, event.data as DataAccessed['data'])) {
      await records.upsert(id, { ...record, position: event.position, actor: event.metadata.actor }, sourceOf(event));
    }
  },
};
