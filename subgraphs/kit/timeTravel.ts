/**
 * Time travel (DESIGN §1): because `evolve` is pure, an aggregate's state at any past instant or
 * global position is the fold of its stream's prefix. `asOf` arguments use it; it is the one read
 * path that folds a stream instead of reading a read model, and it costs one round trip.
 *
 * The instant is the store's `recordedAt` (when the fact became known to the city), not the date a
 * fact says it happened: "what did the register say on 1 March" is answered with what had been
 * recorded by then, even if a death dated February was only registered in April.
 */
import { fold, type Decider, type DomainEvent } from '../../events/decider.ts';
import { ValidationError } from '../../events/errors.ts';
import type { EventStore, Position, Recorded } from '../../events/types.ts';
import { parseInstant } from './calendar.ts';

/** A point in the past: an instant (ISO 8601), or a global position from `history` or an event feed. */
export type AsOf = { at: string; position?: undefined } | { position: Position; at?: undefined };

/** The `asOf: DateTime` / `asOfPosition: String` pair every entity with a stream takes; null: now. */
export interface AsOfArguments {
  asOf?: string | null;
  asOfPosition?: string | null;
}

/** The point the arguments name, or null for the present; both at once is refused. */
export function asOfArguments(args: AsOfArguments): AsOf | null {
  if (args.asOf && args.asOfPosition) {
    throw new ValidationError('give asOf (an instant) or asOfPosition (a global position), not both', { field: 'asOfPosition' });
  }
  if (args.asOfPosition) return { position: args.asOfPosition };
  return args.asOf ? { at: args.asOf } : null;
}

/** Where a past view stands; its `history` and nested reads stop there too. */
export interface PastPoint {
  /**
   * The instant: the one asked for (canonical ISO 8601), or when the event at the asked position was
   * recorded (null for the start of the log).
   */
  at: string | null;
  /** The position asked for; null when an instant was. */
  position: Position | null;
}

export interface AsOfResult<State, Event extends DomainEvent = DomainEvent> extends PastPoint {
  state: State;
  /** The events folded, in revision order (empty when the stream did not exist yet). */
  events: Recorded<Event>[];
  /** Revision of the last event folded; `undefined` when none. */
  revision: number | undefined;
}

export interface StateAsOfOptions<Event extends DomainEvent, State> {
  store: EventStore;
  streamId: string;
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>;
  asOf: AsOf;
}

/**
 * Where a past view stands: an instant as given (checked, canonical), or a position with the instant
 * its event was recorded — the store refuses a malformed or unknown position with BAD_USER_INPUT.
 */
export async function resolveAsOf(store: EventStore, asOf: AsOf): Promise<PastPoint> {
  if (asOf.at !== undefined) return { at: new Date(parseInstant(asOf.at, 'asOf')).toISOString(), position: null };
  return { at: await store.assertPositionExists(asOf.position), position: asOf.position };
}

/** A stream's events up to a past point: by position when one was asked for, else by instant. */
export function readStreamUpTo<E extends DomainEvent = DomainEvent>(store: EventStore, streamId: string, point: PastPoint): Promise<Recorded<E>[]> {
  if (point.position !== null) return store.readStream<E>(streamId, { toPosition: point.position });
  return point.at === null ? Promise.resolve([]) : store.readStream<E>(streamId, { toTime: point.at });
}

export async function stateAsOf<Event extends DomainEvent, State>(options: StateAsOfOptions<Event, State>): Promise<AsOfResult<State, Event>> {
  const { store, streamId, decider, asOf } = options;
  const point = await resolveAsOf(store, asOf);
  const events = await readStreamUpTo<Event>(store, streamId, point);
  return { state: fold(decider, events), events, revision: events.at(-1)?.revision, ...point };
}
