/** What the monitoring network records about an air-quality monitoring station (空气质量监测站) over its life. */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import type { Concentrations } from '../aqi/hj633.ts';

/** 国控站 (national), 省控站 (provincial), 微型站 (micro station). */
export const STATION_KINDS = ['NATIONAL', 'PROVINCIAL', 'MICRO'] as const;
export type StationKind = (typeof STATION_KINDS)[number];

/** Degrees, WGS 84. */
export interface Location {
  longitude: number;
  latitude: number;
}

/**
 * The highest 1-hour value accepted for each pollutant (µg/m³; CO mg/m³). These are plausibility
 * bounds, not limits: well above the top of HJ 633-2012 Table 1 and above what dust storms and
 * winter haze in northern China have produced, so a value beyond one is almost always a unit
 * mistake (mg/m³ sent as µg/m³, or the reverse for CO) or an instrument fault.
 * PM10 allows dust-storm hours of several thousand µg/m³; PM2.5 the 1,000 µg/m³ range of common
 * beta-attenuation monitors; CO the top of Table 1's 1-hour column.
 */
export const PLAUSIBLE_MAXIMUM: Readonly<Record<keyof Concentrations, number>> = {
  pm2_5: 1000,
  pm10: 10000,
  so2: 10000,
  no2: 5000,
  co: 150,
  o3: 2000,
};

/** Letters, digits, `_` and `-`: a station id is part of stream ids. */
export const STATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** The station's own stream: its registration. */
export const stationStreamId = (stationId: string): string => `environment.station-${stationId}`;

/**
 * One reporting day's observations of one station (`date` as `reportingDate` gives it). A station
 * reports 8,760 hours a year; keeping them in its own stream would make every new reading fold the
 * whole year. The rule observations obey (one per station and hour) never crosses a reporting day,
 * so each day is its own stream, decided on top of the station's registration.
 */
export const airQualityStreamId = (stationId: string, date: string): string => `environment.air-quality-${stationId}:${date}`;

/** The prefix of every `airQualityStreamId`, for subscriptions and filters. */
export const AIR_QUALITY_STREAM_PREFIX = 'environment.air-quality-';

const { id, text, divisionCode } = eventFields;
/** Canonical, so an hour has one spelling and duplicates cannot hide behind another offset. */
const wholeHour = z.iso
  .datetime()
  .refine((v) => new Date(v).toISOString() === v && Date.parse(v) % 3_600_000 === 0, 'a canonical UTC instant on the hour');
const concentration = (field: keyof Concentrations) => z.number().nonnegative().max(PLAUSIBLE_MAXIMUM[field]).nullable();
const concentrations = {
  pm2_5: concentration('pm2_5'),
  pm10: concentration('pm10'),
  so2: concentration('so2'),
  no2: concentration('no2'),
  co: concentration('co'),
  o3: concentration('o3'),
};
const someValue = (data: Concentrations) =>
  (Object.keys(concentrations) as (keyof Concentrations)[]).some((field) => data[field] !== null);

const monitoringStationRegistered = eventType('MonitoringStationRegistered', {
  stationId: id,
  /** The network's station code (e.g. a national station's 1299A). */
  code: text,
  name: text,
  kind: z.enum(STATION_KINDS),
  location: z.object({ longitude: z.number().min(-180).max(180), latitude: z.number().min(-90).max(90) }),
  /** The division the station stands in: a district or below. */
  divisionCode,
});
export type MonitoringStationRegistered = EventOf<typeof monitoringStationRegistered>;

/**
 * One hour's 1-hour average concentrations (µg/m³; CO mg/m³); null for a pollutant not measured
 * that hour (NA: calibration, fault). `hour` is the canonical UTC instant the averaged hour ends,
 * as Chinese monitoring data label hours (the 10时 value covers 09:00–10:00 China time).
 */
const airQualityObserved = eventType(
  'AirQualityObserved',
  z.object({ stationId: id, hour: wholeHour, ...concentrations }).refine(someValue, 'at least one pollutant has a value'),
);
export type AirQualityObserved = EventOf<typeof airQualityObserved>;

/** Replaces every value of an observed hour (values not being corrected are sent unchanged). */
const airQualityObservationCorrected = eventType(
  'AirQualityObservationCorrected',
  z.object({ stationId: id, hour: wholeHour, ...concentrations, reason: text }).refine(someValue, 'at least one pollutant has a value'),
);
export type AirQualityObservationCorrected = EventOf<typeof airQualityObservationCorrected>;

export const stationEventDefinitions = [monitoringStationRegistered, airQualityObserved, airQualityObservationCorrected] as const satisfies readonly EventTypeDefinition[];
export type StationEvent = EventsOf<typeof stationEventDefinitions>;
