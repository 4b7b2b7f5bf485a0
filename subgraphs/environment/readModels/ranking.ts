/**
 * `environment.air-ranking`: the districts' daily AQI and their ranking (空气质量排名) per day.
 *
 * A district's air is assessed from its assessment stations (国控/省控, national and provincial);
 * micro stations (微型站) serve fine-grained sensing and do not enter the assessment. As HJ 663-2013
 * assesses a city from the mean of its stations, a district's hourly concentration is the mean of its
 * stations' values that hour; its daily statistics and AQI follow from that hourly series exactly as
 * a station's do. Districts are ranked by daily AQI, best first; equal AQIs share a rank (1, 2, 2, 4);
 * a district whose daily AQI is NA is listed unranked.
 *
 * Cost per observation: the district-day document keeps, per hour, the running sum and count of
 * each pollutant over the stations that reported it (in the order they reported), so a new hour
 * of a station adds to one hour and recomputes the day from 24 means; the ranking document is
 * rewritten only when the district's daily AQI changed. Each station's own values are kept per
 * station-day (written without reading) for the rare correction, which recomputes its hour from them.
 */
import type { RecordedEvent } from '../../../events/types.ts';
import { sourceOf, type DocumentStore, type FieldSource, type Projection } from '../../../projections/types.ts';
import { CONCENTRATION_FIELD, dailyAqi, POLLUTANTS, type Concentration, type Concentrations, type DailyConcentrations } from '../aqi/hj633.ts';
import { dailyStatistics } from '../aqi/hj663.ts';
import { districtOf } from '../shared/divisions.ts';
import type { AirQualityObserved, MonitoringStationRegistered } from '../station/events.ts';
import { aqiFields, type AqiFields } from './aqiFields.ts';
import { concentrationsOf, daySlotOf } from './airQuality.ts';

export const RANKING_PROJECTION = 'environment.air-ranking';
const STATIONS = 'stations';
const DISTRICT_STATIONS = 'districtStations';
const STATION_DAYS = 'stationDays';
export const DISTRICT_DAYS = 'districtDays';
export const RANKINGS = 'rankings';

/** The pollutant fields in the order the sums and counts below keep them. */
const FIELDS = POLLUTANTS.map((p) => CONCENTRATION_FIELD[p]);

interface AssessmentStation extends Record<string, unknown> {
  districtCode: string;
}

/** A district's assessment stations, in the order they were registered. */
interface DistrictStationsDoc extends Record<string, unknown> {
  districtCode: string;
  stations: string[];
}

/** One assessment station's values of a day, one field per hour: `h01` … `h24` (the hour ending 01:00 … 24:00 China time). */
type StationDayDoc = Record<string, Concentrations>;

type Field = keyof Concentrations;

/**
 * A district-day's 24 hours by slot (index k: the hour ending (k + 1):00 China time): how many
 * assessment stations reported each hour and, per pollutant field, the sum and count of their values.
 */
export interface DistrictHours {
  stations: number[];
  sums: Record<Field, number[]>;
  counts: Record<Field, number[]>;
}

export interface DistrictDayDoc extends Record<string, unknown>, DailyConcentrations, AqiFields {
  districtCode: string;
  date: string;
  /** Hours of the day with at least one station's values. */
  hoursObserved: number;
  hours: DistrictHours;
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

export const districtDayId = (districtCode: string, date: string) => `${districtCode}|${date}`;
const stationDayId = (stationId: string, date: string) => `${stationId}|${date}`;
const hourField = (slot: number) => `h${String(slot + 1).padStart(2, '0')}`;

const zeros = (): number[] => Array.from({ length: 24 }, () => 0);
const perField = (column: () => number[]) => Object.fromEntries(FIELDS.map((f) => [f, column()])) as Record<Field, number[]>;
const emptyHours = (): DistrictHours => ({ stations: zeros(), sums: perField(zeros), counts: perField(zeros) });

/** Adds one station's values to hour `slot`: each measured pollutant to its sum and count. */
function add(hours: DistrictHours, slot: number, values: Concentrations): void {
  hours.stations[slot]!++;
  for (const field of FIELDS) {
    const value = values[field];
    if (value === null) continue;
    hours.sums[field][slot]! += value;
    hours.counts[field][slot]!++;
  }
}

/** Empties hour `slot`. */
function clear(hours: DistrictHours, slot: number): void {
  hours.stations[slot] = 0;
  for (const field of FIELDS) {
    hours.sums[field][slot] = 0;
    hours.counts[field][slot] = 0;
  }
}

/** The mean of each pollutant over the stations that measured it, hour by hour; null where none did. */
function means(hours: DistrictHours): Record<Field, Concentration[]> {
  const mean = {} as Record<Field, Concentration[]>;
  for (const field of FIELDS) {
    const sums = hours.sums[field];
    const counts = hours.counts[field];
    const column: Concentration[] = new Array<Concentration>(sums.length);
    for (let i = 0; i < sums.length; i++) column[i] = counts[i] ? sums[i]! / counts[i]! : null;
    mean[field] = column;
  }
  return mean;
}

/** The mean of each pollutant over the stations that measured it; null where none did. */
export function meanConcentrations(values: readonly Concentrations[]): Concentrations {
  const hours = emptyHours();
  for (const v of values) add(hours, 0, v);
  const mean = means(hours);
  // Object.fromEntries types its result as a string-keyed record; FIELDS are exactly Concentrations' keys.
  return Object.fromEntries(FIELDS.map((f) => [f, mean[f][0]])) as unknown as Concentrations;
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

function pickAqi(fields: AqiFields): AqiFields {
  const { aqi, level, levelName, levelNameEn, colour, primaryPollutants, exceedingPollutants, iaqi } = fields;
  return { aqi, level, levelName, levelNameEn, colour, primaryPollutants, exceedingPollutants, iaqi };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The same daily AQI (levels, names and colours follow from the AQI). */
function sameAqi(a: AqiFields, b: AqiFields): boolean {
  return (
    a.aqi === b.aqi &&
    sameList(a.primaryPollutants, b.primaryPollutants) &&
    sameList(a.exceedingPollutants, b.exceedingPollutants) &&
    POLLUTANTS.every((p) => a.iaqi[p] === b.iaqi[p])
  );
}

/** Hour `slot` of a district again from every assessment station's values of that hour (in station order), after a correction. */
async function recount(store: DocumentStore, hours: DistrictHours, districtCode: string, date: string, slot: number): Promise<void> {
  const district = (await store.collection<DistrictStationsDoc>(DISTRICT_STATIONS).get(districtCode))?.doc;
  const ids = [...(district?.stations ?? [])].sort();
  const days = await store.collection<StationDayDoc>(STATION_DAYS).getMany(ids.map((id) => stationDayId(id, date)));
  clear(hours, slot);
  for (const day of days) {
    const values = day?.doc[hourField(slot)];
    if (values) add(hours, slot, values);
  }
}

async function applyObservation(event: RecordedEvent<string, AirQualityObserved['data']>, store: DocumentStore, source: FieldSource): Promise<void> {
  const { data } = event;
  const station = (await store.collection<AssessmentStation>(STATIONS).get(data.stationId))?.doc;
  if (!station) return;
  const { districtCode } = station;
  const { date, slot } = daySlotOf(Date.parse(data.hour));
  const values = concentrationsOf(data);
  await store.collection<StationDayDoc>(STATION_DAYS).patch(stationDayId(data.stationId, date), { [hourField(slot)]: values }, source);

  const districtDays = store.collection<DistrictDayDoc>(DISTRICT_DAYS);
  const dayId = districtDayId(districtCode, date);
  const stored = (await districtDays.get(dayId))?.doc;
  const hours = stored?.hours ?? emptyHours();
  if (event.type === 'AirQualityObservationCorrected') await recount(store, hours, districtCode, date, slot);
  else add(hours, slot, values);
  const averages = dailyStatistics(means(hours));
  let hoursObserved = 0;
  for (const stations of hours.stations) if (stations > 0) hoursObserved++;
  const day: DistrictDayDoc = { districtCode, date, hoursObserved, ...averages, ...aqiFields(dailyAqi(averages)), hours };
  await districtDays.upsert(dayId, day, source);

  // The ranking changes only when the district's daily AQI does.
  if (stored && sameAqi(stored, day)) return;
  const rankings = store.collection<RankingDoc>(RANKINGS);
  const ranking = (await rankings.get(date))?.doc;
  const entry: Omit<RankedDistrict, 'rank'> = { districtCode, ...pickAqi(day) };
  const others = (ranking?.districts ?? []).filter((d) => d.districtCode !== districtCode).map(({ rank: _rank, ...d }) => d);
  await rankings.upsert(date, { date, districts: rankDistricts([...others, entry]) }, source);
}

export const rankingProjection: Projection = {
  name: RANKING_PROJECTION,
  // 2: a district-day keeps running sums per hour; station values per station-day, for corrections.
  version: 2,
  eventTypes: ['MonitoringStationRegistered', 'AirQualityObserved', 'AirQualityObservationCorrected'],
  indexes: [{ collection: DISTRICT_DAYS, fields: ['districtCode', 'date'] }],
  async apply(event, store) {
    const source = sourceOf(event);
    if (event.type === 'MonitoringStationRegistered') {
      const data = event.data as MonitoringStationRegistered['data'];
      const districtCode = districtOf(data.divisionCode);
      if (data.kind === 'MICRO' || districtCode === null) return;
      await store.collection<AssessmentStation>(STATIONS).upsert(data.stationId, { districtCode }, source);
      const districts = store.collection<DistrictStationsDoc>(DISTRICT_STATIONS);
      const stations = (await districts.get(districtCode))?.doc.stations ?? [];
      if (!stations.includes(data.stationId)) await districts.upsert(districtCode, { districtCode, stations: [...stations, data.stationId] }, source);
      return;
    }
    await applyObservation(event as RecordedEvent<string, AirQualityObserved['data']>, store, source);
  },
};
