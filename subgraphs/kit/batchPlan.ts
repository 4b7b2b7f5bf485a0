/**
 * The batch twin of `handle` (command.ts) for the aggregation channel (kit/ingest.ts): a chunk of
 * records is decided on ONE read of every stream it touches (`readStreams`), in order, on folds kept
 * in memory, so a later record sees what earlier ones decided, and the result is a plan of appends
 * the channel commits in one `appendMany`. Nothing here appends.
 *
 * Each record runs as a small transaction on the chunk: what it decides is staged; a `CityBrainError`
 * (the same one its mutation throws) discards what it staged and becomes a `rejected` outcome with
 * the error's code, message and field. The record's idempotency key goes on its primary stream (the
 * event ids derive from it, `deterministicEventId`), and `<key>\0<stream>` on any other stream it
 * appends to (one key's event ids may stand in one stream only); a record whose key its primary
 * stream already holds (stored, as `appendedWithKey` finds it, or staged earlier in the chunk) is
 * `alreadyPresent`.
 *
 * Every append expects the revision the chunk read plus what earlier records staged on the stream,
 * so a concurrent writer makes the commit fail as a whole and the chunk is planned again.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { asRecorded } from '../../events/typedReads.ts';
import { fold, type Decider, type DomainEvent } from '../../events/decider.ts';
import { deterministicEventId } from '../../events/append.ts';
import { CityBrainError } from '../../events/errors.ts';
import type { EventMetadata, EventStore, Evolver, RecordedEvent, StreamAppend } from '../../events/types.ts';
import { expectedRevisionOf, missingReference, newEvents, type Reference } from './command.ts';
import type { IngestKind, IngestPlan, IngestRecord, RecordOutcome, StagedStream } from './ingest.ts';
import type { NaturalKey } from './naturalKey.ts';

/** What a record decided, when it was not refused. */
export type Decided = 'created' | 'changed' | 'unchanged';

/** One record made ready for a chunk: the streams it needs and how it decides on them. */
export interface PreparedRecord {
  /** The stream that holds the record's idempotency key once it was appended (its aggregate's stream). */
  primaryStream: string;
  /** Every other stream the record may decide on, fold or name (references, base streams): all are read at once. */
  streams: readonly string[];
  /** The natural keys the record may claim (`chunk.claim`): their claim streams are read with the others. */
  claims?: readonly { key: NaturalKey; value: string }[];
  /** Decides the record on the chunk (`chunk.decide`, `chunk.claim`, …); throws the mutation's error to refuse it. */
  decide(chunk: Chunk): Decided;
}

/** How a kind decides its records: builds each record's commands (decided at `now`) before the chunk is read. */
export type RecordPlanner<Data> = (record: IngestRecord<Data>, now: string) => PreparedRecord;

interface StreamEntry {
  read: readonly RecordedEvent[];
  /** Events accepted records staged on top of `read`, in order. */
  staged: DomainEvent[];
  /** Revision after `read` and `staged` (-1: no stream). */
  revision: number;
  /** The last fold made of the stream, and the evolver it was made with. */
  folded?: { evolver: object; state: unknown };
  /** Idempotency keys staged on the stream in this chunk. */
  keys: Set<string>;
  /** The ids of `read`, built when a record first asks (a long stream is then not scanned once per record). */
  readIds?: Set<string>;
}

interface Pending {
  entry: StreamEntry;
  /** What the stream was before the record touched it, to restore when the record is refused. */
  before: Pick<StreamEntry, 'revision' | 'folded'> & { stagedLength: number };
  events: DomainEvent[];
}

/** The chunk as records are decided on it: streams read once, folds kept, appends staged per record. */
export class Chunk {
  readonly now: string;
  private readonly streams = new Map<string, StreamEntry>();
  private readonly appends: StreamAppend[] = [];
  private pending = new Map<string, Pending>();
  private metadata: EventMetadata | undefined;
  private readonly continuations = new Map<string, object>();

  private constructor(
    now: string,
    private readonly naming: Pick<EventStore, 'pseudonyms'>,
    ids: readonly string[],
    histories: readonly RecordedEvent[][],
    after: ReadonlyMap<string, StagedStream>,
  ) {
    this.now = now;
    ids.forEach((id, i) => {
      const read = histories[i] ?? [];
      this.streams.set(id, { read, staged: [], revision: read.at(-1)?.revision ?? -1, keys: new Set() });
    });
    for (const [id, { read, staged, revision, keys }] of after) this.streams.set(id, { read, staged: [...staged], revision, keys: new Set(keys) });
  }

  /**
   * Reads every stream the records name, in one round trip; a stream `after` stages on is taken as
   * that plan leaves it instead (it is being committed: reading it now would miss it).
   */
  static async read(store: EventStore, streamIds: Iterable<string>, now: string, after?: ReadonlyMap<string, StagedStream>): Promise<Chunk> {
    const ids = [...new Set(streamIds)];
    const carried = new Map(ids.flatMap((id) => (after?.has(id) ? [[id, after.get(id)!] as const] : [])));
    const unread = ids.filter((id) => !carried.has(id));
    return new Chunk(now, { pseudonyms: store.pseudonyms }, unread, unread.length > 0 ? await store.readStreams(unread) : [], carried);
  }

  /** True when the stream exists, stored or staged by an earlier record (or this one). */
  exists(streamId: string): boolean {
    return this.entry(streamId).revision >= 0;
  }

  /** The events the chunk read of a stream (what is stored; not what this chunk, or the one `after` it, staged). */
  history<E extends DomainEvent = DomainEvent>(streamId: string): readonly (RecordedEvent & E)[] {
    return this.entry(streamId).read as (RecordedEvent & E)[];
  }

  /** The stream folded by `evolver`: stored events, then what records of this chunk staged. */
  state<E extends DomainEvent, S>(evolver: Evolver<E, S>, streamId: string): S {
    const entry = this.entry(streamId);
    if (entry.folded?.evolver !== evolver) {
      entry.folded = { evolver, state: fold(evolver, [...asRecorded<E>(entry.read), ...(entry.staged as E[])]) };
    }
    return entry.folded.state as S;
  }

  /** Decides a command on the stream's state and stages its events for the record being decided. */
  decide<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, streamId: string, command: C): E[] {
    const events = decider.decide(command, this.state(decider, streamId));
    if (events.length > 0) this.stage(decider, streamId, events);
    return events;
  }

  /**
   * `decider` for streams that continue `baseStreamId` (a station's day of readings decided on its
   * registration, as `startingFrom` does for a single command), one per base stream for the chunk so
   * the folds of its streams are kept.
   */
  continuing<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, baseStreamId: string): Decider<C, E, S> {
    let derived = this.continuations.get(baseStreamId) as Decider<C, E, S> | undefined;
    if (!derived) {
      derived = { ...decider, initialState: () => this.state(decider, baseStreamId) };
      this.continuations.set(baseStreamId, derived);
    }
    return derived;
  }

  /** Claims a natural key for `ownerId` in the plan (the key and value must be among the record's `claims`). */
  claim(key: NaturalKey, value: string, ownerId: string): void {
    const { streamId, legacyStreamId } = key.claimStreams(this.naming, value);
    const decider = legacyStreamId === undefined ? key.decider : this.continuing(key.decider, legacyStreamId);
    this.decide(decider, streamId, { type: 'claim', key: value, ownerId });
  }

  /** Refuses the record (as `handle`'s `references` does) when an entity it names has no stream. */
  requireReferences(references: readonly Reference[]): void {
    const missing = references.find((r) => !this.exists(r.streamId));
    if (missing) throw missingReference(missing);
  }

  private entry(streamId: string): StreamEntry {
    const entry = this.streams.get(streamId);
    if (!entry) throw new Error(`stream ${streamId} was not read for this chunk; name it in the record's streams`);
    return entry;
  }

  private stage<E extends DomainEvent, S>(decider: Decider<never, E, S>, streamId: string, events: readonly E[]): void {
    const entry = this.entry(streamId);
    let pending = this.pending.get(streamId);
    if (!pending) {
      pending = { entry, before: { revision: entry.revision, folded: entry.folded, stagedLength: entry.staged.length }, events: [] };
      this.pending.set(streamId, pending);
    }
    let state = this.state(decider, streamId);
    for (const event of events) state = decider.evolve(state, event);
    entry.folded = { evolver: decider, state };
    entry.staged.push(...events);
    entry.revision += events.length;
    pending.events.push(...events);
  }

  /** Decides one record as a unit: its outcome, with its staged events kept or discarded. */
  run(record: IngestRecord<unknown>, prepared: PreparedRecord): RecordOutcome {
    const { primaryStream } = prepared;
    const { idempotencyKey: key } = record;
    const entry = this.entry(primaryStream);
    // As `appendedWithKey`: the key's first event id stands in the stream.
    entry.readIds ??= new Set(entry.read.map((e) => e.eventId));
    const firstEventId = deterministicEventId(key, 0);
    if (entry.keys.has(key) || entry.readIds.has(firstEventId)) return { status: 'alreadyPresent' };
    this.metadata = record.metadata;
    this.pending = new Map();
    try {
      const decided = prepared.decide(this);
      this.commitPending(primaryStream, key, firstEventId);
      return { status: decided };
    } catch (error) {
      if (!(error instanceof CityBrainError)) throw error;
      for (const { entry: touched, before } of this.pending.values()) {
        touched.revision = before.revision;
        touched.folded = before.folded;
        touched.staged.length = before.stagedLength;
      }
      return refusal(error);
    }
  }

  /** `firstEventId`: the primary stream's first event id, `deterministicEventId(key, 0)`, derived once for the lookup in `run`. */
  private commitPending(primary: string, key: string, firstEventId: string): void {
    const metadata = this.metadata!;
    for (const [streamId, { entry, before, events }] of this.pending) {
      const streamKey = streamId === primary ? key : `${key}\u0000${streamId}`;
      entry.keys.add(streamKey);
      const appended = newEvents(events, metadata);
      // The store takes the id given instead of hashing the key again (the rest it derives from the key alike).
      if (streamId === primary && appended[0]) appended[0] = { ...appended[0], eventId: firstEventId };
      this.appends.push({
        streamId,
        events: appended,
        options: { expectedRevision: expectedRevisionOf(before.revision), idempotencyKey: streamKey },
      });
    }
  }

  /** The appends of every accepted record, in the order they were decided. */
  get plannedAppends(): StreamAppend[] {
    return this.appends;
  }

  /** Every stream accepted records appended to, as their appends leave it (`IngestPlan.staged`). */
  get stagedStreams(): Map<string, StagedStream> {
    const staged = new Map<string, StagedStream>();
    for (const { streamId } of this.appends) {
      const { read, staged: events, revision, keys } = this.entry(streamId);
      staged.set(streamId, { read, staged: events, revision, keys });
    }
    return staged;
  }
}

/** An ingest kind whose chunks are planned record by record by `planner` (every kind the domains publish). */
export function plannedKind<Data>(kind: Omit<IngestKind<Data>, 'plan'>, planner: RecordPlanner<Data>): IngestKind<Data> {
  return { ...kind, plan: (store, records, now, after) => planChunk(store, planner, records, now, after) };
}

/**
 * Plans a chunk: one read of every stream its records touch (those `after` appends to taken as it
 * leaves them), then each record decided in order.
 */
export async function planChunk<Data>(store: EventStore, planner: RecordPlanner<Data>, records: readonly IngestRecord<Data>[], now: string, after?: IngestPlan): Promise<IngestPlan> {
  const prepared: (PreparedRecord | RecordOutcome)[] = await mapInSlices(records, (record) => {
    try {
      return planner(record, now);
    } catch (error) {
      // A record whose streams cannot even be named (a malformed hour) is refused like its mutation.
      return refusal(error);
    }
  });
  const claimStreams = (claims: PreparedRecord['claims'] = []) =>
    claims.flatMap(({ key, value }) => {
      const { streamId, legacyStreamId } = key.claimStreams(store, value);
      return legacyStreamId === undefined ? [streamId] : [streamId, legacyStreamId];
    });
  const chunk = await Chunk.read(
    store,
    prepared.flatMap((p) => ('primaryStream' in p ? [p.primaryStream, ...p.streams, ...claimStreams(p.claims)] : [])),
    now,
    after?.staged,
  );
  const outcomes = await mapInSlices(prepared, (p, i) => ('primaryStream' in p ? chunk.run(records[i]!, p) : p));
  return { outcomes, appends: chunk.plannedAppends, staged: chunk.stagedStreams };
}

/** Records handled between two turns of the event loop (`mapInSlices`). */
const SLICE = 100;

/**
 * `items.map(fn)`, letting the event loop turn every `SLICE` items. A chunk is decided while the
 * previous one is committed: that commit's round trips (begin, lock, write, commit) are answered
 * between slices instead of waiting for the whole chunk's decision, so the two really overlap.
 */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T, index: number) => R): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE === 0) await nextMacrotask();
    out.push(fn(items[i]!, i));
  }
  return out;
}

/** A refusal as a record's outcome; anything but a `CityBrainError` is a bug and is thrown on. */
function refusal(error: unknown): RecordOutcome {
  if (!(error instanceof CityBrainError)) throw error;
  const field = error.details.field;
  return { status: 'rejected', code: error.code, message: error.message, ...(typeof field === 'string' && { field }) };
}

/** A command as the batch planner takes it: what `handle` takes, with its record's metadata and key. */
export interface BatchCommand<Command> {
  command: Command;
  metadata: EventMetadata;
  idempotencyKey: string;
}

interface CommandPlanOptions<Command> {
  /** Entities the command names (as `handle`'s `references`): checked on the chunk's one read. */
  references?: (command: Command) => readonly Reference[];
}

/**
 * The batch twin of `handle(decider, streamIdOf, { references })`: one command per record, decided
 * in order on one read; a command that decides events is `created`, one that decides none `unchanged`.
 */
export function planCommands<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  streamIdOf: (command: Command) => string,
  { references }: CommandPlanOptions<Command> = {},
): (store: EventStore, commands: readonly BatchCommand<Command>[], now: string, after?: IngestPlan) => Promise<IngestPlan> {
  const planner: RecordPlanner<Command> = ({ data: command }) => {
    const named = references?.(command) ?? [];
    const streamId = streamIdOf(command);
    return {
      primaryStream: streamId,
      streams: named.map((r) => r.streamId),
      decide(chunk) {
        chunk.requireReferences(named);
        return chunk.decide(decider, streamId, command).length > 0 ? 'created' : 'unchanged';
      },
    };
  };
  return (store, commands, now, after) =>
    planChunk(
      store,
      planner,
      commands.map(({ command, metadata, idempotencyKey }, i) => ({ line: i + 1, sourceRecordId: idempotencyKey, data: command, metadata, idempotencyKey })),
      now,
      after,
    );
}

/**
 * A record that is one fact decided on `streamId` (a visit, a claim, a report, a declaration): its
 * command is made on the chunk, which reads `streams` with it, and the record is created (a refused
 * fact throws, as its mutation does).
 */
export function factRecord<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  streamId: string,
  streams: readonly string[],
  commandOn: (chunk: Chunk) => NoInfer<Command>,
): PreparedRecord {
  return {
    primaryStream: streamId,
    streams,
    decide(chunk) {
      chunk.decide(decider, streamId, commandOn(chunk));
      return 'created';
    },
  };
}

/**
 * A record that is one command on a stream continuing `baseStreamId` (a day of a station's readings
 * decided on its registration): the base stream is read with the chunk, and the record is created.
 */
export function continuingRecord<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  baseStreamId: string,
  streamId: string,
  command: Command,
): PreparedRecord {
  return {
    primaryStream: streamId,
    streams: [baseStreamId],
    decide(chunk) {
      chunk.decide(chunk.continuing(decider, baseStreamId), streamId, command);
      return 'created';
    },
  };
}
