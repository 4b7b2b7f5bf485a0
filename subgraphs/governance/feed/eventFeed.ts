/**
 * The generic live event feed for partner apps (`Subscription.events`, DESIGN §3): every event
 * strictly after `fromPosition`, in order, catch-up then live, so a client that resumes from the
 * last position it saw gets every later event exactly once.
 *
 * How a feed moves (the hub is `hub.ts`):
 * 1. Catching up: it reads the store itself, a batch at a time as the client takes events, until a
 *    read comes back short (it is near the head).
 * 2. Joining: it joins the hub at the hub's position R. Events after R are queued for it by the hub;
 *    it reads the ones up to R itself (reads that start after the join see all of them), then
 *    takes the queue, skipping anything at or before what it already delivered.
 * 3. Live: it takes events from its queue. The queue holds at most `maxQueuedEvents`; when the
 *    client is slower than the log (its queue overflows), the feed leaves the hub, drops the queue
 *    and goes back to 1 from the last position it delivered — memory stays bounded, nothing is lost.
 * Positions are compared only with `comparePositions`.
 *
 * Grants: one policy with the graph (DESIGN §2). The root field needs `events.feed` SUBSCRIBE
 * (checked by the kit). Each event type and each field of its payload is classified against the
 * catalog (`payloadPolicy.ts`): an event is sent only when a grant valid now gives SUBSCRIBE on its
 * type's resource, and its payload holds only the fields a grant covers, masked or generalised as
 * the graph masks them. Internal events (natural-key claims) and the access records of feed
 * deliveries are never sent: the latter would make every delivery to an `audit.log` subscriber cause
 * another. A filter naming a type or domain the consumer may not subscribe to is refused with
 * FORBIDDEN. The consumer's grants come from the hub's cache (`feedGrants.ts`), handed to the kit per
 * event with `useGrants`: no store read per event, and a change to the consumer's stream wakes the
 * feed at once; when `events.feed` is no longer granted the stream ends with one FORBIDDEN error.
 * The decision for an event (is it sent, its payload masked by grant, its subjects) is made once per
 * set of grants and shared by the feeds that hold them (`EventFeedHub.decide`); a change of grants
 * gives a new set, decided afresh, so sharing never carries a decision past a revocation or expiry.
 * Every delivered event gets its own access record (the kit's group-committed recorder) naming the
 * event, its subjects and the resources of the fields served, before it is sent; the recorder writes
 * the records of one event's deliveries to many subscriptions holding the same grants as one event.
 */
import { ForbiddenError, ValidationError } from '../../../events/errors.ts';
import { comparePositions, decodePosition } from '../../../events/position.ts';
import type { EventFilter, Position, Provenance, RecordedEvent } from '../../../events/types.ts';
import type { AccessAction, RequestAccess } from '../../kit/access.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import { markShared } from '../../kit/sharedEvents.ts';
import type { EventFeedHub, HubMember } from './hub.ts';
import { INTERNAL, servePayload, subjectsOf, type EventPolicy, type FeedClassifications } from '../../kit/payloadPolicy.ts';
import { isFeedStream, streamPrefixesOf } from './resources.ts';

export const FEED_RESOURCE = 'events.feed';

type Coverage = NonNullable<Awaited<ReturnType<RequestAccess['cover']>>>;

/**
 * One event about to be delivered, with the resource and grants it is delivered under and its payload
 * as served. Read-only: one item is shared by every feed holding the same grants (`EventFeedHub.decide`).
 */
export interface FeedItem {
  event: RecordedEvent;
  resource: string;
  coverage: Coverage;
  payload: unknown;
  /** The resources of the payload's fields and the grants that covered them. */
  served: ReadonlyMap<string, Coverage>;
  subjects: readonly string[];
}

/** Yielded once when the consumer lost its `events.feed` grant: the root resolver turns it into FORBIDDEN. */
const REVOKED = Symbol('events.feed revoked');

type FeedValue = { events: FeedItem | typeof REVOKED };

/**
 * One root value per item: the feeds holding the same grants get the same item for an event
 * (`EventFeedHub.decide`), and with it the same root value, which the subgraph then executes once
 * per operation for all of them (kit/sharedEvents.ts). The envelope's fields depend on the item alone.
 */
const rootValues = new WeakMap<FeedItem, FeedValue>();

function rootValueOf(item: FeedItem): FeedValue {
  let value = rootValues.get(item);
  if (!value) rootValues.set(item, (value = markShared({ events: item })));
  return value;
}

export interface EventFeedArgs {
  filter?: { domains?: readonly string[] | null; types?: readonly string[] | null; streamPrefix?: string | null } | null;
  fromPosition?: string | null;
}

const SUBSCRIBE: readonly ['SUBSCRIBE'] = ['SUBSCRIBE'];
/** A field of a delivered payload, like a field below the graph's subscription root. */
const FIELD_ACTIONS: readonly AccessAction[] = ['SUBSCRIBE', 'READ'];
const coverKey = (resource: string) => `${resource}\u0000SUBSCRIBE`;
const fieldKey = (resource: string) => `${resource}\u0000SUBSCRIBE,READ`;
const FEED_KEY = coverKey(FEED_RESOURCE);

/** What a feed selects, checked on every event (store reads are narrowed by the same, as far as they can be). */
interface Selection {
  storeFilter: EventFilter;
  types: ReadonlySet<string> | undefined;
  streamPrefix: string | undefined;
  domainPrefixes: readonly string[] | undefined;
  /** See `HubMember.streamDomains`. */
  streamDomains: readonly string[] | null;
}

function selectionOf(filter: EventFeedArgs['filter']): Selection {
  const domainPrefixes = filter?.domains?.length ? streamPrefixesOf(filter.domains) : undefined;
  const streamPrefix = filter?.streamPrefix ?? undefined;
  const types = filter?.types?.length ? filter.types : undefined;
  const firstSegment = (prefix: string) => prefix.slice(0, prefix.indexOf('.'));
  return {
    storeFilter: {
      ...(types && { types }),
      // One prefix narrows the store's scan; domains are checked per event when a stream prefix is also given.
      ...((streamPrefix !== undefined || domainPrefixes) && { streamPrefixes: streamPrefix !== undefined ? [streamPrefix] : domainPrefixes }),
    },
    types: types && new Set(types),
    streamPrefix,
    domainPrefixes,
    streamDomains: domainPrefixes
      ? [...new Set(domainPrefixes.map(firstSegment))]
      : streamPrefix?.includes('.')
        ? [firstSegment(streamPrefix)]
        : null,
  };
}

const selects = (s: Selection, event: RecordedEvent): boolean =>
  (!s.types || s.types.has(event.type)) &&
  (s.streamPrefix === undefined || event.streamId.startsWith(s.streamPrefix)) &&
  (!s.domainPrefixes || s.domainPrefixes.some((p) => event.streamId.startsWith(p))) &&
  isFeedStream(event.streamId);

/** The policy an event is delivered under; `undefined` for an event the feed never sends. */
function deliverable(classifications: FeedClassifications, event: RecordedEvent): EventPolicy | undefined {
  const classification = classifications.of(event.type);
  if (classification === undefined || classification === INTERNAL) return undefined;
  // The access record of a feed delivery: sending it would cause another delivery, and so on.
  if (event.type === 'DataAccessed' && (event.data as { eventIds?: unknown }).eventIds !== undefined) return undefined;
  return classification;
}

/**
 * The policy decision for one event under the grants `access` holds (`useGrants`, so coverage is
 * worked out synchronously): the item as delivered, or `null` when those grants do not send it.
 * It depends on nothing but the event and the grants, so the hub shares it among the feeds holding
 * the same grants.
 */
function decide(classifications: FeedClassifications, event: RecordedEvent, access: RequestAccess): FeedItem | null {
  const policy = deliverable(classifications, event);
  if (!policy) return null;
  const coverage = access.cover(policy.resource, SUBSCRIBE, coverKey(policy.resource)) as Coverage | null;
  if (!coverage) return null;
  const { payload, served } = servePayload(event.data, policy, (resource) => access.cover(resource, FIELD_ACTIONS, fieldKey(resource)) as Coverage | null);
  return { event, resource: policy.resource, coverage, payload, served, subjects: subjectsOf(event.data, policy) };
}

type Phase = 'catchingUp' | 'joining' | 'live' | 'ended';

class EventFeed implements AsyncIterableIterator<FeedValue>, HubMember {
  readonly streamDomains: readonly string[] | null;
  readonly streamPrefix: string | undefined;
  private phase: Phase = 'catchingUp';
  /** The last event taken (delivered or dropped for lack of a grant); the next one comes strictly after it. */
  private cursor: Position;
  /** Events of the feed's own last store read, not yet taken. */
  private readBuffer: RecordedEvent[] = [];
  private readHead = 0;
  /** The last store read came back short: nothing more was visible when it ran. */
  private readExhausted = false;
  /** The hub's position when this feed joined; the hub queues what comes after. */
  private joinedAt: Position | undefined;
  private queue: RecordedEvent[] = [];
  private queueHead = 0;
  /** Bumped whenever the phase changes under an await (the hub runs between awaits). */
  private epoch = 0;
  private wake: (() => void) | undefined;
  private readonly unwatchGrants: () => void;

  constructor(
    private readonly hub: EventFeedHub,
    private readonly selection: Selection,
    private readonly ctx: SubgraphContext,
    fromPosition: Position,
  ) {
    this.cursor = fromPosition;
    this.streamDomains = selection.streamDomains;
    this.streamPrefix = selection.streamPrefix;
    hub.acquire();
    this.unwatchGrants = hub.grants.watch(ctx.caller.consumerId, () => this.signal());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<FeedValue>> {
    const access = this.ctx.access;
    while (!this.ended) {
      const event = await this.nextEvent();
      if (this.ended) break;
      // Synchronous while the consumer's cached grants are fresh: no extra turn per event.
      const current = this.hub.grants.current(this.ctx.caller.consumerId);
      const grants = current instanceof Promise ? await current : current;
      if (this.ended) break;
      access.useGrants(grants, this.hub.grants.jurisdiction(this.ctx.caller.consumerId));
      if (!access.cover(FEED_RESOURCE, SUBSCRIBE, FEED_KEY)) {
        this.end();
        return { value: { events: REVOKED }, done: false };
      }
      if (!event || !selects(this.selection, event)) continue;
      const item = this.hub.decide(event, grants, () => decide(this.hub.classifications, event, access));
      if (item) return { value: rootValueOf(item), done: false };
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<FeedValue>> {
    this.end();
    return { value: undefined, done: true };
  }

  // --- HubMember: called synchronously by the hub -------------------------------------------

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  joined(position: Position): void {
    // Closed while it waited for the hub to start: it must not stay registered.
    if (this.phase === 'ended') {
      this.hub.leave(this);
      return;
    }
    this.epoch++;
    this.phase = 'joining';
    this.joinedAt = position;
    this.readBuffer = [];
    this.readHead = 0;
    this.readExhausted = false;
  }

  offer(event: RecordedEvent): void {
    if (this.phase === 'ended' || !selects(this.selection, event)) return;
    if (this.queue.length - this.queueHead >= this.hub.maxQueuedEvents) {
      this.hub.fellBehind(this);
      this.ctx.logger.info({ cursor: this.cursor, maxQueuedEvents: this.hub.maxQueuedEvents }, 'event feed fell behind the log; catching up from its own reads');
      this.catchUpAgain();
      return;
    }
    this.queue.push(event);
    this.signal();
  }

  detached(): void {
    this.catchUpAgain();
  }

  // --- internals ----------------------------------------------------------------------------

  /** A getter, so checks after an await see what the hub or `return()` did meanwhile. */
  private get ended(): boolean {
    return this.phase === 'ended';
  }

  private catchUpAgain(): void {
    if (this.phase === 'ended') return;
    this.epoch++;
    this.phase = 'catchingUp';
    this.joinedAt = undefined;
    this.queue = [];
    this.queueHead = 0;
    this.readBuffer = [];
    this.readHead = 0;
    this.readExhausted = false;
    this.signal();
  }

  private end(): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.hub.leave(this);
    this.hub.release();
    this.unwatchGrants();
    this.queue = [];
    this.readBuffer = [];
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private take(event: RecordedEvent): RecordedEvent {
    this.cursor = event.position;
    return event;
  }

  /**
   * The next event after the cursor, or `undefined` when the feed was woken without one (its
   * grants may have changed, or it ended): the caller checks the grants and asks again.
   */
  private async nextEvent(): Promise<RecordedEvent | undefined> {
    for (;;) {
      switch (this.phase) {
        case 'ended':
          return undefined;
        case 'live': {
          while (this.queueHead < this.queue.length) {
            const event = this.queue[this.queueHead++]!;
            if (comparePositions(event.position, this.cursor) > 0) return this.take(event);
          }
          this.queue = [];
          this.queueHead = 0;
          await new Promise<void>((resolve) => (this.wake = resolve));
          return undefined;
        }
        case 'catchingUp':
        case 'joining': {
          if (this.readHead < this.readBuffer.length) {
            const event = this.readBuffer[this.readHead++]!;
            if (this.phase === 'joining' && comparePositions(event.position, this.joinedAt!) > 0) {
              // Past the join position: the hub has queued this one and everything after it.
              this.goLive();
              continue;
            }
            return this.take(event);
          }
          if (this.phase === 'joining' && (this.readExhausted || comparePositions(this.cursor, this.joinedAt!) >= 0)) {
            this.goLive();
            continue;
          }
          if (this.phase === 'catchingUp' && this.readExhausted) {
            await this.hub.join(this);
            continue;
          }
          const epoch = this.epoch;
          const events = await this.hub.store.readAll({ fromPosition: this.cursor, filter: this.selection.storeFilter, limit: this.hub.readBatch });
          // The hub moved this feed meanwhile (it joined, fell behind or ended): that read is stale.
          if (epoch !== this.epoch) continue;
          this.readBuffer = events;
          this.readHead = 0;
          this.readExhausted = events.length < this.hub.readBatch;
          continue;
        }
      }
    }
  }

  private goLive(): void {
    this.phase = 'live';
    this.readBuffer = [];
    this.readHead = 0;
  }
}

/**
 * A filter naming an event type or a domain the consumer may not subscribe to is refused, not
 * accepted in silence (it would only ever deliver nothing): BAD_USER_INPUT for a type the feed never
 * sends, FORBIDDEN for one (or a domain none of) whose resources the consumer holds no SUBSCRIBE grant.
 */
async function assertFilterGranted(hub: EventFeedHub, filter: EventFeedArgs['filter'], ctx: SubgraphContext): Promise<void> {
  if (!filter?.types?.length && !filter?.domains?.length) return;
  ctx.access.useGrants(await hub.grants.current(ctx.caller.consumerId));
  const subscribable = (resource: string): boolean => Boolean(ctx.access.cover(resource, SUBSCRIBE, coverKey(resource)));
  const refuse = (what: string, resources: readonly string[]) =>
    new ForbiddenError(
      `consumer ${ctx.caller.consumerId} has no grant valid now to SUBSCRIBE ${resources.join(' or ')}, so the event feed cannot serve ${what}; ask the governance administrator for a grant`,
      { resource: resources[0], action: 'SUBSCRIBE', field: 'Subscription.events' },
    );
  for (const type of filter.types ?? []) {
    const classification = hub.classifications.of(type);
    if (classification === undefined || classification === INTERNAL) {
      throw new ValidationError(`"${type}" in filter.types is not an event type of the feed`, { field: 'filter.types', type });
    }
    if (!subscribable(classification.resource)) throw refuse(`events of type ${type}`, [classification.resource]);
  }
  for (const domain of filter.domains ?? []) {
    const resources = [...hub.classifications.resourcesOfDomain(domain)];
    if (!resources.some(subscribable)) throw refuse(`events of the ${domain} domain`, resources);
  }
}

/**
 * Validates the arguments (BAD_USER_INPUT for a malformed or unknown position, an unknown domain or
 * type; FORBIDDEN for a type or domain not granted) before anything is streamed, then opens the
 * feed. Without `fromPosition` the feed starts at the committed head: nothing committed before it
 * opened is delivered (EventStore.committedHead).
 */
export async function openEventFeed(hub: EventFeedHub, args: EventFeedArgs, ctx: SubgraphContext): Promise<AsyncIterableIterator<FeedValue>> {
  const selection = selectionOf(args.filter);
  let fromPosition: Position;
  if (args.fromPosition === null || args.fromPosition === undefined) {
    fromPosition = await hub.store.committedHead();
  } else {
    decodePosition(args.fromPosition);
    await hub.store.assertPositionExists(args.fromPosition);
    fromPosition = args.fromPosition;
  }
  // Opened before the filter is checked, so the grants read for the check are the ones the feed keeps.
  const feed = new EventFeed(hub, selection, ctx, fromPosition);
  try {
    await assertFilterGranted(hub, args.filter, ctx);
  } catch (error) {
    await feed.return();
    throw error;
  }
  return feed;
}

/** The root field's value per event: records the event's resource as served, or ends a revoked feed. */
export function resolveFeedItem(root: FeedValue, ctx: SubgraphContext): FeedItem {
  const item = root.events;
  if (item === REVOKED) {
    throw new ForbiddenError(`consumer ${ctx.caller.consumerId} no longer holds a grant to SUBSCRIBE ${FEED_RESOURCE}; the event feed has ended`, {
      resource: FEED_RESOURCE,
      action: 'SUBSCRIBE',
    });
  }
  ctx.access.markServed(item.resource, item.coverage);
  for (const [resource, coverage] of item.served) ctx.access.markServed(resource, coverage);
  for (const subject of item.subjects) ctx.access.markSubjectId(subject);
  ctx.access.markEvent(item.event.eventId);
  return item;
}

export const eventEnvelopeResolvers = {
  id: (item: FeedItem): string => item.event.eventId,
  type: (item: FeedItem): string => item.event.type,
  streamId: (item: FeedItem): string => item.event.streamId,
  position: (item: FeedItem): string => item.event.position,
  recordedAt: (item: FeedItem): string => item.event.recordedAt,
  provenance: (item: FeedItem): Provenance => item.event.metadata.provenance,
  payload: (item: FeedItem): unknown => item.payload,
};
