/**
 * The aggregation channel's runner as its transports see it (CLI file import, HTTP `/ingest/<kind>`,
 * the MQTT bridge): a delivery is a stream of raw records of one kind from one department; the
 * runner validates, plans through the kind, commits chunk by chunk with the batch's progress, and
 * reports. Every transport goes through `runIngestBatch`, so the rules are the same on each.
 */
import type { Logger } from 'pino';
import type { Actor, EventStore } from '../events/types.ts';
import type { IngestCounts, IngestReject } from '../subgraphs/governance/ingest/events.ts';
import type { IngestKind, IngestPlan } from '../subgraphs/kit/ingest.ts';

export type IngestChannel = 'import' | 'http' | 'mqtt';

/**
 * One raw record as a transport read it: a parsed NDJSON object or CSV row, or why it could not be
 * parsed. `bytes`: its size as delivered (the oversized-record check; the JSON of `fields` when absent).
 * `text`: the record as delivered, for a transport that hands rejects back (the rejects file).
 */
export type RawRecord =
  | { line: number; fields: Record<string, unknown>; bytes?: number; text?: string }
  | { line: number; malformed: string; bytes?: number; text?: string };

/**
 * Fields of a raw record the channel reads itself and never hands to the kind's schema:
 * `sourceRecordId` (required), `collectedAt` (optional ISO instant, else the delivery's now) and
 * `_rejection` (written into a rejects file; ignored so the file can be delivered again as is).
 */
export const CHANNEL_FIELDS = ['sourceRecordId', 'collectedAt', '_rejection'] as const;

export interface IngestRequest {
  kind: string;
  /** The delivering department (catalog short name, e.g. `public-security`). */
  department: string;
  /** The department's system, for provenance; the kind's default when absent. */
  system?: string;
  channel: IngestChannel;
  /** Given by the department to resume or re-run; a new id otherwise. Reused for different content: refused. */
  batchId?: string;
  /**
   * The authenticated principal delivering. It needs a grant valid now with WRITE on the kind's
   * resource, and must be registered for the department (or for the big-data bureau, which runs the
   * channel and may relay for any department).
   */
  actor: Actor;
  /** Use this grant (refused when it does not cover WRITE on the resource); the first that does otherwise. */
  grantId?: string;
  /**
   * A fingerprint of the whole delivery (a file's SHA-256): a batch id given again is resumed only for
   * the same fingerprint. Without one, a batch id cannot be resumed (a stream has nothing to match).
   */
  sourceFingerprint?: string;
  /** Called after each chunk is committed (or found already counted on a re-run); the next chunk waits for its promise. */
  onChunk?: (chunk: ChunkReport) => void | Promise<void>;
  /**
   * Where deliveries that follow one another (the MQTT bridge's flushes of one kind) hand on the
   * streams as they committed them: the first chunk is planned on top of the previous delivery's last
   * committed plan instead of reading those streams again, and this delivery leaves its own here.
   */
  continues?: PlanCarry;
}

/**
 * The last plan a delivery committed. Only a hint: a writer that moved one of its streams since is
 * met by the expected revisions at commit, and the chunk is read and planned again.
 */
export interface PlanCarry {
  plan?: IngestPlan;
}

export interface IngestLimits {
  /** Records decided and committed together (one transaction with the batch's count). @default 1000 */
  chunkSize?: number;
  /** A record larger than this (bytes as delivered) is rejected unread. @default 65536 */
  maxRecordBytes?: number;
}

export interface IngestDeps {
  store: EventStore;
  /** Every kind the deployment accepts (`ingestKindsOf(MODULES)`). */
  kinds: readonly IngestKind[];
  now: () => Date;
  logger?: Logger;
  limits?: IngestLimits;
}

export type BatchCounts = IngestCounts;

export interface RejectedRecord extends IngestReject {
  /** The record as delivered (absent for chunks a re-run found already counted when the transport gave no `text`). */
  fields?: Record<string, unknown>;
  /** The record's text as the transport delivered it, when it gave it. */
  text?: string;
}

export interface ChunkReport {
  chunk: number;
  counts: BatchCounts;
  rejects: RejectedRecord[];
  /** True when a re-run found the chunk already counted: nothing was decided or written for it now. */
  alreadyCounted: boolean;
}

export interface BatchReport extends BatchCounts {
  batchId: string;
  kind: string;
  department: string;
  status: 'completed';
  chunks: number;
  /** Chunks an earlier run of the same batch had already committed (skipped now). */
  resumedChunks: number;
  rejects: RejectedRecord[];
}
