/**
 * Write-behind for batch work (the demo seed, imports): the command handlers run unchanged against
 * this store, which answers their stream reads from memory and writes their appends to the real
 * store in batches through `appendMany`, one transaction per batch. A command then costs no round
 * trip of its own, and thousands of commands share one commit.
 *
 * Nothing is weakened: every buffered append keeps its expected revision and idempotency key, and
 * the real store checks them again when the batch is written, so a concurrent writer turns into a
 * `ConcurrencyError` at `flush()`, never into lost data. Until then, what a buffered append returns
 * is provisional: its events carry a placeholder position (`START`) and the instant of the append;
 * the real ones are written into those same objects when the batch is written, so a caller holding them
 * sees the stored position and instant after `flush()`. Reads other than `readStream` /
 * `streamRevision` (readAll, subscribe, readEventsById, headPosition) go to the real store and see
 * only what has been flushed.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, ConflictError, ValidationError } from './errors.ts';
import { canonicalJson } from './canonicalJson.ts';
import { deterministicEventId } from './append.ts';
import type { DomainEvent } from './decider.ts';
import { aggregateStream, asRecorded } from './typedReads.ts';
import {
  START,
  type Aggregate,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type Evolver,
  type NewEvent,
  type ReadStreamOptions,
  type Recorded,
  type RecordedEvent,
  type StreamAppend,
} from './types.ts';

export interface BufferedEventStoreOptions {
  /** Buffered events that trigger a write (see `flushEvents` on the store). @default 5000 */
  flushEvents?: number;
  /**
   * The real store held no events when the buffer was opened and nobody else writes meanwhile (the
   * demo seed on an empty store): a stream the buffer has not seen is empty, so it is not read.
   * An unexpected writer is still caught, by the expected revisions, at `flush()`.
   */
  startsEmpty?: boolean;
  /** Streams whose events are kept in memory after they are written; older ones are read again. @default 20000 */
  cachedStreams?: number;
}

export class BufferedEventStore implements EventStore {
  readonly backend: EventStore['backend'];
  /** Appends are written later, at flush, in batches of their own. */
  readonly atomicAppendMany = false;
  readonly pseudonyms: EventStore['pseudonyms'];
  /**
   * Buffered events that trigger a write. 1 writes each append before it returns, so its events
   * carry their stored positions: for a caller that cites what it appends.
   */
  flushEvents: number;
  private readonly startsEmpty: boolean;
  private readonly cachedStreams: number;
  /** Streams read or written through the buffer, most recently used last. */
  private readonly streams = new Map<string, RecordedEvent[]>();
  /** Streams this buffer has written: absent from the cache, they must be read from the real store. */
  private readonly written = new Set<string>();
  /** Appends not yet handed to a write, each with the provisional events it returned. */
  private pending: { append: StreamAppend; recorded: RecordedEvent[] }[] = [];
  /** Streams with appends in `pending` (not yet handed to a write). */
  private pendingStreams = new Set<string>();
  private pendingEvents = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private appendedEvents = 0;
  private appendCount = 0;

  constructor(
    private readonly store: EventStore,
    options: BufferedEventStoreOptions = {},
  ) {
    this.backend = store.backend;
    this.pseudonyms = store.pseudonyms;
    this.flushEvents = options.flushEvents ?? 5000;
    this.startsEmpty = options.startsEmpty ?? false;
    this.cachedStreams = options.cachedStreams ?? 20_000;
  }

  /** Events appended through this buffer so far, written or not. */
  get eventCount(): number {
    return this.appendedEvents;
  }

  /** Appends (each a command's decision) that wrote events, so far; idempotent replays are not counted. */
  get appends(): number {
    return this.appendCount;
  }

  private async history(streamId: string): Promise<RecordedEvent[]> {
    const cached = this.streams.get(streamId);
    if (cached) {
      this.streams.delete(streamId);
      this.streams.set(streamId, cached);
      return cached;
    }
    // A stream written by an earlier batch is read back once that batch is in the store.
    if (this.written.has(streamId)) await this.writing;
    const events = this.startsEmpty && !this.written.has(streamId) ? [] : await this.store.readStream(streamId);
    this.remember(streamId, events);
    return events;
  }

  private remember(streamId: string, events: RecordedEvent[]): void {
    this.streams.delete(streamId);
    this.streams.set(streamId, events);
    // Only streams with nothing pending may be forgotten: the others' events are not in the store yet.
    if (this.streams.size <= this.cachedStreams) return;
    for (const oldest of this.streams.keys()) {
      if (this.streams.size <= this.cachedStreams) break;
      if (!this.pendingStreams.has(oldest)) this.streams.delete(oldest);
    }
  }

  aggregate<E extends DomainEvent, State>(decider: Evolver<E, State>, streamId: string, options?: ReadStreamOptions): Promise<Aggregate<E, State>> {
    return aggregateStream((id, o) => this.readStream(id, o), decider, streamId, options);
  }

  async readStream<E extends DomainEvent = DomainEvent>(streamId: string, options: ReadStreamOptions = {}): Promise<Recorded<E>[]> {
    this.assertHealthy();
    const { direction = 'forwards', fromRevision, toRevision, limit, toPosition, toTime } = options;
    if (toPosition !== undefined || toTime !== undefined) {
      throw new ValidationError('a buffered store reads streams as they are now: toPosition / toTime need the real store');
    }
    let events = (await this.history(streamId)).filter(
      (e) => (fromRevision === undefined || e.revision >= fromRevision) && (toRevision === undefined || e.revision <= toRevision),
    );
    if (direction === 'backwards') events = events.reverse();
    return asRecorded<E>(limit === undefined ? [...events] : events.slice(0, limit));
  }

  async readStreams<E extends DomainEvent = DomainEvent>(streamIds: readonly string[]): Promise<Recorded<E>[][]> {
    this.assertHealthy();
    return Promise.all(streamIds.map(async (id) => asRecorded<E>([...(await this.history(id))])));
  }

  async streamRevision(streamId: string): Promise<number | undefined> {
    this.assertHealthy();
    return (await this.history(streamId)).at(-1)?.revision;
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, options }]);
    return result!;
  }

  /**
   * Buffers every append or none: all are checked (against the cached streams and one another)
   * before any is buffered, as the real store checks them before writing.
   */
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    this.assertHealthy();
    const fetched = new Map<string, RecordedEvent[]>();
    for (const { streamId } of appends) fetched.set(streamId, await this.history(streamId));
    // From here to the end nothing awaits (but a flush at the very end), so the histories cannot
    // change under the checks. A stream a concurrent caller appended to meanwhile is pending, hence
    // cached with its newer events.
    const histories = new Map([...fetched].map(([streamId, events]) => [streamId, this.streams.get(streamId) ?? events]));
    const planned = appends.map(({ streamId, events, options = {} }) => {
      const history = histories.get(streamId)!;
      const planned = this.plan(streamId, history, events, options);
      if (!planned.replayed) histories.set(streamId, [...history, ...planned.recorded]);
      return planned;
    });
    for (const { append, recorded, replayed } of planned) {
      if (replayed) continue;
      this.pending.push({ append, recorded });
      this.pendingStreams.add(append.streamId);
      this.pendingEvents += recorded.length;
      this.appendedEvents += recorded.length;
      this.appendCount++;
      this.written.add(append.streamId);
    }
    for (const [streamId, history] of histories) this.remember(streamId, history);
    if (this.pendingEvents >= this.flushEvents) await this.flush();
    return planned.map(({ append, recorded, replayed }) => ({
      streamId: append.streamId,
      nextExpectedRevision: replayed ? histories.get(append.streamId)!.at(-1)!.revision : recorded.at(-1)!.revision,
      events: recorded,
      replayed,
    }));
  }

  /** One append checked against the stream as it stands in the buffer: an idempotent replay, or the events to buffer. */
  private plan(streamId: string, history: readonly RecordedEvent[], events: readonly NewEvent[], options: AppendOptions) {
    if (events.length === 0) throw new ValidationError(`append to ${streamId} has no events`, { streamId });
    const ids = events.map((e, i) => e.eventId ?? (options.idempotencyKey !== undefined ? deterministicEventId(options.idempotencyKey, i) : randomUUID()));
    const prior = history.filter((e) => ids.includes(e.eventId));
    if (prior.length > 0) {
      // As the real store: the same ids with the same content are a replay, with other content a conflict.
      events.forEach((e, i) => {
        const stored = prior.find((p) => p.eventId === ids[i]);
        if (!stored || stored.type !== e.type || canonicalJson(stored.data) !== canonicalJson(e.data)) {
          throw new ConflictError(`event id ${ids[i]} is already stored with other content: an idempotency key or event id was reused for a different command`, {
            streamId,
            eventId: ids[i]!,
          });
        }
      });
      return { append: { streamId, events, options }, recorded: prior, replayed: true };
    }
    const current = history.at(-1)?.revision;
    const expected = options.expectedRevision ?? 'any';
    const stale =
      (expected === 'no_stream' && current !== undefined) ||
      (expected === 'stream_exists' && current === undefined) ||
      (typeof expected === 'number' && expected !== (current ?? -1));
    if (stale) throw new ConcurrencyError(streamId, String(expected), current);
    const recordedAt = new Date().toISOString();
    const recorded: RecordedEvent[] = events.map((e, i) => ({
      eventId: ids[i]!,
      streamId,
      revision: (current ?? -1) + 1 + i,
      position: START,
      sequence: 0,
      type: e.type,
      schemaVersion: 0,
      recordedAt,
      data: e.data,
      metadata: e.metadata,
    }));
    // The real store checks the same expected revision when the batch is written.
    const append: StreamAppend = {
      streamId,
      events: events.map((e, i) => ({ ...e, eventId: ids[i]! })),
      options: { ...options, expectedRevision: current ?? 'no_stream' },
    };
    return { append, recorded, replayed: false };
  }

  /** Writes everything buffered (one transaction per batch) and waits for it. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingStreams = new Set();
    this.pendingEvents = 0;
    // One batch at a time, in order: a later batch may extend streams an earlier one created.
    this.writing = this.writing.then(async () => {
      this.assertHealthy();
      if (batch.length === 0) return;
      try {
        const results = await this.store.appendMany(batch.map((p) => p.append));
        // The provisional events (returned by `append`, and in the cache) get their stored places.
        results.forEach((result, i) => {
          batch[i]!.recorded.forEach((provisional, k) => {
            const stored = result.events[k];
            if (stored) Object.assign(provisional, { position: stored.position, sequence: stored.sequence, recordedAt: stored.recordedAt, schemaVersion: stored.schemaVersion, data: stored.data });
          });
        });
      } catch (error) {
        this.failure = error;
        throw error;
      }
    });
    await this.writing;
  }

  private assertHealthy(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  readEventsById(eventIds: readonly string[]) {
    return this.store.readEventsById(eventIds);
  }
  readAll(...args: Parameters<EventStore['readAll']>) {
    return this.store.readAll(...args);
  }
  readAllWithHead(...args: Parameters<EventStore['readAllWithHead']>) {
    return this.store.readAllWithHead(...args);
  }
  subscribe(...args: Parameters<EventStore['subscribe']>) {
    return this.store.subscribe(...args);
  }
  assertPositionExists(position: string) {
    return this.store.assertPositionExists(position);
  }
  headPosition() {
    return this.store.headPosition();
  }
  committedHead() {
    return this.store.committedHead();
  }

  /** Writes what is buffered; the real store stays open (it belongs to the caller). */
  close(): Promise<void> {
    return this.flush();
  }
}
