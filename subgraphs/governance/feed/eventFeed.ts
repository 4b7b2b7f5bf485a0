/**
 * The generic live event feed for partner apps (`Subscription.events`, DESIGN §3): catch-up then
 * live from the store's pull-based subscription, strictly after `fromPosition`, so a client that
 * resumes from the last position it saw gets every later event exactly once, in order.
 *
 * Grants. The root field needs `events.feed` SUBSCRIBE (checked by the kit). Each event is sent only
 * when a grant valid now gives SUBSCRIBE on its stream's resource (`resources.ts`); every other event
 * is dropped here and never reaches the client. The kit reloads the grants after each delivered
 * event; while none is delivered (idle, or skipping events the consumer may not see) they are
 * reloaded every `recheckGrantsMs`, and when `events.feed` is no longer granted the stream ends with
 * one FORBIDDEN error. Payloads of resources granted only `masked` have `idNumber`/`phone` masked.
 */
import { ForbiddenError } from '../../../events/errors.ts';
import { decodePosition } from '../../../events/position.ts';
import type { EventFilter, EventStore, Provenance, RecordedEvent } from '../../../events/types.ts';
import type { RequestAccess } from '../../kit/access.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import { maskPayload } from './masking.ts';
import { resourceOfStream, streamPrefixesOf } from './resources.ts';

export const FEED_RESOURCE = 'events.feed';

type Coverage = NonNullable<Awaited<ReturnType<RequestAccess['cover']>>>;

/** One event about to be delivered, with the resource and grants it is delivered under. */
export interface FeedItem {
  event: RecordedEvent;
  resource: string;
  coverage: Coverage;
}

/** Yielded once when the consumer lost its `events.feed` grant: the root resolver turns it into FORBIDDEN. */
const REVOKED = Symbol('events.feed revoked');

type FeedValue = { events: FeedItem | typeof REVOKED };

export interface EventFeedArgs {
  filter?: { domains?: readonly string[] | null; types?: readonly string[] | null; streamPrefix?: string | null } | null;
  fromPosition?: string | null;
}

export interface EventFeedOptions {
  /** The longest the grants are trusted without being reloaded while no event is delivered. @default 2000 */
  recheckGrantsMs?: number;
}

const SUBSCRIBE: readonly ['SUBSCRIBE'] = ['SUBSCRIBE'];
const coverKey = (resource: string) => `${resource}\u0000SUBSCRIBE`;

/**
 * Validates the arguments (BAD_USER_INPUT for a malformed or unknown position or an unknown domain)
 * before anything is streamed, then opens the feed. Without `fromPosition` the feed starts at the head.
 */
export async function openEventFeed(
  store: EventStore,
  args: EventFeedArgs,
  ctx: SubgraphContext,
  options: EventFeedOptions = {},
): Promise<AsyncIterableIterator<FeedValue>> {
  const recheckMs = options.recheckGrantsMs ?? 2000;
  const domainPrefixes = args.filter?.domains?.length ? streamPrefixesOf(args.filter.domains) : undefined;
  const streamPrefix = args.filter?.streamPrefix ?? undefined;
  let fromPosition: string;
  if (args.fromPosition === null || args.fromPosition === undefined) {
    fromPosition = await store.headPosition();
  } else {
    decodePosition(args.fromPosition);
    await store.assertPositionExists(args.fromPosition);
    fromPosition = args.fromPosition;
  }
  const filter: EventFilter = {
    ...(args.filter?.types?.length && { types: args.filter.types }),
    // One prefix narrows the store's scan; domains are checked below when a stream prefix is also given.
    ...((streamPrefix !== undefined || domainPrefixes) && { streamPrefixes: streamPrefix !== undefined ? [streamPrefix] : domainPrefixes }),
  };
  const inDomains = (streamId: string) => !domainPrefixes || domainPrefixes.some((p) => streamId.startsWith(p));

  const subscription = store.subscribe({ fromPosition, filter });
  const events = subscription[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<RecordedEvent>> | undefined;
  let lastCheck = Date.now();
  let ended = false;

  const done = async (): Promise<IteratorResult<FeedValue>> => {
    ended = true;
    await subscription.close();
    return { value: undefined, done: true };
  };

  /** The next event, or `'recheck'` when the grants are due to be reloaded first. */
  async function nextOrRecheck(): Promise<IteratorResult<RecordedEvent> | 'recheck'> {
    pending ??= events.next();
    const wait = Math.max(0, recheckMs - (Date.now() - lastCheck));
    let timer: NodeJS.Timeout | undefined;
    const due = new Promise<'recheck'>((resolve) => {
      timer = setTimeout(() => resolve('recheck'), wait);
    });
    try {
      const step = await Promise.race([pending, due]);
      if (step !== 'recheck') pending = undefined;
      return step;
    } finally {
      clearTimeout(timer);
    }
  }

  const iterator: AsyncIterableIterator<FeedValue> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      while (!ended) {
        if (Date.now() - lastCheck >= recheckMs) {
          ctx.access.reset();
          lastCheck = Date.now();
        }
        if (!(await ctx.access.cover(FEED_RESOURCE, SUBSCRIBE, coverKey(FEED_RESOURCE)))) {
          await subscription.close();
          ended = true;
          return { value: { events: REVOKED }, done: false };
        }
        const step = await nextOrRecheck();
        if (step === 'recheck') continue;
        if (step.done) return done();
        const event = step.value;
        const resource = resourceOfStream(event.streamId);
        if (resource === null || !inDomains(event.streamId)) continue;
        const coverage = await ctx.access.cover(resource, SUBSCRIBE, coverKey(resource));
        if (!coverage) continue;
        // The kit reloads the grants after this event is sent.
        lastCheck = Date.now();
        return { value: { events: { event, resource, coverage } }, done: false };
      }
      return done();
    },
    return: done,
  };
  return iterator;
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
  return item;
}

export const eventEnvelopeResolvers = {
  id: (item: FeedItem): string => item.event.eventId,
  type: (item: FeedItem): string => item.event.type,
  streamId: (item: FeedItem): string => item.event.streamId,
  position: (item: FeedItem): string => item.event.position,
  recordedAt: (item: FeedItem): string => item.event.recordedAt,
  provenance: (item: FeedItem): Provenance => item.event.metadata.provenance,
  payload: (item: FeedItem): unknown => (item.coverage.masked ? maskPayload(item.event.data) : item.event.data),
};
