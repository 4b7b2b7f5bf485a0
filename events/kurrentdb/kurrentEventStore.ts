/**
 * The event store over KurrentDB / EventStoreDB 20.6.1+ (official gRPC client). Streams are
 * KurrentDB streams (optionally under a namespace prefix), expected revisions map one to one, and
 * positions are `$all` positions (see `mapping.ts`). Guarantees and their price:
 * - an append is all-or-nothing and checked against the expected revision by the server;
 * - `$all` is written by one leader in commit order, so a reader never passes an event that commits
 *   later (the gap the SQL store guards against cannot happen); reads that combine a head and a
 *   filtered page go to the leader, so both see the same log;
 * - idempotency is by event id: KurrentDB deduplicates ids per stream without comparing content, so
 *   an append whose ids may repeat (an idempotency key or caller-given ids) first looks them up in
 *   the target stream — identical content returns the first result, other content is a conflict.
 *   Uniqueness of an id across *different* streams is not enforced (KurrentDB keeps no global id
 *   index), unlike the SQL store;
 * - `readEventsById` scans `$all` backwards from the head until every id is found: its cost grows
 *   with how far back the oldest asked event lies (README: "readEventsById").
 */
import {
  BACKWARDS,
  KurrentDBClient,
  jsonEvent,
  type AllStreamSubscription,
  type JSONType,
} from '@kurrent/kurrentdb-client';
import { ConflictError, ValidationError } from '../errors.ts';
import { canonicalJson } from '../canonicalJson.ts';
import { comparePositions, isStart } from '../position.ts';
import type { EventRegistry } from '../registry.ts';
import { UUID, prepareAppend, type PreparedEvent } from '../append.ts';
import type { DomainEvent } from '../decider.ts';
import { aggregateStream, asRecorded } from '../typedReads.ts';
import {
  START, type Aggregate, type AppendOptions, type AppendResult, type EventStore, type EventSubscription, type Evolver, type NewEvent, type Position,
  type ReadAllOptions, type ReadStreamOptions, type Recorded, type RecordedEvent, type StreamAppend, type SubscribeOptions,
} from '../types.ts';
import { parseConfig } from '../config.ts';
import {
  fromKurrentPosition, isPositionRejection, isStreamNotFound, isWrongExpectedVersion, matchesFilter, planStreamRead,
  serverFilter, toConcurrencyError, toKurrentPosition, toRecordedEvent, toStoredMetadata, toStreamState, type KurrentRecord,
} from './mapping.ts';
import { kurrentConfigSchema } from './config.ts';

/** Stream reads `readStreams` keeps in flight at once. */
const READ_STREAMS_PARALLEL = 16;

export interface KurrentEventStoreOptions {
  /** Largest serialised `data` accepted for one event. @default 262144 (256 KiB) */
  maxEventBytes?: number;
  /** Namespace prefix inside a shared server (`KURRENTDB_STREAM_PREFIX`). @default "" */
  streamPrefix?: string;
}

export class KurrentEventStore implements EventStore {
  readonly backend = 'kurrentdb' as const;
  /** The appends of a batch run one after another (see `appendMany`). */
  readonly atomicAppendMany = false;
  /** Personal data is stored in clear on KurrentDB (no master key): stream ids keep their values. */
  readonly pseudonyms = undefined;
  readonly streamPrefix: string;
  private readonly maxEventBytes: number;
  private readonly subscriptions = new Set<AllStreamSubscription>();

  constructor(
    readonly client: KurrentDBClient,
    private readonly registry: EventRegistry,
    options: KurrentEventStoreOptions = {},
  ) {
    this.streamPrefix = options.streamPrefix ?? '';
    this.maxEventBytes = options.maxEventBytes ?? 262_144;
  }

  /** The KurrentDB stream that holds our stream `streamId`. */
  streamName(streamId: string): string {
    return this.streamPrefix + streamId;
  }

  private toRecorded(record: KurrentRecord | undefined): RecordedEvent | undefined {
    return record && toRecordedEvent(record, this.streamPrefix, (type, version, data) => this.registry.upcast(type, version, data));
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const { expected, prepared } = prepareAppend(streamId, events, options, this.registry, this.maxEventBytes);
    const mayRepeat = options.idempotencyKey !== undefined || events.some((e) => e.eventId !== undefined);
    if (mayRepeat) {
      const replayed = await this.priorAppend(streamId, prepared);
      if (replayed) return replayed;
    }
    let nextExpectedRevision: bigint;
    try {
      ({ nextExpectedRevision } = await this.client.appendToStream(
        this.streamName(streamId),
        prepared.map((p) =>
          jsonEvent({ id: p.eventId, type: p.type, data: p.data as JSONType, metadata: toStoredMetadata(p.metadata, p.schemaVersion) }),
        ),
        { streamState: toStreamState(expected), requiresLeader: true },
      ));
    } catch (err) {
      if (!isWrongExpectedVersion(err)) throw err;
      // A concurrent re-send of the same command may have won the race: answer it as a replay.
      const replayed = mayRepeat ? await this.priorAppend(streamId, prepared) : undefined;
      if (replayed) return replayed;
      throw toConcurrencyError(streamId, expected, err.actualState);
    }
    const last = Number(nextExpectedRevision);
    const written = await this.readStream(streamId, { fromRevision: last - prepared.length + 1, limit: prepared.length });
    if (written.length === prepared.length && written.every((e, i) => e.eventId === prepared[i]!.eventId)) {
      return { streamId, nextExpectedRevision: last, events: written, replayed: false };
    }
    // The server deduplicated the ids (same ids written just before, by a concurrent identical append).
    const replayed = await this.priorAppend(streamId, prepared);
    if (replayed) return replayed;
    throw new Error(`KurrentDB acknowledged the append to ${streamId} at revision ${last} but its events are not there`);
  }

  /**
   * NOT atomic on KurrentDB: the appends run one after another, so a failure leaves the earlier ones
   * written (the error says how many). KurrentDB's own multi-stream append accepts only flat
   * string-to-string metadata, which the envelope's nested provenance is not. Callers that batch on
   * this backend re-send with the same idempotency keys to finish a failed batch.
   */
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    for (const { streamId, events, options = {} } of appends) prepareAppend(streamId, events, options, this.registry, this.maxEventBytes);
    const results: AppendResult[] = [];
    for (const { streamId, events, options } of appends) {
      try {
        results.push(await this.append(streamId, events, options));
      } catch (error) {
        if (results.length > 0 && error instanceof Error) error.message += ` (KurrentDB: the ${results.length} appends before it in this batch are written)`;
        throw error;
      }
    }
    return results;
  }

  /**
   * The first result of an append whose event ids are already in the stream, `undefined` when none
   * is; a `ConflictError` when some are, or with other content (an id reused for another command).
   */
  private async priorAppend(streamId: string, prepared: readonly PreparedEvent[]): Promise<AppendResult | undefined> {
    const stream = await this.readStream(streamId);
    const byId = new Map(stream.map((e) => [e.eventId, e]));
    const found = prepared.map((p) => byId.get(p.eventId));
    if (found.every((e) => e === undefined)) return undefined;
    prepared.forEach((p, i) => {
      const event = found[i];
      if (!event || event.type !== p.type || canonicalJson(event.data) !== canonicalJson(p.data)) {
        throw new ConflictError(
          `event id ${p.eventId} is already stored${event ? ` in ${streamId} as ${event.type}` : ''} with other content: an idempotency key or event id was reused for a different command`,
          { streamId, eventId: p.eventId },
        );
      }
    });
    return { streamId, nextExpectedRevision: stream.at(-1)!.revision, events: found as RecordedEvent[], replayed: true };
  }

  async streamRevision(streamId: string): Promise<number | undefined> {
    try {
      for await (const resolved of this.client.readStream(this.streamName(streamId), { direction: BACKWARDS, fromRevision: 'end', maxCount: 1 })) {
        if (resolved.event) return Number(resolved.event.revision);
      }
    } catch (err) {
      if (isStreamNotFound(err)) return undefined;
      throw err;
    }
    return undefined;
  }

  readStream<E extends DomainEvent = DomainEvent>(streamId: string, options: ReadStreamOptions = {}): Promise<Recorded<E>[]> {
    return this.readRecorded(streamId, options).then(asRecorded<E>);
  }

  aggregate<E extends DomainEvent, State>(decider: Evolver<E, State>, streamId: string, options?: ReadStreamOptions): Promise<Aggregate<E, State>> {
    return aggregateStream((id, o) => this.readRecorded(id, o), decider, streamId, options);
  }

  private async readRecorded(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const plan = planStreamRead(options);
    const out: RecordedEvent[] = [];
    if (plan.limit === 0) return out;
    try {
      const read = this.client.readStream(this.streamName(streamId), {
        direction: plan.direction,
        fromRevision: plan.fromRevision,
        ...(plan.maxCount !== undefined && { maxCount: plan.maxCount }),
      });
      for await (const resolved of read) {
        const event = this.toRecorded(resolved.event);
        if (!event) continue;
        const step = plan.step(event);
        if (step === 'stop') break;
        if (step === 'skip') continue;
        out.push(event);
        if (out.length === plan.limit) break;
      }
    } catch (err) {
      if (isStreamNotFound(err)) return [];
      throw err;
    }
    return out;
  }

  /**
   * KurrentDB has no index by event id: this reads `$all` backwards from the head (our namespace,
   * no system events) and stops once every asked id is found, so its cost is the number of events
   * newer than the oldest one asked for; an unknown id costs a full scan.
   */
  /** One read per stream (KurrentDB has no multi-stream read), a few at a time. */
  async readStreams<E extends DomainEvent = DomainEvent>(streamIds: readonly string[]): Promise<Recorded<E>[][]> {
    const out: Recorded<E>[][] = [];
    for (let i = 0; i < streamIds.length; i += READ_STREAMS_PARALLEL) {
      out.push(...(await Promise.all(streamIds.slice(i, i + READ_STREAMS_PARALLEL).map((id) => this.readStream<E>(id)))));
    }
    return out;
  }

  async readEventsById(eventIds: readonly string[]): Promise<(RecordedEvent | undefined)[]> {
    const wanted = new Set(eventIds.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()));
    const byId = new Map<string, RecordedEvent>();
    if (wanted.size > 0) {
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: 'end', filter: serverFilter(this.streamPrefix, undefined) })) {
        const id = resolved.event?.id.toLowerCase();
        if (id === undefined || !wanted.has(id)) continue;
        const event = this.toRecorded(resolved.event);
        if (!event) continue;
        byId.set(id, event);
        if (byId.size === wanted.size) break;
      }
    }
    return eventIds.map((id) => byId.get(id.toLowerCase()));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readAllWithHead(options)).events;
  }

  /**
   * The head is read first: every event at or before it was committed before the page read began,
   * so when the page ends short of `limit` the log has been scanned through the head. `$all` reads
   * start *at* a position, so the event at `fromPosition` itself is dropped (ours are exclusive).
   */
  async readAllWithHead(options: ReadAllOptions = {}): Promise<{ events: RecordedEvent[]; scannedThrough: Position }> {
    const from = options.fromPosition ?? START;
    const fromPosition = toKurrentPosition(from);
    const limit = options.limit ?? 1000;
    const head = await this.headPosition();
    const events: RecordedEvent[] = [];
    let scanned = from;
    let pageStart = fromPosition;
    for (;;) {
      let read = 0;
      for await (const resolved of this.client.readAll({
        fromPosition: pageStart,
        maxCount: limit + 1,
        filter: serverFilter(this.streamPrefix, options.filter),
        requiresLeader: true,
      })) {
        read++;
        const raw = resolved.event;
        if (!raw) continue;
        const event = this.toRecorded(raw);
        const position = event?.position ?? fromKurrentPosition(raw.position);
        if (comparePositions(position, scanned) <= 0) continue;
        scanned = position;
        if (event && matchesFilter(options.filter, event.streamId, event.type)) events.push(event);
        if (events.length === limit) return { events, scannedThrough: position };
      }
      if (read < limit + 1) break;
      pageStart = toKurrentPosition(scanned);
    }
    return { events, scannedThrough: comparePositions(head, scanned) > 0 ? head : scanned };
  }

  /** KurrentDB positions are commit order: the head readers see is the committed head. */
  committedHead(): Promise<Position> {
    return this.headPosition();
  }

  async headPosition(): Promise<Position> {
    for await (const resolved of this.client.readAll({
      direction: BACKWARDS,
      fromPosition: 'end',
      maxCount: 1,
      filter: serverFilter(this.streamPrefix, undefined),
      requiresLeader: true,
    })) {
      if (resolved.event) return fromKurrentPosition(resolved.event.position);
    }
    return START;
  }

  /** Refuses a resume position that no stored event has: the client would silently miss events. */
  async assertPositionExists(position: Position): Promise<string | null> {
    const start = toKurrentPosition(position);
    if (isStart(position)) return null;
    const missing = new ValidationError(`position ${position} does not exist in this store: resume from a position you received, or from the start`, {
      position,
    });
    try {
      for await (const resolved of this.client.readAll({ fromPosition: start, maxCount: 1, requiresLeader: true })) {
        const event = resolved.event;
        if (event?.position && fromKurrentPosition(event.position) === position) return event.created.toISOString();
      }
    } catch (err) {
      if (isPositionRejection(err)) throw missing;
      throw err;
    }
    throw missing;
  }

  /** A catch-up subscription to `$all` with the server-side filter, then live; back-pressure is the stream's. */
  subscribe(options: SubscribeOptions = {}): EventSubscription {
    const controller = new AbortController();
    if (options.signal) options.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const signal = controller.signal;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;

    async function* iterate(): AsyncGenerator<RecordedEvent> {
      const from = options.fromPosition ?? START;
      await store.assertPositionExists(from);
      if (signal.aborted) return;
      const subscription = store.client.subscribeToAll(
        { fromPosition: toKurrentPosition(from), filter: serverFilter(store.streamPrefix, options.filter) },
        { highWaterMark: options.batchSize ?? 500 },
      );
      store.subscriptions.add(subscription);
      const stop = () => void subscription.unsubscribe().catch(() => undefined);
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const resolved of subscription) {
          if (signal.aborted) return;
          const event = store.toRecorded(resolved.event);
          if (event && matchesFilter(options.filter, event.streamId, event.type)) yield event;
        }
      } finally {
        signal.removeEventListener('abort', stop);
        store.subscriptions.delete(subscription);
        await subscription.unsubscribe().catch(() => undefined);
      }
    }

    const iterator = iterate();
    return {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        controller.abort();
        await iterator.return(undefined);
      },
    };
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions) await subscription.unsubscribe().catch(() => undefined);
    this.subscriptions.clear();
    await this.client.dispose();
  }
}

/** The connection string without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Connects to `url` (`KURRENTDB_URL`) and checks the server answers, so a wrong address fails at
 * start-up with one clear line instead of at the first command.
 */
export async function openKurrentEventStore(
  url: string,
  registry: EventRegistry,
  options: KurrentEventStoreOptions = {},
): Promise<KurrentEventStore> {
  parseConfig(kurrentConfigSchema, {
    KURRENTDB_URL: url,
    ...(options.streamPrefix !== undefined && options.streamPrefix !== '' && { KURRENTDB_STREAM_PREFIX: options.streamPrefix }),
  });
  const store = new KurrentEventStore(KurrentDBClient.connectionString(url), registry, options);
  try {
    await store.headPosition();
  } catch (err) {
    await store.client.dispose().catch(() => undefined);
    throw new Error(`KurrentDB at ${redact(url)} did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return store;
}
