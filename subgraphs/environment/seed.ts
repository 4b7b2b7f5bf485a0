/**
 * The demo city's environment: in each of Jinan's 12 districts and counties an assessment station
 * (国控, plus a provincial one in four districts) and two micro stations, with `days` of hourly
 * readings ending at the last full hour and a haze episode three to six days ago that takes the
 * industrial districts past AQI 200; one correction; and, when the legal-person seed has run,
 * discharge permits for up to 300 of its legal persons with a reading a day for two days, a few of
 * them above their limits, whose alarms are raised exactly as the process manager raises them
 * (same ids and idempotency keys), then acknowledged, escalated or resolved.
 * Everything goes through the command handlers (the hourly readings through the batch ingest, a
 * reporting day of the whole network per batch); values come from a seeded generator.
 */
import { seededRandom, type Random } from '../kit/random.ts';
import type { EventMetadata, EventStore } from '../../events/types.ts';
import type { LegalPersonRegistered } from '../legal-person/legalPerson/events.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { childrenOf, divisionCatalog } from '../kit/divisions/catalog.ts';
import type { EnvironmentConfig } from './config.ts';
import { exceedance, type EmissionPermit } from './emission/decider.ts';
import type { EmissionObserved, Outlet } from './emission/events.ts';
import {
  acknowledgeEmissionAlarm,
  alarmIdempotencyKey,
  alarmIdFor,
  escalateEmissionAlarm,
  issueEmissionPermit,
  raiseEmissionAlarm,
  recordEmissionObservation,
  resolveEmissionAlarm,
} from './emission/handlers.ts';
import { ENVIRONMENT_BUREAU } from './processes/emissionAlarms.ts';
import { canonicalInstant, HOUR_MS } from '../kit/calendar.ts';
import { reportingDate } from './aqi/hj663.ts';
import { AirQualitySimulator, type SimulatedStation } from './simulation.ts';
import type { StationKind } from './station/events.ts';
import {
  correctAirQualityObservation,
  ingestAirQualityObservations,
  registerMonitoringStation,
  type CommandPorts,
  type ObservationInput,
  type StationObservations,
} from './station/handlers.ts';

export interface SeedOptions {
  /** Days of hourly readings. @default 30 */
  days?: number;
  seed?: number;
}

/** Approximate centres (WGS 84) and pollution factors of the districts and counties. */
const DISTRICTS: Readonly<Record<string, { longitude: number; latitude: number; factor: number }>> = {
  '370102': { longitude: 117.076, latitude: 36.666, factor: 1.0 },
  '370103': { longitude: 116.998, latitude: 36.651, factor: 1.0 },
  '370104': { longitude: 116.901, latitude: 36.651, factor: 1.1 },
  '370105': { longitude: 116.987, latitude: 36.693, factor: 1.15 },
  '370112': { longitude: 117.128, latitude: 36.681, factor: 1.25 },
  '370113': { longitude: 116.752, latitude: 36.553, factor: 0.95 },
  '370114': { longitude: 117.526, latitude: 36.681, factor: 1.2 },
  '370115': { longitude: 117.173, latitude: 36.978, factor: 0.95 },
  '370116': { longitude: 117.676, latitude: 36.214, factor: 1.3 },
  '370117': { longitude: 117.811, latitude: 36.059, factor: 1.3 },
  '370124': { longitude: 116.456, latitude: 36.289, factor: 0.85 },
  '370126': { longitude: 117.157, latitude: 37.309, factor: 0.85 },
};

/** Districts with a provincial station besides the national one. */
const WITH_PROVINCIAL = new Set(['370102', '370112', '370114', '370116']);

interface SeedStation extends SimulatedStation {
  stationId: string;
  code: string;
  name: string;
  kind: StationKind;
  divisionCode: string;
  longitude: number;
  latitude: number;
}

function demoStations(random: Random): SeedStation[] {
  const stations: SeedStation[] = [];
  const districts = divisionCatalog.filter((d) => d.level === 'DISTRICT');
  for (const district of districts) {
    const centre = DISTRICTS[district.code];
    if (!centre) continue;
    const add = (kind: StationKind, divisionCode: string, name: string) => {
      const index = stations.length;
      const jitter = () => (random.next() - 0.5) * 0.04;
      stations.push({
        index,
        districtFactor: centre.factor,
        micro: kind === 'MICRO',
        stationId: `aq-${district.code}-${kind.toLowerCase()}-${index}`,
        code: `${kind === 'NATIONAL' ? 'GK' : kind === 'PROVINCIAL' ? 'SK' : 'WZ'}${district.code}${String(index).padStart(3, '0')}`,
        name,
        kind,
        divisionCode,
        longitude: Number((centre.longitude + jitter()).toFixed(4)),
        latitude: Number((centre.latitude + jitter()).toFixed(4)),
      });
    };
    add('NATIONAL', district.code, `${district.name}国控空气自动监测站`);
    if (WITH_PROVINCIAL.has(district.code)) add('PROVINCIAL', district.code, `${district.name}省控空气自动监测站`);
    for (const street of childrenOf(district.code).slice(0, 2)) add('MICRO', street.code, `${street.name}空气微站`);
  }
  return stations;
}

function seedMetadata(system: string, at: string): EventMetadata {
  return {
    provenance: { department: ENVIRONMENT_BUREAU, system, channel: 'seed', collectedAt: at },
    actor: { consumerId: 'seed', role: 'system' },
    correlationId: `seed:environment:${system}`,
  };
}

async function seedAirQuality(store: EventStore, now: Date, random: Random, days: number, seed: number): Promise<void> {
  const lastHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const firstHour = lastHour - (days * 24 - 1) * HOUR_MS;
  const nowIso = now.toISOString();
  const ports: CommandPorts = { store, now: nowIso, metadata: seedMetadata('环境空气质量监测网', nowIso) };
  // The haze builds three to six days before now (or over the middle of a shorter period).
  const span = Math.min(days, 7);
  const episode = { from: lastHour - span * 24 * HOUR_MS * 0.85, to: lastHour - span * 24 * HOUR_MS * 0.4, peak: 3.6 };
  const simulator = new AirQualitySimulator(seed, [episode]);
  const stations = demoStations(random);

  // Each reporting day of the whole network is one batch, as a monitoring platform's daily feed.
  const byDay = new Map<string, StationObservations[]>();
  for (const station of stations) {
    const { stationId, code, name, kind, divisionCode, longitude, latitude } = station;
    await registerMonitoringStation(ports, { stationId, code, name, kind, divisionCode, location: { longitude, latitude } }, { idempotencyKey: `seed:${stationId}` });
    const ofStation = new Map<string, ObservationInput[]>();
    for (let ms = firstHour; ms <= lastHour; ms += HOUR_MS) {
      // Micro stations drop an hour now and then (power, network).
      if (station.micro && random.next() < 0.005) continue;
      const values = simulator.hour(station, ms);
      if (Object.values(values).every((v) => v === null)) continue;
      const date = reportingDate(ms);
      let hours = ofStation.get(date);
      if (!hours) {
        hours = [];
        ofStation.set(date, hours);
        byDay.set(date, [...(byDay.get(date) ?? []), { stationId, observations: hours }]);
      }
      hours.push({ hour: canonicalInstant(ms), ...values });
    }
  }
  for (const batch of byDay.values()) await ingestAirQualityObservations(ports, batch);

  const corrected = stations[0];
  if (corrected) {
    // An hour of yesterday's, or the first one seeded when the period is shorter.
    const correctedMs = Math.max(firstHour, lastHour - 30 * HOUR_MS);
    const hour = canonicalInstant(correctedMs);
    const values = simulator.hour(corrected, correctedMs);
    await correctAirQualityObservation(ports, {
      stationId: corrected.stationId,
      hour,
      ...values,
      pm2_5: values.pm2_5 === null ? null : Math.round(values.pm2_5 * 0.93),
      reason: '校准后数据修正',
    });
  }
}

/** Legal persons from the registry's events, industrial ones (mining, manufacturing, utilities) first. */
async function dischargeUnits(store: EventStore, limit: number): Promise<LegalPersonRegistered['data'][]> {
  const found: LegalPersonRegistered['data'][] = [];
  let fromPosition: string | undefined;
  for (;;) {
    const page = await store.readAll({ filter: { types: ['LegalPersonRegistered'] }, limit: 1000, ...(fromPosition !== undefined && { fromPosition }) });
    for (const event of page) found.push(event.data as LegalPersonRegistered['data']);
    if (page.length < 1000) break;
    fromPosition = page.at(-1)?.position;
  }
  const industrial = (lp: LegalPersonRegistered['data']) => ['B', 'C', 'D', 'E'].includes(lp.industry.section);
  return [...found.filter(industrial), ...found.filter((lp) => !industrial(lp))].slice(0, limit);
}

const FLUE_GAS: Outlet['pollutants'] = [
  { pollutant: 'SO2', limit: 35, unit: 'mg/m3' },
  { pollutant: 'NOX', limit: 50, unit: 'mg/m3' },
  { pollutant: 'PM', limit: 10, unit: 'mg/m3' },
];
const WASTEWATER: Outlet['pollutants'] = [
  { pollutant: 'COD', limit: 50, unit: 'mg/L' },
  { pollutant: 'NH3_N', limit: 5, unit: 'mg/L' },
];

async function seedEmissions(store: EventStore, now: Date, random: Random, config: EnvironmentConfig): Promise<void> {
  const units = await dischargeUnits(store, 300);
  if (units.length === 0) return;
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const at = (ms: number, system: string): CommandPorts => {
    const instant = canonicalInstant(ms);
    return { store, now: instant, metadata: seedMetadata(system, instant) };
  };
  const validFrom = canonicalInstant(nowMs - 400 * 24 * HOUR_MS).slice(0, 10);
  const validUntil = canonicalInstant(nowMs + 4 * 365 * 24 * HOUR_MS).slice(0, 10);

  for (const [i, unit] of units.entries()) {
    const outlets: Outlet[] = [{ outletId: 'DA001', name: '1号锅炉排气筒', pollutants: FLUE_GAS }];
    if (random.next() < 0.5) outlets.push({ outletId: 'DW001', name: '废水总排口', pollutants: WASTEWATER });
    const permit: EmissionPermit = { permitId: `ep-${unit.legalPersonId}`, legalPersonId: unit.legalPersonId, permitNo: `${unit.creditCode}001P`, outlets, validFrom, validUntil };
    await issueEmissionPermit({ store, now: nowIso, metadata: seedMetadata('排污许可管理信息平台', nowIso) }, permit, { idempotencyKey: `seed:${permit.permitId}` });

    // A reading a day for two days at each outlet; about one in forty above its limit.
    for (const hoursAgo of [30, 6]) {
      const observedMs = Math.floor((nowMs - hoursAgo * HOUR_MS) / HOUR_MS) * HOUR_MS + (i % 60) * 60_000;
      for (const outlet of outlets) {
        for (const { pollutant, limit, unit: u } of outlet.pollutants) {
          const exceeds = random.next() < 0.025;
          const value = Number((limit * (exceeds ? 1.15 + random.next() : 0.25 + 0.6 * random.next())).toFixed(2));
          const reading: EmissionObserved['data'] = { permitId: permit.permitId, outletId: outlet.outletId, pollutant, value, unit: u, observedAt: canonicalInstant(observedMs) };
          const result = await recordEmissionObservation(at(observedMs + 60_000, '污染源自动监控系统'), reading);
          const [observed] = result.events;
          const found = observed && exceedance(permit, observed.data as EmissionObserved['data']);
          if (observed && found) await runAlarm(store, random, nowMs, config, observed.eventId, found, observedMs);
        }
      }
    }
  }
}

/** Raises the alarm as the process manager would, then takes it some way round its loop (never past now). */
async function runAlarm(
  store: EventStore,
  random: Random,
  nowMs: number,
  config: EnvironmentConfig,
  observationEventId: string,
  found: NonNullable<ReturnType<typeof exceedance>>,
  observedMs: number,
): Promise<void> {
  const alarmId = alarmIdFor(observationEventId);
  const step = (ms: number) => ({ store, now: canonicalInstant(ms), metadata: seedMetadata('污染源监管闭环系统', canonicalInstant(ms)) });
  const raisedMs = observedMs + 5 * 60_000;
  await raiseEmissionAlarm(step(raisedMs), { ...found, alarmId, acknowledgeWithinMinutes: config.acknowledgeWithinMinutes }, alarmIdempotencyKey(observationEventId));
  const deadline = raisedMs + config.acknowledgeWithinMinutes * 60_000;
  const outcome = random.next();
  let acknowledgedMs: number;
  if (outcome < 0.3) {
    // Left as it is: the escalation process escalates it once it is overdue.
    return;
  } else if (outcome < 0.55) {
    if (deadline + 60_000 > nowMs) return;
    await escalateEmissionAlarm(step(deadline + 60_000), alarmId);
    acknowledgedMs = deadline + 40 * 60_000;
  } else {
    acknowledgedMs = raisedMs + 20 * 60_000;
  }
  if (acknowledgedMs > nowMs) return;
  await acknowledgeEmissionAlarm(step(acknowledgedMs), { alarmId, by: '市生态环境局执法支队' });
  const resolvedMs = acknowledgedMs + 4 * HOUR_MS;
  if (random.next() < 0.6 && resolvedMs <= nowMs) {
    await resolveEmissionAlarm(step(resolvedMs), {
      alarmId,
      evidence: [`doc://整改报告/${alarmId}`, `monitor://复测记录/${alarmId}`],
      note: '已完成整改，复测达标',
    });
  }
}

export async function seedEnvironment(runtime: SubgraphRuntime, config: EnvironmentConfig, options: SeedOptions = {}): Promise<void> {
  const seed = options.seed ?? 2022;
  const random = seededRandom(seed);
  const now = runtime.now();
  await seedAirQuality(runtime.store, now, random, options.days ?? 30, seed);
  await seedEmissions(runtime.store, now, random, config);
}
