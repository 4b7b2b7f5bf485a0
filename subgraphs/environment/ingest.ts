/**
 * What the monitoring networks deliver through the aggregation channel (kit/ingest.ts): hourly air
 * quality at the stations and online emission readings at permitted outlets. Each reading is a
 * fact: `created` once, `alreadyPresent` when delivered again. It is decided by the station (permit)
 * decider on top of the station's (permit's) own stream, in the reporting day's stream, exactly as
 * `recordAirQualityObservation` (`recordEmissionObservation`) and the batch `ingestAirQualityObservations`
 * decide it; a chunk reads every station and station-day it touches at once.
 */
import { z } from 'zod';
import { continuingRecord, plannedKind, type RecordPlanner } from '../kit/batchPlan.ts';
import { chinaDateOf, parseInstantWithOffset, parseWholeHour } from '../kit/calendar.ts';
import type { IngestKind } from '../kit/ingest.ts';
import { erased, number, recordSchema } from '../kit/ingestSchema.ts';
import { reportingDate } from './aqi/hj663.ts';
import { emissionPermitDecider } from './emission/decider.ts';
import { EMISSION_POLLUTANTS, emissionPermitStreamId, emissionReadingsStreamId, type EmissionUnit } from './emission/events.ts';
import { concentrationsFromInput, PROVENANCE } from './resolvers.ts';
import { stationDecider } from './station/decider.ts';
import { airQualityStreamId, stationStreamId } from './station/events.ts';

const RESOURCE = 'environment.write';
const DEPARTMENT = 'ecology-environment';

/**
 * One station-hour, as `recordAirQualityObservation` takes it: `observedAt` is the instant the
 * averaged hour ends; `concentrations` (CSV: `concentrations.pm25` … columns) µg/m³, CO mg/m³, each
 * optional (a pollutant the station does not measure).
 */
const stationReadingSchema = recordSchema({
  stationId: z.string(),
  observedAt: z.string(),
  concentrations: z.object({ pm25: number().optional(), pm10: number().optional(), so2: number().optional(), no2: number().optional(), co: number().optional(), o3: number().optional() }),
});
export type StationReadingData = z.output<typeof stationReadingSchema>;

const planStationReading: RecordPlanner<StationReadingData> = ({ data }, now) => {
  const { stationId, observedAt } = data;
  const streamId = airQualityStreamId(stationId, reportingDate(parseWholeHour(observedAt, 'observedAt')));
  const command = { type: 'recordAirQualityObservation' as const, data: { stationId, hour: observedAt, ...concentrationsFromInput(data.concentrations) }, metadata: { now } };
  return continuingRecord(stationDecider, stationStreamId(stationId), streamId, command);
};

/** The graph's names of the units (`EmissionUnit`), as a mutation's client writes them. */
const UNITS: Record<string, EmissionUnit> = { MG_PER_M3: 'mg/m3', MG_PER_L: 'mg/L' };

/** One online-monitoring reading at a permitted outlet, as `recordEmissionObservation` takes it (`unit`: `MG_PER_M3` or `MG_PER_L`). */
const emissionReadingSchema = recordSchema({
  permitId: z.string(),
  outletId: z.string(),
  pollutant: z.enum(EMISSION_POLLUTANTS),
  value: number(),
  unit: z.enum(['MG_PER_M3', 'MG_PER_L']).transform((name) => UNITS[name]!),
  observedAt: z.string(),
});
export type EmissionReadingData = z.output<typeof emissionReadingSchema>;

const planEmissionReading: RecordPlanner<EmissionReadingData> = ({ data }, now) => {
  const { permitId, outletId, pollutant, value, unit, observedAt } = data;
  const streamId = emissionReadingsStreamId(permitId, chinaDateOf(parseInstantWithOffset(observedAt, 'observedAt')));
  const command = { type: 'recordEmissionObservation' as const, data: { permitId, outletId, pollutant, value, unit, observedAt }, metadata: { now } };
  return continuingRecord(emissionPermitDecider, emissionPermitStreamId(permitId), streamId, command);
};

export const stationReadingsKind = plannedKind<StationReadingData>(
  {
    name: 'station-readings',
    title: '空气质量小时数据 hourly air quality at monitoring stations',
    resource: RESOURCE,
    department: DEPARTMENT,
    system: PROVENANCE.station.system,
    schema: stationReadingSchema,
  },
  planStationReading,
);

export const emissionReadingsKind = plannedKind<EmissionReadingData>(
  {
    name: 'emission-readings',
    title: '污染源在线监测数据 online emission readings at permitted outlets',
    resource: RESOURCE,
    department: DEPARTMENT,
    system: PROVENANCE.emission.system,
    schema: emissionReadingSchema,
  },
  planEmissionReading,
);

export const environmentIngestKinds: readonly IngestKind[] = [erased(stationReadingsKind), erased(emissionReadingsKind)];
