/**
 * The three reads of one entity with a stream that a subgraph's resolvers make: now (the read
 * model's document, or the stream folded while the projector has not reached it), at a past point
 * (`asOf` arguments, timeTravel.ts), and as a command just wrote it (the stream, which the read
 * model may not show yet).
 */
import { fold, type Decider, type DomainEvent } from '../../events/decider.ts';
import type { EventStore, Position, Recorded } from '../../events/types.ts';
import { asOfArguments, stateAsOf, type AsOf, type AsOfArguments } from './timeTravel.ts';

/** How a stream's events make the entity's view: fold them, and map the state of an entity they created. */
export interface FoldedView<View, Event extends DomainEvent, State extends { status: string }, Absent extends State['status']> {
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>;
  /** The status of a stream whose events have not created the entity (the decider's initial one). */
  absent: Absent;
  /** The view of the entity the events created, given their fold, dated `asOf` (null: now). */
  fromState: (state: Exclude<State, { status: Absent }>, events: readonly Recorded<Event>[], asOf: string | null) => View;
}

export interface EntityViewSources<Ctx, Doc, View, Event extends DomainEvent, State extends { status: string }, Absent extends State['status']>
  extends FoldedView<View, Event, State, Absent> {
  store: EventStore;
  streamIdOf: (id: string) => string;
  /** The read model's document, through the request's loader. */
  doc: (ctx: Ctx, id: string) => Promise<Doc | null | undefined>;
  fromDoc: (doc: Doc) => View;
  /** What a successful command that left no entity says, e.g. "person P1 has no registration": a bug, not the caller's error. */
  unwritten: (id: string) => string;
}

/** The view the events say (null when they do not create the entity); `state` is their fold when the caller has it already. */
export function viewFromEvents<View, Event extends DomainEvent, State extends { status: string }, Absent extends State['status']>(
  folded: FoldedView<View, Event, State, Absent>,
  events: readonly Recorded<Event>[],
  asOf: string | null,
  state: State = fold(folded.decider, events),
): View | null {
  // The status is not the absent one, which is all that Exclude removes.
  return state.status === folded.absent ? null : folded.fromState(state as Exclude<State, { status: Absent }>, events, asOf);
}

export interface EntityViews<Ctx, View> {
  now(ctx: Ctx, id: string): Promise<View | null>;
  asOf(id: string, point: AsOf): Promise<(View & { asOfPosition: Position | null }) | null>;
  written(id: string): Promise<View>;
  /** The entity's query (`id`, `asOf`, `asOfPosition`): the view at the point asked for, else now. */
  query(ctx: Ctx, args: { id: string } & AsOfArguments): Promise<View | null>;
}

export function entityViews<Ctx, Doc, View, Event extends DomainEvent, State extends { status: string }, Absent extends State['status']>(
  sources: EntityViewSources<Ctx, Doc, View, Event, State, Absent>,
): EntityViews<Ctx, View> {
  const { store, streamIdOf, decider, doc, fromDoc, unwritten } = sources;
  const views: EntityViews<Ctx, View> = {
    async now(ctx, id) {
      const found = await doc(ctx, id);
      return found ? fromDoc(found) : viewFromEvents(sources, await store.readStream<Event>(streamIdOf(id)), null);
    },
    async asOf(id, point) {
      const { events, state, at, position } = await stateAsOf({ store, streamId: streamIdOf(id), decider, asOf: point });
      const view = viewFromEvents(sources, events, at, state);
      return view && { ...view, asOfPosition: position };
    },
    async written(id) {
      const view = viewFromEvents(sources, await store.readStream<Event>(streamIdOf(id)), null);
      if (!view) throw new Error(`${unwritten(id)} after a successful command`);
      return view;
    },
    query(ctx, args) {
      const point = asOfArguments(args);
      return point ? views.asOf(args.id, point) : views.now(ctx, args.id);
    },
  };
  return views;
}
