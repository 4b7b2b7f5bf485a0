/**
 * The aggregation channel's seam between transport and domain (数据归集, issue "Data aggregation
 * channel"): a department's records arrive by file, HTTP or MQTT and are delivered to an
 * `IngestKind` a domain publishes (`subgraphs/<domain>/ingest.ts`). A kind plans a chunk of records
 * with the same deciders the mutations use and returns the appends; the channel (`ingest/`) commits
 * them in one `appendMany` together with the batch's own progress event, so a crash never leaves a
 * chunk half written or written but uncounted.
 *
 * Re-delivery is idempotent by construction: every record carries an idempotency key derived from
 * department, kind, source record id and the record's content (`ingestKeyOf`). The same record
 * delivered again finds its key in its stream and is `alreadyPresent`; a corrected record has a new
 * key and is decided again (`changed`, or `unchanged` when the register already says so).
 */
import { hash } from 'node:crypto';
import type { z } from 'zod';
import type { DomainEvent } from '../../events/decider.ts';
import type { EventMetadata, EventStore, RecordedEvent, StreamAppend } from '../../events/types.ts';
import { canonicalJson } from '../../events/canonicalJson.ts';

/** One record as delivered, after the transport parsed it and the kind's schema accepted its shape. */
export interface IngestRecord<Data> {
  /** 1-based line of the source file or HTTP body (the MQTT message's sequence for a sensor). */
  line: number;
  /** The department's own id of the record: the key of re-delivery. */
  sourceRecordId: string;
  data: Data;
  /** Provenance (channel, batch, source record id, collected at), actor and grant of every event the record appends. */
  metadata: EventMetadata;
  /** Event ids derive from it (`deterministicEventId(key, i)`); see `ingestKeyOf`. */
  idempotencyKey: string;
}

/** What became of one record. */
export type RecordOutcome =
  /** A new entity (or new facts: readings, visits, declarations) was appended. */
  | { status: 'created' }
  /** The register held the entity and the record changed it (e.g. a new residence). */
  | { status: 'changed' }
  /** The register already says what the record says: nothing appended. */
  | { status: 'unchanged' }
  /** This exact record was delivered before (its idempotency key is in the stream): nothing appended. */
  | { status: 'alreadyPresent' }
  /**
   * Refused: the same message a mutation gives for the same input (`ValidationError`'s message and
   * field), and the rule's code (`BAD_USER_INPUT`, `NOT_FOUND`, `CONFLICT`, or the domain's own).
   */
  | { status: 'rejected'; code: string; message: string; field?: string };

/** A stream as a plan leaves it: what it read, what its records staged on top, and their idempotency keys. */
export interface StagedStream {
  read: readonly RecordedEvent[];
  staged: readonly DomainEvent[];
  /** Revision after `read` and `staged`. */
  revision: number;
  keys: ReadonlySet<string>;
}

/** A chunk's plan: one outcome per record, in the order given, and the appends that carry it out. */
export interface IngestPlan {
  outcomes: RecordOutcome[];
  /** Appended atomically by the channel, with expected revisions from the read the plan was decided on. */
  appends: StreamAppend[];
  /**
   * Every stream the plan appends to, as its appends leave it: the next chunk, decided while this one
   * is being committed (`plan`'s `after`), starts from these instead of reading them.
   */
  staged?: ReadonlyMap<string, StagedStream>;
}

export interface IngestKind<Data = unknown> {
  /** The `--kind` and `/ingest/<kind>` name: `persons`, `station-readings`. */
  name: string;
  /** What it carries, for help and docs (Chinese title first). */
  title: string;
  /** The catalog resource its records write: the delivering consumer needs a WRITE grant on it. */
  resource: string;
  /** The department answerable for the register (catalog short name), the default provenance department. */
  department: string;
  /** The provenance `system` when the delivery does not name one. */
  system: string;
  /**
   * The shape of one record (NDJSON object, or CSV row whose values are strings: coerce). Shape only:
   * the domain's rules stay in its deciders, so a record and a mutation are refused alike.
   */
  schema: z.ZodType<Data>;
  /**
   * Decides a chunk of records, in order, on one read of the streams they touch (`readStreams`),
   * later records seeing earlier ones' effects. Never appends: the channel commits `appends`. A
   * concurrent writer makes that commit fail on an expected revision, and the chunk is planned again.
   * `after`: the plan of the previous chunk, still being committed: decided as if it were (its
   * streams as it leaves them); the channel uses the result only if that plan is committed as is.
   */
  plan(store: EventStore, records: readonly IngestRecord<Data>[], now: string, after?: IngestPlan): Promise<IngestPlan>;
}

/**
 * The idempotency key of a delivered record: the same department, kind, source record id and
 * content give the same key (a re-delivery appends nothing); a corrected record gives another.
 */
export function ingestKeyOf(department: string, kind: string, sourceRecordId: string, data: unknown): string {
  const content = hash('sha256', canonicalJson(data), 'base64url');
  return `ingest\u0000${department}\u0000${kind}\u0000${sourceRecordId}\u0000${content}`;
}
