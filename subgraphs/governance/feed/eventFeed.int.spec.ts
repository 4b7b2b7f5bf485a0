/**
 * The event feed over the shared hub, on both backends, driven as the kit drives it (`next()` per
 * event, grants handed over by the feed): one store reader for every feed, resume from old
 * positions while the log grows with no gap and no duplicate, a slow feed that falls back to its own
 * reads, grants read once and invalidated by the log, refused arguments, and the payload policy:
 * fields served by grant (masked, generalised or left out), internal claim streams and the access
 * records of deliveries never sent, deliveries recorded with their subjects and event ids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { ForbiddenError, ValidationError } from '../../../events/errors.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { START, type EventFilter, type NewEvent, type Position, type RecordedEvent } from '../../../events/types.ts';
import { waitUntilVisible, testMetadata } from '../../../test/helpers/events.ts';
import { testGrants, type TestGrants } from '../../../test/helpers/grants.ts';
import { openTestRuntime, type TestRuntime } from '../../../test/helpers/graph.ts';
import { testSubgraphContext } from '../../../test/helpers/subgraphContext.ts';
import { makeIdNumber } from '../../population/identity/idNumber.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import type { SubgraphModule } from '../../kit/module.ts';
import { readConsumerState } from '../access.ts';
import { populationModule } from '../../population/index.ts';
import { accessStreamId } from '../../kit/dataAccessed.ts';
import { governanceModule } from '../index.ts';
import { openEventFeed, resolveFeedItem, type EventFeedArgs, type FeedItem } from './eventFeed.ts';
import { EventFeedHub, type EventFeedHubOptions } from './hub.ts';
import { EVENT_CLASSIFICATIONS, FeedClassifications } from '../../kit/payloadPolicy.ts';

const FEED_TEST_EVENTS: readonly EventTypeDefinition[] = [{ type: 'FeedHubTested', schemaVersion: 1, schema: z.object({ n: z.number().int() }) }];
const feedModule: SubgraphModule = { ...governanceModule, eventTypes: [...governanceModule.eventTypes, ...populationModule.eventTypes, ...FEED_TEST_EVENTS] };
/** The service's classifications, and the test event's: delivered under `population.basic` whatever its stream. */
const classifications = new FeedClassifications({
  ...EVENT_CLASSIFICATIONS,
  population: { ...EVENT_CLASSIFICATIONS.population, FeedHubTested: { resource: 'population.basic', subjects: [], fields: { n: { resource: 'population.basic' } } } },
});
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const tested = (n: number): NewEvent => ({ type: 'FeedHubTested', data: { n }, metadata: testMetadata });

type Feed = AsyncIterableIterator<Parameters<typeof resolveFeedItem>[0]>;

/** The next `count` events a feed delivers (as the kit would: next() one at a time), failing after `ms`. */
async function take(feed: Feed, ctx: SubgraphContext, count: number, ms = 20_000): Promise<RecordedEvent[]> {
  return (await takeItems(feed, ctx, count, ms)).map((item) => item.event);
}

/** Like `take`, with each item as delivered (payload as served); `onItem` sees the access each one recorded. */
async function takeItems(feed: Feed, ctx: SubgraphContext, count: number, ms = 20_000, onItem?: (item: FeedItem) => void): Promise<FeedItem[]> {
  const out: FeedItem[] = [];
  const deadline = Date.now() + ms;
  while (out.length < count) {
    const left = deadline - Date.now();
    const step = await Promise.race([
      feed.next(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, left)).unref()),
    ]);
    if (step === 'timeout') throw new Error(`the feed delivered ${out.length} of ${count} events within ${ms} ms`);
    if (step.done) throw new Error(`the feed ended after ${out.length} of ${count} events`);
    const item = resolveFeedItem(step.value, ctx);
    out.push(item);
    onItem?.(item);
    ctx.access.reset();
  }
  return out;
}

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`event feed over the shared hub (${backend})`, () => {
    let test: TestRuntime;
    let grants: TestGrants;
    let loads = 0;
    const hubs: EventFeedHub[] = [];
    const feeds: Feed[] = [];

    const store = () => test.runtime.store;
    function newHub(options: Partial<EventFeedHubOptions> = {}): EventFeedHub {
      const hub = new EventFeedHub(store(), {
        logger,
        classifications,
        now: () => new Date(),
        loadConsumer: (consumerId) => {
          loads++;
          return readConsumerState(store(), consumerId);
        },
        ...options,
      });
      hubs.push(hub);
      return hub;
    }
    async function open(hub: EventFeedHub, consumerId: string, args: EventFeedArgs = {}): Promise<{ feed: Feed; ctx: SubgraphContext }> {
      const ctx = testSubgraphContext({ caller: { consumerId, role: 'partner' } });
      const feed = (await openEventFeed(hub, args, ctx)) as Feed;
      feeds.push(feed);
      return { feed, ctx };
    }
    /** Appends one event per number to `<prefix>-<n>` and returns their positions, visible to readers. */
    async function append(numbers: readonly number[], prefix = 'population.person'): Promise<Position[]> {
      const positions: Position[] = [];
      for (const n of numbers) positions.push((await store().append(`${prefix}-${n}`, [tested(n)])).events[0]!.position);
      if (positions.length) await waitUntilVisible(store(), positions[positions.length - 1]!);
      return positions;
    }
    /** What the store holds after `from` under `filter`: the sequence a feed must deliver. */
    async function truth(from: Position, filter: EventFilter): Promise<Position[]> {
      const out: Position[] = [];
      for (let page = await store().readAll({ fromPosition: from, filter, limit: 1000 }); page.length; ) {
        out.push(...page.map((e) => e.position));
        page = await store().readAll({ fromPosition: page[page.length - 1]!.position, filter, limit: 1000 });
      }
      return out;
    }
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

    before(async () => {
      test = await openTestRuntime([feedModule], backend);
      grants = testGrants(store());
      await grants.grant('hub-reader', ['events.feed', 'population.basic', 'tax.declarations', 'audit.log'], { actions: ['SUBSCRIBE'] });
    });
    after(async () => {
      for (const feed of feeds) await feed.return?.();
      await test.close();
    });

    it('serves every open feed from one store reader, each with its own filter, and stops it with the last feed', async () => {
      const hub = newHub();
      const population = await open(hub, 'hub-reader', { filter: { domains: ['population'] } });
      const tax = await open(hub, 'hub-reader', { filter: { streamPrefix: 'tax.taxpayer-' } });
      const both = await open(hub, 'hub-reader', { filter: { domains: ['population', 'tax'] } });
      const [p1, p2] = await append([1, 2]);
      const [t1] = await append([3], 'tax.taxpayer');
      const [p3] = await append([4]);
      assert.deepEqual((await take(population.feed, population.ctx, 3)).map((e) => e.position), [p1, p2, p3]);
      assert.deepEqual((await take(tax.feed, tax.ctx, 1)).map((e) => e.position), [t1]);
      assert.deepEqual((await take(both.feed, both.ctx, 4)).map((e) => e.position), [p1, p2, t1, p3]);
      // Each feed asks for its next event, so each is in the hub.
      const waiting = [population, tax, both].map(({ feed }) => feed.next());
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual({ runs: hub.stats.runs, liveFeeds: hub.stats.liveFeeds }, { runs: 1, liveFeeds: 3 });
      for (const { feed } of [population, tax, both]) await feed.return!();
      assert.deepEqual(
        (await Promise.all(waiting)).map((r) => r.done),
        [true, true, true],
      );
      assert.equal(hub.stats.liveFeeds, 0);
      const again = await open(hub, 'hub-reader');
      const againNext = again.feed.next();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual({ runs: hub.stats.runs, liveFeeds: hub.stats.liveFeeds }, { runs: 2, liveFeeds: 1 }, 'the reader stopped with the last feed and started again with the next');
      const [p5] = await append([5]);
      assert.equal(resolveFeedItem((await againNext).value, again.ctx).event.position, p5);
      await again.feed.return!();
    });

    it('reads governance streams only once a feed wants them: the hub starts over and no feed misses or repeats an event', async () => {
      const hub = newHub();
      const population = await open(hub, 'hub-reader', { filter: { domains: ['population'] } });
      const [p1] = await append([10]);
      assert.deepEqual((await take(population.feed, population.ctx, 1)).map((e) => e.position), [p1]);
      const populationNext = population.feed.next();
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual({ runs: hub.stats.runs, liveFeeds: hub.stats.liveFeeds }, { runs: 1, liveFeeds: 1 });
      const [p2] = await append([11]);
      assert.equal(resolveFeedItem((await populationNext).value, population.ctx).event.position, p2);

      // A feed of every domain (governance included) joins: the hub reads everything from then on.
      const everything = await open(hub, 'hub-reader');
      const everythingNext = everything.feed.next();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(hub.stats.runs, 2, 'the hub started over reading the governance streams too');
      const [g1] = await append([12], 'governance.data-issue');
      const [p3] = await append([13]);
      assert.equal(resolveFeedItem((await everythingNext).value, everything.ctx).event.position, g1);
      everything.ctx.access.reset();
      assert.deepEqual((await take(everything.feed, everything.ctx, 1)).map((e) => e.position), [p3]);
      assert.deepEqual((await take(population.feed, population.ctx, 1)).map((e) => e.position), [p3], 'the population feed caught up and joined again');
      const waiting = [population, everything].map(({ feed }) => feed.next());
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(hub.stats.liveFeeds, 2);
      for (const { feed } of [population, everything]) await feed.return!();
      await Promise.all(waiting);
    });

    it('resumes feeds from old positions while the log grows: each joins the hub with no gap and no duplicate', async () => {
      const hub = newHub({ readBatch: 16 });
      const history = await append(range(0, 120));
      const starts: Position[] = [START, history[10]!, history[60]!, history[119]!];
      const opened = await Promise.all(starts.map((fromPosition) => open(hub, 'hub-reader', { fromPosition, filter: { domains: ['population'] } })));
      const population: EventFilter = { streamPrefixes: ['population.'] };
      const WRITTEN = 150;
      // Nobody else writes: each feed must deliver what is there now and all that the writer adds.
      const expected = await Promise.all(starts.map(async (from) => (await truth(from, population)).length + WRITTEN));
      // The writer appends while the feeds catch up and join.
      const writer = (async () => {
        for (const n of range(1000, 1000 + WRITTEN)) {
          await store().append(`population.person-${n}`, [tested(n)]);
          if (n % 10 === 0) await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const received = await Promise.all(opened.map(async ({ feed, ctx }, i) => (await take(feed, ctx, expected[i]!, 60_000)).map((e) => e.position)));
      await writer;
      for (const [i, from] of starts.entries()) {
        assert.deepEqual(received[i], await truth(from, population), `the feed from ${from}: complete, in order, no duplicate`);
      }
      const waiting = opened.map(({ feed }) => feed.next());
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(hub.stats.liveFeeds, starts.length, 'every feed ended up following the hub');
      assert.equal(hub.stats.runs, 1);
      for (const { feed } of opened) await feed.return!();
      await Promise.all(waiting);
    });

    it('drops a feed that does not keep up back to its own reads, then delivers everything once, in order', async () => {
      const hub = newHub({ maxQueuedEvents: 10, readBatch: 5 });
      const fast = await open(hub, 'hub-reader', { filter: { domains: ['population'] } });
      const slow = await open(hub, 'hub-reader', { filter: { domains: ['population'] } });
      const [first] = await append([0]);
      assert.deepEqual((await take(slow.feed, slow.ctx, 1)).map((e) => e.position), [first]);
      assert.deepEqual((await take(fast.feed, fast.ctx, 1)).map((e) => e.position), [first]);
      // The slow feed asks for one more event and then stops asking while 50 are appended.
      const slowNext = slow.feed.next();
      const fastDone = take(fast.feed, fast.ctx, 50);
      const burst = await append(range(1, 51));
      assert.deepEqual((await fastDone).map((e) => e.position), burst);
      assert.equal(resolveFeedItem((await slowNext).value, slow.ctx).event.position, burst[0]);
      slow.ctx.access.reset();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(hub.stats.fellBehind, 1, 'the slow feed overflowed its queue of 10 and left the hub');
      assert.equal(hub.stats.liveFeeds, 1);
      const rest = await take(slow.feed, slow.ctx, 49);
      assert.deepEqual(
        rest.map((e) => e.position),
        burst.slice(1),
        'caught up from its own last position: nothing lost or repeated',
      );
      const [next] = await append([99]);
      assert.deepEqual((await take(slow.feed, slow.ctx, 1)).map((e) => e.position), [next]);
      assert.equal(hub.stats.liveFeeds, 2, 'it joined the hub again');
      await slow.feed.return!();
      await fast.feed.return!();
    });

    it('reads the consumer’s grants once for many events, not per event', async () => {
      const hub = newHub({ reloadGrantsMs: 60_000 });
      const before = loads;
      const { feed, ctx } = await open(hub, 'hub-reader', { filter: { domains: ['population'] } });
      const positions = await append(range(200, 240));
      assert.deepEqual((await take(feed, ctx, 40)).map((e) => e.position), positions);
      assert.equal(loads - before, 1, '40 events, one grants read');
      await feed.return!();
    });

    it('ends live and catching-up feeds with FORBIDDEN as soon as the log shows the revocation, long before a reload is due', async () => {
      const grantId = await grants.grant('hub-revoked', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
      const hub = newHub({ reloadGrantsMs: 60_000, readBatch: 5 });
      const [marker] = await append([300]);
      await append(range(301, 330));
      const live = await open(hub, 'hub-revoked', { filter: { domains: ['population'] } });
      const behind = await open(hub, 'hub-revoked', { fromPosition: marker, filter: { domains: ['population'] } });
      await take(behind.feed, behind.ctx, 3);
      const liveNext = live.feed.next();
      await new Promise((r) => setTimeout(r, 200));
      const revokedAt = Date.now();
      await grants.revoke('hub-revoked', grantId);
      const ended = await liveNext;
      assert.ok(Date.now() - revokedAt < 5000, `ended ${Date.now() - revokedAt} ms after the revocation`);
      assert.throws(() => resolveFeedItem(ended.value, live.ctx), ForbiddenError);
      assert.equal((await live.feed.next()).done, true);
      const behindStep = await behind.feed.next();
      assert.throws(() => resolveFeedItem(behindStep.value, behind.ctx), ForbiddenError, 'the feed still catching up ends too, with events left unread');
      assert.equal((await behind.feed.next()).done, true);
      assert.equal(hub.stats.liveFeeds, 0);
    });

    it('stops at a grant’s expiry on the very next event, without a reload', async () => {
      const validUntil = new Date(Date.now() + 1500);
      await grants.grant('hub-expiring', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'], validUntil, validFrom: new Date(Date.now() - 60_000) });
      const hub = newHub({ reloadGrantsMs: 60_000 });
      const { feed, ctx } = await open(hub, 'hub-expiring', { filter: { domains: ['population'] } });
      const [before] = await append([400]);
      assert.deepEqual((await take(feed, ctx, 1)).map((e) => e.position), [before]);
      await new Promise((r) => setTimeout(r, validUntil.getTime() - Date.now() + 50));
      const loadsBefore = loads;
      await append([401]);
      const step = await feed.next();
      assert.throws(() => resolveFeedItem(step.value, ctx), ForbiddenError);
      assert.equal(loads, loadsBefore, 'no grants read: the expiry instant was known');
    });

    it('refuses a queue bound smaller than one read of the log (a fast feed would overflow on one batch)', () => {
      assert.throws(() => newHub({ maxQueuedEvents: 10, readBatch: 50 }), /maxQueuedEvents \(10\) must be at least readBatch \(50\)/);
    });

    /** A person registered as the population commands write it: the ID number's claim, then the registration. */
    async function registerPerson(personId: string, sequence: number): Promise<{ idNumber: string; registered: Position }> {
      const idNumber = makeIdNumber('370102', '1997-03-02', sequence);
      await store().append(`population.id-number-${idNumber}`, [{ type: 'IdNumberClaimed', data: { key: idNumber, ownerId: personId }, metadata: testMetadata }]);
      const data = { personId, idNumber, name: '王芳', gender: 'FEMALE', birthDate: '1997-03-02', residence: { address: '泉城路 1 号', divisionCode: '370102001001' }, reason: 'BIRTH' };
      const registered = (await store().append(`population.person-${personId}`, [{ type: 'PersonRegistered', data, metadata: testMetadata }])).events[0]!.position;
      await waitUntilVisible(store(), registered);
      return { idNumber, registered };
    }

    it('serves each payload field only under a grant for it, masked and generalised as the graph serves it, and never the ID-number claim', async () => {
      await grants.grant('feed-masked', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'], masked: true });
      await grants.grant('feed-basic-only', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
      await grants.grant('feed-clear', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'] });
      const hub = newHub();
      const from = await store().headPosition();
      const masked = await open(hub, 'feed-masked', { fromPosition: from });
      const basicOnly = await open(hub, 'feed-basic-only', { fromPosition: from, filter: { domains: ['population'] } });
      const clear = await open(hub, 'feed-clear', { fromPosition: from, filter: { streamPrefix: 'population.' } });
      const { idNumber } = await registerPerson('p-feed-1', 11);
      const { event, payload } = (await takeItems(masked.feed, masked.ctx, 1))[0]!;
      assert.equal(event.type, 'PersonRegistered', 'the claim on population.id-number-<ID> is never sent');
      assert.deepEqual(payload, {
        personId: 'p-feed-1',
        idNumber: `${idNumber.slice(0, 4)}**********${idNumber.slice(14)}`,
        name: '王芳',
        gender: 'FEMALE',
        birthDate: '1997',
        residence: { address: '泉城路 1 号', divisionCode: '370102001001' },
        reason: 'BIRTH',
      });
      const [basic] = await takeItems(basicOnly.feed, basicOnly.ctx, 1);
      assert.equal(basic!.event.type, 'PersonRegistered');
      assert.equal((basic!.payload as { idNumber?: string }).idNumber, undefined, 'no population.identity grant: no ID number at all');
      assert.equal((basic!.payload as { birthDate: string }).birthDate, '1997');
      const [full] = await takeItems(clear.feed, clear.ctx, 1);
      assert.deepEqual(full!.payload, full!.event.data, 'clear grants on every resource: the payload as recorded');
    });

    /** Opens a live feed of the population domain per consumer named, and waits until every one follows the hub. */
    async function openLive(hub: EventFeedHub, consumers: readonly string[]): Promise<{ feed: Feed; ctx: SubgraphContext; next: Promise<IteratorResult<Parameters<typeof resolveFeedItem>[0]>> }[]> {
      const live = hub.stats.liveFeeds;
      const opened = await Promise.all(consumers.map((consumerId) => open(hub, consumerId, { filter: { domains: ['population'] } })));
      // Each asks for its first event, so each catches up and joins the hub.
      const feeds = opened.map(({ feed, ctx }) => ({ feed, ctx, next: feed.next() }));
      for (const deadline = Date.now() + 10_000; hub.stats.liveFeeds < live + consumers.length; await new Promise((r) => setTimeout(r, 20))) {
        if (Date.now() > deadline) throw new Error(`${hub.stats.liveFeeds - live} of ${consumers.length} feeds joined the hub`);
      }
      return feeds;
    }
    /** The item a feed delivers next: the pending `next` first, then a fresh one. */
    async function deliver(f: Awaited<ReturnType<typeof openLive>>[number]): Promise<FeedItem> {
      const step = await f.next;
      const item = resolveFeedItem(step.value, f.ctx);
      f.ctx.access.reset();
      f.next = f.feed.next();
      return item;
    }

    it('decides each live event once per set of grants, shared by the feeds holding it, and gives each set its own masks', async () => {
      await grants.grant('share-clear', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'] });
      await grants.grant('share-masked', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'], masked: true });
      const hub = newHub({ reloadGrantsMs: 60_000 });
      // Whichever set of grants is decided first, a decision shared across sets would show in the other's masks.
      const feeds = await openLive(hub, ['share-clear', 'share-clear', 'share-clear', 'share-masked', 'share-masked']);
      const before = hub.stats.decisions;
      const people = [await registerPerson('p-share-1', 21), await registerPerson('p-share-2', 22)];
      const items: FeedItem[][] = [];
      for (const f of feeds) items.push([await deliver(f), await deliver(f)]);
      for (const [i, consumerItems] of items.entries()) {
        assert.deepEqual(
          consumerItems.map((item) => (item.payload as { idNumber: string }).idNumber),
          people.map(({ idNumber }) => (i < 3 ? idNumber : `${idNumber.slice(0, 4)}**********${idNumber.slice(14)}`)),
          `feed ${i}: ${i < 3 ? 'in clear' : 'masked'}`,
        );
        assert.deepEqual(consumerItems.map((item) => (item.payload as { birthDate: string }).birthDate), i < 3 ? ['1997-03-02', '1997-03-02'] : ['1997', '1997']);
      }
      assert.equal(items[1]![0], items[0]![0], 'the feeds of one consumer share the item');
      assert.notEqual(items[3]![0], items[0]![0]);
      // Four events (two claims, never sent, and two registrations) under two sets of grants, for five feeds.
      assert.equal(hub.stats.decisions - before, 4 * 2);
      for (const { feed, next } of feeds) {
        await feed.return!();
        await next;
      }
    });

    it('applies a revocation to the very next event of every feed holding the grant, while the other feeds go on', async () => {
      const feedGrant = await grants.grant('share-partner', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
      const identityGrant = await grants.grant('share-partner', ['population.identity'], { actions: ['SUBSCRIBE'] });
      await grants.grant('share-other', ['events.feed', 'population.basic', 'population.identity'], { actions: ['SUBSCRIBE'] });
      const hub = newHub({ reloadGrantsMs: 60_000 });
      const [partner1, partner2, other] = await openLive(hub, ['share-partner', 'share-partner', 'share-other']);
      const { idNumber } = await registerPerson('p-share-3', 23);
      for (const f of [partner1!, partner2!, other!]) assert.equal(((await deliver(f)).payload as { idNumber: string }).idNumber, idNumber);

      // The identity grant goes: the very next event, decided for both feeds at once, holds no ID number.
      await grants.revoke('share-partner', identityGrant);
      const next = await registerPerson('p-share-4', 24);
      for (const f of [partner1!, partner2!]) {
        const item = await deliver(f);
        assert.equal(item.event.position, next.registered);
        assert.equal((item.payload as { idNumber?: string }).idNumber, undefined, 'no decision made under the revoked grant is reused');
        assert.equal((item.payload as { birthDate: string }).birthDate, '1997');
      }
      assert.equal(((await deliver(other!)).payload as { idNumber: string }).idNumber, next.idNumber);

      // The feed grant goes: both feeds of the consumer end at their next step, the other consumer's goes on.
      await grants.revoke('share-partner', feedGrant);
      const last = await registerPerson('p-share-5', 25);
      for (const f of [partner1!, partner2!]) {
        const step = await f.next;
        assert.throws(() => resolveFeedItem(step.value, f.ctx), ForbiddenError);
        assert.equal((await f.feed.next()).done, true);
      }
      const item = await deliver(other!);
      assert.equal(item.event.position, last.registered, 'the other consumer’s feed goes on');
      await other!.feed.return!();
      await other!.next;
    });

    it('records each delivery with the subjects and the event it delivered, and never sends the access records of deliveries', async () => {
      await grants.grant('feed-auditing', ['events.feed', 'population.basic', 'audit.log'], { actions: ['SUBSCRIBE'] });
      const hub = newHub();
      const from = await store().headPosition();
      const { feed, ctx } = await open(hub, 'feed-auditing', { fromPosition: from });
      await registerPerson('p-feed-2', 12);
      const served: { subjectIds: string[]; eventIds: string[]; resources: string[] }[] = [];
      const [delivered] = await takeItems(feed, ctx, 1, 20_000, () =>
        served.push({ subjectIds: [...ctx.access.served.subjectIds], eventIds: [...ctx.access.served.eventIds], resources: [...ctx.access.served.resources].sort() }),
      );
      assert.deepEqual(served, [{ subjectIds: ['p-feed-2'], eventIds: [delivered!.event.eventId], resources: ['population.basic'] }]);
      // A record of a delivery and a record of a graph read: only the latter is an event of the feed.
      const record = { consumerId: 'c', grantIds: [], operationName: null, operationHash: 'a'.repeat(64), resources: ['population.basic'], subjectIds: ['p-feed-2'], purpose: 'p', requestId: 'r', subgraph: 'population', at: new Date().toISOString() };
      const appended = await store().append(accessStreamId(`feed-test-${backend}`), [
        { type: 'DataAccessed', data: { ...record, eventIds: [delivered!.event.eventId] }, metadata: testMetadata },
        { type: 'DataAccessed', data: record, metadata: testMetadata },
      ]);
      const [next] = await take(feed, ctx, 1);
      assert.equal(next!.position, appended.events[1]!.position, 'the record of the delivery was skipped');
    });

    for (const [label, filter, code, pattern] of [
      ['a type of a resource not granted', { types: ['TaxpayerRegistered'] }, 'FORBIDDEN', /SUBSCRIBE tax\.declarations/],
      ['a domain none of whose resources is granted', { domains: ['healthcare'] }, 'FORBIDDEN', /SUBSCRIBE healthcare\./],
      ['an internal type', { types: ['IdNumberClaimed'] }, 'BAD_USER_INPUT', /not an event type of the feed/],
      ['an unknown type', { types: ['PersonTeleported'] }, 'BAD_USER_INPUT', /not an event type of the feed/],
    ] as const) {
      it(`refuses a filter naming ${label} with ${code} and opens nothing`, async () => {
        await grants.grant('feed-population', ['events.feed', 'population.basic'], { actions: ['SUBSCRIBE'] });
        const hub = newHub();
        const ctx = testSubgraphContext({ caller: { consumerId: 'feed-population', role: 'partner' } });
        await assert.rejects(openEventFeed(hub, { filter }, ctx), (error: unknown) => (error as { code?: string }).code === code && pattern.test((error as Error).message));
        assert.deepEqual(hub.stats, { liveFeeds: 0, fellBehind: 0, runs: 0, decisions: 0 });
      });
    }

    for (const [label, args, pattern] of [
      ['a malformed position', { fromPosition: 'yesterday' }, /malformed/],
      ['an unknown position', { fromPosition: '999999999:999999999' }, /does not exist/],
      ['an unknown domain', { filter: { domains: ['weather'] } }, /unknown domain "weather"/],
    ] as const) {
      it(`refuses ${label} with BAD_USER_INPUT and opens nothing`, async () => {
        const hub = newHub();
        const ctx = testSubgraphContext({ caller: { consumerId: 'hub-reader', role: 'partner' } });
        await assert.rejects(openEventFeed(hub, args, ctx), (error: unknown) => error instanceof ValidationError && error.code === 'BAD_USER_INPUT' && pattern.test(error.message));
        assert.deepEqual(hub.stats, { liveFeeds: 0, fellBehind: 0, runs: 0, decisions: 0 });
      });
    }
  });
}
