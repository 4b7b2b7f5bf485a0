/**
 * The aggregation channel's batches (数据归集): one stream per delivery, `governance.ingest-batch-<batchId>`.
 * A batch is started once, counts each chunk of records as the chunk's domain events are committed
 * (in the same transaction), and completes with its totals. The rejects it keeps name line, source
 * record id, field and rule, never the rejected values: those stay with the department.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';

export interface IngestCounts {
  received: number;
  created: number;
  changed: number;
  unchanged: number;
  alreadyPresent: number;
  rejected: number;
}

export interface IngestReject {
  line: number;
  sourceRecordId: string | null;
  code: string;
  field: string | null;
  message: string;
}

export type IngestBatchStarted = DomainEvent<
  'IngestBatchStarted',
  {
    batchId: string;
    kind: string;
    /** The catalog resource the kind writes, the delivering department and its system. */
    resource: string;
    department: string;
    system: string;
    channel: string;
    /** The delivery's fingerprint (a file's SHA-256); null for a stream that has none (MQTT). */
    fingerprint: string | null;
    /** Records per chunk: a re-run cuts the delivery into the same chunks, so counted ones are skipped. */
    chunkSize: number;
    consumerId: string;
    grantId: string;
    startedAt: string;
  }
>;

export type IngestBatchProgressed = DomainEvent<
  'IngestBatchProgressed',
  {
    batchId: string;
    /** 0-based index of the chunk: each is counted once. */
    chunk: number;
    counts: IngestCounts;
    rejects: IngestReject[];
    /** Rejects per rule code in this chunk (the quality statistics' unit), by code. */
    rejectedByCode: { code: string; count: number }[];
    at: string;
  }
>;

/** Rejects of a chunk beyond the first `REJECTS_PER_EVENT` (an event holds at most 256 KiB), in the same append as its count. */
export type IngestBatchRejectsRecorded = DomainEvent<'IngestBatchRejectsRecorded', { batchId: string; chunk: number; rejects: IngestReject[] }>;

export type IngestBatchCompleted = DomainEvent<'IngestBatchCompleted', { batchId: string; chunks: number; totals: IngestCounts; completedAt: string }>;

export type IngestBatchEvent = IngestBatchStarted | IngestBatchProgressed | IngestBatchRejectsRecorded | IngestBatchCompleted;

/** Rejects one event carries; with messages and ids capped (`MAX_REJECT_TEXT`) they stay far below the event size limit. */
export const REJECTS_PER_EVENT = 200;
export const MAX_REJECT_TEXT = 400;

export const ingestBatchStreamId = (batchId: string): string => `governance.ingest-batch-${batchId}`;

/** What a department may name a batch: it becomes part of a stream id and a file name. */
export const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();
const counts = z.object({ received: count, created: count, changed: count, unchanged: count, alreadyPresent: count, rejected: count });
const reject = z.object({ line: z.number().int().positive(), sourceRecordId: text.nullable(), code: text, field: text.nullable(), message: text });

export const ingestBatchEventDefinitions: readonly EventTypeDefinition[] = [
  {
    type: 'IngestBatchStarted',
    schemaVersion: 1,
    schema: z.object({
      batchId: z.string().regex(BATCH_ID),
      kind: text,
      resource: text,
      department: text,
      system: text,
      channel: text,
      fingerprint: text.nullable(),
      chunkSize: z.number().int().positive(),
      consumerId: text,
      grantId: text,
      startedAt: instant,
    }),
  } satisfies EventTypeDefinition<IngestBatchStarted['data']>,
  {
    type: 'IngestBatchProgressed',
    schemaVersion: 1,
    schema: z.object({ batchId: text, chunk: count, counts, rejects: z.array(reject), rejectedByCode: z.array(z.object({ code: text, count })), at: instant }),
  } satisfies EventTypeDefinition<IngestBatchProgressed['data']>,
  {
    type: 'IngestBatchRejectsRecorded',
    schemaVersion: 1,
    schema: z.object({ batchId: text, chunk: count, rejects: z.array(reject) }),
  } satisfies EventTypeDefinition<IngestBatchRejectsRecorded['data']>,
  {
    type: 'IngestBatchCompleted',
    schemaVersion: 1,
    schema: z.object({ batchId: text, chunks: count, totals: counts, completedAt: instant }),
  } satisfies EventTypeDefinition<IngestBatchCompleted['data']>,
];
