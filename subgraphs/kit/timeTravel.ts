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
import type { EventStore, Position, RecordedEvent } from '../../events/types.ts';
import { parseInstant } from './calendar.ts';

/** A point in the past: an instant (ISO 8601), or a global position from `history` or an event feed. */
export type AsOf = { at: string; position?: undefined } | { position: Position; at?: undefined };

export interface AsOfResult<State> {
  state: State;
  /** The events folded, in revision order (empty when the stream did not exist yet). */
  events: RecordedEvent[];
  /** Revision of the last event folded; `undefined` when none. */
  revision: number | undefined;
}

export interface StateAsOfOptions<Event extends DomainEvent, State> {
  store: EventStore;
  streamId: string;
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>;
  asOf: AsOf;
}

export async function stateAsOf<Event extends DomainEvent, State>(options: StateAsOfOptions<Event, State>): Promise<AsOfResult<State>> {
  const { store, streamId, decider, asOf } = options;
  // The store refuses a malformed position with BAD_USER_INPUT; instants are checked here.
  const events =
    asOf.at !== undefined
      ? await store.readStream(streamId, { toTime: new Date(parseInstant(asOf.at, 'asOf')).toISOString() })
      : await store.readStream(streamId, { toPosition: asOf.position });
  return { state: fold(decider, events as unknown as Event[]), events, revision: events.at(-1)?.revision };
}
