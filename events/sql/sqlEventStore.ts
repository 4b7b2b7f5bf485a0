/**
 * The event store over SQL, shared by PGlite and PostgreSQL. Guarantees:
 * - an append is all-or-nothing and checks the expected revision in the same statement;
 * - an idempotent re-send (same event ids) writes nothing and returns the first result;
 * - `readAll` and `subscribe` only pass events of transactions older than every transaction still
 *   in flight, so a subscriber never skips an event that commits out of sequence order.
 */
import { canonicalJson } from '../canonicalJson.ts';
import { checkAppend, serialiseChecked, UUID, type CheckedEvent, type EventEncoder, type PreparedEvent } from '../append.ts';
import { ConcurrencyError, ConflictError, ValidationError } from '../errors.ts';
import { comparePositions, decodePosition, encodePosition, isStart } from '../position.ts';
import type { EventRegistry } from '../registry.ts';
import type { DomainEvent } from '../decider.ts';
import { aggregateStream, asRecorded } from '../typedReads.ts';
import {
  START, type Aggregate, type AppendOptions, type AppendResult, type EventStore, type EventSubscription, type Evolver, type ExpectedRevision,
  type NewEvent, type Position, type ReadAllOptions, type ReadStreamOptions, type Recorded, type RecordedEvent, type StreamAppend,
  type SubscribeOptions,
} from '../types.ts';
import type { SqlDatabase, SqlExecutor } from './database.ts';
import { EVENT_STORE_SCHEMA, type EventRowIdentity } from './schema.ts';

export interface SqlEventStoreOptions {
  /** Largest serialised `data` accepted for one event. @default 262144 (256 KiB) */
  maxEventBytes?: number;
  /** Longest wait between polls when no NOTIFY arrives. @default 500 */
  maxPollIntervalMs?: number;
  /**
   * Asked once per `appendMany`, synchronously when it is called: what turns that append's checked
   * events into what is stored (events/crypto/personalDataStore.ts). A single append encodes before
   * anything is sent; a batch while its first statement is at the server (`writeBatchIn`).
   */
  encoder?: () => EventEncoder | undefined;
  /**
   * Asked once per `appendMany`, synchronously when it is called (before anything is sent): how to
   * get the rows to store in the same transaction as the events it writes.
   */
  companion?: () => Companion | undefined;
  /** Applied to the events of every read before they are returned (events/crypto/personalDataStore.ts). */
  decoder?: EventDecoder;
}

/**
 * How stored events are turned back into what readers see, with what that needs read beside each event
 * by the read's own statement (events/crypto/: the data key it is sealed under), so it costs no round
 * trip of its own and is never kept beyond the read.
 */
export interface EventDecoder {
  /** An SQL expression over the stored event `e` read beside it; none: `decode` gets no values. */
  column?: string;
  /** The events of one read as readers see them, given each event's `column` value. */
  decode(events: RecordedEvent[], values?: readonly unknown[]): Promise<RecordedEvent[]>;
}

/**
 * Rows an append stores beside its events in its write statement, so they commit or roll back
 * together (events/crypto/: the data keys its events were sealed with, created for new subjects).
 */
export interface CompanionRows {
  /**
   * An SQL expression, its parameters numbered from `$first`, that stores the rows and fails unless it
   * stored every one, which rolls the append back. It is evaluated after the events are written, and
   * not when the append wrote nothing (every append a replay): the append then fails with
   * `CompanionRowsUnwritten`.
   */
  sql(first: number): string;
  params: unknown[];
}

/** The companion rows of the events an append writes, not those of its replays (`SqlEventStoreOptions.companion`). */
export type Companion = (written: readonly PreparedEvent[]) => CompanionRows | undefined;

/** The append wrote nothing (every append a replay), so its companion rows were not stored either. */
export class CompanionRowsUnwritten extends Error {
  constructor() {
    super('every append was a replay: its companion rows were not stored');
  }
}

interface EventRow extends EventRowIdentity {
  data: unknown;
  metadata: RecordedEvent['metadata'];
  recorded_at: Date | string;
  /** `EventDecoder.column`'s value, when the store has a decoder with a column. */
  decoded_with?: unknown;
}

/** An append of a batch: checked, and once encoded and serialised, `prepared` (`SqlEventStore.appendMany`). */
interface BatchAppend {
  streamId: string;
  expected: ExpectedRevision;
  checked: CheckedEvent[];
  prepared?: PreparedEvent[];
}

interface AppendRow {
  batch_index: number;
  global_position: string;
  transaction_id: string;
  stream_revision: number;
  event_id: string;
  recorded_at: Date | string;
  replayed: boolean;
}

// Always select from `es_events e` and order by `e.` columns: the text aliases below would otherwise
// shadow the bigint/xid8 columns in ORDER BY and sort "9" after "12".
const EVENT_COLUMNS = `e.global_position::text AS global_position, e.transaction_id::text AS transaction_id, e.stream_id,
  e.stream_revision, e.event_id::text AS event_id, e.type, e.schema_version, e.data, e.metadata, e.recorded_at`;

function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/**
 * Prepared events as the JSON array `es_append` and the batch insert read (`eventId`, `type`,
 * `schemaVersion`, `data`, `metadata`, and `extra(i)`'s fields): `data` as `prepareAppend` already
 * serialised it, and each metadata object serialised once however many events share it (a record's).
 */
function eventsJson(events: readonly PreparedEvent[], extra: (index: number) => string = () => ''): string {
  const metadataJson = new Map<object, string>();
  // Appended to one string, copied once when the driver encodes it: parts joined were copied twice
  // (each part flattened, then the join), ~3.5 µs of Node CPU per event of a batch (~670 B each).
  let json = '[';
  for (let i = 0; i < events.length; i++) {
    const p = events[i]!;
    let metadata = metadataJson.get(p.metadata);
    if (metadata === undefined) metadataJson.set(p.metadata, (metadata = JSON.stringify(p.metadata)));
    json += `${i ? ',' : ''}{${extra(i)}"eventId":"${p.eventId}","type":${JSON.stringify(p.type)},"schemaVersion":${p.schemaVersion},"data":${p.dataJson},"metadata":${metadata}}`;
  }
  return `${json}]`;
}

/** A batch's new stream that its first append expected `any` of was created by another writer meanwhile (without events where the batch puts its own): the batch rolls back and is redone. */
class StreamCreatedMeanwhile extends Error {}

/** A batch's new stream that another writer created (and wrote) first, met as its revisions being taken. */
function takenStreamOf(err: unknown): string | undefined {
  return /\(stream_id, stream_revision\)=\((.+), -?\d+\) already exists/.exec((err as { detail?: string }).detail ?? '')?.[1];
}

/** Each redo needs another writer to create one of the batch's `any` streams in the instant between its two statements: a third time is a `ConcurrencyError`. */
const MAX_BATCH_ATTEMPTS = 3;

function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class SqlEventStore implements EventStore {
  readonly backend: 'pglite' | 'postgres';
  readonly atomicAppendMany = true;
  /** Personal data in clear: the personal-data store (events/crypto/) decorates this one with its pseudonyms. */
  readonly pseudonyms = undefined;
  private readonly maxEventBytes: number;
  private readonly maxPollIntervalMs: number;
  private readonly encoder: (() => EventEncoder | undefined) | undefined;
  private readonly companion: (() => Companion | undefined) | undefined;
  private readonly decoder: EventDecoder | undefined;
  /** The columns every read selects from `es_events e`: the event's, and the decoder's. */
  private readonly columns: string;
  private readonly wakeups = new Set<() => void>();
  private unlisten: (() => Promise<void>) | undefined;

  private constructor(
    readonly db: SqlDatabase,
    private readonly registry: EventRegistry,
    options: SqlEventStoreOptions,
  ) {
    this.backend = db.backend;
    this.maxEventBytes = options.maxEventBytes ?? 262_144;
    this.maxPollIntervalMs = options.maxPollIntervalMs ?? 500;
    this.encoder = options.encoder;
    this.companion = options.companion;
    this.decoder = options.decoder;
    this.columns = `${EVENT_COLUMNS}${this.decodedWith()}`;
  }

  /** The decoder's column as a select-list item over `e` (empty when none). */
  private decodedWith(): string {
    return this.decoder?.column ? `, ${this.decoder.column} AS decoded_with` : '';
  }

  /** Rows of one read as readers see them: upcast, then decoded together (one call per read). */
  private recorded(rows: readonly EventRow[]): Promise<RecordedEvent[]> | RecordedEvent[] {
    const events = rows.map((r) => this.toRecorded(r));
    if (!this.decoder) return events;
    return this.decoder.decode(events, this.decoder.column ? rows.map((r) => r.decoded_with) : undefined);
  }

  /** Creates the tables if needed and starts listening for appends. */
  static async open(db: SqlDatabase, registry: EventRegistry, options: SqlEventStoreOptions = {}): Promise<SqlEventStore> {
    await db.exec(EVENT_STORE_SCHEMA);
    const store = new SqlEventStore(db, registry, options);
    store.unlisten = await db.listen('es_events', () => {
      for (const wake of store.wakeups) wake();
    });
    return store;
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, options }]);
    return result!;
  }

  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const encode = this.encoder?.();
    const companion = this.companion?.();
    // Every append is checked before anything is sent, so a refused batch has written nothing. Encoding
    // and serialising (and the size check of what is stored) are left to `serialise`: a batch does them
    // while its first statement is at the server, where it waits otherwise (`writeBatchIn`); a refusal
    // then rolls that transaction back, having written nothing either.
    const batch: BatchAppend[] = appends.map(({ streamId, events, options = {} }) => ({ streamId, ...checkAppend(streamId, events, options, this.registry) }));
    if (batch.length === 0) return [];
    const serialise = (): void => {
      for (const a of batch) a.prepared ??= serialiseChecked(a.streamId, a.checked, this.maxEventBytes, encode);
    };
    const rows = await this.runAppend(batch, companion, serialise);
    const byAppend = batch.map((): AppendRow[] => []);
    for (const row of rows) byAppend[row.batch_index]!.push(row);
    return Promise.all(
      batch.map(async ({ streamId, prepared: serialised }, index): Promise<AppendResult> => {
        const prepared = serialised!;
        const written = byAppend[index]!;
        if (written[0]?.replayed) return this.replayedResult(streamId, prepared);
        const recorded: RecordedEvent[] = written.map((row, i) => {
          const p = prepared[i]!;
          return {
            eventId: p.eventId,
            streamId,
            revision: row.stream_revision,
            position: encodePosition(row.transaction_id, row.global_position),
            sequence: Number(row.global_position),
            type: p.type,
            schemaVersion: p.schemaVersion,
            recordedAt: toIso(row.recorded_at),
            data: p.data,
            metadata: p.metadata,
          };
        });
        return { streamId, nextExpectedRevision: recorded[recorded.length - 1]!.revision, events: recorded, replayed: false };
      }),
    );
  }

  /** One transaction for the whole batch (one statement for a single append, its companion rows included); store errors become typed errors. */
  private async runAppend(batch: readonly BatchAppend[], companionOf: Companion | undefined, serialise: () => void): Promise<AppendRow[]> {
    try {
      // A single append skips the batch's two statements: it is the hot path of every command.
      if (batch.length > 1) return await this.writeBatch(batch, companionOf, serialise);
      serialise();
      const prepared = batch[0]!.prepared!;
      // A single append writes all its events or, a replay, none (and then no companion row: see below).
      const companion = companionOf?.(prepared);
      const params = [batch[0]!.streamId, String(batch[0]!.expected), eventsJson(prepared)];
      if (!companion) return (await this.db.query<AppendRow>('SELECT 0 AS batch_index, * FROM es_append($1, $2, $3::jsonb)', params)).rows;
      // The companion rows are stored after the events, as a batch stores them (the lock order of
      // `writeBatch`): the arms of a UNION ALL run in order. Its arm returns no row. Its text is fixed,
      // so PostgreSQL keeps its plan: parsing and planning the CTE was most of what a new subject's
      // single append cost PostgreSQL more than one in clear (~250 µs of backend CPU per append).
      const { rows } = await this.db.query<AppendRow>(
        `WITH appended AS MATERIALIZED (SELECT * FROM es_append($1, $2, $3::jsonb)),
         companion AS MATERIALIZED (SELECT CASE WHEN bool_or(a.replayed) THEN NULL ELSE ${companion.sql(4)} END FROM appended a)
         SELECT 0 AS batch_index, a.* FROM appended a
         UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM companion HAVING count(*) < 0`,
        [...params, ...companion.params],
        { prepared: true },
      );
      if (rows[0]?.replayed) throw new CompanionRowsUnwritten();
      return rows;
    } catch (err) {
      if (err instanceof ConcurrencyError || err instanceof CompanionRowsUnwritten) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const concurrency = /ES_CONCURRENCY:(-?\d+):(\S+)/.exec(message);
      if (concurrency) {
        const actual = Number(concurrency[1]);
        const streamId = concurrency[2]!;
        const expected = batch.find((a) => a.streamId === streamId)?.expected ?? 'any';
        throw new ConcurrencyError(streamId, String(expected), actual < 0 ? undefined : actual);
      }
      const taken = takenStreamOf(err);
      if (taken !== undefined) throw new ConcurrencyError(taken, String(batch.find((a) => a.streamId === taken)?.expected ?? 'any'), await this.streamRevision(taken));
      if (/es_events_event_id_key|duplicate key value.*event_id/.test(message)) {
        const streams = [...new Set(batch.map((a) => a.streamId))];
        const where = streams.length === 1 ? `this append to ${streams[0]}` : `this batch of appends (${streams.length} streams)`;
        throw new ConflictError(`an event id of ${where} is already stored with other content`, { streamId: streams[0]! });
      }
      throw err;
    }
  }

  /**
   * Several appends in one transaction, in two statements whatever their number (a per-append loop in
   * SQL made batch writes cost as much as separate appends). The first locks the streams that exist
   * and finds the event ids already stored; each append's expected revision is checked against the
   * revision found — earlier appends of the batch included. The second writes everything: new streams
   * created at their final revision (one row write each, not insert-lock-update), existing ones moved
   * on, the events inserted in batch order, then the companion rows. Rows as `es_append` returns them.
   *
   * Lock order, the same in every batch so concurrent ones queue instead of deadlocking: the existing
   * streams (first statement, in stream order), then the new ones (in stream order), then the batch's
   * own events, then the companion rows (a new subject's key: in key order), the order a single append
   * takes its one stream, its events and its companion rows in too. A new stream another
   * writer created meanwhile is met by the unique keys: the batch waits for that writer's commit, then
   * an append that expected `any` is redone on the stream now found (as `es_append` waits for a
   * concurrent creator), any other becomes a `ConcurrencyError` (`runAppend`). When every append was a
   * replay, nothing is written, the companion rows neither (`CompanionRowsUnwritten`).
   */
  private async writeBatch(batch: readonly BatchAppend[], companionOf: Companion | undefined, serialise: () => void): Promise<AppendRow[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.writeBatchIn(tx, batch, companionOf, serialise, attempt < MAX_BATCH_ATTEMPTS));
      } catch (err) {
        const taken = err instanceof StreamCreatedMeanwhile ? undefined : takenStreamOf(err);
        const redo = err instanceof StreamCreatedMeanwhile || (taken !== undefined && attempt < MAX_BATCH_ATTEMPTS && batch.find((a) => a.streamId === taken)?.expected === 'any');
        if (!redo) throw err;
      }
    }
  }

  private async writeBatchIn(
    tx: SqlExecutor,
    batch: readonly BatchAppend[],
    companionOf: Companion | undefined,
    serialise: () => void,
    mayRedo: boolean,
  ): Promise<AppendRow[]> {
    const streams = [...new Set(batch.map((a) => a.streamId))].sort();
    const locking = tx.query<{ revision: number | null } & Omit<AppendRow, 'batch_index' | 'replayed'> & { stream_id: string }>(
      `WITH locked AS MATERIALIZED (SELECT s.stream_id, s.revision FROM es_streams s WHERE s.stream_id = ANY($1::text[]) ORDER BY s.stream_id FOR UPDATE)
       SELECT l.stream_id, l.revision, NULL AS global_position, NULL AS transaction_id, NULL::integer AS stream_revision, NULL AS event_id, NULL::timestamptz AS recorded_at FROM locked l
       UNION ALL
       SELECT e.stream_id, NULL, e.global_position::text, e.transaction_id::text, e.stream_revision, e.event_id::text, e.recorded_at
       FROM es_events e WHERE e.event_id = ANY($2::uuid[])`,
      [streams, batch.flatMap((a) => a.checked.map((c) => c.eventId))],
    );
    // The batch is encoded and serialised while that statement is at the server (its first attempt):
    // Node would wait for it otherwise, and the server for Node after it. PostgreSQL has received it
    // by now (node-postgres writes a statement to the socket as it is called on an idle connection).
    try {
      serialise();
    } catch (err) {
      await locking.catch(() => undefined);
      throw err;
    }
    const { rows: found } = await locking;
    const before = new Map<string, number>();
    const storedById = new Map<string, Omit<AppendRow, 'batch_index' | 'replayed'>>();
    for (const row of found) {
      if (row.revision !== null) before.set(row.stream_id, row.revision);
      else storedById.set(row.event_id, row);
    }
    const revisions = new Map(before);
    const plannedIds = new Set<string>();
    const replays: AppendRow[] = [];
    const rows: { batch_index: number; stream_id: string; stream_revision: number; event: PreparedEvent }[] = [];
    batch.forEach(({ streamId, expected, prepared: serialised }, index) => {
      const prepared = serialised!;
      const first = prepared[0]!.eventId;
      // As `es_append`: an append whose first event is already stored (or earlier in this batch) is a replay.
      if (storedById.has(first) || plannedIds.has(first)) {
        for (const p of prepared) {
          const row = storedById.get(p.eventId);
          replays.push({ ...(row ?? { global_position: '0', transaction_id: '0', stream_revision: -1, event_id: p.eventId, recorded_at: new Date(0) }), batch_index: index, replayed: true });
        }
        return;
      }
      const current = revisions.get(streamId) ?? -1;
      const stale =
        (expected === 'no_stream' && current !== -1) || (expected === 'stream_exists' && current === -1) || (typeof expected === 'number' && expected !== current);
      if (stale) throw new ConcurrencyError(streamId, String(expected), current < 0 ? undefined : current);
      prepared.forEach((p, i) => {
        plannedIds.add(p.eventId);
        rows.push({ batch_index: index, stream_id: streamId, stream_revision: current + 1 + i, event: p });
      });
      revisions.set(streamId, current + prepared.length);
    });
    // The companion rows of the events written: a replayed append's events are not, so rows only they would need are not stored.
    const companion = companionOf?.(rows.map((r) => r.event));
    if (rows.length === 0) {
      if (companion) throw new CompanionRowsUnwritten();
      return replays;
    }
    const changed = [...revisions].filter(([streamId, revision]) => revision !== before.get(streamId)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const created = changed.filter(([streamId]) => !before.has(streamId));
    const moved = changed.filter(([streamId]) => before.has(streamId));
    // The new streams are created first (the first arm of the UNION ALL), in stream order: a concurrent creator of the same streams waits in that order, never in a cycle.
    // Per event only its position comes back: the transaction and the instant are the same for the whole batch.
    const { rows: written } = await tx.query<{ kind: 'c' | 'e' | 'n'; global_position: string | null; transaction_id: string | null; id: string | null; recorded_at: Date | null }>(
      `WITH now AS MATERIALIZED (SELECT date_trunc('milliseconds', clock_timestamp()) AS at),
       created AS (
         INSERT INTO es_streams (stream_id, revision) SELECT x.s, x.r FROM unnest($2::text[], $3::integer[]) AS x(s, r) ORDER BY x.s
         ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id),
       moved AS (
         INSERT INTO es_streams (stream_id, revision) SELECT x.s, x.r FROM unnest($4::text[], $5::integer[]) AS x(s, r) ORDER BY x.s
         ON CONFLICT (stream_id) DO UPDATE SET revision = EXCLUDED.revision),
       inserted AS (
         INSERT INTO es_events AS e (stream_id, stream_revision, event_id, type, schema_version, data, metadata, recorded_at)
         SELECT x.stream_id, x.stream_revision, x."eventId", x.type, x."schemaVersion", x.data, x.metadata, now.at
         FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, stream_id text, stream_revision integer, "eventId" uuid, type text, "schemaVersion" integer, data jsonb, metadata jsonb), now
         ORDER BY x.ord
         RETURNING e.global_position, e.event_id)${companion ? `,
       companion AS (SELECT ${companion.sql(6)})` : ''}
       SELECT 'c' AS kind, NULL AS global_position, NULL AS transaction_id, c.stream_id AS id, NULL::timestamptz AS recorded_at FROM created c
       UNION ALL SELECT 'e', i.global_position::text, NULL, i.event_id::text, NULL FROM inserted i
       UNION ALL SELECT 'n', NULL, pg_current_xact_id()::text, NULL, now.at FROM now, (SELECT pg_notify('es_events', '')) n${companion ? `
       UNION ALL SELECT 'k', NULL, NULL, NULL, NULL FROM companion HAVING count(*) < 0` : ''}`,
      [
        eventsJson(
          rows.map((r) => r.event),
          (i) => `"ord":${i},"stream_id":${JSON.stringify(rows[i]!.stream_id)},"stream_revision":${rows[i]!.stream_revision},`,
        ),
        created.map(([s]) => s), created.map(([, r]) => r), moved.map(([s]) => s),
        moved.map(([, r]) => r),
        ...(companion?.params ?? []),
      ],
    );
    const positionById = new Map<string, string>();
    const createdStreams = new Set<string>();
    let batchRow: (typeof written)[number] | undefined;
    for (const row of written) {
      if (row.kind === 'e') positionById.set(row.id!, row.global_position!);
      else if (row.kind === 'c') createdStreams.add(row.id!);
      else batchRow = row;
    }
    const raced = created.find(([streamId]) => !createdStreams.has(streamId));
    if (raced && mayRedo && batch.find((a) => a.streamId === raced[0])!.expected === 'any') throw new StreamCreatedMeanwhile();
    if (raced) throw await this.raceError(tx, raced[0], batch);
    const { transaction_id, recorded_at } = batchRow!;
    return [
      ...rows.map((r) => ({ global_position: positionById.get(r.event.eventId)!, transaction_id: transaction_id!, stream_revision: r.stream_revision, event_id: r.event.eventId, recorded_at: recorded_at!, batch_index: r.batch_index, replayed: false })),
      ...replays,
    ];
  }

  /** A stream the batch found missing was created by another writer before the batch could: its revision now, as a `ConcurrencyError`. */
  private async raceError(tx: SqlExecutor, streamId: string, batch: readonly { streamId: string; expected: ExpectedRevision }[]): Promise<ConcurrencyError> {
    const { rows } = await tx.query<{ revision: number }>('SELECT revision FROM es_streams WHERE stream_id = $1', [streamId]);
    const actual = rows[0]?.revision ?? -1;
    return new ConcurrencyError(streamId, String(batch.find((a) => a.streamId === streamId)?.expected ?? 'any'), actual < 0 ? undefined : actual);
  }

  /** The same event ids were stored before: identical content is an idempotent replay, anything else a conflict. */
  private async replayedResult(
    streamId: string,
    prepared: { eventId: string; type: string; data: unknown }[],
  ): Promise<AppendResult> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${this.columns} FROM es_events e WHERE e.event_id = ANY($1::uuid[]) ORDER BY e.global_position`,
      [prepared.map((p) => p.eventId)],
    );
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    for (const p of prepared) {
      const row = byId.get(p.eventId);
      if (!row || row.stream_id !== streamId || row.type !== p.type || canonicalJson(row.data) !== canonicalJson(p.data)) {
        throw new ConflictError(
          `event id ${p.eventId} is already stored${row ? ` in ${row.stream_id} as ${row.type}` : ''} with other content: an idempotency key or event id was reused for a different command`,
          { streamId, eventId: p.eventId },
        );
      }
    }
    const events = await this.recorded(rows);
    const last = await this.streamRevision(streamId);
    return { streamId, nextExpectedRevision: last ?? -1, events, replayed: true };
  }

  async streamRevision(streamId: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ revision: number }>('SELECT revision FROM es_streams WHERE stream_id = $1', [streamId]);
    const revision = rows[0]?.revision;
    return revision === undefined || revision < 0 ? undefined : revision;
  }

  async readEventsById(eventIds: readonly string[]): Promise<(RecordedEvent | undefined)[]> {
    const valid = [...new Set(eventIds.filter((id) => UUID.test(id)))];
    if (valid.length === 0) return eventIds.map(() => undefined);
    const { rows } = await this.db.query<EventRow>(`SELECT ${this.columns} FROM es_events e WHERE e.event_id = ANY($1::uuid[])`, [valid]);
    const byId = new Map((await this.recorded(rows)).map((event) => [event.eventId.toLowerCase(), event]));
    return eventIds.map((id) => byId.get(id.toLowerCase()));
  }

  readStream<E extends DomainEvent = DomainEvent>(streamId: string, options: ReadStreamOptions = {}): Promise<Recorded<E>[]> {
    return this.readRecorded(streamId, options).then(asRecorded<E>);
  }

  aggregate<E extends DomainEvent, State>(decider: Evolver<E, State>, streamId: string, options?: ReadStreamOptions): Promise<Aggregate<E, State>> {
    return aggregateStream((id, o) => this.readRecorded(id, o), decider, streamId, options);
  }

  private async readRecorded(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const params: unknown[] = [streamId];
    let where = 'e.stream_id = $1';
    if (options.fromRevision !== undefined) {
      params.push(options.fromRevision);
      where += ` AND e.stream_revision ${options.direction === 'backwards' ? '<=' : '>='} $${params.length}`;
    }
    if (options.toRevision !== undefined) {
      params.push(options.toRevision);
      where += ` AND e.stream_revision ${options.direction === 'backwards' ? '>=' : '<='} $${params.length}`;
    }
    if (options.toPosition !== undefined) {
      const { tx, seq } = decodePosition(options.toPosition);
      params.push(tx.toString(), seq.toString());
      where += ` AND (e.transaction_id, e.global_position) <= ($${params.length - 1}::xid8, $${params.length}::bigint)`;
    }
    if (options.toTime !== undefined) {
      if (Number.isNaN(Date.parse(options.toTime))) throw new ValidationError(`toTime "${options.toTime}" is not an ISO 8601 instant`);
      params.push(options.toTime);
      where += ` AND e.recorded_at <= $${params.length}::timestamptz`;
    }
    let sql = `SELECT ${this.columns} FROM es_events e WHERE ${where} ORDER BY e.stream_revision ${options.direction === 'backwards' ? 'DESC' : 'ASC'}`;
    if (options.limit !== undefined) {
      params.push(options.limit);
      sql += ` LIMIT $${params.length}`;
    }
    // A handful of fixed texts (by the options given), the reads `history`, `asOf` and every command's aggregate make.
    const { rows } = await this.db.query<EventRow>(sql, params, { prepared: true });
    return this.recorded(rows);
  }

  async readStreams<E extends DomainEvent = DomainEvent>(streamIds: readonly string[]): Promise<Recorded<E>[][]> {
    const unique = [...new Set(streamIds)];
    if (unique.length === 0) return [];
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${this.columns} FROM es_events e WHERE e.stream_id = ANY($1::text[]) ORDER BY e.stream_id, e.stream_revision`,
      [unique],
    );
    const byStream = new Map<string, RecordedEvent[]>(unique.map((id) => [id, []]));
    for (const event of await this.recorded(rows)) byStream.get(event.streamId)!.push(event);
    // A stream asked twice gets its own copy of the list (a set, not indexOf: a chunk asks for tens of thousands).
    const given = new Set<string>();
    return streamIds.map((id) => {
      const events = byStream.get(id)!;
      if (given.has(id)) return asRecorded<E>([...events]);
      given.add(id);
      return asRecorded<E>(events);
    });
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readAllWithHead(options)).events;
  }

  /**
   * One statement, one snapshot: the events after `fromPosition` that are safe to pass, and the
   * position through which everything has been scanned (so a filtered reader can move past
   * events it does not want without ever passing one that is still in flight).
   */
  async readAllWithHead(options: ReadAllOptions = {}): Promise<{ events: RecordedEvent[]; scannedThrough: Position }> {
    const from = decodePosition(options.fromPosition ?? START);
    const limit = options.limit ?? 1000;
    const types = options.filter?.types?.length ? [...options.filter.types] : null;
    const prefixes = options.filter?.streamPrefixes?.length ? options.filter.streamPrefixes.map(likePrefix) : null;
    const { rows } = await this.db.query<EventRow & { is_head: boolean }>(`SELECT e.*${this.decodedWith()} FROM es_read_after($1::xid8, $2::bigint, $3, $4::text[], $5::text[]) e`, [
      from.tx.toString(),
      from.seq.toString(),
      limit,
      types,
      prefixes,
    ]);
    const events = await this.recorded(rows.filter((r) => !r.is_head));
    const head = rows.find((r) => r.is_head);
    let scannedThrough = options.fromPosition ?? START;
    if (events.length === limit) {
      scannedThrough = events[events.length - 1]!.position;
    } else if (head) {
      const headPosition = encodePosition(head.transaction_id, head.global_position);
      if (comparePositions(headPosition, scannedThrough) > 0) scannedThrough = headPosition;
    }
    return { events, scannedThrough };
  }

  async headPosition(): Promise<Position> {
    const { rows } = await this.db.query<{ transaction_id: string; global_position: string }>(
      `SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position FROM es_events e
       WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
    );
    const row = rows[0];
    return row ? encodePosition(row.transaction_id, row.global_position) : START;
  }

  async committedHead(): Promise<Position> {
    const { rows } = await this.db.query<{ transaction_id: string; global_position: string }>(
      `SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position FROM es_events e
       ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
    );
    const row = rows[0];
    return row ? encodePosition(row.transaction_id, row.global_position) : START;
  }

  /** Refuses a resume position that no stored event has: the client would silently miss events. */
  async assertPositionExists(position: Position): Promise<string | null> {
    if (isStart(position)) return null;
    const { tx, seq } = decodePosition(position);
    const { rows } = await this.db.query<{ recorded_at: Date | string }>('SELECT recorded_at FROM es_events WHERE global_position = $1 AND transaction_id = $2::xid8', [
      seq.toString(),
      tx.toString(),
    ]);
    if (rows.length === 0) {
      throw new ValidationError(`position ${position} does not exist in this store: resume from a position you received, or from the start`, {
        position,
      });
    }
    return toIso(rows[0]!.recorded_at);
  }

  subscribe(options: SubscribeOptions = {}): EventSubscription {
    const controller = new AbortController();
    if (options.signal) options.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const signal = controller.signal;
    const batchSize = options.batchSize ?? 500;
    let wake: (() => void) | undefined;
    const onAppend = () => wake?.();
    this.wakeups.add(onAppend);
    signal.addEventListener('abort', onAppend, { once: true });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;

    async function* iterate(): AsyncGenerator<RecordedEvent> {
      let cursor = options.fromPosition ?? START;
      await store.assertPositionExists(cursor);
      let idleMs = 5;
      try {
        while (!signal.aborted) {
          // Arm the wake-up before reading so an append between read and wait is not missed.
          let woken = false;
          const wokenPromise = new Promise<void>((resolve) => {
            wake = () => {
              woken = true;
              resolve();
            };
          });
          const { events, scannedThrough } = await store.readAllWithHead({ fromPosition: cursor, limit: batchSize, filter: options.filter });
          for (const event of events) {
            if (signal.aborted) return;
            yield event;
            cursor = event.position;
          }
          if (comparePositions(scannedThrough, cursor) > 0) cursor = scannedThrough;
          if (events.length === batchSize) {
            idleMs = 5;
            continue;
          }
          if (!woken) {
            await Promise.race([wokenPromise, new Promise((r) => setTimeout(r, idleMs))]);
            idleMs = woken ? 5 : Math.min(idleMs * 2, store.maxPollIntervalMs);
          }
        }
      } finally {
        store.wakeups.delete(onAppend);
      }
    }

    const iterator = iterate();
    return {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        controller.abort();
        store.wakeups.delete(onAppend);
        await iterator.return(undefined);
      },
    };
  }

  private toRecorded(row: EventRow): RecordedEvent {
    return {
      eventId: row.event_id,
      streamId: row.stream_id,
      revision: row.stream_revision,
      position: encodePosition(row.transaction_id, row.global_position),
      sequence: Number(row.global_position),
      type: row.type,
      schemaVersion: row.schema_version,
      recordedAt: toIso(row.recorded_at),
      data: this.registry.upcast(row.type, row.schema_version, row.data),
      metadata: row.metadata,
    };
  }

  async close(): Promise<void> {
    for (const wake of this.wakeups) wake();
    this.wakeups.clear();
    await this.unlisten?.();
  }
}
