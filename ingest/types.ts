/**
 * The aggregation channel's runner as its transports see it (CLI file import, HTTP `/ingest/<kind>`,
 * the MQTT bridge): a delivery is a stream of raw records of one kind from one department; the
 * runner validates, plans through the kind, commits chunk by chunk with the batch's progress, and
 * reports. Every transport goes through `runIngestBatch`, so the rules are the same on each.
 */
import type { Actor } from '../events/types.ts';

export type IngestChannel = 'import' | 'http' | 'mqtt';

/** One raw record as a transport read it: a parsed NDJSON object or CSV row, or why it could not be parsed. */
export type RawRecord =
  | { line: number; fields: Record<string, unknown> }
  | { line: number; malformed: string };

export interface IngestRequest {
  kind: string;
  /** The delivering department (catalog short name). */
  department: string;
  /** The department's system, for provenance; the kind's default when absent. */
  system?: string;
  channel: IngestChannel;
  /** Given by the department to resume or re-run; a new id otherwise. Reused for different content: refused. */
  batchId?: string;
  /** The authenticated principal delivering; its WRITE grant on the kind's resource is named in the events. */
  actor: Actor;
  grantId?: string;
  /** A fingerprint of the whole delivery (a file's hash), so a batch id cannot be reused for another file. */
  sourceFingerprint?: string;
}

export interface BatchCounts {
  received: number;
  created: number;
  changed: number;
  unchanged: number;
  alreadyPresent: number;
  rejected: number;
}

export interface RejectedRecord {
  line: number;
  sourceRecordId?: string;
  code: string;
  field?: string;
  message: string;
  /** The record as delivered, so it can be corrected and delivered again as is. */
  fields?: Record<string, unknown>;
}

export interface BatchReport extends BatchCounts {
  batchId: string;
  kind: string;
  department: string;
  status: 'completed' | 'failed';
  rejects: RejectedRecord[];
}
