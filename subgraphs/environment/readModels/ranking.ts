/**
 * `environment.air-ranking`: the districts' daily AQI and their ranking (空气质量排名) per day.
 *
 * A district's air is assessed from its assessment stations (国控/省控, national and provincial);
 * micro stations (微型站) serve fine-grained sensing and do not enter the assessment. As HJ 663-2013
 * assesses a city from the mean of its stations, a district's hourly concentration is the mean of its
 * stations' values that hour; its daily statistics and AQI follow from that hourly series exactly as
 * a station's do. Districts are ranked by daily AQI, best first; equal AQIs share a rank (1, 2, 2, 4);
 * a district whose daily AQI is NA is listed unranked.
 */
import type { RecordedEvent } from '../../../events/types.ts';
import type { DocumentStore, FieldSource, Projection } from '../../../projections/types.ts';
import { CONCENTRATION_FIELD, dailyAqi, POLLUTANTS, type Concentrations, type DailyConcentrations } from '../aqi/hj633.ts';
import { dailyAverages, type HourlyConcentrations } from '../aqi/hj663.ts';
import { districtOf } from '../shared/divisions.ts';
import { reportingDate } from '../shared/time.ts';
import type { AirQualityObserved, MonitoringStationRegistered } from '../station/events.ts';
import { aqiFields, type AqiFields } from './aqiFields.ts';
import { concentrationsOf } from './airQuality.ts';

export const RANKING_PROJECTION = 'environment.air-ranking';
const STATIONS = 'stations';
const DISTRICT_HOURS = 'districtHours';
export const DISTRICT_DAYS = 'districtDays';
export const RANKINGS = 'rankings';

interface AssessmentStation extends Record<string, unknown> {
  districtCode: string;
}

interface DistrictHourDoc extends Record<string, unknown> {
  districtCode: string;
  hour: string;
  /** Each assessment station's values that hour, by station id. */
  stations: Record<string, Concentrations>;
}

export interface DistrictDayDoc extends Record<string, unknown>, DailyConcentrations, AqiFields {
  districtCode: string;
  date: string;
  /** Hours of the day with at least one station's values. */
  hoursObserved: number;
  /** The district's mean concentrations of each of those hours. */
  hourly: Record<string, Concentrations>;
}

export interface RankedDistrict extends AqiFields {
  districtCode: string;
  /** 1 = the cleanest air; null when the district's daily AQI is NA. */
  rank: number | null;
}

export interface RankingDoc extends Record<string, unknown> {
  date: string;
  /** Ranked districts best first, then the unranked ones by code. */
  districts: RankedDistrict[];
}

const districtHourId = (districtCode: string, hour: string) => `${districtCode}|${hour}`;
export const districtDayId = (districtCode: string, date: string) => `${districtCode}|${date}`;

/** The mean of each pollutant over the stations that measured it; null where none did. */
export function meanConcentrations(values: readonly Concentrations[]): Concentrations {
  const mean = {} as Concentrations;
  for (const pollutant of POLLUTANTS) {
    const field = CONCENTRATION_FIELD[pollutant];
    const measured = values.flatMap((v) => (v[field] === null ? [] : [v[field]]));
    mean[field] = measured.length ? measured.reduce((sum, v) => sum + v, 0) / measured.length : null;
  }
  return mean;
}

/** Best first; competition ranking on ties (ordered by code among equals); NA last, unranked. */
export function rankDistricts(entries: readonly Omit<RankedDistrict, 'rank'>[]): RankedDistrict[] {
  const sorted = [...entries].sort((a, b) => {
    if (a.aqi === null || b.aqi === null) return a.aqi === b.aqi ? a.districtCode.localeCompare(b.districtCode) : a.aqi === null ? 1 : -1;
    return a.aqi - b.aqi || a.districtCode.localeCompare(b.districtCode);
  });
  let previous: { aqi: number; rank: number } | undefined;
  return sorted.map((entry, i) => {
    if (entry.aqi === null) return { ...entry, rank: null };
    const rank = previous && previous.aqi === entry.aqi ? previous.rank : i + 1;
    previous = { aqi: entry.aqi, rank };
    return { ...entry, rank };
  });
}

async function applyObservation(event: RecordedEvent<string, AirQualityObserved['data']>, store: DocumentStore, source: FieldSource): Promise<void> {
  const { data } = event;
  const station = (await store.collection<AssessmentStation>(STATIONS).get(data.stationId))?.doc;
  if (!station) return;
  const { districtCode } = station;
  const districtHours = store.collection<DistrictHourDoc>(DISTRICT_HOURS);
  const hourId = districtHourId(districtCode, data.hour);
  const current = (await districtHours.get(hourId))?.doc;
  const stations = { ...current?.stations, [data.stationId]: concentrationsOf(data) };
  await districtHours.upsert(hourId, { districtCode, hour: data.hour, stations }, source);

  // The day document keeps the district's hourly means, so a new hour reads one document, not 24.
  const date = reportingDate(Date.parse(data.hour));
  const districtDays = store.collection<DistrictDayDoc>(DISTRICT_DAYS);
  const dayId = districtDayId(districtCode, date);
  const hourly = { ...(await districtDays.get(dayId))?.doc.hourly, [data.hour]: meanConcentrations(Object.values(stations)) };
  const series: HourlyConcentrations[] = Object.entries(hourly).map(([hour, mean]) => ({ hour, ...mean }));
  const averages = dailyAverages(date, series);
  const day: DistrictDayDoc = { districtCode, date, hoursObserved: series.length, hourly, ...averages, ...aqiFields(dailyAqi(averages)) };
  await districtDays.upsert(dayId, day, source);

  const rankings = store.collection<RankingDoc>(RANKINGS);
  const ranking = (await rankings.get(date))?.doc;
  const entry: Omit<RankedDistrict, 'rank'> = { districtCode, ...pickAqi(day) };
  const others = (ranking?.districts ?? []).filter((d) => d.districtCode !== districtCode).map(({ rank: _rank, ...d }) => d);
  await rankings.upsert(date, { date, districts: rankDistricts([...others, entry]) }, source);
}

function pickAqi(fields: AqiFields): AqiFields {
  const { aqi, level, levelName, levelNameEn, colour, primaryPollutants, exceedingPollutants, iaqi } = fields;
  return { aqi, level, levelName, levelNameEn, colour, primaryPollutants, exceedingPollutants, iaqi };
}

export const rankingProjection: Projection = {
  name: RANKING_PROJECTION,
  version: 1,
  eventTypes: ['MonitoringStationRegistered', 'AirQualityObserved', 'AirQualityObservationCorrected'],
  indexes: [{ collection: DISTRICT_DAYS, fields: ['districtCode', 'date'] }],
  async apply(event, store) {
    const source = { position: event.position, eventId: event.eventId };
    if (event.type === 'MonitoringStationRegistered') {
      const data = event.data as MonitoringStationRegistered['data'];
      const districtCode = districtOf(data.divisionCode);
      if (data.kind === 'MICRO' || districtCode === null) return;
      await store.collection<AssessmentStation>(STATIONS).upsert(data.stationId, { districtCode }, source);
      return;
    }
    await applyObservation(event as RecordedEvent<string, AirQualityObserved['data']>, store, source);
  },
};
