/**
 * The command seam every domain writes through (DESIGN §1, in the manner of Emmett's
 * `handleCommandWithDecider`): `handle(decider, streamIdOf, options)` is an aggregate's command
 * handler. It loads the stream the command goes to, folds it, runs the pure `decide` and appends the
 * events with the revision it read as the expected revision. A concurrent writer is retried once
 * against the fresh state (its decision may differ); a second conflict is reported as `CONFLICT`,
 * never silently overwritten.
 *
 * What differs between aggregates is an option of `handle`, so every domain keeps one call shape
 * (`(store, command, metadata, options)`) and new rules land in one place:
 * - `references`: entities in other streams the command names must exist (BAD_USER_INPUT naming the
 *   field), checked before anything is decided or appended;
 * - `keepFolds` and `groupCommit`: a hot write path decides on the fold this process kept and shares
 *   its commit with the commands written at the same moment (kit/knownStreams.ts, kit/groupCommit.ts).
 *
 * The acting principal is `metadata.actor`, built from the authenticated caller; the idempotency key
 * arrives in `CommandOptions` beside it.
 */
import { randomUUID } from 'node:crypto';
import type { Decider, DomainEvent } from '../../events/decider.ts';
import { ConcurrencyError, ValidationError } from '../../events/errors.ts';
import { deterministicEventId } from '../../events/append.ts';
import { asRecorded } from '../../events/typedReads.ts';
import type { AppendResult, EventMetadata, EventStore, NewEvent, Recorded, RecordedEvent, StreamAppend } from '../../events/types.ts';
import { groupCommitOf, provesRollback } from './groupCommit.ts';
import type { Known, KnownStreams } from './knownStreams.ts';

/** What every command carries besides its data: the decider never reads a clock. */
export interface CommandMetadata {
  /** ISO 8601 instant the command is decided at; "today" is its date in China (UTC+8). */
  now: string;
}

/** A command of one type as its decider receives it. */
export type Command<Type extends string, Data> = { type: Type; data: Data; metadata: CommandMetadata };

/** A command as a resolver builds it, before it is stamped with the time (each member of a union alike). */
export type Unstamped<C> = C extends unknown ? Omit<C, 'metadata'> : never;

/** What the client sends to steer a command besides its data. */
export interface CommandOptions {
  /** Re-sending a command with the same key appends nothing and returns the first result. */
  idempotencyKey?: string;
  /**
   * The revision the client decided on (optimistic concurrency across requests): when the stream
   * has moved past it, the command is refused with CONFLICT instead of being decided again.
   */
  expectedRevision?: number;
}

/**
 * A mutation's input (GraphQL sends `null` for what the client left out) as `CommandOptions`; an
 * empty key is no key, as the store takes it. The key is the caller's: it is scoped by the consumer
 * (event ids derive from it), so two consumers choosing the same key never meet on one event.
 */
export function commandOptionsOf(
  input: { idempotencyKey?: string | null; expectedRevision?: number | null },
  caller: { consumerId: string },
): CommandOptions {
  return {
    ...(input.idempotencyKey ? { idempotencyKey: `${caller.consumerId}\u0000${input.idempotencyKey}` } : {}),
    ...givenFields({ expectedRevision: input.expectedRevision }),
  };
}

/** The optional arguments the client gave, as fields to spread into a command's data: GraphQL sends `null` for one left out, and a left-out field stays out. */
export function givenFields<Fields extends Record<string, unknown>>(fields: Fields): { [Key in keyof Fields]?: NonNullable<Fields[Key]> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined)) as { [Key in keyof Fields]?: NonNullable<Fields[Key]> };
}

/** The options of a command that starts its stream: its idempotency key, never a client revision (there is none to expect). */
export const idempotencyOnly = ({ idempotencyKey }: CommandOptions): CommandOptions => (idempotencyKey === undefined ? {} : { idempotencyKey });

/**
 * The id of the entity a create mutation makes. The client's own id wins; without one, an idempotency
 * key names the entity (a UUID derived from consumer, mutation and key), so a re-sent create goes to
 * the stream the first one made and is answered with its result instead of making a second entity.
 * The consumer is part of the derivation so that two consumers' equal keys never name one entity;
 * the mutation, so that one key used for two kinds of entity names two. Without either, a random id.
 */
export function newEntityId(
  given: string | null | undefined,
  input: { idempotencyKey?: string | null },
  caller: { consumerId: string },
  mutation: string,
): string {
  if (given) return given;
  if (!input.idempotencyKey) return randomUUID();
  return deterministicEventId(`${caller.consumerId}\u0000${mutation}\u0000${input.idempotencyKey}`, 0);
}

/** A command as the register-style domains (population, legal-person) take it: who, when, and the client's options. */
export interface CommandContext extends CommandOptions {
  /** Provenance, actor and correlation of every event the command appends. */
  metadata: EventMetadata;
  /** ISO 8601 instant the command is decided at. */
  now: string;
}

/** What a register-style handler appended: the aggregate, its revision afterwards, and every event written (claims included). */
export interface Outcome {
  id: string;
  revision: number;
  events: RecordedEvent[];
}

/** The outcome of a command that appends at least one event or throws, so its stream exists afterwards; `earlier`: what was appended before it (a natural-key claim). */
export function outcomeOf(id: string, result: CommandResult<unknown>, earlier: readonly RecordedEvent[] = []): Outcome {
  return { id, revision: result.revision ?? -1, events: [...earlier, ...result.events] };
}

export interface CommandResult<State, Event extends DomainEvent = DomainEvent> {
  /** The aggregate's state after the command. */
  state: State;
  /** The events appended (empty when the decision was "nothing to do"). */
  events: Recorded<Event>[];
  /** The stream's revision after the command; `undefined` when the stream still does not exist. */
  revision: number | undefined;
  /** True when the idempotency key had already been used: nothing new was written. */
  replayed: boolean;
}

/** An entity a command names that lives in another stream. */
export interface Reference {
  /** The input field that names it, as the client wrote it (`legalPersonId`, `parents[0].personId`). */
  field: string;
  /** What it is, for the message: `legal person`. */
  label: string;
  id: string;
  /** Its stream: the entity exists when the stream does. */
  streamId: string;
}

export interface HandleOptions<Command, State> {
  /** Entities the command names: each must exist, or the command is refused (BAD_USER_INPUT naming the field) before it is decided. */
  references?: (command: Command) => readonly Reference[];
  /**
   * Decide on the fold this process kept of the stream (appended with its revision as the expected
   * revision, so a fold another writer overtook is refused by the store and the command is decided
   * again on the stream). Only commands without an idempotency key take this path.
   */
  keepFolds?: {
    /** The folds kept for this store (one set per store object). */
    of: (store: EventStore) => KnownStreams<State>;
    /** Commands that start their stream: decided on the initial state without a read. */
    startsStream?: (command: Command) => boolean;
  };
  /** Write the kept-fold path's appends through the store's group commit (one transaction for the commands of a moment). @default false */
  groupCommit?: boolean;
}

export type CommandHandler<Command, State, Event extends DomainEvent = DomainEvent> = (
  store: EventStore,
  command: Command,
  metadata: EventMetadata,
  options?: CommandOptions,
) => Promise<CommandResult<State, Event>>;

/** The command handler of an aggregate: `streamIdOf` names the stream each command goes to. */
export function handle<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  streamIdOf: (command: Command) => string,
  handleOptions: HandleOptions<Command, State> = {},
): CommandHandler<Command, State, Event> {
  const { references, keepFolds, groupCommit = false } = handleOptions;
  return async (store, command, metadata, options = {}) => {
    const streamId = streamIdOf(command);
    if (references) await assertReferencesExist(store, references(command));
    if (!keepFolds) return decideOnStream(store, streamId, decider, command, metadata, options);
    const folds = keepFolds.of(store);
    if (options.idempotencyKey === undefined) {
      const initial: Known<State> | undefined = keepFolds.startsStream?.(command) ? { state: decider.initialState(), revision: -1 } : undefined;
      const known = folds.get(streamId) ?? initial;
      if (known && (options.expectedRevision === undefined || options.expectedRevision === known.revision)) {
        const decided = decideOrNull(decider, command, known.state);
        if (decided !== null && decided.length > 0) {
          const unit = [{ streamId, events: newEvents(decided, metadata), options: { expectedRevision: expectedRevisionOf(known.revision) } }];
          const [written] = await writeOrNull(store, unit, groupCommit, folds);
          if (written) {
            const result = resultAfter(decider, known.state, written);
            folds.set(streamId, { state: result.state, revision: written.nextExpectedRevision });
            return result;
          }
        }
      }
    }
    // What the stream itself decides is remembered; what it refuses is forgotten.
    try {
      const result = await decideOnStream(store, streamId, decider, command, metadata, options);
      if (result.revision !== undefined) folds.set(streamId, { state: result.state, revision: result.revision });
      return result;
    } catch (error) {
      folds.delete(streamId);
      throw error;
    }
  };
}

/** The events a stream holds from an append made with `idempotencyKey`; null when the key was never used on it. */
export function appendedWithKey<R extends RecordedEvent>(history: readonly R[], idempotencyKey: string): R[] | null {
  const first = history.findIndex((e) => e.eventId === deterministicEventId(idempotencyKey, 0));
  return first < 0 ? null : history.slice(first).filter((e, i) => e.eventId === deterministicEventId(idempotencyKey, i));
}

/** The events a decision proposes, as the store takes them. */
export const newEvents = (events: readonly DomainEvent[], metadata: EventMetadata): NewEvent[] =>
  events.map((e) => ({ type: e.type, data: e.data, metadata }));

/** A kept fold's revision as an append's expected revision (-1: the stream does not exist yet). */
export const expectedRevisionOf = (revision: number) => (revision < 0 ? ('no_stream' as const) : revision);

/** The state and result after `written` was appended on top of `before`. */
export function resultAfter<Event extends DomainEvent, State>(
  decider: Pick<Decider<never, Event, State>, 'evolve'>,
  before: State,
  written: AppendResult,
): CommandResult<State, Event> {
  const events = asRecorded<Event>(written.events);
  let state = before;
  for (const event of events) state = decider.evolve(state, event);
  return { state, events, revision: written.nextExpectedRevision, replayed: false };
}

/**
 * Writes a unit (appends that go together) through the group commit or the store; `[]` when the
 * store refused it without writing anything (a stale expected revision above all), so that the
 * stream itself decides again, and the kept folds of its streams are forgotten. Any other failure
 * (the commit may have happened) is the command's.
 */
export async function writeOrNull<State>(
  store: EventStore,
  unit: readonly StreamAppend[],
  groupCommit: boolean,
  folds: KnownStreams<State>,
): Promise<(AppendResult | undefined)[]> {
  try {
    return await (groupCommit ? groupCommitOf(store).write(unit) : store.appendMany(unit));
  } catch (error) {
    for (const append of unit) folds.delete(append.streamId);
    if (provesRollback(error)) return [];
    throw error;
  }
}

/** The kept fold's decision; null when it refuses (the stream itself decides then). */
function decideOrNull<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>, command: Command, state: State): Event[] | null {
  try {
    return decider.decide(command, state);
  } catch {
    return null;
  }
}

async function assertReferencesExist(store: EventStore, references: readonly Reference[]): Promise<void> {
  const revisions = await Promise.all(references.map((r) => store.streamRevision(r.streamId)));
  const missing = references.find((_, i) => revisions[i] === undefined);
  if (missing) throw missingReference(missing);
}

/** The refusal of a command naming an entity that does not exist (the batch planner raises the same). */
export function missingReference(missing: Reference): ValidationError {
  return new ValidationError(`${missing.field} ${missing.id} is not a registered ${missing.label}; register it first or name another`, {
    field: missing.field,
  });
}

/** Read, fold, decide, append: the path every command without a usable kept fold takes. */
async function decideOnStream<Command, Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  metadata: EventMetadata,
  { idempotencyKey, expectedRevision }: CommandOptions,
): Promise<CommandResult<State, Event>> {
  for (let attempt = 1; ; attempt++) {
    const { state, revision, events: history } = await store.aggregate(decider, streamId);
    // A re-sent command is answered from the stream before deciding: deciding again on a state that
    // already holds its events would refuse it (e.g. "already registered") instead of replaying it.
    const prior = idempotencyKey === undefined ? null : appendedWithKey(history, idempotencyKey);
    if (prior) return { state, events: prior, revision, replayed: true };
    if (expectedRevision !== undefined && expectedRevision !== (revision ?? -1)) {
      throw new ConcurrencyError(streamId, String(expectedRevision), revision);
    }
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, events: [], revision, replayed: false };
    try {
      const result = await store.append(streamId, newEvents(decided, metadata), {
        expectedRevision: revision ?? 'no_stream',
        ...(idempotencyKey !== undefined && { idempotencyKey }),
      });
      if (result.replayed) return { state, events: asRecorded<Event>(result.events), revision: result.nextExpectedRevision, replayed: true };
      return resultAfter(decider, state, result);
    } catch (error) {
      if (error instanceof ConcurrencyError && attempt === 1 && expectedRevision === undefined) continue;
      throw error;
    }
  }
}

