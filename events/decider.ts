/**
 * The shape of every aggregate's pure domain logic (Emmett style): `decide` turns a command and the
 * current state into new events, `evolve` folds one event into the state. Neither does I/O; time
 * and ids arrive inside the command, so the same inputs always give the same events.
 */
import { ConflictError, InvalidTransitionError, NotFoundError } from './errors.ts';

/**
 * Decides a creating command: the event `create` makes, unless the id is already taken, which is
 * refused (ids are never reused, so the remedy is a new id). `taken` says what holds the id (e.g.
 * "taxpayer T1 is already registered"); `create` runs only for a free id, so a taken id is reported
 * as such even when the rest of the command is invalid too.
 */
export function createOnce<Event>(isTaken: boolean, taken: string, details: Record<string, unknown>, create: () => Event): Event[] {
  if (isTaken) throw new ConflictError(`${taken}; use a new id`, details);
  return [create()];
}

/**
 * The state a later command acts on, which must be in status `live`: an aggregate never created
 * (`unknown.status`) is refused as not found, with a message that names the creating command; one in
 * any other status (it has ended) as an invalid transition.
 */
export function requireStatus<State extends { status: string }, Live extends State['status']>(
  command: { type: string },
  state: State,
  live: Live,
  unknown: { status: State['status']; message: string; details: Record<string, unknown> },
): Extract<State, { status: Live }> {
  if (state.status === unknown.status) throw new NotFoundError(unknown.message, unknown.details);
  if (state.status !== live) throw new InvalidTransitionError(command.type, state.status, []);
  // The status compared equal to `live`, which names the member returned.
  return state as Extract<State, { status: Live }>;
}

export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

export interface Decider<Command, Event extends DomainEvent, State> {
  initialState: () => State;
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
}

/** The state after a sequence of events: the fold `asOf` queries and the command path both use. */
export function fold<Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>,
  events: Iterable<Event>,
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/** One handler per member of a union tagged by `type`: a table that cannot miss a member, as a `switch` ending in `assertNever` cannot. */
export type HandlersByType<Tagged extends { type: string }, Args extends unknown[], Result> = {
  [Type in Tagged['type']]: (tagged: Extract<Tagged, { type: Type }>, ...args: Args) => Result;
};

/** Hands `tagged` to the table's handler for its type. */
export function byType<Tagged extends { type: string }, Args extends unknown[], Result>(
  handlers: HandlersByType<Tagged, Args, Result>,
  tagged: Tagged,
  ...args: Args
): Result {
  // The table's mapped type pairs each type with its own member; indexing by a union of types loses that pairing.
  const handler = handlers[tagged.type as Tagged['type']] as (tagged: Tagged, ...args: Args) => Result;
  return handler(tagged, ...args);
}

/**
 * A decider stated as its tables: one `decide` handler per command type, one `evolve` handler per
 * event type, so a domain writes only what each command and event does and the compiler checks that
 * none is missing.
 */
export function deciderOf<Command extends { type: string }, Event extends DomainEvent, State>(tables: {
  initialState: () => State;
  decide: HandlersByType<Command, [state: State], Event[]>;
  evolve: HandlersByType<Event, [state: State], State>;
}): Decider<Command, Event, State> {
  return {
    initialState: tables.initialState,
    decide: (command, state) => byType(tables.decide, command, state),
    evolve: (state, event) => byType(tables.evolve, event, state),
  };
}

/**
 * An evolve handler for an event that follows an aggregate's creation, given the created state;
 * such an event met before the creation leaves the state as it was.
 */
export function onceCreated<Event, State, Created extends State>(
  isCreated: (state: State) => state is Created,
  handler: (event: Event, state: Created) => NoInfer<State>,
): (event: Event, state: State) => State {
  return (event, state) => (isCreated(state) ? handler(event, state) : state);
}

/** Compile-time exhaustiveness: a `switch` over a union ends here, so a new member cannot be forgotten. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
