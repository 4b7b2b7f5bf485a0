/**
 * `airQualityAlert(divisionCode)`: every hourly observation (or correction) of a station in the
 * division whose real-time AQI is above the level, pushed live from the moment of subscribing.
 *
 * It follows the event store, not a read model, so an alert never waits for a projection: the AQI
 * is computed from the station's observation streams as they stood at the event's position (the
 * hour and the 23 before it, which at most span the reporting day and the one before).
 */
import { ValidationError } from '../../events/errors.ts';
import type { EventStore, RecordedEvent } from '../../events/types.ts';
import { assertDivision, isWithin } from '../kit/divisions/catalog.ts';
import { hourlyAqi, type AqiReport } from './aqi/hj633.ts';
import { realTimeIndicators, reportingDate, type HourlyConcentrations } from './aqi/hj663.ts';
import { concentrationsOf } from './readModels/airQuality.ts';
import { aqiHeadline, type AqiHeadline } from './readModels/aqiFields.ts';
import { addDays } from '../kit/calendar.ts';
import {
  AIR_QUALITY_STREAM_PREFIX,
  airQualityStreamId,
  stationStreamId,
  type AirQualityObserved,
  type MonitoringStationRegistered,
  type StationKind,
} from './station/events.ts';

export interface AirQualityAlert extends AqiHeadline {
  stationId: string;
  stationName: string;
  stationKind: StationKind;
  divisionCode: string;
  hour: string;
  /** True when a correction put the hour above the level. */
  corrected: boolean;
  /** The event's position in the log. */
  position: string;
}

export interface AlertOptions {
  divisionCode: string;
  /** Alerts are for an AQI strictly above this. */
  above: number;
}

export const ALERT_EVENT_TYPES = ['AirQualityObserved', 'AirQualityObservationCorrected'] as const;

/** The station's registration, or undefined if the stream is empty (it never is for a recorded hour). */
async function registrationOf(store: EventStore, stationId: string): Promise<MonitoringStationRegistered['data'] | undefined> {
  const [registered] = await store.readStream(stationStreamId(stationId), { limit: 1 });
  return registered?.data as MonitoringStationRegistered['data'] | undefined;
}

/** The hour's real-time AQI from the station's observations up to and including the event. */
async function realTimeAqiAt(store: EventStore, event: RecordedEvent<string, AirQualityObserved['data']>): Promise<AqiReport | undefined> {
  const { stationId, hour } = event.data;
  const date = reportingDate(Date.parse(hour));
  const values = new Map<string, HourlyConcentrations>();
  for (const day of [addDays(date, -1), date]) {
    // Stream order: a correction comes after the observation it replaces.
    for (const recorded of await store.readStream(airQualityStreamId(stationId, day), { toPosition: event.position })) {
      const data = recorded.data as AirQualityObserved['data'];
      values.set(data.hour, { hour: data.hour, ...concentrationsOf(data) });
    }
  }
  return hourlyAqi(realTimeIndicators(hour, [...values.values()]));
}

export function checkedAlertOptions(divisionCode: string, above: number): AlertOptions {
  assertDivision(divisionCode);
  if (!Number.isInteger(above) || above < 0 || above > 500) {
    throw new ValidationError(`above must be a whole AQI from 0 to 500, got ${above}`, { field: 'above' });
  }
  return { divisionCode, above };
}

/**
 * The alerts as an async iterator for a GraphQL subscription. Ending the iteration (the client
 * unsubscribes or disconnects) closes the store subscription at once, even while it waits.
 */
export async function airQualityAlerts(store: EventStore, options: AlertOptions): Promise<AsyncIterableIterator<AirQualityAlert>> {
  const subscription = store.subscribe({
    // From now: nothing committed before the subscription began, even while readers lag behind it.
    fromPosition: await store.committedHead(),
    filter: { types: ALERT_EVENT_TYPES, streamPrefixes: [AIR_QUALITY_STREAM_PREFIX] },
  });
  const events = subscription[Symbol.asyncIterator]();
  const stations = new Map<string, MonitoringStationRegistered['data'] | undefined>();

  async function alertFor(event: RecordedEvent): Promise<AirQualityAlert | undefined> {
    const observed = event as RecordedEvent<string, AirQualityObserved['data']>;
    const { stationId } = observed.data;
    if (!stations.has(stationId)) stations.set(stationId, await registrationOf(store, stationId));
    const station = stations.get(stationId);
    if (!station || !isWithin(station.divisionCode, options.divisionCode)) return undefined;
    const report = await realTimeAqiAt(store, observed);
    if (!report || report.aqi <= options.above) return undefined;
    return {
      stationId,
      stationName: station.name,
      stationKind: station.kind,
      divisionCode: station.divisionCode,
      hour: observed.data.hour,
      ...aqiHeadline(report),
      corrected: event.type === 'AirQualityObservationCorrected',
      position: event.position,
    };
  }

  const iterator: AsyncIterableIterator<AirQualityAlert> = {
    async next() {
      for (;;) {
        const next = await events.next();
        if (next.done) return { done: true, value: undefined };
        const alert = await alertFor(next.value);
        if (alert) return { done: false, value: alert };
      }
    },
    async return() {
      await subscription.close();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
