/**
 * `history` (DESIGN §3): the events of one entity's stream as the store recorded them, each with
 * its place in the log and where the fact came from. Auditors use it to see how a record came to
 * be what it is; together with `asOf` (timeTravel.ts) it answers "what did we know, and when".
 *
 * A subgraph declares the GraphQL types it returns once in its `schema.graphql` (the composed
 * supergraph needs them in each subgraph that serves a `history`), as shareable value types:
 *
 *   type HistoryEvent @shareable { eventId: ID! type: String! revision: Int! position: String!
 *     sequence: Int! recordedAt: DateTime! schemaVersion: Int! data: JSON!
 *     provenance: EventProvenance! actor: EventActor! correlationId: String! causationId: String grantId: String }
 *   type EventProvenance @shareable { department: String! system: String! channel: String!
 *     collectedAt: DateTime! sourceRecordId: String batchId: String }
 *   type EventActor @shareable { consumerId: String! userId: String role: String! }
 */
import type { Actor, EventStore, Position, Provenance, RecordedEvent } from '../../events/types.ts';
import { FeedClassifications, INTERNAL, servePayload } from './payloadPolicy.ts';
import type { SubgraphContext } from './context.ts';

export interface HistoryEvent {
  eventId: string;
  type: string;
  revision: number;
  position: string;
  sequence: number;
  recordedAt: string;
  schemaVersion: number;
  /** The payload upcast to the current shape of its type. */
  data: unknown;
  provenance: Provenance;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  grantId: string | null;
}

export interface HistoryOptions {
  /** Only events recorded at or before this instant (the `asOf` of the entity the history belongs to). */
  asOf?: string | null;
  /** Only events at or before this global position (its `asOfPosition`); used instead of `asOf` when given. */
  asOfPosition?: Position | null;
}

export function toHistoryEvent(event: RecordedEvent): HistoryEvent {
  return {
    eventId: event.eventId,
    type: event.type,
    revision: event.revision,
    position: event.position,
    sequence: event.sequence,
    recordedAt: event.recordedAt,
    schemaVersion: event.schemaVersion,
    data: event.data,
    provenance: event.metadata.provenance,
    actor: event.metadata.actor,
    correlationId: event.metadata.correlationId,
    causationId: event.metadata.causationId ?? null,
    grantId: event.metadata.grantId ?? null,
  };
}

/** The stream's events in revision order, `[]` when the stream does not exist. One round trip. */
export async function streamHistory(store: EventStore, streamId: string, options: HistoryOptions = {}): Promise<HistoryEvent[]> {
  const bound = options.asOfPosition ? { toPosition: options.asOfPosition } : options.asOf ? { toTime: options.asOf } : {};
  const events = await store.readStream(streamId, bound);
  return events.map(toHistoryEvent);
}

const CLASSIFICATIONS = new FeedClassifications();
const READ = ['READ'] as const;
const readKey = (resource: string): string => `${resource}\u0000READ`;

/**
 * `HistoryEvent.data` through the payload policy the event feed applies (one policy, every path):
 * each field only under a grant covering its own resource, masked or generalised as that grant
 * says, so a history served to a masked reader reveals no more than the entity's own fields. Internal
 * and unclassified event types show an empty payload. The kit's server adds this resolver to every
 * subgraph whose schema has `HistoryEvent`.
 */
export const historyEventResolvers = {
  HistoryEvent: {
    async data(event: HistoryEvent, _args: unknown, ctx: Pick<SubgraphContext, 'access'>): Promise<unknown> {
      const policy = CLASSIFICATIONS.of(event.type);
      if (policy === undefined || policy === INTERNAL) return {};
      // Loads the grants if need be; every cover below is then answered at once.
      await ctx.access.cover(policy.resource, READ, readKey(policy.resource));
      const cover = (resource: string) => {
        const coverage = ctx.access.cover(resource, READ, readKey(resource));
        return coverage instanceof Promise ? null : coverage;
      };
      const { payload, served } = servePayload(event.data, policy, cover);
      for (const [resource, coverage] of served) ctx.access.markServed(resource, coverage);
      return payload;
    },
  },
};
