/**
 * Bench-local event types with domain-like payloads (an hourly air-quality reading, a reported city
 * incident) and full provenance metadata, so the measured bytes, JSON and validation work resemble
 * what the subgraphs append. Values come from a seeded generator; ids are random UUIDs (same size).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EventRegistry } from '../../events/registry.ts';
import type { EventMetadata, NewEvent } from '../../events/types.ts';
import { seededRandom, type Random } from '../../subgraphs/kit/random.ts';

export interface AirQualityObservedData {
  stationId: string;
  divisionCode: string;
  observedAt: string;
  concentrations: { pm25: number; pm10: number; so2: number; no2: number; co: number; o3: number };
  aqi: number;
  level: string;
  primaryPollutants: string[];
}

export interface IncidentReportedData {
  incidentId: string;
  category: string;
  description: string;
  channel: 'IOT_SENSOR' | 'GRID_WORKER' | 'CITIZEN_PHOTO' | 'HOTLINE_12345' | 'APP';
  location: { divisionCode: string; address: string; latitude: number; longitude: number };
  reportedAt: string;
}

const isoInstant = z.iso.datetime({ offset: true });
const divisionCode = z.string().regex(/^\d{6}(\d{3}(\d{3})?)?$/);

export function benchRegistry(): EventRegistry {
  return new EventRegistry()
    .register<AirQualityObservedData>({
      type: 'AirQualityObserved',
      schemaVersion: 1,
      schema: z.object({
        stationId: z.string().min(1),
        divisionCode,
        observedAt: isoInstant,
        concentrations: z.object({
          pm25: z.number().nonnegative(),
          pm10: z.number().nonnegative(),
          so2: z.number().nonnegative(),
          no2: z.number().nonnegative(),
          co: z.number().nonnegative(),
          o3: z.number().nonnegative(),
        }),
        aqi: z.number().int().nonnegative(),
        level: z.string().min(1),
        primaryPollutants: z.array(z.string().min(1)),
      }),
    })
    .register<IncidentReportedData>({
      type: 'IncidentReported',
      schemaVersion: 1,
      schema: z.object({
        incidentId: z.uuid(),
        category: z.string().min(1),
        description: z.string().min(1).max(2000),
        channel: z.enum(['IOT_SENSOR', 'GRID_WORKER', 'CITIZEN_PHOTO', 'HOTLINE_12345', 'APP']),
        location: z.object({
          divisionCode,
          address: z.string().min(1),
          latitude: z.number().min(-90).max(90),
          longitude: z.number().min(-180).max(180),
        }),
        reportedAt: isoInstant,
      }),
    });
}

const DISTRICTS = ['370102', '370103', '370104', '370105', '370112', '370113', '370114', '370115', '370116', '370117'];
const LEVELS = ['优', '良', '轻度污染', '中度污染'];
const CATEGORIES = ['井盖缺失', '路灯故障', '占道经营', '垃圾堆放', '违规停车', '道路破损'];
const CHANNELS = ['IOT_SENSOR', 'GRID_WORKER', 'CITIZEN_PHOTO', 'HOTLINE_12345', 'APP'] as const;
const STREETS = ['经十路', '泉城路', '历山路', '解放路', '二环东路', '工业南路'];
const START_MS = Date.parse('2026-01-01T00:00:00.000Z');
const HOUR_MS = 3_600_000;

export class PayloadGenerator {
  private readonly random: Random;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Hourly readings `0 … count - 1` of one station, collected by one ingest batch. */
  airQualityReadings(station: number, count: number): NewEvent[] {
    const r = this.random;
    const district = DISTRICTS[station % DISTRICTS.length]!;
    const stationId = `station-${district}-${String(station).padStart(7, '0')}`;
    const batchId = randomUUID();
    return Array.from({ length: count }, (_, hour) => {
      const observedAt = new Date(START_MS + hour * HOUR_MS).toISOString();
      const pm25 = r.int(5, 180);
      const data: AirQualityObservedData = {
        stationId,
        divisionCode: district,
        observedAt,
        concentrations: {
          pm25,
          pm10: pm25 + r.int(5, 80),
          so2: r.int(2, 40),
          no2: r.int(5, 90),
          co: Math.round(r.next() * 30) / 10,
          o3: r.int(10, 220),
        },
        aqi: r.int(20, 230),
        level: r.pick(LEVELS),
        primaryPollutants: r.next() < 0.7 ? ['PM2.5'] : ['PM2.5', 'PM10'],
      };
      const metadata: EventMetadata = {
        provenance: {
          department: '济南市生态环境局',
          system: 'air-quality-monitoring-network',
          channel: 'IOT_SENSOR',
          collectedAt: observedAt,
          sourceRecordId: `${stationId}/${observedAt}`,
          batchId,
        },
        actor: { consumerId: 'environment-ingest', role: 'department' },
        correlationId: batchId,
      };
      return { type: 'AirQualityObserved', data, metadata };
    });
  }

  /** One incident as a grid worker, a citizen or a sensor reports it. */
  incidentReported(index: number): NewEvent {
    const r = this.random;
    const district = r.pick(DISTRICTS);
    const reportedAt = new Date(START_MS + index * 60_000).toISOString();
    const category = r.pick(CATEGORIES);
    const street = r.pick(STREETS);
    const channel = r.pick(CHANNELS);
    const data: IncidentReportedData = {
      incidentId: randomUUID(),
      category,
      description: `${street}${r.int(1, 999)}号附近发现${category}，影响行人和车辆通行，请尽快派员处置。`,
      channel,
      location: {
        divisionCode: `${district}${String(r.int(1, 20)).padStart(3, '0')}${String(r.int(1, 30)).padStart(3, '0')}`,
        address: `济南市${street}${r.int(1, 999)}号`,
        latitude: 36.6 + r.next() * 0.2,
        longitude: 116.9 + r.next() * 0.3,
      },
      reportedAt,
    };
    const metadata: EventMetadata = {
      provenance: {
        department: '济南市城市管理局',
        system: 'digital-urban-management',
        channel,
        collectedAt: reportedAt,
        sourceRecordId: `case-${index}`,
      },
      actor: { consumerId: 'urban-operations', userId: `grid-worker-${r.int(1, 5000)}`, role: 'department' },
      correlationId: randomUUID(),
      causationId: randomUUID(),
    };
    return { type: 'IncidentReported', data, metadata };
  }
}

/** Mean serialised sizes of `data` and `metadata`, for the header. */
export function payloadBytes(events: readonly NewEvent[]): { data: number; metadata: number } {
  let data = 0;
  let metadata = 0;
  for (const e of events) {
    data += Buffer.byteLength(JSON.stringify(e.data));
    metadata += Buffer.byteLength(JSON.stringify(e.metadata));
  }
  return { data: Math.round(data / events.length), metadata: Math.round(metadata / events.length) };
}
