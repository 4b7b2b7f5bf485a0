import type { Concentrations } from '../aqi/hj633.ts';
import type { Command } from '../../kit/command.ts';
import type { MonitoringStationRegistered } from './events.ts';

export type RegisterMonitoringStation = Command<'registerMonitoringStation', MonitoringStationRegistered['data']>;

/** `hour` is the instant the averaged hour ends, with an offset; it may not be after `metadata.now`. */
export type RecordAirQualityObservation = Command<
  'recordAirQualityObservation',
  { stationId: string; hour: string } & Concentrations
>;

/** Replaces every value of an hour already observed; `reason` says why (e.g. 校准后数据修正). */
export type CorrectAirQualityObservation = Command<
  'correctAirQualityObservation',
  { stationId: string; hour: string; reason: string } & Concentrations
>;

/** Several hours of one station at once (a feed catching up after an outage): all recorded, or none. */
export type RecordAirQualityObservations = Command<
  'recordAirQualityObservations',
  { stationId: string; observations: ({ hour: string } & Concentrations)[] }
>;

export type StationCommand =
  | RegisterMonitoringStation
  | RecordAirQualityObservation
  | RecordAirQualityObservations
  | CorrectAirQualityObservation;
