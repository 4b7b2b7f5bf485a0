/**
 * The event store port. Every backend (PGlite, PostgreSQL, later KurrentDB) implements
 * `EventStore` and passes the one contract suite in `events/eventStore.contract.ts`.
 */

import type { Decider, DomainEvent } from './decider.ts';

/**
 * An opaque, totally ordered checkpoint shared by `readAll`, `subscribe` and every projection.
 * On the SQL backends it encodes the pair (transaction id, global sequence) as `"<tx>:<seq>"`;
 * compare positions only with `comparePositions`, never as strings.
 */
export type Position = string;

/** The position before the first event. */
export const START: Position = '0:0';

export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

/** Where a fact came from (DESIGN §1): the providing department and system, and how it was collected. */
export interface Provenance {
  department: string;
  system: string;
  channel: string;
  /** ISO 8601 instant the source collected the fact (may precede `recordedAt`). */
  collectedAt: string;
  sourceRecordId?: string;
  batchId?: string;
}

/**
 * Who caused the event: the authenticated consumer, the person acting for it if its token names one,
 * and what it acts for as governance registered it (its jurisdiction). Events written before
 * jurisdictions existed carry only `consumerId` and `role`.
 */
export interface Actor {
  consumerId: string;
  userId?: string;
  role: string;
  /** The division the consumer acts for (its registered jurisdiction), when it has one. */
  divisionCode?: string;
  /** The handling unit the consumer is, when it is one. */
  unitId?: string;
  /** The unit below its division a centre acted for (`onBehalfOfUnit`), when it did. */
  onBehalfOfUnitId?: string;
}

export interface EventMetadata {
  provenance: Provenance;
  actor: Actor;
  correlationId: string;
  causationId?: string;
  /** The grant a write was made under, when it was made under one. */
  grantId?: string;
}

/** An event as a command handler proposes it, before the store gives it a place. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata: EventMetadata;
  /** Unique id; derived from the idempotency key when one is given, random otherwise. */
  eventId?: string;
}

/** The stored envelope. `data` has been upcast to the current schema version of `type`. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  eventId: string;
  streamId: string;
  /** 0-based revision of this event within its stream. */
  revision: number;
  position: Position;
  /** The global sequence number (unique, human-friendly; ordering is by `position`). */
  sequence: number;
  type: Type;
  /** The schema version the event was written with (before upcasting). */
  schemaVersion: number;
  /** ISO 8601 instant the store committed the event. */
  recordedAt: string;
  data: Data;
  metadata: EventMetadata;
}

/**
 * A stored event of one domain's event union `E`: the envelope with `E`'s type and data, still one
 * member per event type, so a `switch` on `type` narrows `data` and the event folds with `E`'s decider.
 */
export type Recorded<E extends DomainEvent> = RecordedEvent & E;

/** What `aggregate` folds: a decider's initial state and `evolve`. */
export type Evolver<E extends DomainEvent, State> = Pick<Decider<never, E, State>, 'initialState' | 'evolve'>;

/** A stream folded by its decider: what a command is decided on, and what `asOf` shows. */
export interface Aggregate<E extends DomainEvent, State> {
  state: State;
  /** The revision of the stream's last event folded; `undefined` when the stream does not exist (at that point). */
  revision: number | undefined;
  /** The events folded, in revision order. */
  events: Recorded<E>[];
}

export interface AppendOptions {
  /** Default `"any"`. */
  expectedRevision?: ExpectedRevision;
  /**
   * Makes the append idempotent: event ids are derived from the key, so re-sending the same
   * command appends nothing and returns the first append's result.
   */
  idempotencyKey?: string;
}

/** One stream's part of `appendMany`. */
export interface StreamAppend {
  streamId: string;
  events: readonly NewEvent[];
  options?: AppendOptions;
}

export interface AppendResult {
  streamId: string;
  /** Revision of the last event now in the stream: pass it as the next expected revision. */
  nextExpectedRevision: number;
  events: RecordedEvent[];
  /** True when nothing was written because the same idempotency key was already appended. */
  replayed: boolean;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  fromRevision?: number;
  toRevision?: number;
  /** Only events at or before this position. */
  toPosition?: Position;
  /** Only events recorded at or before this instant (ISO 8601). */
  toTime?: string;
  limit?: number;
}

export interface EventFilter {
  types?: readonly string[];
  streamPrefixes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Default `START`. */
  fromPosition?: Position;
  limit?: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive: the subscriber receives events strictly after this position. */
  fromPosition?: Position;
  filter?: EventFilter;
  /** Events fetched per read; the iterator fetches the next batch only when asked (back-pressure). */
  batchSize?: number;
  signal?: AbortSignal;
}

/** Catch-up then live, in position order, never skipping an event. */
export interface EventSubscription extends AsyncIterable<RecordedEvent> {
  /** Ends the iteration; pending `next()` calls resolve with `done`. */
  close(): Promise<void>;
}

/** Keyed pseudonyms of personal values that name a stream (an ID number's claim stream). */
export interface Pseudonyms {
  /** The pseudonym of `value` for `purpose` (a stream id prefix): the same value gives the same pseudonym. */
  of(purpose: string, value: string): string;
}

export interface EventStore {
  readonly backend: 'pglite' | 'postgres' | 'kurrentdb';
  /**
   * The store's keyed pseudonyms, derived from its personal-data master key (events/crypto/);
   * `undefined` where personal data is stored in clear: such streams keep the value in their ids.
   */
  readonly pseudonyms: Pseudonyms | undefined;
  /**
   * True when `appendMany` writes its appends in one transaction that has committed when it returns:
   * a refused batch leaves nothing stored, and a batch costs one commit (group commit relies on both).
   * False on KurrentDB (the appends run in turn) and on the write-behind buffer (it writes at flush).
   */
  readonly atomicAppendMany: boolean;
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Appends to several streams atomically: every append is written, in the order given, or none is
   * (a failed expected revision names its stream). Each append keeps its own expected revision and
   * idempotency key; a stream may appear more than once (later appends see the earlier ones).
   * Results come in the order given. For batch work: an import, an ingest, the demo seed.
   */
  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  /**
   * Events of one stream; `[]` for a stream that does not exist. `E` names the domain events the
   * stream holds (its stream id prefix belongs to one domain), so they arrive typed.
   */
  readStream<E extends DomainEvent = DomainEvent>(streamId: string, options?: ReadStreamOptions): Promise<Recorded<E>[]>;
  /** The stream (up to `options`' bound) folded by the decider of its events. */
  aggregate<E extends DomainEvent, State>(decider: Evolver<E, State>, streamId: string, options?: ReadStreamOptions): Promise<Aggregate<E, State>>;
  /**
   * Every event of each stream, in revision order, in the order the ids are asked (`[]` for a stream
   * that does not exist): batch work decides many aggregates on one read.
   */
  readStreams<E extends DomainEvent = DomainEvent>(streamIds: readonly string[]): Promise<Recorded<E>[][]>;
  /**
   * The events with these ids, in the order asked (`undefined` for an unknown id): provenance looks
   * up the events a read model's fields came from, in one round trip.
   */
  readEventsById(eventIds: readonly string[]): Promise<(RecordedEvent | undefined)[]>;
  /** Current revision of a stream, or `undefined` when it does not exist. */
  streamRevision(streamId: string): Promise<number | undefined>;
  /** Events in global order that every reader may safely pass (no in-flight gaps behind them). */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * One page of `readAll` plus the position through which the log has been scanned: a filtered
   * reader (a projection) checkpoints there, past events it does not handle, never past a gap.
   */
  readAllWithHead(options?: ReadAllOptions): Promise<{ events: RecordedEvent[]; scannedThrough: Position }>;
  subscribe(options?: SubscribeOptions): EventSubscription;
  /**
   * Refuses (ValidationError) a malformed position or one no stored event has, so a resuming
   * client is told at once instead of silently missing events. `START` always exists. Returns when
   * the event at the position was recorded (null for `START`): the instant an `asOfPosition` stands at.
   */
  assertPositionExists(position: Position): Promise<string | null>;
  /** The position of the last event a reader can see now without risk of a gap. */
  headPosition(): Promise<Position>;
  /**
   * The position of the last event committed now, whether readers may pass it yet or not: where a
   * subscription "from now" starts, so it never delivers what was committed before it began (the
   * gap-safe head can lag behind it while other transactions are open). An event of a transaction
   * that was still open at that moment and commits later may sort before it and is not delivered;
   * a client that must see everything resumes from a position it received.
   */
  committedHead(): Promise<Position>;
  close(): Promise<void>;
}
