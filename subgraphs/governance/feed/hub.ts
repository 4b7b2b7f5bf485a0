/**
 * One live reader of the log per process, shared by every open event feed (DESIGN §3): a single
 * `store.subscribe`, fanned out in memory to the feeds whose filter can match each event, instead
 * of one polling reader per subscriber. The hub runs while at least one feed is open.
 *
 * The join contract (what makes a feed gap- and duplicate-free): `join(member)` registers the member
 * and, in the same synchronous step, tells it the hub's position R — the last event the hub has
 * dispatched. From then on the member is offered every event after R, in order; the events up to R
 * it reads itself. Any read that starts after the join sees every event up to R, since the hub only
 * passes events of transactions that have finished (the store's gap-safe read).
 *
 * The hub also reads the consumers' streams: a change to one invalidates that consumer's cached
 * grants at once (`FeedGrants`), which wakes its feeds so a revocation ends them.
 *
 * It also shares the policy decision of each event it dispatches (`decide`): the feeds holding the
 * same grants get one item, worked out once, instead of one each.
 *
 * Two things keep its reading cheap:
 * - It skips the governance domain's other streams — above all the access records, one per
 *   delivered event, so most of the log under load — until a feed that can match them joins; then
 *   it starts over reading everything (its feeds catch up by themselves and join again).
 * - Under load it reads at most once per `coalesceMs`: after a pull that had to go to the store,
 *   it pauses before the next, so one read takes every append of that moment instead of one read
 *   per append (the store wakes its subscribers on each append).
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventFilter, EventStore, EventSubscription, Position, RecordedEvent } from '../../../events/types.ts';
import { consumerStreamId } from '../consumer/events.ts';
import type { AccessGrant } from '../../kit/access.ts';
import type { FeedItem } from './eventFeed.ts';
import { FeedGrants, type FeedGrantsOptions } from './feedGrants.ts';
import { FeedClassifications } from '../../kit/payloadPolicy.ts';
import { FEED_DOMAINS } from './resources.ts';
import { watchFeed, type FeedSource } from '../../../platform/metrics.ts';

/** A feed as the hub sees it. */
export interface HubMember {
  /**
   * The first stream-id segments (before the dot) of the events it can match, e.g. `population`;
   * `null` for any stream. The hub offers it only events of those streams.
   */
  readonly streamDomains: readonly string[] | null;
  /** The stream-id prefix all its events have, if any: the hub then offers it only events of such streams. */
  readonly streamPrefix: string | undefined;
  /** Called synchronously by `join`, before any event is offered: the position the member joins at. */
  joined(position: Position): void;
  /** Every event after the join position, in order, synchronously as the hub reads it. */
  offer(event: RecordedEvent): void;
  /** The hub stopped reading (a store failure): the member must catch up by itself again. */
  detached(): void;
  /** Events offered to it and not yet delivered (the feed backlog metric). */
  readonly queued: number;
}

export interface EventFeedHubOptions {
  /** How many events a feed may hold undelivered before it falls back to its own reads; at least `readBatch`. @default 1000 */
  maxQueuedEvents?: number;
  /** Events per catch-up read. @default 500 */
  readBatch?: number;
  /** The longest a consumer's grants are used without being read again. @default 2000 */
  reloadGrantsMs?: number;
  /** The pause after a read of the store before the next one, under load. @default 5 */
  coalesceMs?: number;
  logger: Logger;
  /** Reads a consumer's folded stream (`readConsumerState`). */
  loadConsumer: FeedGrantsOptions['load'];
  now: () => Date;
  /** What each event type is delivered under and how its payload is served. @default the service's classification table */
  classifications?: FeedClassifications;
}

/** Counters for operators and tests. */
export interface EventFeedHubStats {
  /** Feeds offered live events right now. */
  liveFeeds: number;
  /** Times a feed's queue overflowed and it went back to reading the store itself. */
  fellBehind: number;
  /** Store subscriptions the hub has opened (one per run). */
  runs: number;
  /** Policy decisions made: one per event and set of grants, whatever the number of feeds holding them. */
  decisions: number;
}

const CONSUMER_STREAM_PREFIX = consumerStreamId('');
const GOVERNANCE = 'governance';
const domainOf = (streamId: string): string => streamId.slice(0, Math.max(0, streamId.indexOf('.')));
/** What the hub reads while no feed wants governance events: every other domain, and the consumers' streams (for grants). */
const WITHOUT_GOVERNANCE: EventFilter = {
  streamPrefixes: [...Object.entries(FEED_DOMAINS).flatMap(([domain, prefixes]) => (domain === GOVERNANCE ? [] : prefixes)), CONSUMER_STREAM_PREFIX],
};
const wantsGovernance = (member: HubMember): boolean => member.streamDomains === null || member.streamDomains.includes(GOVERNANCE);
/** A pull that took longer than this went to the store (an in-memory one takes microseconds). */
const STORE_PULL_MS = 0.2;

class HubRun {
  /** The last event dispatched; `undefined` until the run has read the head. */
  position: Position | undefined;
  readonly byDomain = new Map<string, Set<HubMember>>();
  readonly anyDomain = new Set<HubMember>();
  /** Members with a stream prefix, by prefix: an event looks up its stream id's prefixes, not every member. */
  readonly byPrefix = new Map<string, Set<HubMember>>();
  longestPrefix = 0;
  subscription: EventSubscription | undefined;
  stopped = false;
  ready: Promise<void>;

  constructor(
    /** Whether this run reads the governance domain's streams (else only the consumers' among them). */
    readonly governance: boolean,
    start: (run: HubRun) => Promise<void>,
  ) {
    this.ready = start(this);
  }

  add(member: HubMember): void {
    if (member.streamPrefix !== undefined) {
      let set = this.byPrefix.get(member.streamPrefix);
      if (!set) this.byPrefix.set(member.streamPrefix, (set = new Set()));
      set.add(member);
      this.longestPrefix = Math.max(this.longestPrefix, member.streamPrefix.length);
      return;
    }
    if (member.streamDomains === null) {
      this.anyDomain.add(member);
      return;
    }
    for (const domain of member.streamDomains) {
      let set = this.byDomain.get(domain);
      if (!set) this.byDomain.set(domain, (set = new Set()));
      set.add(member);
    }
  }

  remove(member: HubMember): boolean {
    if (member.streamPrefix !== undefined) {
      const set = this.byPrefix.get(member.streamPrefix);
      const removed = set?.delete(member) ?? false;
      if (set?.size === 0) this.byPrefix.delete(member.streamPrefix);
      return removed;
    }
    let removed = this.anyDomain.delete(member);
    for (const domain of member.streamDomains ?? []) {
      const set = this.byDomain.get(domain);
      if (set?.delete(member)) removed = true;
      if (set?.size === 0) this.byDomain.delete(domain);
    }
    return removed;
  }

  members(): HubMember[] {
    const sets = [this.anyDomain, ...this.byDomain.values(), ...this.byPrefix.values()];
    return [...new Set(sets.flatMap((set) => [...set]))];
  }
}

export class EventFeedHub implements FeedSource {
  readonly grants: FeedGrants;
  readonly classifications: FeedClassifications;
  readonly maxQueuedEvents: number;
  readonly readBatch: number;
  readonly stats: EventFeedHubStats = { liveFeeds: 0, fellBehind: 0, runs: 0, decisions: 0 };
  private readonly coalesceMs: number;
  private users = 0;
  private run: HubRun | undefined;
  /** A feed wanting governance events has joined since the hub started: read them from now on. */
  private governanceWanted = false;
  private readonly logger: Logger;

  constructor(
    readonly store: EventStore,
    options: EventFeedHubOptions,
  ) {
    this.maxQueuedEvents = options.maxQueuedEvents ?? 1000;
    this.readBatch = options.readBatch ?? 500;
    this.coalesceMs = options.coalesceMs ?? 5;
    if (this.maxQueuedEvents < this.readBatch) {
      throw new Error(`event feed hub: maxQueuedEvents (${this.maxQueuedEvents}) must be at least readBatch (${this.readBatch}): one read is dispatched at once`);
    }
    this.classifications = options.classifications ?? new FeedClassifications();
    this.logger = options.logger.child({ component: 'event-feed-hub' });
    this.grants = new FeedGrants({ load: options.loadConsumer, now: options.now, reloadMs: options.reloadGrantsMs ?? 2000 });
    watchFeed(this);
  }

  feeds(): { open: number; live: number; backlog: number } {
    const backlog = this.run?.members().reduce((sum, member) => sum + member.queued, 0) ?? 0;
    return { open: this.users, live: this.stats.liveFeeds, backlog };
  }

  /**
   * Every event the hub dispatches is one object handed to all its feeds, and `FeedGrants` hands all
   * feeds of a consumer one array of grants until they change: so (event, grants) names one decision.
   * Held while the event is (weakly), and dropped with it once every queue has let it go.
   */
  private readonly decisions = new WeakMap<RecordedEvent, Map<readonly AccessGrant[], FeedItem | null>>();

  /**
   * The decision for `event` under `grants`, made by `make` the first time it is asked for and
   * shared from then on. Events a feed read itself (catching up) are its own objects: decided per feed.
   */
  decide(event: RecordedEvent, grants: readonly AccessGrant[], make: () => FeedItem | null): FeedItem | null {
    let byGrants = this.decisions.get(event);
    if (byGrants?.has(grants)) return byGrants.get(grants)!;
    const decision = make();
    if (!byGrants) this.decisions.set(event, (byGrants = new Map()));
    byGrants.set(grants, decision);
    this.stats.decisions++;
    return decision;
  }

  /** A feed opened: the hub runs while any feed is open. */
  acquire(): void {
    this.users++;
  }

  /** A feed closed; the last one stops the hub's store subscription. */
  release(): void {
    this.users--;
    if (this.users > 0) return;
    this.governanceWanted = false;
    if (this.run) void this.stop(this.run);
  }

  /**
   * Registers `member` and calls its `joined(position)` in the same step; from then on it is
   * offered every later event. Starts the hub's store subscription if it is not running.
   */
  async join(member: HubMember): Promise<void> {
    if (wantsGovernance(member)) this.governanceWanted = true;
    for (;;) {
      const run = (this.run ??= this.start(this.governanceWanted));
      await run.ready;
      // The run may have failed or stopped while this member waited: join the next one.
      if (run !== this.run || run.position === undefined) continue;
      if (this.governanceWanted && !run.governance) {
        // This run skips events the member wants: start over reading everything (the others catch up and join again).
        await this.stop(run);
        continue;
      }
      run.add(member);
      this.stats.liveFeeds++;
      member.joined(run.position);
      return;
    }
  }

  /** Stops offering events to `member` (it closed, or fell behind). */
  leave(member: HubMember): void {
    if (this.run?.remove(member)) this.stats.liveFeeds--;
  }

  /** A member's queue overflowed: it leaves, and will catch up from its own last position. */
  fellBehind(member: HubMember): void {
    this.leave(member);
    this.stats.fellBehind++;
  }

  private start(governance: boolean): HubRun {
    this.stats.runs++;
    const run = new HubRun(governance, async (self) => {
      const head = await this.store.headPosition();
      self.subscription = this.store.subscribe({ fromPosition: head, batchSize: this.readBatch, ...(!governance && { filter: WITHOUT_GOVERNANCE }) });
      self.position = head;
      void this.read(self);
    });
    run.ready.catch((error: unknown) => this.fail(run, error));
    return run;
  }

  private async read(run: HubRun): Promise<void> {
    try {
      const events = run.subscription![Symbol.asyncIterator]();
      for (;;) {
        const asked = performance.now();
        const step = await events.next();
        if (run.stopped || step.done) return;
        this.dispatch(run, step.value);
        if (performance.now() - asked > STORE_PULL_MS) await sleep(this.coalesceMs);
      }
    } catch (error) {
      if (!run.stopped) this.fail(run, error);
    }
  }

  /** One event to every member whose domains it belongs to; synchronous, so `join` sees a consistent position. */
  private dispatch(run: HubRun, event: RecordedEvent): void {
    if (event.streamId.startsWith(CONSUMER_STREAM_PREFIX)) this.grants.invalidate(event.streamId.slice(CONSUMER_STREAM_PREFIX.length));
    run.position = event.position;
    const { streamId } = event;
    const domain = run.byDomain.get(domainOf(streamId));
    if (domain) for (const member of domain) member.offer(event);
    for (const member of run.anyDomain) member.offer(event);
    if (run.byPrefix.size === 0) return;
    for (let length = Math.min(run.longestPrefix, streamId.length); length > 0; length--) {
      const members = run.byPrefix.get(streamId.slice(0, length));
      if (members) for (const member of members) member.offer(event);
    }
  }

  private fail(run: HubRun, error: unknown): void {
    if (run !== this.run) return;
    this.logger.error({ err: error }, 'the event feed hub stopped reading the log; open feeds go back to reading it themselves');
    void this.stop(run);
  }

  private async stop(run: HubRun): Promise<void> {
    if (run.stopped) return;
    run.stopped = true;
    if (this.run === run) this.run = undefined;
    for (const member of run.members()) {
      run.remove(member);
      this.stats.liveFeeds--;
      member.detached();
    }
    await run.subscription?.close();
  }
}
