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
    subgraph: text,
    at: z.iso.datetime({ offset: true }),
  }),
};
