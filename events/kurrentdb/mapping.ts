/**
 * Pure translations between our `EventStore` port and KurrentDB/EventStoreDB's vocabulary, kept apart
 * from the I/O so they are unit-tested without a server:
 * - positions: a `$all` position `{ commit, prepare }` is our opaque `"<commit>:<prepare>"`. Both
 *   parts order `$all`, so `comparePositions` works unchanged; `START` (`"0:0"`) is the client's
 *   `START` (no event sits at 0:0: the log opens with the server's own records);
 * - expected revisions map one to one onto the client's stream states;
 * - the client's `WrongExpectedVersionError` becomes our `ConcurrencyError`;
 * - an `EventFilter` becomes one server-side filter (KurrentDB filters on stream name *or* event
 *   type, never both), and the same filter is re-checked here on every event, so the server-side one
 *   is only ever an optimisation;
 * - our envelope: `schemaVersion` and the correlation/causation ids KurrentDB's own projections read
 *   (`$correlationId`, `$causationId`) travel in the event's JSON metadata.
 */
import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  FORWARDS,
  NO_STREAM,
  START as KURRENT_START,
  STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
  type AppendStreamState,
  type CurrentStreamState,
  type Direction,
  type Filter,
  type Position as KurrentPosition,
  type ReadPosition,
  type ReadRevision,
} from '@kurrent/kurrentdb-client';
import { ConcurrencyError, ValidationError } from '../errors.ts';
import { comparePositions, decodePosition, encodePosition, isStart } from '../position.ts';
import type { EventFilter, EventMetadata, ExpectedRevision, Position, ReadStreamOptions, RecordedEvent } from '../types.ts';

/** `"0:0"` is the client's START; any other position is `{ commit, prepare }`. Malformed positions are refused. */
export function toKurrentPosition(position: Position): ReadPosition {
  const { tx, seq } = decodePosition(position);
  if (isStart(position)) return KURRENT_START;
  return { commit: tx, prepare: seq };
}

export function fromKurrentPosition(position: KurrentPosition): Position {
  return encodePosition(position.commit, position.prepare);
}

/** A revision number is the client's bigint; -1 (the SQL store's "before the first event") is `no_stream`. */
export function toStreamState(expected: ExpectedRevision): AppendStreamState {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return expected === -1 ? NO_STREAM : BigInt(expected);
  }
}

interface WrongExpectedVersionLike {
  type: string;
  actualState: CurrentStreamState;
}

export function isWrongExpectedVersion(error: unknown): error is WrongExpectedVersionLike {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === ErrorType.WRONG_EXPECTED_VERSION;
}

export function toConcurrencyError(streamId: string, expected: ExpectedRevision, actual: CurrentStreamState): ConcurrencyError {
  return new ConcurrencyError(streamId, String(expected), actual === NO_STREAM ? undefined : Number(actual));
}

/** The server said the read position is not one it has (as opposed to being unreachable or refusing us). */
export function isPositionRejection(error: unknown): boolean {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  return type === ErrorType.INVALID_ARGUMENT || type === ErrorType.UNKNOWN || type === ErrorType.NOT_FOUND;
}

export function isStreamNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === ErrorType.STREAM_NOT_FOUND;
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * The one filter the server applies. In a namespace it must be the stream prefix (so no reader sees
 * another namespace); otherwise event types are preferred (projections read by type), then stream
 * prefixes, and with neither, system events (`$…`) are excluded.
 */
export function serverFilter(streamPrefix: string, filter: EventFilter | undefined): Filter {
  const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : undefined;
  if (streamPrefix) return streamNameFilter({ prefixes: prefixes ? prefixes.map((p) => streamPrefix + p) : [streamPrefix] });
  if (filter?.types?.length) return eventTypeFilter({ regex: `^(?:${filter.types.map(escapeRegex).join('|')})$` });
  if (prefixes) return streamNameFilter({ prefixes: [...prefixes] });
  return excludeSystemEvents();
}

/** The whole filter, checked on our own stream id (without the namespace prefix) and type. */
export function matchesFilter(filter: EventFilter | undefined, streamId: string, type: string): boolean {
  if (filter?.types?.length && !filter.types.includes(type)) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => streamId.startsWith(p))) return false;
  return true;
}

/** The JSON metadata stored with each event. */
export type StoredMetadata = EventMetadata & { schemaVersion: number; $correlationId: string; $causationId?: string };

export function toStoredMetadata(metadata: EventMetadata, schemaVersion: number): StoredMetadata {
  return {
    ...metadata,
    schemaVersion,
    $correlationId: metadata.correlationId,
    ...(metadata.causationId !== undefined && { $causationId: metadata.causationId }),
  };
}

function fromStoredMetadata(raw: unknown): { metadata: EventMetadata; schemaVersion: number } | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const { schemaVersion, $correlationId: _c, $causationId: _k, ...metadata } = raw as Record<string, unknown>;
  if (typeof schemaVersion !== 'number' || !Number.isInteger(schemaVersion) || schemaVersion < 1) return undefined;
  // Written by this adapter from an EventMetadata (toStoredMetadata); the store trusts its own writes, as the SQL store trusts its JSONB column.
  return { metadata: metadata as unknown as EventMetadata, schemaVersion };
}

/** The fields of a client `RecordedEvent` the mapping reads. */
export interface KurrentRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  position?: KurrentPosition;
}

/**
 * Our envelope for a stored event, or `undefined` when the event is not one this store wrote
 * (another namespace, a system event, binary or foreign metadata): readers skip those.
 */
export function toRecordedEvent(
  record: KurrentRecord,
  streamPrefix: string,
  upcast: (type: string, schemaVersion: number, data: unknown) => unknown,
): RecordedEvent | undefined {
  if (!record.isJson || record.type.startsWith('$') || !record.streamId.startsWith(streamPrefix)) return undefined;
  const stored = fromStoredMetadata(record.metadata);
  if (!stored) return undefined;
  if (!record.position) {
    throw new Error(
      `KurrentDB returned event ${record.id} of ${record.streamId} without its $all position: this backend needs a server that reports positions on reads (EventStoreDB 20.6.1+ / KurrentDB)`,
    );
  }
  return {
    eventId: record.id.toLowerCase(),
    streamId: record.streamId.slice(streamPrefix.length),
    revision: Number(record.revision),
    position: fromKurrentPosition(record.position),
    // The prepare position is the event's own offset in the log: unique, increasing along $all.
    sequence: Number(record.position.prepare),
    type: record.type,
    schemaVersion: stored.schemaVersion,
    recordedAt: record.created.toISOString(),
    data: upcast(record.type, stored.schemaVersion, record.data),
    metadata: stored.metadata,
  };
}

/** What to do with the next event of a stream read. */
export type StreamReadStep = 'yield' | 'skip' | 'stop';

export interface StreamReadPlan {
  direction: Direction;
  fromRevision: ReadRevision;
  /** Set only when no event can be skipped, so the server may stop after `limit` events. */
  maxCount?: number;
  limit: number;
  step(event: Pick<RecordedEvent, 'revision' | 'position' | 'recordedAt'>): StreamReadStep;
}

/**
 * `readStream` options as a client read plus a per-event decision. Revisions and positions grow
 * along a stream, so passing a bound in reading order ends the read; `toTime` compares server
 * timestamps, which are not guaranteed monotonic, so it only skips.
 */
export function planStreamRead(options: ReadStreamOptions): StreamReadPlan {
  const backwards = options.direction === 'backwards';
  const toPosition = options.toPosition;
  if (toPosition !== undefined) decodePosition(toPosition);
  const toTime = options.toTime === undefined ? undefined : Date.parse(options.toTime);
  if (toTime !== undefined && Number.isNaN(toTime)) throw new ValidationError(`toTime "${options.toTime}" is not an ISO 8601 instant`);
  for (const [name, value] of [['fromRevision', options.fromRevision], ['toRevision', options.toRevision], ['limit', options.limit]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new ValidationError(`${name} ${value} is not a non-negative integer`, { [name]: value });
    }
  }
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
  const skips = toTime !== undefined || (backwards && toPosition !== undefined);
  return {
    direction: backwards ? BACKWARDS : FORWARDS,
    fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : KURRENT_START,
    ...(!skips && options.limit !== undefined && { maxCount: options.limit }),
    limit,
    step(event) {
      if (options.toRevision !== undefined && (backwards ? event.revision < options.toRevision : event.revision > options.toRevision)) return 'stop';
      if (toPosition !== undefined && comparePositions(event.position, toPosition) > 0) return backwards ? 'skip' : 'stop';
      if (toTime !== undefined && Date.parse(event.recordedAt) > toTime) return 'skip';
      return 'yield';
    },
  };
}
