import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import type { Concentrations } from '../aqi/hj633.ts';
import type {
  CorrectAirQualityObservation,
  RecordAirQualityObservation,
  RecordAirQualityObservations,
  RegisterMonitoringStation,
  StationCommand,
} from './commands.ts';
import { stationDecider } from './decider.ts';
import {
  stationEventDefinitions,
  type AirQualityObserved,
  type MonitoringStationRegistered,
  type StationEvent,
} from './events.ts';
import { ObservedHours } from './observedHours.ts';

const metadata = { now: '2026-03-01T03:20:00.000Z' }; // 11:20 in Jinan

const station: MonitoringStationRegistered['data'] = {
  stationId: 'st-1',
  code: '1299A',
  name: '泉城广场',
  kind: 'NATIONAL',
  location: { longitude: 117.0209, latitude: 36.6618 },
  divisionCode: '370102',
};
const registered: MonitoringStationRegistered = { type: 'MonitoringStationRegistered', data: station };
const register = (data: Partial<RegisterMonitoringStation['data']> = {}): RegisterMonitoringStation => ({
  type: 'registerMonitoringStation',
  data: { ...station, ...data },
  metadata,
});

const values: Concentrations = { pm2_5: 48, pm10: 86, so2: 9, no2: 41, co: 0.7, o3: 62 };
const record = (data: Partial<RecordAirQualityObservation['data']> = {}, now = metadata.now): RecordAirQualityObservation => ({
  type: 'recordAirQualityObservation',
  data: { stationId: 'st-1', hour: '2026-03-01T10:00:00+08:00', ...values, ...data },
  metadata: { now },
});
const correct = (data: Partial<CorrectAirQualityObservation['data']> = {}): CorrectAirQualityObservation => ({
  type: 'correctAirQualityObservation',
  data: { stationId: 'st-1', hour: '2026-03-01T10:00:00+08:00', ...values, pm2_5: 45, reason: '校准后修正', ...data },
  metadata,
});
const observed = (hour: string): AirQualityObserved => ({ type: 'AirQualityObserved', data: { stationId: 'st-1', hour, ...values } });
const tenOClock = observed('2026-03-01T02:00:00.000Z');

describe('station: registerMonitoringStation', () => {
  it('registers the station with trimmed text', () => {
    given(stationDecider)
      .when(register({ name: ' 泉城广场 ', code: ' 1299A' }))
      .then([registered]);
  });

  it('accepts a street as the division and every kind of station', () => {
    const [event] = stationDecider.decide(register({ kind: 'MICRO', divisionCode: '370102001' }), { status: 'UNREGISTERED' });
    assert.equal(event?.type === 'MonitoringStationRegistered' && `${event.data.kind} ${event.data.divisionCode}`, 'MICRO 370102001');
  });

  it('refuses a division outside the catalog or the whole city', () => {
    given(stationDecider)
      .when(register({ divisionCode: '440101' }))
      .thenThrows(ValidationError, /divisionCode 440101 is not in the division catalog/);
    given(stationDecider)
      .when(register({ divisionCode: '370100' }))
      .thenThrows(ValidationError, /is the whole city; give the district/);
  });

  it('refuses coordinates off the globe, hinting at swapped longitude and latitude', () => {
    given(stationDecider)
      .when(register({ location: { longitude: 36.66, latitude: 117.02 } }))
      .thenThrows(ValidationError, /location.latitude must be between -90 and 90 degrees, got 117.02; check that longitude and latitude are not swapped/);
    given(stationDecider)
      .when(register({ location: { longitude: 181, latitude: 36 } }))
      .thenThrows(ValidationError, /location.longitude/);
  });

  it('refuses a station id that cannot be part of a stream id', () => {
    given(stationDecider)
      .when(register({ stationId: '泉城/1' }))
      .thenThrows(ValidationError, /stationId "泉城\/1" may hold only letters, digits, "_" and "-"/);
  });

  it('refuses an unknown kind and empty text', () => {
    given(stationDecider)
      .when(register({ kind: 'CITY' as 'MICRO' }))
      .thenThrows(ValidationError, /kind CITY is not a station kind; use one of NATIONAL, PROVINCIAL, MICRO/);
    given(stationDecider).when(register({ code: ' ' })).thenThrows(ValidationError, /code must not be empty/);
  });

  it('refuses to register a station twice', () => {
    given(stationDecider, [registered]).when(register()).thenThrows(ConflictError, /st-1 is already registered/);
  });
});

describe('station: recordAirQualityObservation', () => {
  it('records the hour in canonical UTC form with the six values', () => {
    given(stationDecider, [registered]).when(record()).then([tenOClock]);
  });

  it('accepts a pollutant not measured that hour as null', () => {
    given(stationDecider, [registered])
      .when(record({ o3: null }))
      .then([{ type: 'AirQualityObserved', data: { ...tenOClock.data, o3: null } }]);
  });

  it('refuses an hour already observed, naming it and pointing to a correction, whatever offset it is written with', () => {
    given(stationDecider, [registered, tenOClock])
      .when(record({ hour: '2026-03-01T02:00:00Z' }))
      .thenThrows(
        ConflictError,
        /station st-1 already has an observation for the hour ending 2026-03-01T02:00:00.000Z; send correctAirQualityObservation/,
      );
  });

  it('accepts the next hour after one observed', () => {
    given(stationDecider, [registered, tenOClock])
      .when(record({ hour: '2026-03-01T11:00:00+08:00' }))
      .then([observed('2026-03-01T03:00:00.000Z')]);
  });

  it('refuses an hour that is not on the hour or has no offset', () => {
    given(stationDecider, [registered])
      .when(record({ hour: '2026-03-01T10:30:00+08:00' }))
      .thenThrows(ValidationError, /hour 2026-03-01T10:30:00\+08:00 is not on the hour/);
    given(stationDecider, [registered])
      .when(record({ hour: '2026-03-01T10:00:00' }))
      .thenThrows(ValidationError, /hour must be an ISO 8601 instant with an offset/);
  });

  it('refuses an hour that has not ended yet', () => {
    given(stationDecider, [registered])
      .when(record({ hour: '2026-03-01T12:00:00+08:00' }))
      .thenThrows(ValidationError, /hour 2026-03-01T12:00:00\+08:00 has not ended yet \(now is 2026-03-01T03:20:00.000Z\)/);
    given(stationDecider, [registered]).when(record({ hour: '2026-03-01T11:00:00+08:00' }, '2026-03-01T03:00:00Z')).then([
      observed('2026-03-01T03:00:00.000Z'),
    ]);
  });

  it('refuses negative values and values beyond the plausible maximum, naming the unit', () => {
    given(stationDecider, [registered])
      .when(record({ no2: -1 }))
      .thenThrows(ValidationError, /no2 must be a concentration in µg\/m³, 0 or more, or null when not measured; got -1/);
    given(stationDecider, [registered])
      .when(record({ pm2_5: 1200 }))
      .thenThrows(ValidationError, /pm2_5 1200 µg\/m³ is above the plausible maximum of 1000 µg\/m³; check the unit/);
    given(stationDecider, [registered])
      .when(record({ co: 700 }))
      .thenThrows(ValidationError, /co 700 mg\/m³ is above the plausible maximum of 150 mg\/m³/);
    given(stationDecider, [registered]).when(record({ o3: Number.NaN })).thenThrows(ValidationError, /o3 must be a concentration/);
  });

  it('accepts values at the plausible maximum', () => {
    given(stationDecider, [registered])
      .when(record({ pm2_5: 1000, co: 150 }))
      .then([{ type: 'AirQualityObserved', data: { ...tenOClock.data, pm2_5: 1000, co: 150 } }]);
  });

  it('refuses an observation with no value at all', () => {
    given(stationDecider, [registered])
      .when(record({ pm2_5: null, pm10: null, so2: null, no2: null, co: null, o3: null }))
      .thenThrows(ValidationError, /at least one pollutant value/);
  });

  it('refuses an observation for a station never registered', () => {
    given(stationDecider).when(record()).thenThrows(ValidationError, /stationId st-1 is not a registered monitoring station/);
  });
});

describe('station: recordAirQualityObservations (a batch)', () => {
  const batch = (observations: RecordAirQualityObservations['data']['observations']): RecordAirQualityObservations => ({
    type: 'recordAirQualityObservations',
    data: { stationId: 'st-1', observations },
    metadata,
  });
  const at = (hour: string, over: Partial<Concentrations> = {}) => ({ hour, ...values, ...over });

  it('records every hour of the batch, in order', () => {
    given(stationDecider, [registered])
      .when(batch([at('2026-03-01T09:00:00+08:00'), at('2026-03-01T10:00:00+08:00')]))
      .then([observed('2026-03-01T01:00:00.000Z'), tenOClock]);
  });

  it('refuses the whole batch for one bad hour, naming it by its place', () => {
    given(stationDecider, [registered])
      .when(batch([at('2026-03-01T09:00:00+08:00'), at('2026-03-01T10:00:00+08:00', { so2: -1 })]))
      .thenThrows(ValidationError, /^observations\[1\]: so2 must be a concentration/);
    const { state } = given(stationDecider, [registered]);
    assert.throws(
      () => stationDecider.decide(batch([at('2026-03-01T09:00:00+08:00'), at('2026-03-01T10:00:00+08:00', { so2: -1 })]), state),
      (error: ValidationError) => error.details.field === 'observations[1].so2',
    );
  });

  it('refuses an hour repeated within the batch or already stored, and an empty batch', () => {
    given(stationDecider, [registered])
      .when(batch([at('2026-03-01T10:00:00+08:00'), at('2026-03-01T02:00:00Z')]))
      .thenThrows(ConflictError, /^observations\[1\]: station st-1 already has an observation for the hour ending 2026-03-01T02:00:00.000Z/);
    given(stationDecider, [registered, tenOClock]).when(batch([at('2026-03-01T10:00:00+08:00')])).thenThrows(ConflictError, /observations\[0\]/);
    given(stationDecider, [registered]).when(batch([])).thenThrows(ValidationError, /observations is empty/);
  });

  it('refuses a batch for a station never registered', () => {
    given(stationDecider).when(batch([at('2026-03-01T10:00:00+08:00')])).thenThrows(ValidationError, /st-1 is not a registered monitoring station/);
  });
});

describe('station: correctAirQualityObservation', () => {
  it('replaces the values of an observed hour, with the reason', () => {
    given(stationDecider, [registered, tenOClock])
      .when(correct())
      .then([
        {
          type: 'AirQualityObservationCorrected',
          data: { ...tenOClock.data, pm2_5: 45, reason: '校准后修正' },
        },
      ]);
  });

  it('allows correcting the same hour again', () => {
    const corrected: StationEvent = {
      type: 'AirQualityObservationCorrected',
      data: { ...tenOClock.data, pm2_5: 45, reason: '校准后修正' },
    };
    given(stationDecider, [registered, tenOClock, corrected])
      .when(correct({ pm2_5: 44, reason: '复核' }))
      .then([{ type: 'AirQualityObservationCorrected', data: { ...tenOClock.data, pm2_5: 44, reason: '复核' } }]);
  });

  it('refuses to correct an hour never observed, pointing to recording it', () => {
    given(stationDecider, [registered, tenOClock])
      .when(correct({ hour: '2026-03-01T09:00:00+08:00' }))
      .thenThrows(NotFoundError, /no observation for the hour ending 2026-03-01T01:00:00.000Z to correct; record it/);
  });

  it('refuses a correction without a reason or with implausible values', () => {
    given(stationDecider, [registered, tenOClock]).when(correct({ reason: '  ' })).thenThrows(ValidationError, /reason must not be empty/);
    given(stationDecider, [registered, tenOClock]).when(correct({ so2: -3 })).thenThrows(ValidationError, /so2 must be/);
  });
});

describe('station: state', () => {
  it('keeps the observed hours, and folding does not change an earlier state', () => {
    const { state } = given(stationDecider, [registered, tenOClock]);
    const later = stationDecider.evolve(state, observed('2026-03-01T03:00:00.000Z'));
    assert.ok(state.status === 'REGISTERED' && later.status === 'REGISTERED');
    assert.equal(state.observedHours.has('2026-03-01T03:00:00.000Z'), false);
    assert.equal(later.observedHours.has('2026-03-01T03:00:00.000Z'), true);
    assert.equal(later.observedHours.has('2026-03-01T02:00:00.000Z'), true);
  });
});

describe('station: ObservedHours', () => {
  it('is immutable to its holders: extending an older version does not leak into a newer one', () => {
    const base = ObservedHours.empty().with('a').with('b');
    const newer = base.with('c');
    const branch = base.with('d');
    assert.deepEqual(['a', 'b', 'c', 'd'].map((h) => newer.has(h)), [true, true, true, false]);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((h) => branch.has(h)), [true, true, false, true]);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((h) => base.has(h)), [true, true, false, false]);
    assert.equal(newer.with('e').has('d'), false);
  });

  it('does not count an hour twice', () => {
    const hours = ObservedHours.empty().with('a');
    assert.equal(hours.with('a'), hours);
    assert.equal(hours.with('a').size, 1);
  });

  it('folds a year of hourly observations quickly', () => {
    const events: StationEvent[] = [registered];
    const start = Date.parse('2025-01-01T00:00:00Z');
    for (let h = 1; h <= 8760; h++) events.push(observed(new Date(start + h * 3_600_000).toISOString()));
    const started = performance.now();
    const { state } = given(stationDecider, events);
    assert.ok(performance.now() - started < 1000);
    assert.ok(state.status === 'REGISTERED' && state.observedHours.size === 8760);
  });
});

describe('station: event definitions', () => {
  const registry = new EventRegistry().registerAll(stationEventDefinitions);

  it('accept every event the decider emits', () => {
    // Each command after the events that let it through.
    const decisions: [StationCommand, StationEvent[]][] = [[register(), []], [record(), [registered]], [correct(), [registered, tenOClock]]];
    assertAcceptedAsEmitted(registry, decisions.flatMap(([command, past]) => stationDecider.decide(command, given(stationDecider, past).state)));
  });

  it('refuse an hour off the hour, a negative value and an observation without values', () => {
    assert.throws(
      () => registry.validateForAppend('AirQualityObserved', { ...tenOClock.data, hour: '2026-03-01T02:30:00.000Z' }, testMetadata),
      /hour/,
    );
    assert.throws(
      () => registry.validateForAppend('AirQualityObserved', { ...tenOClock.data, hour: '2026-03-01T10:00:00+08:00' }, testMetadata),
      /canonical UTC instant/,
    );
    assert.throws(() => registry.validateForAppend('AirQualityObserved', { ...tenOClock.data, co: -1 }, testMetadata), /co/);
    const empty = { stationId: 'st-1', hour: '2026-03-01T02:00:00.000Z', pm2_5: null, pm10: null, so2: null, no2: null, co: null, o3: null };
    assert.throws(() => registry.validateForAppend('AirQualityObserved', empty, testMetadata), /at least one pollutant/);
  });
});
