/**
 * The access record (DESIGN §2): one `DataAccessed` per request a subgraph served, written before the
 * response leaves it. Records are appended in batches, each batch to a fresh stream
 * `governance.access-<batchId>`, so concurrent batches never contend for one stream's revision.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../events/decider.ts';
import type { EventTypeDefinition } from '../../events/registry.ts';

export type DataAccessed = DomainEvent<
  'DataAccessed',
  {
    consumerId: string;
    /** The grants that covered the fields served (none when only `public` data was served). */
    grantIds: string[];
    operationName: string | null;
    /** SHA-256 (hex) of the operation's source text. */
    operationHash: string;
    /** Catalog resources of the fields served. */
    resources: string[];
    /** Ids of the `@subject` entities (persons, legal persons) whose fields were served. */
    subjectIds: string[];
    /**
     * Ids of the events delivered, for a record of an event-feed delivery (absent for other
     * requests). The feed never delivers such records: deliveries never cause further deliveries.
     */
    eventIds?: string[];
    /** The purposes of the covering grants. */
    purpose: string;
    /** The gateway's request id: joins the records of every subgraph one client request touched. */
    requestId: string;
    /**
     * The further requests the same data went to, in the same instant (one group commit) under the
     * same grants, principal and operation: the subscriptions a feed delivery went to, or the requests
     * of one caller served one answer at once (the gateway's shared calls and response cache). The
     * record stands for one per request (`requestRecordsOf`); written as one event, so a broadcast
     * to many subscribers costs one row per event, not one per subscriber.
     */
    otherRequestIds?: string[];
    subgraph: string;
    /** ISO 8601 instant the result was produced. */
    at: string;
  }
>;

export const ACCESS_STREAM_PREFIX = 'governance.access-';

export const accessStreamId = (batchId: string): string => `${ACCESS_STREAM_PREFIX}${batchId}`;

const text = z.string().min(1);

export const dataAccessedDefinition: EventTypeDefinition<DataAccessed['data']> = {
  type: 'DataAccessed',
  schemaVersion: 1,
  schema: z.object({
    consumerId: text,
    grantIds: z.array(text),
    operationName: text.nullable(),
    operationHash: z.string().regex(/^[0-9a-f]{64}$/),
    resources: z.array(text).min(1),
    subjectIds: z.array(text),
    eventIds: z.array(text).min(1).optional(),
    purpose: text,
    requestId: text,
    otherRequestIds: z.array(text).min(1).optional(),
    subgraph: text,
    at: z.iso.datetime({ offset: true }),
  }),
};

/** One request's access record, as the auditor sees it: a `DataAccessed` listing several requests stands for one each. */
export type RequestRecord = Omit<DataAccessed['data'], 'otherRequestIds'>;

/**
 * The id of the record of the `index`th request a `DataAccessed` lists: the event's id for the first
 * (every record of one request), the event id, a slash and the index for the further ones.
 */
export const requestRecordId = (eventId: string, index: number): string => (index === 0 ? eventId : `${eventId}/${index}`);

/** The event id and request index a record id names (`requestRecordId`); `undefined` for an id of no such form. */
export function parseRequestRecordId(id: string): { eventId: string; index: number } | undefined {
  const slash = id.indexOf('/');
  if (slash === -1) return { eventId: id, index: 0 };
  const index = Number(id.slice(slash + 1));
  return Number.isSafeInteger(index) && index > 0 && String(index) === id.slice(slash + 1) ? { eventId: id.slice(0, slash), index } : undefined;
}

/** The record of each request a `DataAccessed` stands for, with its id: one, or one per request it lists (`otherRequestIds`). */
export function requestRecordsOf(eventId: string, data: DataAccessed['data']): { id: string; record: RequestRecord }[] {
  const { otherRequestIds, ...record } = data;
  return [record.requestId, ...(otherRequestIds ?? [])].map((requestId, index) => ({ id: requestRecordId(eventId, index), record: { ...record, requestId } }));
}
