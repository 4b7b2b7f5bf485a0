/**
 * `environment.air-quality`: each station with its latest reading, and per station its hourly
 * (real-time report, 实时报) and daily (日报) series, computed by HJ 633-2012 from the statistics of
 * HJ 663-2013. Corrections are applied where they land: the hour itself, the real-time AQI of the
 * 23 hours after it (whose PM 24-hour moving averages include it), and its day.
 */
import type { AirQualityObservationCorrected, AirQualityObserved, MonitoringStationRegistered, StationKind } from '../station/events.ts';
import type { Projection, DocumentStore, FieldSource } from '../../../projections/types.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import { dailyAqi, hourlyAqi, type Concentrations, type DailyConcentrations } from '../aqi/hj633.ts';
import { dailyAverages, realTimeIndicators, type HourlyConcentrations } from '../aqi/hj663.ts';
import { districtOf } from '../shared/divisions.ts';
import { canonicalInstant, chinaMidnight, HOUR_MS, reportingDate } from '../shared/time.ts';
import { aqiFields, type AqiFields } from './aqiFields.ts';

export const AIR_QUALITY_PROJECTION = 'environment.air-quality';
export const STATIONS = 'stations';
export const HOURS = 'hours';
export const DAYS = 'days';

export interface StationDoc extends Record<string, unknown> {
  stationId: string;
  code: string;
  name: string;
  kind: StationKind;
  longitude: number;
  latitude: number;
  divisionCode: string;
  /** The district (区县) the station stands in. */
  districtCode: string | null;
  registeredAt: string;
  /** The newest hour observed, and its reading. */
  latestHour: string | null;
  latest: HourDoc | null;
}

/** One station-hour of the real-time report. `hour` is the canonical instant the hour ends. */
export interface HourDoc extends Record<string, unknown>, Concentrations, AqiFields {
  stationId: string;
  hour: string;
  /** The reporting day the hour belongs to. */
  date: string;
  /** 24-hour moving averages ending with the hour (what the real-time PM and high-SO2 IAQIs use). */
  pm10_24h: number | null;
  pm2_5_24h: number | null;
  so2_24h: number | null;
  corrected: boolean;
  correctionReason: string | null;
}

export interface DayDoc extends Record<string, unknown>, DailyConcentrations, AqiFields {
  stationId: string;
  date: string;
  hoursObserved: number;
}

export const hourDocId = (stationId: string, hour: string): string => `${stationId}|${hour}`;
export const dayDocId = (stationId: string, date: string): string => `${stationId}|${date}`;

export function concentrationsOf(values: Concentrations): Concentrations {
  const { pm2_5, pm10, so2, no2, co, o3 } = values;
  return { pm2_5, pm10, so2, no2, co, o3 };
}

/** The hourly fields that depend on other hours (moving averages and the AQI), from a series around `hour`. */
function realTimeFields(hour: string, series: readonly HourlyConcentrations[]) {
  const indicators = realTimeIndicators(hour, series);
  return {
    pm10_24h: indicators.pm10_24h,
    pm2_5_24h: indicators.pm2_5_24h,
    so2_24h: indicators.so2_24h,
    ...aqiFields(hourlyAqi(indicators)),
  };
}

/**
 * The real-time report of `hour` from a station's series around it (which holds the hour's values);
 * `correctionReason` is that of the hour's latest correction, null when it was never corrected.
 */
export function hourDocOf(
  stationId: string,
  hour: string,
  series: readonly HourlyConcentrations[],
  correctionReason: string | null,
): HourDoc {
  const own = series.find((h) => h.hour === hour);
  if (!own) throw new Error(`hourDocOf: the series has no values for ${hour}`);
  return {
    stationId,
    hour,
    date: reportingDate(Date.parse(hour)),
    ...concentrationsOf(own),
    ...realTimeFields(hour, series),
    corrected: correctionReason !== null,
    correctionReason,
  };
}

export function stationDoc(data: MonitoringStationRegistered['data'], registeredAt: string): StationDoc {
  return {
    stationId: data.stationId,
    code: data.code,
    name: data.name,
    kind: data.kind,
    longitude: data.location.longitude,
    latitude: data.location.latitude,
    divisionCode: data.divisionCode,
    districtCode: districtOf(data.divisionCode),
    registeredAt,
    latestHour: null,
    latest: null,
  };
}

const hoursFrom = (startMs: number, count: number): number[] => Array.from({ length: count }, (_, k) => startMs + k * HOUR_MS);

async function applyObservation(
  event: RecordedEvent<string, AirQualityObserved['data'] | AirQualityObservationCorrected['data']>,
  store: DocumentStore,
  source: FieldSource,
): Promise<void> {
  const { data } = event;
  const stations = store.collection<StationDoc>(STATIONS);
  const hours = store.collection<HourDoc>(HOURS);
  const station = (await stations.get(data.stationId))?.doc;
  const hourMs = Date.parse(data.hour);
  const latestMs = station?.latestHour ? Date.parse(station.latestHour) : Number.NEGATIVE_INFINITY;
  // A new hour after every stored one changes nothing after it: the usual case reads only the day before.
  const laterHoursMayExist = event.type === 'AirQualityObservationCorrected' || hourMs < latestMs;
  const earlier = hoursFrom(hourMs - 23 * HOUR_MS, 23);
  const later = laterHoursMayExist ? hoursFrom(hourMs + HOUR_MS, 23) : [];
  const stored = await hours.getMany([...earlier, ...later].map((ms) => hourDocId(data.stationId, canonicalInstant(ms))));
  const present = stored.flatMap((s) => (s ? [s.doc] : []));
  const series: HourlyConcentrations[] = [
    ...present.map((d) => ({ hour: d.hour, ...concentrationsOf(d) })),
    { hour: data.hour, ...concentrationsOf(data) },
  ];

  const hourDoc = hourDocOf(data.stationId, data.hour, series, 'reason' in data ? data.reason : null);
  await hours.upsert(hourDocId(data.stationId, data.hour), hourDoc, source);
  const recomputed = new Map<string, HourDoc>([[data.hour, hourDoc]]);
  for (const later of present.filter((d) => Date.parse(d.hour) > hourMs)) {
    const fields = realTimeFields(later.hour, series);
    recomputed.set(later.hour, { ...later, ...fields });
    await hours.patch(hourDocId(data.stationId, later.hour), fields, source);
  }

  const date = reportingDate(hourMs);
  const midnight = chinaMidnight(date);
  const hoursObserved = series.filter((h) => {
    const ms = Date.parse(h.hour);
    return ms > midnight && ms <= midnight + 24 * HOUR_MS;
  }).length;
  const averages = dailyAverages(date, series);
  const dayDoc: DayDoc = { stationId: data.stationId, date, hoursObserved, ...averages, ...aqiFields(dailyAqi(averages)) };
  await store.collection<DayDoc>(DAYS).upsert(dayDocId(data.stationId, date), dayDoc, source);

  if (!station) return;
  if (hourMs >= latestMs) {
    await stations.patch(data.stationId, { latestHour: data.hour, latest: hourDoc }, source);
  } else if (station.latestHour && recomputed.has(station.latestHour)) {
    await stations.patch(data.stationId, { latest: recomputed.get(station.latestHour) ?? null }, source);
  }
}

export const airQualityProjection: Projection = {
  name: AIR_QUALITY_PROJECTION,
  version: 1,
  eventTypes: ['MonitoringStationRegistered', 'AirQualityObserved', 'AirQualityObservationCorrected'],
  indexes: [
    { collection: STATIONS, fields: ['districtCode', 'kind'] },
    { collection: STATIONS, fields: ['divisionCode'] },
    { collection: STATIONS, fields: ['kind'] },
    { collection: HOURS, fields: ['stationId', 'hour'] },
    { collection: DAYS, fields: ['stationId', 'date'] },
  ],
  async apply(event, store) {
    const source = { position: event.position, eventId: event.eventId };
    if (event.type === 'MonitoringStationRegistered') {
      const data = event.data as MonitoringStationRegistered['data'];
      await store.collection<StationDoc>(STATIONS).upsert(data.stationId, stationDoc(data, event.recordedAt), source);
      return;
    }
    await applyObservation(event as RecordedEvent<string, AirQualityObserved['data']>, store, source);
  },
};
