/**
 * The environment subgraph served by the kit's server over HTTP and graphql-ws, with grants and
 * access records from the governance events, the projector and the alarm process managers in
 * virtual time, on both SQL backends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'graphql-ws';
import { pino } from 'pino';
import WebSocket from 'ws';
import { ProcessManagerRuntime, type ScheduledItem } from '../../projections/processManager.ts';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { testMetadata, waitForCommitted } from '../../test/helpers/events.ts';
import { testGrants } from '../../test/helpers/grants.ts';
import { startSubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { answeredOnceOnRetry, refusedNaming } from '../../test/helpers/commandChecks.ts';
import { partialWithErrorAt, type Body } from '../../test/helpers/graphqlBody.ts';
import { relayedHeaders } from '../../test/helpers/subgraphAuth.ts';
import { collectResults } from '../../test/helpers/subscriptions.ts';
import { makeCreditCode } from '../legal-person/identity/creditCode.ts';
import { legalPersonEventDefinitions, legalPersonStreamId } from '../legal-person/legalPerson/events.ts';
import { dailyAqi, hourlyAqi, type Concentrations } from './aqi/hj633.ts';
import { dailyAverages, realTimeIndicators, type HourlyConcentrations } from './aqi/hj663.ts';
import { emissionAlarmStreamId } from './emission/events.ts';
import { EXCEEDANCE_ALARMS } from './processes/emissionAlarms.ts';
import { createEnvironmentModule } from './index.ts';
import { concentrationsOf } from './readModels/airQuality.ts';
import { seedEnvironment } from './seed.ts';
import { canonicalInstant, HOUR_MS } from '../kit/calendar.ts';
import { airQualityStreamId, type AirQualityObserved } from './station/events.ts';
import { correctAirQualityObservation, recordAirQualityObservations, registerMonitoringStation, type CommandPorts } from './station/handlers.ts';

const logger = pino({ level: 'silent' });
const config = { alertAqiAbove: 200, acknowledgeWithinMinutes: 30 };
const environmentModule = createEnvironmentModule(config);

type Errors = { message: string; extensions?: Record<string, unknown> }[] | undefined;

/** The hour ending `h` hours after 2026-11-01 00:00 in Jinan: hours 1…24 make up reporting day 2026-11-01. */
/** A heat-supply enterprise, registered straight in the store as the legal-person subgraph records one. */
const enterpriseRegistered = (data: { legalPersonId: string; creditCode: string; name: string; registeredAddress: { address: string; divisionCode: string } }) => ({
  type: 'LegalPersonRegistered',
  data: {
    ...data,
    type: 'ENTERPRISE',
    legalRepresentativeId: 'p-1',
    registeredCapitalFen: 100_000_000,
    industry: { section: 'D', name: '热力生产和供应' },
    establishedOn: '2010-05-01',
  },
  metadata: testMetadata,
});
const hourOf = (h: number) => canonicalInstant(Date.parse('2026-11-01T00:00:00+08:00') + h * HOUR_MS);
const clean: Concentrations = { pm2_5: 30, pm10: 50, so2: 8, no2: 30, co: 0.6, o3: 60 };
const toInput = (c: Concentrations) => ({ pm25: c.pm2_5, pm10: c.pm10, so2: c.so2, no2: c.no2, co: c.co, o3: c.o3 });

const STATION_FIELDS = `id kind divisionCode
  latest { observedAt aqi level levelName colour primaryPollutants iaqi { pm25 pm10 so2 no2 co o3 } concentrations { pm25 pm10 so2 no2 co o3 } movingAverages { pm25 pm10 so2 } corrected correctionReason }`;

interface HourView {
  observedAt: string;
  aqi: number | null;
  level: string | null;
  levelName: string | null;
  colour: string | null;
  primaryPollutants: string[];
  iaqi: Record<string, number | null>;
  concentrations: Record<string, number | null>;
  movingAverages: Record<string, number | null>;
  corrected: boolean;
  correctionReason: string | null;
}

for (const openBackend of BACKENDS) {
  test(`environment subgraph on ${openBackend.name.replace('Backend', '')}`, async (t) => {
    let clock = Date.now();
    const ports = (): CommandPorts => ({ store, metadata: testMetadata, now: new Date(clock).toISOString() });

    const ask = <D = Record<string, unknown>>(consumerId: string, query: string, variables?: Record<string, unknown>) =>
      harness.ask<D>(consumerId, query, variables);
    /**
     * Waits until the projector has applied everything appended so far. The store's head excludes
     * transactions still in flight (an access record being written), so one idle poll is not proof:
     * two, 30 ms apart, are.
     */
    const caughtUp = async () => {
      // First until readers see everything committed: on a busy server the head waits for
      // transactions open elsewhere, and a lag measured against a stale head reads as none.
      await waitForCommitted(db, store);
      for (let i = 0, idle = 0; i < 300 && idle < 2; i++) {
        await new Promise((r) => setTimeout(r, 30));
        idle = (await runner.lag()).some((l) => l.events > 0) ? 0 : idle + 1;
      }
    };
    const managers = () => new ProcessManagerRuntime({ ...runtime, logger }, environmentModule.processManagers ?? [], { retryAfterMs: 60_000 });

    const register = async (id: string, divisionCode: string, kind: 'NATIONAL' | 'PROVINCIAL' | 'MICRO' = 'NATIONAL') =>
      registerMonitoringStation(ports(), { stationId: id, code: id.toUpperCase(), name: `${id} 站`, kind, divisionCode, location: { longitude: 117, latitude: 36.66 } });
    /** Hours `fromHour`…`toHour` (see `hourOf`) of the same values, or of `values(h)`. */
    const recordHours = (id: string, fromHour: number, toHour: number, values: Concentrations | ((h: number) => Concentrations)) =>
      recordAirQualityObservations(
        ports(),
        id,
        Array.from({ length: toHour - fromHour + 1 }, (_, k) => ({ hour: hourOf(fromHour + k), ...(typeof values === 'function' ? values(fromHour + k) : values) })),
      );

    await using backend = await openBackend();
    const db = await backend.fresh();
    await using harness = await startSubgraphHarness(db, { module: environmentModule, events: legalPersonEventDefinitions, grants: 'governance', projector: 'running', now: () => new Date(clock) });
    const { store, runtime, runner } = harness;
    const grants = testGrants(store, runtime.now);
    const validUntil = new Date(clock + 365 * 86_400_000);
    await grants.grant('eco-bureau', ['environment.air', 'environment.emissions', 'environment.write', 'audit.log'], { actions: ['READ', 'WRITE', 'SUBSCRIBE'], validUntil });
    await grants.grant('dashboard', ['environment.air', 'environment.emissions'], { actions: ['READ', 'SUBSCRIBE'], validUntil });

    await t.test('refuses invalid observations with a clear code and appends nothing', async () => {
      await register('v-1', '370102');
      await waitForCommitted(db, store);
      const head = await store.headPosition();
      const record = (observedAt: string, concentrations: Record<string, number | null>, stationId = 'v-1') =>
        ask('eco-bureau', `mutation R($input: RecordAirQualityObservationInput!) { recordAirQualityObservation(input: $input) { positions } }`, {
          input: { stationId, observedAt, concentrations },
        });
      const cases: [string, Awaited<ReturnType<typeof record>>, string, RegExp][] = [
        ['negative', await record(hourOf(1), { pm25: -3, pm10: 40 }), 'BAD_USER_INPUT', /pm2_5 must be a concentration in µg\/m³, 0 or more/],
        ['implausible PM2.5 (mg/m³ sent as µg/m³ ×1000)', await record(hourOf(1), { pm25: 1200 }), 'BAD_USER_INPUT', /above the plausible maximum of 1000 µg\/m³; check the unit/],
        ['CO in µg/m³ instead of mg/m³', await record(hourOf(1), { co: 800 }), 'BAD_USER_INPUT', /co 800 mg\/m³ is above the plausible maximum/],
        ['no value at all', await record(hourOf(1), {}), 'BAD_USER_INPUT', /at least one pollutant value/],
        ['not on the hour', await record('2026-11-01T10:30:00+08:00', { pm25: 30 }), 'BAD_USER_INPUT', /is not on the hour/],
        ['in the future', await record(canonicalInstant(Math.ceil(clock / HOUR_MS) * HOUR_MS + 2 * HOUR_MS), { pm25: 30 }), 'BAD_USER_INPUT', /has not ended yet/],
        ['unknown station', await record(hourOf(1), { pm25: 30 }, 'nowhere'), 'BAD_USER_INPUT', /stationId nowhere is not a registered monitoring station/],
      ];
      for (const [name, body, code, message] of cases) {
        const error = (body.errors as Errors)?.[0];
        assert.equal(error?.extensions?.code, code, `${name}: ${JSON.stringify(body.errors)}`);
        assert.match(error?.message ?? '', message, name);
      }
      const batch = await ask('eco-bureau', `mutation B($input: RecordAirQualityObservationsInput!) { recordAirQualityObservations(input: $input) { positions } }`, {
        input: { stationId: 'v-1', observations: [{ observedAt: hourOf(1), concentrations: { pm25: 30 } }, { observedAt: hourOf(30), concentrations: { no2: -1 } }] },
      });
      assert.equal((batch.errors as Errors)?.[0]?.extensions?.field, 'observations[1].no2');
      await waitForCommitted(db, store);
      assert.deepEqual(await store.readAll({ fromPosition: head, filter: { streamPrefixes: ['environment.'] } }), [], 'nothing was appended');
      assert.equal(await store.streamRevision(airQualityStreamId('v-1', '2026-11-01')), undefined);
    });

    await t.test('ingests many stations in one mutation, or refuses the whole batch naming the observation', async () => {
      await register('i-1', '370102');
      await register('i-2', '370102001', 'MICRO');
      await waitForCommitted(db, store);
      const head = await store.headPosition();
      const mutation = `mutation I($input: IngestAirQualityObservationsInput!) { ingestAirQualityObservations(input: $input) { recorded stationDays positions replayed } }`;
      const hoursOf = (from: number, to: number, c: Record<string, number | null> = toInput(clean)) =>
        Array.from({ length: to - from + 1 }, (_, k) => ({ observedAt: hourOf(from + k), concentrations: c }));

      const refused = await ask('eco-bureau', mutation, {
        input: { stations: [{ stationId: 'i-1', observations: hoursOf(1, 24) }, { stationId: 'i-2', observations: [...hoursOf(1, 2), ...hoursOf(3, 3, { pm25: -5 })] }] },
      });
      const error = (refused.errors as Errors)?.[0];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(refused.errors));
      assert.equal(error?.extensions?.field, 'stations[1].observations[2].pm2_5');
      const tooMany = await ask('eco-bureau', mutation, {
        input: { stations: Array.from({ length: 209 }, () => ({ stationId: 'i-1', observations: hoursOf(1, 24) })) },
      });
      assert.match((tooMany.errors as Errors)?.[0]?.message ?? '', /at most 5000 observations, got 5016; split it/);
      await waitForCommitted(db, store);
      assert.deepEqual(await store.readAll({ fromPosition: head, filter: { streamPrefixes: ['environment.'] } }), [], 'nothing was appended');

      const input = { stations: [{ stationId: 'i-1', observations: hoursOf(1, 26) }, { stationId: 'i-2', observations: hoursOf(1, 24) }], idempotencyKey: 'feed-i' };
      const ingested = await ask<{ ingestAirQualityObservations: { recorded: number; stationDays: number; positions: string[]; replayed: boolean } }>('eco-bureau', mutation, { input });
      assert.equal(ingested.errors, undefined, JSON.stringify(ingested.errors));
      assert.deepEqual({ ...ingested.data?.ingestAirQualityObservations, positions: ingested.data?.ingestAirQualityObservations.positions.length }, { recorded: 50, stationDays: 3, positions: 50, replayed: false });
      assert.equal((await store.readStream(airQualityStreamId('i-1', '2026-11-02'))).length, 2);
      const again = await ask<{ ingestAirQualityObservations: { recorded: number; replayed: boolean } }>('eco-bureau', mutation, { input });
      assert.deepEqual(again.data?.ingestAirQualityObservations, { recorded: 50, stationDays: 3, positions: ingested.data?.ingestAirQualityObservations.positions, replayed: true });
    });

    await t.test('refuses a second observation of an hour with CONFLICT, and records a correction as its own event', async () => {
      await register('c-1', '370103');
      await recordHours('c-1', 1, 23, clean);
      const mutation = `mutation R($input: RecordAirQualityObservationInput!) { recordAirQualityObservation(input: $input) { positions observations { observedAt corrected } } }`;
      const first = await ask<{ recordAirQualityObservation: { positions: string[] } }>('eco-bureau', mutation, {
        input: { stationId: 'c-1', observedAt: '2026-11-02T00:00:00+08:00', concentrations: toInput(clean) },
      });
      assert.equal(first.errors, undefined, JSON.stringify(first.errors));
      assert.equal(first.data?.recordAirQualityObservation.positions.length, 1);
      const again = await ask('eco-bureau', mutation, {
        input: { stationId: 'c-1', observedAt: '2026-11-01T16:00:00Z', concentrations: toInput({ ...clean, pm2_5: 31 }) },
      });
      assert.equal((again.errors as Errors)?.[0]?.extensions?.code, 'CONFLICT');
      assert.match((again.errors as Errors)?.[0]?.message ?? '', /already has an observation for the hour ending 2026-11-01T16:00:00.000Z; send correctAirQualityObservation/);

      const correction = await ask<{ correctAirQualityObservation: { observations: { observedAt: string; corrected: boolean }[] } }>(
        'eco-bureau',
        `mutation C($input: CorrectAirQualityObservationInput!) { correctAirQualityObservation(input: $input) { observations { observedAt corrected } } }`,
        { input: { stationId: 'c-1', observedAt: hourOf(24), concentrations: toInput({ ...clean, pm2_5: 120 }), reason: '校准后数据修正' } },
      );
      assert.deepEqual(correction.data?.correctAirQualityObservation.observations, [{ observedAt: hourOf(24), corrected: true }]);
      const day = await store.readStream(airQualityStreamId('c-1', '2026-11-01'));
      assert.deepEqual(day.map((e) => e.type).slice(-2), ['AirQualityObserved', 'AirQualityObservationCorrected']);

      await caughtUp();
      const read = await ask<{ station: { latest: HourView } }>('dashboard', `{ station(id: "c-1") { ${STATION_FIELDS} } }`);
      const latest = read.data!.station.latest;
      assert.equal(latest.observedAt, hourOf(24));
      assert.equal(latest.concentrations.pm25, 120);
      assert.equal(latest.corrected, true);
      assert.equal(latest.correctionReason, '校准后数据修正');
      // 23 hours at 30 and one at 120: the 24-hour PM2.5 average is 33.75 → 34.
      assert.equal(latest.movingAverages.pm25, 34);
    });

    await t.test('keeps read models equal to what the events say, by HJ 633 and HJ 663', async () => {
      await register('r-1', '370104');
      // A realistic day: PM rising into the evening, O3 peaking in the afternoon, one NA hour of O3.
      const values = (h: number): Concentrations => ({
        pm2_5: 40 + 4 * h,
        pm10: 70 + 6 * h,
        so2: 9 + (h % 3),
        no2: 25 + 2 * (h % 8),
        co: Number((0.5 + 0.05 * h).toFixed(2)),
        o3: h === 5 ? null : 20 + 12 * Math.max(0, 10 - Math.abs(h - 15)),
      });
      await recordHours('r-1', 1, 26, values);
      await caughtUp();
      const read = await ask<{ station: { latest: HourView; hourly: { totalCount: number; edges: { node: HourView }[] }; daily: { edges: { node: Record<string, unknown> }[] } } }>(
        'dashboard',
        `{ station(id: "r-1") {
            ${STATION_FIELDS}
            hourly(from: "${hourOf(1)}", to: "${hourOf(26)}", first: 30) { totalCount edges { node { observedAt aqi level primaryPollutants iaqi { pm25 pm10 so2 no2 co o3 } movingAverages { pm25 pm10 so2 } } } }
            daily(from: "2026-11-01", to: "2026-11-02") { edges { node { date hoursObserved aqi level levelName colour primaryPollutants iaqi { pm25 pm10 so2 no2 co o3 } averages { pm25 pm10 so2 no2 co o3MaxHour o3Max8Hours } } } }
        } }`,
      );
      assert.equal(read.errors, undefined, JSON.stringify(read.errors));
      const station = read.data!.station;
      const series: HourlyConcentrations[] = (await store.readStream(airQualityStreamId('r-1', '2026-11-01')))
        .concat(await store.readStream(airQualityStreamId('r-1', '2026-11-02')))
        .map((e) => ({ hour: (e.data as AirQualityObserved['data']).hour, ...concentrationsOf(e.data as AirQualityObserved['data']) }));
      assert.equal(series.length, 26);
      assert.equal(station.hourly.totalCount, 26);
      for (const { node } of station.hourly.edges) {
        const indicators = realTimeIndicators(node.observedAt, series);
        const expected = hourlyAqi(indicators);
        assert.equal(node.aqi, expected?.aqi ?? null, node.observedAt);
        assert.deepEqual(node.primaryPollutants, expected?.primaryPollutants ?? [], node.observedAt);
        assert.equal(node.movingAverages.pm25, indicators.pm2_5_24h, node.observedAt);
        assert.equal(node.iaqi.o3, expected?.iaqi.O3 ?? null, node.observedAt);
      }
      // PM needs 20 hourly values in its 24-hour window: NA before hour 20, then the PM IAQI counts.
      assert.equal(station.hourly.edges[0]?.node.movingAverages.pm25, null);
      assert.notEqual(station.hourly.edges[19]?.node.movingAverages.pm25, null);
      assert.equal(station.latest.observedAt, hourOf(26));
      assert.equal(station.latest.aqi, hourlyAqi(realTimeIndicators(hourOf(26), series))?.aqi);

      const averages = dailyAverages('2026-11-01', series);
      const expectedDay = dailyAqi(averages)!;
      const day = station.daily.edges[0]!.node;
      assert.deepEqual(day, {
        date: '2026-11-01',
        hoursObserved: 24,
        aqi: expectedDay.aqi,
        level: expectedDay.levelNameEn,
        levelName: expectedDay.levelName,
        colour: expectedDay.colour,
        primaryPollutants: expectedDay.primaryPollutants,
        iaqi: {
          pm25: expectedDay.iaqi.PM2_5 ?? null,
          pm10: expectedDay.iaqi.PM10 ?? null,
          so2: expectedDay.iaqi.SO2 ?? null,
          no2: expectedDay.iaqi.NO2 ?? null,
          co: expectedDay.iaqi.CO ?? null,
          o3: expectedDay.iaqi.O3 ?? null,
        },
        averages: { pm25: averages.pm2_5_24h, pm10: averages.pm10_24h, so2: averages.so2_24h, no2: averages.no2_24h, co: averages.co_24h, o3MaxHour: averages.o3_1h_max, o3Max8Hours: averages.o3_8h_max },
      });
      // Worked by hand: PM2.5 hours 1…24 are 44…136, mean 90 → IAQI 50/40×15+100 = 118.75 → 119 (light pollution).
      assert.deepEqual([averages.pm2_5_24h, expectedDay.iaqi.PM2_5, day.level], [90, 119, 'LIGHTLY_POLLUTED']);
      // Day 2 has two hours: its 24-hour averages are NA, and so is its AQI.
      assert.equal(station.daily.edges[1]?.node.aqi, null);
    });

    await t.test('keeps every hour equal to the events when hours arrive late and a correction reaches into the next day, paging hours across days', async () => {
      await register('o-1', '370103');
      const values = (h: number): Concentrations => ({
        pm2_5: 30 + ((h * 37) % 90),
        pm10: 60 + ((h * 53) % 120),
        so2: h === 27 ? 900 : 8 + (h % 5),
        no2: 20 + (h % 30),
        co: Number((0.5 + (h % 7) / 10).toFixed(1)),
        o3: h === 14 ? null : 40 + ((h * 11) % 150),
      });
      // Hours 1–48 with 10 and 30 missing, then 30 and 10 late (each before the latest hour), then
      // a correction of hour 20, whose 24-hour window reaches hour 43 of the next reporting day.
      await recordHours('o-1', 1, 9, values);
      await recordHours('o-1', 11, 29, values);
      await recordHours('o-1', 31, 48, values);
      await recordHours('o-1', 30, 30, values);
      await recordHours('o-1', 10, 10, values);
      await correctAirQualityObservation(ports(), { stationId: 'o-1', hour: hourOf(20), ...values(20), pm2_5: 400, reason: '校准后数据修正' });
      await caughtUp();

      const series = new Map<string, HourlyConcentrations>();
      for (const date of ['2026-11-01', '2026-11-02']) {
        for (const e of await store.readStream(airQualityStreamId('o-1', date))) {
          const data = e.data as AirQualityObserved['data'];
          series.set(data.hour, { hour: data.hour, ...concentrationsOf(data) });
        }
      }
      assert.equal(series.size, 48);
      const page = `query P($after: String) { station(id: "o-1") { latest { observedAt aqi movingAverages { pm25 } }
        hourly(from: "${hourOf(1)}", to: "${hourOf(48)}", first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { observedAt date aqi primaryPollutants iaqi { so2 pm25 } movingAverages { pm25 pm10 so2 } corrected correctionReason } } } } }`;
      type Page = { station: { latest: HourView; hourly: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: HourView & { date: string } }[] } } };
      const seen: (HourView & { date: string })[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const read: Awaited<ReturnType<typeof ask<Page>>> = await ask<Page>('dashboard', page, { after });
        assert.equal(read.errors, undefined, JSON.stringify(read.errors));
        const { hourly } = read.data!.station;
        assert.equal(hourly.totalCount, 48);
        seen.push(...hourly.edges.map((e) => e.node));
        pages++;
        if (!hourly.pageInfo.hasNextPage) break;
        after = hourly.pageInfo.endCursor;
      }
      assert.equal(pages, 7);
      assert.deepEqual(seen.map((h) => h.observedAt), Array.from({ length: 48 }, (_, k) => hourOf(k + 1)));
      for (const hour of seen) {
        const indicators = realTimeIndicators(hour.observedAt, [...series.values()]);
        const expected = hourlyAqi(indicators);
        assert.deepEqual(
          [hour.aqi, hour.primaryPollutants, hour.iaqi.so2, hour.iaqi.pm25, hour.movingAverages],
          [expected?.aqi ?? null, expected?.primaryPollutants ?? [], expected?.iaqi.SO2 ?? null, expected?.iaqi.PM2_5 ?? null, { pm25: indicators.pm2_5_24h, pm10: indicators.pm10_24h, so2: indicators.so2_24h }],
          hour.observedAt,
        );
        assert.equal(hour.date, hour.observedAt <= hourOf(24) ? '2026-11-01' : '2026-11-02');
        assert.equal(hour.corrected, hour.observedAt === hourOf(20), hour.observedAt);
      }
      assert.equal(seen[19]?.correctionReason, '校准后数据修正');
      // The correction moved the moving averages of the next day's first hours (and not hour 44's).
      const uncorrected = [...series.values()].map((h) => (h.hour === hourOf(20) ? { ...h, pm2_5: values(20).pm2_5 } : h));
      assert.notEqual(seen[42]?.movingAverages.pm25, realTimeIndicators(hourOf(43), uncorrected).pm2_5_24h, 'hour 43 was recomputed');
      assert.equal(seen[43]?.movingAverages.pm25, realTimeIndicators(hourOf(44), uncorrected).pm2_5_24h, 'hour 44 is outside the window');
      const latest = (await ask<Page>('dashboard', page, { after: null })).data!.station.latest;
      assert.deepEqual([latest.observedAt, latest.aqi, latest.movingAverages.pm25], [hourOf(48), seen[47]?.aqi, seen[47]?.movingAverages.pm25]);

      const daily = await ask<{ station: { daily: { edges: { node: { date: string; hoursObserved: number; aqi: number | null; averages: Record<string, number | null> } }[] } } }>(
        'dashboard',
        `{ station(id: "o-1") { daily(from: "2026-11-01", to: "2026-11-02") { edges { node { date hoursObserved aqi averages { pm25 pm10 so2 no2 co o3MaxHour o3Max8Hours } } } } } }`,
      );
      for (const { node } of daily.data!.station.daily.edges) {
        const averages = dailyAverages(node.date, [...series.values()]);
        assert.deepEqual(node, {
          date: node.date,
          hoursObserved: 24,
          aqi: dailyAqi(averages)?.aqi ?? null,
          averages: { pm25: averages.pm2_5_24h, pm10: averages.pm10_24h, so2: averages.so2_24h, no2: averages.no2_24h, co: averages.co_24h, o3MaxHour: averages.o3_1h_max, o3Max8Hours: averages.o3_8h_max },
        });
      }

      // A range that starts and ends between hours holds the whole hours inside it.
      const inside = await ask<{ station: { hourly: { totalCount: number; edges: { node: { observedAt: string } }[] } } }>(
        'dashboard',
        `{ station(id: "o-1") { hourly(from: "2026-11-01T22:30:00+08:00", to: "2026-11-02T01:59:59+08:00") { totalCount edges { node { observedAt } } } } }`,
      );
      assert.deepEqual(inside.data!.station.hourly.edges.map((e) => e.node.observedAt), [hourOf(23), hourOf(24), hourOf(25)]);
      assert.equal(inside.data!.station.hourly.totalCount, 3);
      // A cursor of another station's list is refused.
      const foreign = await ask('dashboard', `{ station(id: "r-1") { hourly(from: "${hourOf(1)}", to: "${hourOf(48)}", after: "${after}") { totalCount } } }`);
      assert.equal((foreign.errors as Errors)?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match((foreign.errors as Errors)?.[0]?.message ?? '', /belongs to another list/);
      // A cursor of this list that names no hour (as the hour documents' cursors did) is refused too.
      const stale = Buffer.from(JSON.stringify(['environment.hourly:o-1', 'WyIyMDI2LTExLTAxVDAxOjAwOjAwLjAwMFoiLCJvLTEiXQ'])).toString('base64url');
      const old = await ask('dashboard', `{ station(id: "o-1") { hourly(from: "${hourOf(1)}", to: "${hourOf(48)}", after: "${stale}") { totalCount } } }`);
      assert.equal((old.errors as Errors)?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match((old.errors as Errors)?.[0]?.message ?? '', /is not one this list returned: start again without "after"/);
    });

    await t.test('serves worked HJ 633 values: PM2.5 at 115 µg/m³ all day is IAQI 150, 轻度污染, orange', async () => {
      await register('w-1', '370105');
      await recordHours('w-1', 1, 24, { ...clean, pm2_5: 115 });
      await caughtUp();
      const read = await ask<{ station: { latest: HourView } }>('dashboard', `{ station(id: "w-1") { ${STATION_FIELDS} } }`);
      const { latest } = read.data!.station;
      assert.deepEqual(
        [latest.aqi, latest.level, latest.levelName, latest.colour, latest.primaryPollutants, latest.iaqi.pm25],
        [150, 'LIGHTLY_POLLUTED', '轻度污染', '#FF7E00', ['PM2_5'], 150],
      );
    });

    await t.test('ranks the districts by daily AQI from their assessment stations only, ties sharing a rank', async () => {
      await register('k-a', '370112');
      await register('k-b', '370113');
      await register('k-c', '370114');
      await register('k-d', '370115', 'PROVINCIAL');
      await register('k-m', '370113001', 'MICRO');
      const day = (pm25: number) => ({ ...clean, pm2_5: pm25, o3: 40 });
      await recordHours('k-a', 1, 24, day(75)); // IAQI 100
      await recordHours('k-b', 1, 24, day(35)); // IAQI 50, AQI 50
      await recordHours('k-c', 1, 24, day(75)); // IAQI 100, tied with k-a
      await recordHours('k-d', 1, 24, day(150)); // IAQI 200
      await recordHours('k-m', 1, 24, day(400)); // a micro station: not in the assessment
      await caughtUp();
      const read = await ask<{ airQualityRanking: { divisionCode: string; aqi: number; rank: number; rankedDistricts: number }[]; _entities: { airQuality: { aqi: number; rank: number; level: string } | null }[] }>(
        'dashboard',
        `{ airQualityRanking(date: "2026-11-01") { divisionCode aqi rank rankedDistricts }
           _entities(representations: [{ __typename: "Division", code: "370113" }, { __typename: "Division", code: "370113001" }]) { ... on Division { airQuality(date: "2026-11-01") { aqi rank level } } } }`,
      );
      assert.equal(read.errors, undefined, JSON.stringify(read.errors));
      const ours = read.data!.airQualityRanking.filter((d) => ['370112', '370113', '370114', '370115'].includes(d.divisionCode));
      assert.deepEqual(
        ours.map((d) => [d.divisionCode, d.aqi]),
        [['370113', 50], ['370112', 100], ['370114', 100], ['370115', 200]],
      );
      // Competition ranking over every district with data that day (other tests recorded some too).
      const ranking = read.data!.airQualityRanking;
      for (const d of ranking) assert.equal(d.rank, 1 + ranking.filter((o) => o.aqi < d.aqi).length, d.divisionCode);
      assert.deepEqual(ranking.map((d) => d.aqi), ranking.map((d) => d.aqi).sort((a, b) => a - b), 'best first');
      assert.ok(ranking.every((d) => d.rankedDistricts === ranking.length));
      const rankOf = (code: string) => ranking.find((d) => d.divisionCode === code)!.rank;
      assert.equal(rankOf('370112'), rankOf('370114'), 'equal AQIs share a rank');
      assert.deepEqual(read.data!._entities[0]?.airQuality, { aqi: 50, rank: rankOf('370113'), level: 'EXCELLENT' });
      assert.equal(read.data!._entities[1]?.airQuality, null, 'a street has no ranking');
    });

    await t.test("re-ranks a district when a correction changes its stations' mean", async () => {
      await register('q-1', '370124');
      await register('q-2', '370124001', 'PROVINCIAL');
      await register('q-3', '370124002', 'MICRO');
      await recordHours('q-1', 1, 24, { ...clean, pm2_5: 75, o3: 40 });
      await recordHours('q-2', 1, 24, { ...clean, pm2_5: 75, o3: 40 });
      await recordHours('q-3', 1, 24, { ...clean, pm2_5: 400, o3: 40 });
      const query = `{ _entities(representations: [{ __typename: "Division", code: "370124" }]) { ... on Division { airQuality(date: "2026-11-01") { aqi level primaryPollutants } } } }`;
      const districtAqi = async () => {
        await caughtUp();
        const read = await ask<{ _entities: { airQuality: { aqi: number; level: string; primaryPollutants: string[] } | null }[] }>('dashboard', query);
        assert.equal(read.errors, undefined, JSON.stringify(read.errors));
        return read.data!._entities[0]?.airQuality;
      };
      // Both assessment stations at 75 µg/m³ (the micro station does not count): IAQI 100.
      assert.deepEqual(await districtAqi(), { aqi: 100, level: 'GOOD', primaryPollutants: ['PM2_5'] });
      // Half the hours of q-1 corrected to 235: those hours' mean is 155, the day's 115 → IAQI 150.
      for (let h = 1; h <= 12; h++) {
        await correctAirQualityObservation(ports(), { stationId: 'q-1', hour: hourOf(h), ...clean, pm2_5: 235, o3: 40, reason: '校准后数据修正' });
      }
      assert.deepEqual(await districtAqi(), { aqi: 150, level: 'LIGHTLY_POLLUTED', primaryPollutants: ['PM2_5'] });
      // A correction back to the first value restores the mean of that hour exactly.
      for (let h = 1; h <= 12; h++) {
        await correctAirQualityObservation(ports(), { stationId: 'q-1', hour: hourOf(h), ...clean, pm2_5: 75, o3: 40, reason: '复核恢复' });
      }
      assert.deepEqual(await districtAqi(), { aqi: 100, level: 'GOOD', primaryPollutants: ['PM2_5'] });
    });

    await t.test('runs the alarm loop: one alarm per exceedance even when issued twice, escalation in virtual time, resolution with evidence', async () => {
      const legalPersonId = 'lp-env-1';
      await store.append(legalPersonStreamId(legalPersonId), [enterpriseRegistered({ legalPersonId, creditCode: '91350100M000100Y43', name: '济南示范热电有限公司', registeredAddress: { address: '历城区工业北路 1 号', divisionCode: '370112' } })]);
      const issued = await ask<{ issueEmissionPermit: { permit: { id: string; permitNo: string; outlets: { pollutants: { unit: string }[] }[] } } }>(
        'eco-bureau',
        `mutation I($input: IssueEmissionPermitInput!) { issueEmissionPermit(input: $input) { permit { id permitNo outlets { pollutants { unit } } } } }`,
        {
          input: {
            id: 'ep-1',
            legalPersonId,
            permitNo: '91350100M000100Y43001P',
            outlets: [{ outletId: 'DA001', name: '1号锅炉排气筒', pollutants: [{ pollutant: 'SO2', limit: 35, unit: 'MG_PER_M3' }, { pollutant: 'NOX', limit: 50, unit: 'MG_PER_M3' }] }],
            validFrom: '2025-01-01',
            validUntil: '2029-12-31',
          },
        },
      );
      assert.equal(issued.errors, undefined, JSON.stringify(issued.errors));
      assert.equal(issued.data?.issueEmissionPermit.permit.outlets[0]?.pollutants[0]?.unit, 'MG_PER_M3');

      const noPerson = await ask('eco-bureau', `mutation I($input: IssueEmissionPermitInput!) { issueEmissionPermit(input: $input) { positions } }`, {
        input: { legalPersonId: 'nobody', permitNo: 'X', outlets: [], validFrom: '2025-01-01', validUntil: '2026-01-01' },
      });
      assert.equal((noPerson.errors as Errors)?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal((noPerson.errors as Errors)?.[0]?.extensions?.field, 'legalPersonId');

      const reading = `mutation O($input: RecordEmissionObservationInput!) { recordEmissionObservation(input: $input) { exceedsLimit alarmId positions } }`;
      const readingAt = (minutesAgo: number) => canonicalInstant(clock - minutesAgo * 60_000);
      const within = await ask<{ recordEmissionObservation: { exceedsLimit: boolean; alarmId: string | null } }>('eco-bureau', reading, {
        input: { permitId: 'ep-1', outletId: 'DA001', pollutant: 'SO2', value: 35, unit: 'MG_PER_M3', observedAt: readingAt(50) },
      });
      assert.equal(within.errors, undefined, JSON.stringify(within.errors));
      const { exceedsLimit, alarmId: noAlarm } = within.data!.recordEmissionObservation;
      assert.deepEqual({ exceedsLimit, noAlarm }, { exceedsLimit: false, noAlarm: null }, 'at the limit complies');
      const over = await ask<{ recordEmissionObservation: { exceedsLimit: boolean; alarmId: string } }>('eco-bureau', reading, {
        input: { permitId: 'ep-1', outletId: 'DA001', pollutant: 'SO2', value: 48.6, unit: 'MG_PER_M3', observedAt: readingAt(40) },
      });
      const overNox = await ask<{ recordEmissionObservation: { exceedsLimit: boolean; alarmId: string } }>('eco-bureau', reading, {
        input: { permitId: 'ep-1', outletId: 'DA001', pollutant: 'NOX', value: 71, unit: 'MG_PER_M3', observedAt: readingAt(30) },
      });
      const wrongUnit = await ask('eco-bureau', reading, {
        input: { permitId: 'ep-1', outletId: 'DA001', pollutant: 'NOX', value: 71, unit: 'MG_PER_L', observedAt: readingAt(30) },
      });
      assert.match((wrongUnit.errors as Errors)?.[0]?.message ?? '', /unit must be mg\/m3 for NOX/);
      const alarmId = over.data!.recordEmissionObservation.alarmId;
      const secondAlarmId = overNox.data!.recordEmissionObservation.alarmId;
      assert.ok(alarmId && secondAlarmId && alarmId !== secondAlarmId);

      // The process manager raises each alarm once, even when a restarted process issues it again
      // before the projection has seen the first raise.
      await caughtUp();
      const scheduled = await runtime.readModels.of(EXCEEDANCE_ALARMS).collection<ScheduledItem>('schedule').find();
      assert.deepEqual(scheduled.items.map((i) => i.node.id).sort(), [alarmId, secondAlarmId].sort());
      const [raised] = await managers().tick();
      assert.deepEqual(raised?.issued.sort(), [alarmId, secondAlarmId].sort());
      const manager = environmentModule.processManagers?.find((m) => m.name === EXCEEDANCE_ALARMS);
      for (const { node } of scheduled.items) {
        const replay = await manager!.issue(node.doc, { store, now: new Date(clock), metadata: testMetadata });
        assert.equal(replay.replayed, true, 'issued again (a restarted process): nothing new');
      }
      assert.equal((await store.readStream(emissionAlarmStreamId(alarmId))).length, 1);
      await caughtUp();
      assert.deepEqual((await runtime.readModels.of(EXCEEDANCE_ALARMS).collection('schedule').find()).items, [], 'raised alarms leave the schedule');

      // The second alarm is acknowledged in time; the first is not, and is escalated once the
      // acknowledgement time has passed in virtual time.
      const acknowledge = `mutation A($input: AcknowledgeEmissionAlarmInput!) { acknowledgeEmissionAlarm(input: $input) { status positions alarm { status acknowledgedBy } } }`;
      clock += 10 * 60_000;
      const acked = await ask<{ acknowledgeEmissionAlarm: { status: string } }>('eco-bureau', acknowledge, { input: { alarmId: secondAlarmId, by: '执法支队 王工' } });
      assert.equal(acked.data?.acknowledgeEmissionAlarm.status, 'ACKNOWLEDGED');
      await caughtUp();
      assert.deepEqual((await managers().tick()).flatMap((r) => r.issued), [], 'nothing is due before the deadline');
      clock += 25 * 60_000;
      await caughtUp();
      const escalation = await managers().tick();
      assert.deepEqual(escalation.flatMap((r) => r.issued), [alarmId]);
      assert.deepEqual((await store.readStream(emissionAlarmStreamId(alarmId))).map((e) => e.type), ['EmissionAlarmRaised', 'EmissionAlarmEscalated']);
      await caughtUp();
      assert.deepEqual((await managers().tick()).flatMap((r) => [...r.issued, ...r.replayed]), [], 'escalated once');

      const resolve = `mutation S($input: ResolveEmissionAlarmInput!) { resolveEmissionAlarm(input: $input) { status alarm { status evidence resolutionNote } } }`;
      const early = await ask('eco-bureau', resolve, { input: { alarmId, evidence: ['doc://整改报告/1'], note: '已整改' } });
      assert.equal((early.errors as Errors)?.[0]?.extensions?.code, 'INVALID_TRANSITION', 'an escalated alarm must be acknowledged before it is resolved');
      await ask('eco-bureau', acknowledge, { input: { alarmId, by: '执法支队 王工' } });
      const noEvidence = await ask('eco-bureau', resolve, { input: { alarmId, evidence: [], note: '已整改' } });
      assert.equal((noEvidence.errors as Errors)?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      const resolved = await ask<{ resolveEmissionAlarm: { status: string; alarm: { evidence: string[] } } }>('eco-bureau', resolve, {
        input: { alarmId, evidence: ['doc://整改报告/1', 'monitor://复测/1'], note: '脱硫塔检修完毕，复测达标' },
      });
      assert.equal(resolved.data?.resolveEmissionAlarm.status, 'RESOLVED');
      assert.deepEqual(resolved.data?.resolveEmissionAlarm.alarm.evidence, ['doc://整改报告/1', 'monitor://复测/1']);

      await caughtUp();
      const view = await ask<{ _entities: { environment: { permits: { totalCount: number }; alarms: { edges: { node: { id: string; status: string; escalatedAt: string | null } }[] }; open: { totalCount: number } } }[] }>(
        'dashboard',
        `{ _entities(representations: [{ __typename: "LegalPerson", id: "${legalPersonId}" }]) { ... on LegalPerson { environment {
            permits { totalCount }
            alarms { edges { node { id status escalatedAt } } }
            open: alarms(status: [RAISED, ESCALATED, ACKNOWLEDGED]) { totalCount } } } } }`,
      );
      assert.equal(view.errors, undefined, JSON.stringify(view.errors));
      const environment = view.data!._entities[0]!.environment;
      assert.equal(environment.permits.totalCount, 1);
      const statusOf = Object.fromEntries(environment.alarms.edges.map((e) => [e.node.id, e.node]));
      assert.equal(statusOf[alarmId]?.status, 'RESOLVED');
      assert.ok(statusOf[alarmId]?.escalatedAt);
      assert.equal(statusOf[secondAlarmId]?.status, 'ACKNOWLEDGED');
      assert.equal(statusOf[secondAlarmId]?.escalatedAt, null);
      assert.equal(environment.open.totalCount, 1);
    });

    await t.test('pushes only the hourly AQIs above the level, of stations in the division', async () => {
      await register('s-in', '370116');
      await register('s-micro', '370116001', 'MICRO');
      await register('s-out', '370117');
      const haze = { ...clean, pm2_5: 230 };
      // 23 hazy hours before subscribing, so the next hour's PM2.5 24-hour average is above 150.
      await recordHours('s-in', 1, 23, haze);
      await recordHours('s-micro', 1, 23, clean);
      await recordHours('s-out', 1, 23, haze);
      const client = createClient({ url: harness.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: await relayedHeaders('dashboard') });
      const { received, done: two, unsubscribe } = collectResults<{ stationId: string; observedAt: string; aqi: number; level: string; station: { id: string } | null }>(
        client,
        'subscription { airQualityAlert(divisionCode: "370116") { stationId observedAt aqi level station { id } } }',
        'airQualityAlert',
        2,
      );
      try {
        // Let the subscription start at the head before anything is recorded.
        await new Promise((r) => setTimeout(r, 300));
        await recordHours('s-out', 24, 24, haze); // another district
        await recordHours('s-micro', 24, 24, clean); // in the division, but clean
        await recordHours('s-in', 24, 24, haze); // the first alert
        await recordHours('s-in', 25, 25, { ...clean, pm2_5: 60 }); // the 24-hour average is still above 150
        await two;
      } finally {
        unsubscribe();
        await client.dispose();
      }
      assert.deepEqual(
        received.map((a) => [a.stationId, a.observedAt, a.level]),
        [
          ['s-in', hourOf(24), 'HEAVILY_POLLUTED'],
          ['s-in', hourOf(25), 'HEAVILY_POLLUTED'],
        ],
      );
      assert.ok(received.every((a) => a.aqi > 200));
    });

    await t.test('refuses every reference to a station, permit, legal person or division that does not exist as BAD_USER_INPUT naming the field, appending nothing', async () => {
      const mutation = (name: string) => `mutation M($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { positions } }`;
      const send = (name: string, input: Record<string, unknown>) => () => ask('eco-bureau', mutation(name), { input });
      const hour = { observedAt: hourOf(3), concentrations: { pm25: 30 } };
      const station = { code: 'REF-1', name: '引用站', kind: 'MICRO', location: { longitude: 117, latitude: 36.66 } };
      const cases: [field: string, send: () => Promise<Body>][] = [
        ['divisionCode', send('registerMonitoringStation', { ...station, divisionCode: '370102999' })],
        ['stationId', send('recordAirQualityObservation', { stationId: 'nowhere', ...hour })],
        ['stationId', send('recordAirQualityObservations', { stationId: 'nowhere', observations: [hour] })],
        ['stations[0].stationId', send('ingestAirQualityObservations', { stations: [{ stationId: 'nowhere', observations: [hour] }] })],
        ['stationId', send('correctAirQualityObservation', { stationId: 'nowhere', ...hour, reason: '复核' })],
        ['legalPersonId', send('issueEmissionPermit', { legalPersonId: 'nobody', permitNo: 'X', outlets: [], validFrom: '2025-01-01', validUntil: '2026-01-01' })],
        ['permitId', send('recordEmissionObservation', { permitId: 'nowhere', outletId: 'DA001', pollutant: 'SO2', value: 1, unit: 'MG_PER_M3', observedAt: hourOf(3) })],
      ];
      for (const [field, sendIt] of cases) await refusedNaming(store, field, sendIt);
      // The mutation's own target is another matter: an unknown alarm acknowledged is NOT_FOUND.
      assert.equal((await ask('eco-bureau', mutation('acknowledgeEmissionAlarm'), { input: { alarmId: 'nowhere', by: '值班员' } })).errors?.[0]?.extensions?.code, 'NOT_FOUND');
    });

    await t.test('serves a list holding a station recorded in a division the catalog no longer holds, with an error at that field only', async () => {
      await register('old-ok', '370102');
      // Old data: a registration recorded before codes were checked, in a street since retired.
      await store.append('environment.station-old-retired', [
        {
          type: 'MonitoringStationRegistered',
          data: { stationId: 'old-retired', code: 'OLD-R', name: '旧站', kind: 'MICRO', location: { longitude: 117, latitude: 36.66 }, divisionCode: '370102999' },
          metadata: testMetadata,
        },
      ]);
      await caughtUp();
      type List = { stations: { edges: { node: { id: string; division: { code: string } | null } }[] } };
      const body = (await ask<List>('eco-bureau', '{ stations(first: 100) { edges { node { id division { code } } } } }')) as Body<List>;
      const edges = body.data?.stations.edges ?? [];
      const index = edges.findIndex((e) => e.node.id === 'old-retired');
      assert.ok(index >= 0 && edges.length > 1, JSON.stringify(body));
      partialWithErrorAt(body, ['stations', 'edges', index, 'node', 'division']);
      assert.deepEqual(edges.find((e) => e.node.id === 'old-ok')?.node.division, { code: '370102' });
    });

    await t.test('answers a create re-sent with the same idempotency key with its first result, appending nothing', async () => {
      const registerStation = (input: Record<string, unknown>) => () =>
        ask<{ registerMonitoringStation: { station: { id: string }; positions: string[] } }>(
          'eco-bureau',
          'mutation M($input: RegisterMonitoringStationInput!) { registerMonitoringStation(input: $input) { station { id } positions } }',
          { input },
        );
      const station = { code: 'RETRY-1', name: '重试站', kind: 'MICRO', location: { longitude: 117, latitude: 36.66 }, divisionCode: '370102', idempotencyKey: 'station-1' };
      const first = await answeredOnceOnRetry(store, registerStation(station), (d) => d.registerMonitoringStation);
      // The key names the command, not its content: changed input with the same key answers the first result.
      await answeredOnceOnRetry(store, registerStation({ ...station, name: '改名站' }), (d) => assert.deepEqual(d.registerMonitoringStation, first));

      const observe = (input: Record<string, unknown>) => () =>
        ask<{ recordAirQualityObservation: { positions: string[] } }>('eco-bureau', 'mutation M($input: RecordAirQualityObservationInput!) { recordAirQualityObservation(input: $input) { positions } }', { input });
      const hour = { stationId: first.station.id, observedAt: hourOf(5), concentrations: { pm25: 30 }, idempotencyKey: 'hour-5' };
      const observed = await answeredOnceOnRetry(store, observe(hour), (d) => d.recordAirQualityObservation.positions);
      await answeredOnceOnRetry(store, observe({ ...hour, concentrations: { pm25: 31 } }), (d) => assert.deepEqual(d.recordAirQualityObservation.positions, observed));
      const ingest = () =>
        ask<{ ingestAirQualityObservations: { positions: string[]; recorded: number } }>(
          'eco-bureau',
          'mutation M($input: IngestAirQualityObservationsInput!) { ingestAirQualityObservations(input: $input) { recorded positions } }',
          { input: { stations: [{ stationId: first.station.id, observations: [{ observedAt: hourOf(6), concentrations: { pm25: 30 } }] }], idempotencyKey: 'ingest-6' } },
        );
      await answeredOnceOnRetry(store, ingest, (d) => d.ingestAirQualityObservations);

      const legalPersonId = 'lp-env-retry';
      await store.append(legalPersonStreamId(legalPersonId), [enterpriseRegistered({ legalPersonId, creditCode: makeCreditCode({ divisionCode: '370102', organizationCode: 'MA3C0777' }), name: '济南重试有限公司', registeredAddress: { address: '历下区 1 号', divisionCode: '370102' } })]);
      const issue = () =>
        ask<{ issueEmissionPermit: { permit: { id: string }; positions: string[] } }>('eco-bureau', 'mutation M($input: IssueEmissionPermitInput!) { issueEmissionPermit(input: $input) { permit { id } positions } }', {
          input: {
            legalPersonId,
            permitNo: '91370100MA3C0RETRY001P',
            outlets: [{ outletId: 'DA001', name: '排气筒', pollutants: [{ pollutant: 'SO2', limit: 35, unit: 'MG_PER_M3' }] }],
            validFrom: '2025-01-01',
            validUntil: '2029-12-31',
            idempotencyKey: 'permit-1',
          },
        });
      const permit = await answeredOnceOnRetry(store, issue, (d) => d.issueEmissionPermit);
      const reading = () =>
        ask<{ recordEmissionObservation: { positions: string[] } }>('eco-bureau', 'mutation M($input: RecordEmissionObservationInput!) { recordEmissionObservation(input: $input) { positions } }', {
          input: { permitId: permit.permit.id, outletId: 'DA001', pollutant: 'SO2', value: 10, unit: 'MG_PER_M3', observedAt: canonicalInstant(clock - 60_000), idempotencyKey: 'reading-1' },
        });
      await answeredOnceOnRetry(store, reading, (d) => d.recordEmissionObservation.positions);
    });

    await t.test('refuses writes to a consumer without environment.write, and serves nothing to one without environment.air', async () => {
      const refused = await ask('dashboard', `mutation R($input: RegisterMonitoringStationInput!) { registerMonitoringStation(input: $input) { positions } }`, {
        input: { code: 'X1', name: 'x', kind: 'MICRO', location: { longitude: 117, latitude: 36.6 }, divisionCode: '370102001' },
      });
      assert.equal((refused.errors as Errors)?.[0]?.extensions?.code, 'FORBIDDEN');
      const stranger = await ask<{ station: unknown }>('stranger', `{ station(id: "w-1") { id name } }`);
      assert.equal(stranger.data?.station, null);
      assert.equal((stranger.errors as Errors)?.[0]?.extensions?.code, 'FORBIDDEN');
    });

    await t.test('seeds the demo environment through the commands, with a haze episode above AQI 200', async () => {
      const seedClock = clock;
      await seedEnvironment({ ...runtime, now: () => new Date(seedClock) }, config, { days: 3, seed: 7 });
      await caughtUp();
      const read = await ask<{ stations: { totalCount: number }; national: { edges: { node: { id: string; latest: { aqi: number } | null } }[] } }>(
        'dashboard',
        `{ stations(first: 1) { totalCount } national: stations(filter: { kind: NATIONAL, divisionCode: "370116" }) { edges { node { id latest { aqi } } } } }`,
      );
      assert.equal(read.errors, undefined, JSON.stringify(read.errors));
      assert.ok(read.data!.stations.totalCount >= 12 * 3);
      const seeded = read.data!.national.edges.find((e) => e.node.id.startsWith('aq-'));
      assert.ok(seeded?.node.latest, 'the seeded national station of 莱芜区 has a latest reading');
      const days = await runtime.readModels.of('environment.air-quality').collection<{ peakHourAqi: number | null }>('days').find({ where: { peakHourAqi: { gt: 200 } }, first: 1 });
      assert.equal(days.items.length, 1, 'the haze episode takes some station-hour above AQI 200');
    });
  });
}
