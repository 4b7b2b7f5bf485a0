/**
 * `environment.air-quality`: each station with its latest reading, and per station-day its daily
 * report (日报) together with the real-time report (实时报) of each of its hours, computed by HJ 633-2012
 * from the statistics of HJ 663-2013. Corrections are applied where they land: the hour itself, the
 * real-time AQI of the 23 hours after it (whose PM 24-hour moving averages include it), and its day.
 *
 * One document per station-day holds the day's 24 hours, one array per field indexed by slot (slot 0
 * is the hour ending 01:00 China time, slot 23 the one ending at 24:00): an observation reads the day
 * and the day before (which the first hours' moving averages reach into) and writes the day, instead
 * of reading 23 hour documents and writing one per hour. The moving averages are computed over the
 * stored hours by position (no hour labels parsed); each hour keeps its values, its moving averages
 * and its AQI, and its other report fields follow from them (`hourDocFromDay`).
 */
import type { AirQualityObservationCorrected, AirQualityObserved, MonitoringStationRegistered, StationKind } from '../station/events.ts';
import { collectionName, sourceOf, type Projection, type DocumentStore, type FieldSource } from '../../../projections/types.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import { dailyAqi, hourlyAqi, type AqiReport, type Concentration, type Concentrations, type DailyConcentrations } from '../aqi/hj633.ts';
import { dailyStatistics, realTimeIndicators, realTimeIndicatorsAt, reportingDate, type HourlyConcentrations } from '../aqi/hj663.ts';
import { districtOf } from '../shared/divisions.ts';
import { CHINA_OFFSET_MS, DAY_MS, HOUR_MS } from '../../kit/calendar.ts';
import { aqiFields, type AqiFields } from './aqiFields.ts';

export const AIR_QUALITY_PROJECTION = 'environment.air-quality';

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

export const STATIONS = collectionName<StationDoc>('stations');

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

/**
 * A station-day's 24 hours by slot (index k: the hour ending (k + 1):00 China time, 23: the next
 * day's 00:00), one array per field: the 1-hour values, the 24-hour moving averages ending with the
 * hour, the hour's real-time AQI, and the reason of its latest correction.
 */
export interface DayHours {
  observed: boolean[];
  pm2_5: Concentration[];
  pm10: Concentration[];
  so2: Concentration[];
  no2: Concentration[];
  co: Concentration[];
  o3: Concentration[];
  pm10_24h: Concentration[];
  pm2_5_24h: Concentration[];
  so2_24h: Concentration[];
  aqi: (number | null)[];
  correctionReason: (string | null)[];
}

const HOUR_FIELDS = ['observed', 'pm2_5', 'pm10', 'so2', 'no2', 'co', 'o3', 'pm10_24h', 'pm2_5_24h', 'so2_24h', 'aqi', 'correctionReason'] as const;

export interface DayDoc extends Record<string, unknown>, DailyConcentrations, AqiFields {
  stationId: string;
  date: string;
  hoursObserved: number;
  /** The highest real-time AQI of the day's hours; null when none has one. */
  peakHourAqi: number | null;
  hours: DayHours;
}

export const DAYS = collectionName<DayDoc>('days');

export const dayDocId = (stationId: string, date: string): string => `${stationId}|${date}`;

export function concentrationsOf(values: Concentrations): Concentrations {
  const { pm2_5, pm10, so2, no2, co, o3 } = values;
  return { pm2_5, pm10, so2, no2, co, o3 };
}

/** Where an hour (the instant it ends, ms) lies: its reporting day and its slot in that day. */
export function daySlotOf(hourMs: number): { date: string; dayStartMs: number; slot: number } {
  // Shifted so that the reporting day's first hour (ending 01:00 China time) starts a UTC day.
  const shifted = hourMs - HOUR_MS + CHINA_OFFSET_MS;
  const dayStartMs = Math.floor(shifted / DAY_MS) * DAY_MS;
  return { date: new Date(dayStartMs).toISOString().slice(0, 10), dayStartMs, slot: (shifted - dayStartMs) / HOUR_MS };
}

/** The instant (ms) ending slot `slot` of the reporting day `date`. */
export const hourMsOfSlot = (date: string, slot: number): number => Date.parse(`${date}T00:00:00Z`) + (slot + 1) * HOUR_MS - CHINA_OFFSET_MS;

/** The canonical instant ending slot `slot` of the reporting day `date`. */
export const hourOfSlot = (date: string, slot: number): string => new Date(hourMsOfSlot(date, slot)).toISOString();

/** The real-time report of slot `i` of `hours` (a day's, or a run of days'), with its AQI report if computed already. */
function hourDocAt(stationId: string, date: string, slot: number, hours: DayHours, i: number, report = hourlyAqi(indicatorsAt(hours, i))): HourDoc {
  const correctionReason = hours.correctionReason[i] ?? null;
  return {
    stationId,
    hour: hourOfSlot(date, slot),
    date,
    pm2_5: hours.pm2_5[i] ?? null,
    pm10: hours.pm10[i] ?? null,
    ...indicatorsAt(hours, i),
    ...aqiFields(report),
    corrected: correctionReason !== null,
    correctionReason,
  };
}

/** The real-time report's inputs of a stored hour (its 1-hour values and stored moving averages). */
function indicatorsAt(hours: DayHours, i: number) {
  return {
    so2: hours.so2[i] ?? null,
    no2: hours.no2[i] ?? null,
    co: hours.co[i] ?? null,
    o3: hours.o3[i] ?? null,
    pm10_24h: hours.pm10_24h[i] ?? null,
    pm2_5_24h: hours.pm2_5_24h[i] ?? null,
    so2_24h: hours.so2_24h[i] ?? null,
  };
}

/** The real-time report of one stored hour, in the shape `latest` and `hourly` serve. */
export function hourDocFromDay(stationId: string, day: Pick<DayDoc, 'date' | 'hours'>, slot: number): HourDoc {
  return hourDocAt(stationId, day.date, slot, day.hours, slot);
}

/**
 * The real-time report of `hour` from a station's series around it (which holds the hour's values);
 * `correctionReason` is that of the hour's latest correction, null when it was never corrected.
 * (For `asOf`, folded from the streams; the projection computes the same from its documents.)
 */
export function hourDocOf(
  stationId: string,
  hour: string,
  series: readonly HourlyConcentrations[],
  correctionReason: string | null,
): HourDoc {
  const own = series.find((h) => h.hour === hour);
  if (!own) throw new Error(`hourDocOf: the series has no values for ${hour}`);
  const indicators = realTimeIndicators(hour, series);
  return {
    stationId,
    hour,
    date: reportingDate(Date.parse(hour)),
    ...concentrationsOf(own),
    pm10_24h: indicators.pm10_24h,
    pm2_5_24h: indicators.pm2_5_24h,
    so2_24h: indicators.so2_24h,
    ...aqiFields(hourlyAqi(indicators)),
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

const NO_VALUES: readonly null[] = Array.from({ length: 24 }, () => null);
const NOT_OBSERVED: readonly boolean[] = Array.from({ length: 24 }, () => false);

function emptyHours(): DayHours {
  return {
    observed: NOT_OBSERVED.slice(),
    pm2_5: NO_VALUES.slice(),
    pm10: NO_VALUES.slice(),
    so2: NO_VALUES.slice(),
    no2: NO_VALUES.slice(),
    co: NO_VALUES.slice(),
    o3: NO_VALUES.slice(),
    pm10_24h: NO_VALUES.slice(),
    pm2_5_24h: NO_VALUES.slice(),
    so2_24h: NO_VALUES.slice(),
    aqi: NO_VALUES.slice(),
    correctionReason: NO_VALUES.slice(),
  };
}

/** Consecutive days' hours as one run (column by column). */
function joined(first: DayHours, ...more: DayHours[]): DayHours {
  const run = {} as Record<(typeof HOUR_FIELDS)[number], unknown[]>;
  for (const field of HOUR_FIELDS) run[field] = (first[field] as unknown[]).concat(...more.map((d) => d[field]));
  // Built column by column over HOUR_FIELDS, which are exactly DayHours' columns.
  return run as unknown as DayHours;
}

/** The 24 hours of a run from index `from`. */
function dayOf(run: DayHours, from: number): DayHours {
  const day = {} as Record<(typeof HOUR_FIELDS)[number], unknown[]>;
  for (const field of HOUR_FIELDS) day[field] = run[field].slice(from, from + 24);
  // Built column by column over HOUR_FIELDS, which are exactly DayHours' columns.
  return day as unknown as DayHours;
}

/** The day's document with its daily report from its hours as they now are. */
function dayDocOf(stationId: string, date: string, hours: DayHours): DayDoc {
  const averages = dailyStatistics(hours);
  let hoursObserved = 0;
  let peakHourAqi: number | null = null;
  for (let i = 0; i < 24; i++) {
    if (!hours.observed[i]) continue;
    hoursObserved++;
    const aqi = hours.aqi[i] ?? null;
    if (aqi !== null && (peakHourAqi === null || aqi > peakHourAqi)) peakHourAqi = aqi;
  }
  return { stationId, date, hoursObserved, ...averages, ...aqiFields(dailyAqi(averages)), peakHourAqi, hours };
}

/** Computes the moving averages and the real-time AQI of `run[i]` over it and the 23 hours before it; returns the AQI report. */
function computeRealTime(run: DayHours, i: number): AqiReport | undefined {
  const indicators = realTimeIndicatorsAt(run, i);
  run.pm10_24h[i] = indicators.pm10_24h;
  run.pm2_5_24h[i] = indicators.pm2_5_24h;
  run.so2_24h[i] = indicators.so2_24h;
  const report = hourlyAqi(indicators);
  run.aqi[i] = report?.aqi ?? null;
  return report;
}

async function applyObservation(
  event: RecordedEvent<string, AirQualityObserved['data'] | AirQualityObservationCorrected['data']>,
  store: DocumentStore,
  source: FieldSource,
): Promise<void> {
  const { data } = event;
  const stations = store.collection(STATIONS);
  const days = store.collection(DAYS);
  const station = (await stations.get(data.stationId))?.doc;
  // Stored hours are canonical UTC instants (the event schema refuses any other spelling).
  const hourMs = Date.parse(data.hour);
  const { date, dayStartMs, slot } = daySlotOf(hourMs);
  const dateBefore = new Date(dayStartMs - DAY_MS).toISOString().slice(0, 10);
  const dateAfter = new Date(dayStartMs + DAY_MS).toISOString().slice(0, 10);
  const latestMs = station?.latestHour ? Date.parse(station.latestHour) : Number.NEGATIVE_INFINITY;
  // A new hour after every stored one changes nothing after it: the usual case reads only the day before.
  const laterHoursMayExist = event.type === 'AirQualityObservationCorrected' || hourMs < latestMs;
  // Days after the latest hour's day hold nothing yet: the first hours of a new day read no document.
  const latestDate = station ? (station.latestHour ? daySlotOf(latestMs).date : '') : undefined;
  const stored = async (day: string) =>
    latestDate !== undefined && day > latestDate ? undefined : (await days.get(dayDocId(data.stationId, day)))?.doc.hours;
  // The day before (the first 23 hours' moving averages reach into it, the last hour's does not),
  // the day, and the day after when later hours may exist, as one run of hours.
  const before = (slot < 23 ? await stored(dateBefore) : undefined) ?? emptyHours();
  const day = (await stored(date)) ?? emptyHours();
  const run = laterHoursMayExist ? joined(before, day, (await stored(dateAfter)) ?? emptyHours()) : joined(before, day);
  const at = 24 + slot;
  run.observed[at] = true;
  run.pm2_5[at] = data.pm2_5;
  run.pm10[at] = data.pm10;
  run.so2[at] = data.so2;
  run.no2[at] = data.no2;
  run.co[at] = data.co;
  run.o3[at] = data.o3;
  run.correctionReason[at] = 'reason' in data ? data.reason : null;
  const report = computeRealTime(run, at);
  const recomputed = [at];
  if (laterHoursMayExist) {
    for (let i = at + 1; i <= at + 23; i++) {
      if (!run.observed[i]) continue;
      computeRealTime(run, i);
      recomputed.push(i);
    }
  }

  await days.upsert(dayDocId(data.stationId, date), dayDocOf(data.stationId, date, dayOf(run, 24)), source);
  if (recomputed.some((i) => i >= 48)) {
    await days.upsert(dayDocId(data.stationId, dateAfter), dayDocOf(data.stationId, dateAfter, dayOf(run, 48)), source);
  }

  if (!station) return;
  const docAt = (i: number): HourDoc => (i < 48 ? hourDocAt(data.stationId, date, i - 24, run, i) : hourDocAt(data.stationId, dateAfter, i - 48, run, i));
  if (hourMs >= latestMs) {
    await stations.patch(data.stationId, { latestHour: data.hour, latest: hourDocAt(data.stationId, date, slot, run, at, report) }, source);
  } else if (station.latestHour) {
    const latestAt = at + (Date.parse(station.latestHour) - hourMs) / HOUR_MS;
    if (recomputed.includes(latestAt)) await stations.patch(data.stationId, { latest: docAt(latestAt) }, source);
  }
}

export const airQualityProjection: Projection = {
  name: AIR_QUALITY_PROJECTION,
  // 2: one document per station-day holding its hours (instead of one per station-hour).
  version: 2,
  eventTypes: ['MonitoringStationRegistered', 'AirQualityObserved', 'AirQualityObservationCorrected'],
  indexes: [
    { collection: STATIONS, fields: ['districtCode', 'kind'] },
    { collection: STATIONS, fields: ['divisionCode'] },
    { collection: STATIONS, fields: ['kind'] },
    { collection: DAYS, fields: ['stationId', 'date'] },
  ],
  async apply(event, store) {
    const source = sourceOf(event);
    if (event.type === 'MonitoringStationRegistered') {
      const data = event.data as MonitoringStationRegistered['data'];
      await store.collection(STATIONS).upsert(data.stationId, stationDoc(data, event.recordedAt), source);
      return;
    }
    await applyObservation(event as RecordedEvent<string, AirQualityObserved['data']>, store, source);
  },
};
