/**
 * The three reads of one entity with a stream that a subgraph's resolvers make: now (the read
 * model's document, or the stream folded while the projector has not reached it), at a past point
 * (`asOf` arguments, timeTravel.ts), and as a command just wrote it (the stream, which the read
 * model may not show yet).
 */
import type { Decider, DomainEvent } from '../../events/decider.ts';
import type { EventStore, Position, Recorded } from '../../events/types.ts';
import { asOfArguments, stateAsOf, type AsOf, type AsOfArguments } from './timeTravel.ts';

export interface EntityViewSources<Ctx, Doc, View, Event extends DomainEvent, State> {
  store: EventStore;
  streamIdOf: (id: string) => string;
  decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>;
  /** The read model's document, through the request's loader. */
  doc: (ctx: Ctx, id: string) => Promise<Doc | null | undefined>;
  fromDoc: (doc: Doc) => View;
  /** The view the events say (null when they do not create the entity), dated `asOf` (null: now). */
  fromEvents: (events: readonly Recorded<Event>[], asOf: string | null) => View | null;
  /** What a successful command that left no entity says, e.g. "person P1 has no registration": a bug, not the caller's error. */
  unwritten: (id: string) => string;
}

export interface EntityViews<Ctx, View> {
  now(ctx: Ctx, id: string): Promise<View | null>;
  asOf(id: string, point: AsOf): Promise<(View & { asOfPosition: Position | null }) | null>;
  written(id: string): Promise<View>;
  /** The entity's query (`id`, `asOf`, `asOfPosition`): the view at the point asked for, else now. */
  query(ctx: Ctx, args: { id: string } & AsOfArguments): Promise<View | null>;
}

export function entityViews<Ctx, Doc, View, Event extends DomainEvent, State>(sources: EntityViewSources<Ctx, Doc, View, Event, State>): EntityViews<Ctx, View> {
  const { store, streamIdOf, decider, doc, fromDoc, fromEvents, unwritten } = sources;
  const views: EntityViews<Ctx, View> = {
    async now(ctx, id) {
      const found = await doc(ctx, id);
      return found ? fromDoc(found) : fromEvents(await store.readStream<Event>(streamIdOf(id)), null);
    },
    async asOf(id, point) {
      const { events, at, position } = await stateAsOf({ store, streamId: streamIdOf(id), decider, asOf: point });
      const view = fromEvents(events, at);
      return view && { ...view, asOfPosition: position };
    },
    async written(id) {
      const view = fromEvents(await store.readStream<Event>(streamIdOf(id)), null);
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
