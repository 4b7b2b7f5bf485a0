/**
 * The batch ingest path (`ingestAirQualityObservations`) on both SQL backends: many stations'
 * station-days decided by the station decider and appended in one transaction, every refusal
 * naming the observation with nothing written, idempotent re-sends, and concurrent writers caught
 * by the expected revisions.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConcurrencyError, ConflictError, ValidationError, type CityBrainError } from '../../../events/errors.ts';
import { decodePosition } from '../../../events/position.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { SqlEventStore } from '../../../events/sql/sqlEventStore.ts';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventStore, Position, Recorded, RecordedEvent } from '../../../events/types.ts';
import { BACKENDS, type TestBackend } from '../../../test/helpers/databases.ts';
import { testMetadata, waitForCommitted } from '../../../test/helpers/events.ts';
import type { Concentrations } from '../aqi/hj633.ts';
import { canonicalInstant, HOUR_MS } from '../../kit/calendar.ts';
import { airQualityStreamId, stationEventDefinitions, type AirQualityObserved } from './events.ts';
import {
  ingestAirQualityObservations,
  recordAirQualityObservations,
  registerMonitoringStation,
  type CommandPorts,
  type ObservationInput,
  type StationObservations,
} from './handlers.ts';

/** The hour ending `h` hours after 2026-11-01 00:00 in Jinan: hours 1…24 make up reporting day 2026-11-01, 25…48 the next. */
const hourOf = (h: number) => canonicalInstant(Date.parse('2026-11-01T00:00:00+08:00') + h * HOUR_MS);
const NOW = '2026-11-05T00:00:00.000Z';
const values: Concentrations = { pm2_5: 48, pm10: 86, so2: 9, no2: 41, co: 0.7, o3: 62 };
const hours = (from: number, to: number, v: Partial<Concentrations> = {}): ObservationInput[] =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ hour: hourOf(from + k), ...values, ...v }));

/** The store with `beforeAppend` run after each `readStreams`: another writer taking its turn between the batch's read and its append. */
class Interleaved implements EventStore {
  readonly backend: EventStore['backend'];
  readonly atomicAppendMany: boolean;
  readonly pseudonyms: EventStore['pseudonyms'];
  reads = 0;
  constructor(
    private readonly store: EventStore,
    private readonly between: (read: number) => Promise<void>,
  ) {
    this.backend = store.backend;
    this.atomicAppendMany = store.atomicAppendMany;
    this.pseudonyms = store.pseudonyms;
  }
  async readStreams<E extends DomainEvent = DomainEvent>(ids: readonly string[]): Promise<Recorded<E>[][]> {
    const streams = await this.store.readStreams<E>(ids);
    await this.between(++this.reads);
    return streams;
  }
  aggregate: EventStore['aggregate'] = (...args) => this.store.aggregate(...args);
  append: EventStore['append'] = (...args) => this.store.append(...args);
  appendMany: EventStore['appendMany'] = (...args) => this.store.appendMany(...args);
  readStream: EventStore['readStream'] = (...args) => this.store.readStream(...args);
  readEventsById: EventStore['readEventsById'] = (...args) => this.store.readEventsById(...args);
  streamRevision: EventStore['streamRevision'] = (...args) => this.store.streamRevision(...args);
  readAll: EventStore['readAll'] = (...args) => this.store.readAll(...args);
  readAllWithHead: EventStore['readAllWithHead'] = (...args) => this.store.readAllWithHead(...args);
  subscribe: EventStore['subscribe'] = (...args) => this.store.subscribe(...args);
  assertPositionExists: EventStore['assertPositionExists'] = (...args) => this.store.assertPositionExists(...args);
  headPosition: EventStore['headPosition'] = () => this.store.headPosition();
  committedHead: EventStore['committedHead'] = () => this.store.committedHead();
  close: EventStore['close'] = () => this.store.close();
}

for (const openBackend of BACKENDS) {
  describe(`ingestAirQualityObservations on ${openBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let store: SqlEventStore;
    const ports = (s: EventStore = store): CommandPorts => ({ store: s, metadata: testMetadata, now: NOW });
    const register = (stationId: string, kind: 'NATIONAL' | 'MICRO' = 'NATIONAL') =>
      registerMonitoringStation(ports(), { stationId, code: stationId.toUpperCase(), name: `${stationId} 站`, kind, divisionCode: '370102', location: { longitude: 117, latitude: 36.66 } });

    let head: Position;
    /** Every environment event appended after `head`, once all committed ones are visible. */
    const appendedSinceHead = async (): Promise<RecordedEvent[]> => {
      await waitForCommitted(store.db, store);
      return store.readAll({ fromPosition: head, filter: { streamPrefixes: ['environment.'] } });
    };

    before(async () => {
      backend = await openBackend();
    });
    beforeEach(async () => {
      store = await SqlEventStore.open(await backend.fresh(), new EventRegistry().registerAll(stationEventDefinitions));
      await register('st-a');
      await register('st-b');
      await register('st-m', 'MICRO');
      await waitForCommitted(store.db, store);
      head = await store.headPosition();
    });
    after(async () => {
      await store?.close();
      await backend?.dispose();
    });

    it('decides every station-day as a single command would and appends them all in one transaction', async () => {
      const batch: StationObservations[] = [
        { stationId: 'st-a', observations: hours(20, 27) }, // two reporting days
        { stationId: 'st-b', observations: hours(1, 24, { o3: null }) },
        { stationId: 'st-a', observations: hours(28, 30) }, // the same station again, later hours
        { stationId: 'st-m', observations: [{ hour: '2026-11-01T10:00:00+08:00', ...values }] },
      ];
      const result = await ingestAirQualityObservations(ports(), batch);
      assert.equal(result.replayed, false);
      assert.equal(result.events.length, 8 + 24 + 3 + 1);
      assert.equal(new Set(result.events.map((e) => decodePosition(e.position).tx)).size, 1, 'one transaction');

      const dayA1 = await store.readStream(airQualityStreamId('st-a', '2026-11-01'));
      const dayA2 = await store.readStream(airQualityStreamId('st-a', '2026-11-02'));
      assert.deepEqual(dayA1.map((e) => (e.data as AirQualityObserved['data']).hour), [20, 21, 22, 23, 24].map(hourOf));
      assert.deepEqual(dayA2.map((e) => [e.revision, (e.data as AirQualityObserved['data']).hour]), [25, 26, 27, 28, 29, 30].map((h, i) => [i, hourOf(h)]));
      assert.deepEqual(dayA2[0]?.data, { stationId: 'st-a', hour: hourOf(25), ...values });
      assert.equal((await store.readStream(airQualityStreamId('st-b', '2026-11-01'))).length, 24);
      const [micro] = await store.readStream(airQualityStreamId('st-m', '2026-11-01'));
      assert.equal((micro?.data as AirQualityObserved['data']).hour, '2026-11-01T02:00:00.000Z', 'hours are stored in canonical UTC form');
      assert.deepEqual(micro?.metadata, testMetadata);
      assert.equal((await appendedSinceHead()).length, 36);

      // The next batch continues the streams from the revisions it read.
      const next = await ingestAirQualityObservations(ports(), [{ stationId: 'st-a', observations: hours(31, 32) }]);
      assert.deepEqual(next.events.map((e) => e.revision), [6, 7]);
    });

    const refusals: [string, () => StationObservations[], typeof CityBrainError, string | undefined, RegExp][] = [
      ['an empty batch', () => [], ValidationError, 'stations', /stations is empty/],
      ['a station without hours', () => [{ stationId: 'st-a', observations: hours(1, 2) }, { stationId: 'st-b', observations: [] }], ValidationError, 'stations[1].observations', /stations\[1\]\.observations is empty/],
      [
        'an hour not on the hour',
        () => [{ stationId: 'st-a', observations: hours(1, 3) }, { stationId: 'st-b', observations: [...hours(1, 2), { hour: '2026-11-01T10:30:00+08:00', ...values }] }],
        ValidationError,
        'stations[1].observations[2].hour',
        /is not on the hour/,
      ],
      [
        'a negative value',
        () => [{ stationId: 'st-a', observations: hours(1, 3) }, { stationId: 'st-b', observations: [...hours(1, 3), ...hours(4, 4, { no2: -1 })] }],
        ValidationError,
        'stations[1].observations[3].no2',
        /stations\[1\]\.observations\[3\]: no2 must be a concentration in µg\/m³, 0 or more/,
      ],
      [
        'an implausible value',
        () => [{ stationId: 'st-a', observations: hours(1, 1, { pm2_5: 1200 }) }],
        ValidationError,
        'stations[0].observations[0].pm2_5',
        /above the plausible maximum of 1000 µg\/m³/,
      ],
      [
        'an hour that has not ended',
        () => [{ stationId: 'st-a', observations: hours(1, 2) }, { stationId: 'st-m', observations: [{ hour: '2026-11-06T10:00:00+08:00', ...values }] }],
        ValidationError,
        'stations[1].observations[0].hour',
        /has not ended yet/,
      ],
      [
        'an unregistered station',
        () => [{ stationId: 'st-a', observations: hours(1, 2) }, { stationId: 'nowhere', observations: hours(1, 2) }],
        ValidationError,
        'stations[1].stationId',
        /stations\[1\]\.stationId nowhere is not a registered monitoring station/,
      ],
      [
        'an hour repeated in the batch',
        () => [{ stationId: 'st-a', observations: hours(1, 4) }, { stationId: 'st-b', observations: hours(1, 2) }, { stationId: 'st-a', observations: hours(5, 6).concat(hours(3, 3)) }],
        ConflictError,
        'stations[2].observations[2]',
        /stations\[2\]\.observations\[2\]: station st-a already has an observation for the hour ending 2026-10-31T19:00:00.000Z/,
      ],
    ];
    for (const [name, batch, type, field, message] of refusals) {
      it(`refuses ${name}, naming it, and appends nothing`, async () => {
        await assert.rejects(ingestAirQualityObservations(ports(), batch()), (error: CityBrainError) => {
          assert.ok(error instanceof type, `${error.constructor.name}: ${error.message}`);
          assert.match(error.message, message);
          assert.equal(error.details.field, field);
          return true;
        });
        assert.deepEqual(await appendedSinceHead(), [], 'nothing was appended');
      });
    }

    it('refuses an hour the store already holds with CONFLICT, and appends none of the batch', async () => {
      await recordAirQualityObservations(ports(), 'st-b', hours(10, 10));
      await waitForCommitted(store.db, store);
      head = await store.headPosition();
      const batch = [{ stationId: 'st-a', observations: hours(1, 24) }, { stationId: 'st-b', observations: hours(8, 12) }];
      await assert.rejects(ingestAirQualityObservations(ports(), batch), (error: CityBrainError) => {
        assert.ok(error instanceof ConflictError);
        assert.equal(error.code, 'CONFLICT');
        assert.equal(error.details.field, 'stations[1].observations[2]');
        assert.match(error.message, /already has an observation for the hour ending 2026-11-01T02:00:00.000Z; send correctAirQualityObservation/);
        return true;
      });
      assert.deepEqual(await appendedSinceHead(), []);
      assert.equal(await store.streamRevision(airQualityStreamId('st-a', '2026-11-01')), undefined);
      assert.equal(await store.streamRevision(airQualityStreamId('st-b', '2026-11-01')), 0);
    });

    it('appends nothing again when re-sent with the same idempotency key, and returns the first events', async () => {
      const batch = [{ stationId: 'st-a', observations: hours(23, 26) }, { stationId: 'st-b', observations: hours(1, 3) }];
      const first = await ingestAirQualityObservations(ports(), batch, { idempotencyKey: 'feed-2026-11-01' });
      await waitForCommitted(store.db, store);
      const afterFirst = await store.headPosition();
      const again = await ingestAirQualityObservations(ports(), batch, { idempotencyKey: 'feed-2026-11-01' });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.events.map((e) => e.eventId), first.events.map((e) => e.eventId));
      await waitForCommitted(store.db, store);
      assert.deepEqual(await store.readAll({ fromPosition: afterFirst, filter: { streamPrefixes: ['environment.'] } }), []);
      // Without the key the same hours are a CONFLICT, not a silent duplicate.
      await assert.rejects(ingestAirQualityObservations(ports(), batch), ConflictError);
    });

    it('decides again when another writer appended to one of its station-days meanwhile, and refuses an hour that writer took', async () => {
      // Another feed records st-b's hour 5 between the batch's read and its append, on every read.
      let taken = 0;
      const racing = new Interleaved(store, async () => {
        if (taken++ === 0) await recordAirQualityObservations(ports(), 'st-b', hours(5, 5));
      });
      const batch = [{ stationId: 'st-a', observations: hours(1, 6) }, { stationId: 'st-b', observations: hours(1, 6) }];
      await assert.rejects(ingestAirQualityObservations(ports(racing), batch), (error: CityBrainError) => {
        assert.ok(error instanceof ConflictError, error.message);
        assert.equal(error.details.field, 'stations[1].observations[4]');
        return true;
      });
      assert.equal(racing.reads, 2, 'read and decided a second time after the expected revision failed');
      const appended = await appendedSinceHead();
      assert.deepEqual(appended.map((e) => [e.streamId, (e.data as AirQualityObserved['data']).hour]), [[airQualityStreamId('st-b', '2026-11-01'), hourOf(5)]], "only the other writer's hour");
    });

    it('records its hours on the second decision when the other writer took different hours', async () => {
      let turn = 0;
      const racing = new Interleaved(store, async () => {
        if (turn++ === 0) await recordAirQualityObservations(ports(), 'st-b', hours(12, 12));
      });
      const result = await ingestAirQualityObservations(ports(racing), [{ stationId: 'st-b', observations: hours(1, 3) }]);
      assert.deepEqual(result.events.map((e) => e.revision), [1, 2, 3]);
      const day = await store.readStream(airQualityStreamId('st-b', '2026-11-01'));
      assert.deepEqual(day.map((e) => (e.data as AirQualityObserved['data']).hour), [12, 1, 2, 3].map(hourOf));
    });

    it('reports CONFLICT when another writer collides on both attempts, with nothing of the batch written', async () => {
      const racing = new Interleaved(store, async (read) => {
        await recordAirQualityObservations(ports(), 'st-a', hours(10 + read, 10 + read));
      });
      const batch = [{ stationId: 'st-b', observations: hours(1, 3) }, { stationId: 'st-a', observations: hours(1, 3) }];
      await assert.rejects(ingestAirQualityObservations(ports(racing), batch), (error: CityBrainError) => {
        assert.ok(error instanceof ConcurrencyError, error.message);
        assert.equal(error.code, 'CONFLICT');
        assert.match(error.message, /environment\.air-quality-st-a:2026-11-01/);
        return true;
      });
      assert.equal(racing.reads, 2);
      const appended = await appendedSinceHead();
      assert.deepEqual(appended.map((e) => (e.data as AirQualityObserved['data']).hour), [hourOf(11), hourOf(12)], "only the other writer's hours");
    });
  });
}
