/**
 * Thin resolvers: queries read the environment read models (only `asOf` folds streams); mutations
 * build a command and run it through the handlers; the alert subscription follows the store.
 */
import { ValidationError } from '../../events/errors.ts';
import type { Where } from '../../projections/types.ts';
import { assertDivision, divisionName, divisionReference, getDivision } from '../kit/divisions/catalog.ts';
import { commandOptionsOf, newEntityId } from '../kit/command.ts';
import { collectionConnection } from '../kit/connections.ts';
import { loader, storedDocLoader, type SubgraphContext } from '../kit/context.ts';
import { provenanceResolvers, type FieldSourceMap } from '../kit/fieldProvenance.ts';
import { streamHistory } from '../kit/history.ts';
import { asOfArguments, readStreamUpTo, resolveAsOf, type AsOf, type AsOfArguments, type PastPoint } from '../kit/timeTravel.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { mutationMetadata, type ProvenanceDefaults, type ProvenanceInput } from '../kit/provenance.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import { airQualityAlerts, checkedAlertOptions, type AirQualityAlert } from './alerts.ts';
import { CONCENTRATION_FIELD, POLLUTANTS, type Concentration, type Concentrations, type Pollutant } from './aqi/hj633.ts';
import type { HourlyConcentrations } from './aqi/hj663.ts';
import type { EnvironmentConfig } from './config.ts';
import { hourlyConnection } from './hourly.ts';
import type { EmissionAlarmStatus } from './emission/decider.ts';
import { exceedance } from './emission/decider.ts';
import { emissionAlarmStreamId, emissionPermitStreamId, UNIT_OF, type EmissionObserved, type EmissionPermitIssued, type Outlet } from './emission/events.ts';
import {
  acknowledgeEmissionAlarm,
  alarmIdFor,
  issueEmissionPermit,
  recordEmissionObservation,
  resolveEmissionAlarm,
} from './emission/handlers.ts';
import { ENVIRONMENT_BUREAU } from './processes/emissionAlarms.ts';
import {
  AIR_QUALITY_PROJECTION,
  concentrationsOf,
  DAYS,
  hourDocOf,
  STATIONS,
  stationDoc,
  type DayDoc,
  type HourDoc,
  type StationDoc,
} from './readModels/airQuality.ts';
import type { AqiFields } from './readModels/aqiFields.ts';
import { alarmDocOf, ALARMS, EMISSIONS_PROJECTION, PERMITS, type AlarmDoc, type PermitDoc } from './readModels/emissions.ts';
import { RANKING_PROJECTION, RANKINGS, type RankedDistrict, type RankingDoc } from './readModels/ranking.ts';
import { addDays, assertCalendarDate, canonicalInstant, chinaDateOf, parseInstantWithOffset } from '../kit/calendar.ts';
import type { AirQualityObserved, AirQualityObservationCorrected, MonitoringStationRegistered, StationKind } from './station/events.ts';
import { airQualityStreamId, stationStreamId } from './station/events.ts';
import {
  correctAirQualityObservation,
  ingestAirQualityObservations,
  recordAirQualityObservations,
  registerMonitoringStation,
  type CommandPorts,
  type HandlerResult,
  type ObservationInput,
} from './station/handlers.ts';

/** The most hours one `recordAirQualityObservations` may carry: a month of one station. */
export const MAX_OBSERVATIONS_PER_BATCH = 744;
/** The most observations one `ingestAirQualityObservations` may carry (within the 1 MB request body). */
export const MAX_OBSERVATIONS_PER_INGEST = 5_000;

export const PROVENANCE = {
  station: { department: ENVIRONMENT_BUREAU, system: '环境空气质量监测网' },
  permit: { department: ENVIRONMENT_BUREAU, system: '排污许可管理信息平台' },
  emission: { department: ENVIRONMENT_BUREAU, system: '污染源自动监控系统' },
  alarm: { department: ENVIRONMENT_BUREAU, system: '污染源监管闭环系统' },
} satisfies Record<string, ProvenanceDefaults>;

// ---------------------------------------------------------------------------------------------
// Views: read-model documents in the schema's shape

export interface ConcentrationsInput {
  pm25?: number | null;
  pm10?: number | null;
  so2?: number | null;
  no2?: number | null;
  co?: number | null;
  o3?: number | null;
}

export const concentrationsFromInput = (input: ConcentrationsInput): Concentrations => ({
  pm2_5: input.pm25 ?? null,
  pm10: input.pm10 ?? null,
  so2: input.so2 ?? null,
  no2: input.no2 ?? null,
  co: input.co ?? null,
  o3: input.o3 ?? null,
});

const concentrationsView = (c: Concentrations) => ({ pm25: c.pm2_5, pm10: c.pm10, so2: c.so2, no2: c.no2, co: c.co, o3: c.o3 });

/** The sub-indices in the concentrations' fields, null for a pollutant without one. */
const iaqiView = (iaqi: Partial<Record<Pollutant, number>>) =>
  concentrationsView(Object.fromEntries(POLLUTANTS.map((p) => [CONCENTRATION_FIELD[p], iaqi[p] ?? null])) as Record<keyof Concentrations, Concentration>);

/** The AQI part of an hour or a day, as the schema names it (`level` is the English level name). */
const aqiView = (doc: AqiFields) => ({
  aqi: doc.aqi,
  level: doc.levelNameEn,
  levelName: doc.levelName,
  colour: doc.colour,
  primaryPollutants: doc.primaryPollutants,
  exceedingPollutants: doc.exceedingPollutants,
  iaqi: iaqiView(doc.iaqi),
});

function hourView(doc: HourDoc) {
  return {
    observedAt: doc.hour,
    date: doc.date,
    ...aqiView(doc),
    concentrations: concentrationsView(doc),
    movingAverages: { pm25: doc.pm2_5_24h, pm10: doc.pm10_24h, so2: doc.so2_24h },
    corrected: doc.corrected,
    correctionReason: doc.correctionReason,
  };
}

function dayView(doc: DayDoc) {
  return {
    date: doc.date,
    hoursObserved: doc.hoursObserved,
    ...aqiView(doc),
    averages: {
      pm25: doc.pm2_5_24h,
      pm10: doc.pm10_24h,
      so2: doc.so2_24h,
      no2: doc.no2_24h,
      co: doc.co_24h,
      o3MaxHour: doc.o3_1h_max,
      o3Max8Hours: doc.o3_8h_max,
    },
  };
}

const STATION_FIELD_SOURCES: FieldSourceMap = {
  id: ['stationId'],
  code: ['code'],
  name: ['name'],
  kind: ['kind'],
  location: ['longitude', 'latitude'],
  divisionCode: ['divisionCode'],
  division: ['divisionCode'],
  latest: ['latest'],
};

/** A station as resolvers see it: its document, and the instant it was asked for (null: now). */
interface StationNode {
  doc: StationDoc;
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

function districtView(entry: RankedDistrict, date: string, rankedDistricts: number) {
  return {
    divisionCode: entry.districtCode,
    // Resolved when asked (graphql-js calls a function-valued field), so an unknown code nulls this field only.
    division: () => divisionReference(entry.districtCode),
    date,
    aqi: entry.aqi,
    level: entry.levelNameEn,
    levelName: entry.levelName,
    colour: entry.colour,
    primaryPollutants: entry.primaryPollutants,
    rank: entry.rank,
    rankedDistricts,
  };
}

const rankingView = (ranking: RankingDoc | undefined) => {
  if (!ranking) return [];
  const ranked = ranking.districts.filter((d) => d.rank !== null).length;
  return ranking.districts.map((d) => districtView(d, ranking.date, ranked));
};

const permitView = (doc: PermitDoc) => ({ ...doc, id: doc.permitId });
const alarmView = (doc: AlarmDoc) => ({ ...doc, id: doc.alarmId });

/** The reading of the newest hour recorded by then (within the two reporting days before it), folded from the streams. */
async function latestAsOf(runtime: SubgraphRuntime, stationId: string, point: PastPoint & { at: string }): Promise<HourDoc | null> {
  const date = chinaDateOf(Date.parse(point.at));
  const values = new Map<string, HourlyConcentrations>();
  const reasons = new Map<string, string>();
  // The newest hour's day may be the day before `asOf`'s date, and its 24-hour window the one before that.
  for (const day of [addDays(date, -2), addDays(date, -1), date]) {
    for (const event of await readStreamUpTo(runtime.store, airQualityStreamId(stationId, day), point)) {
      const data = event.data as AirQualityObserved['data'] | AirQualityObservationCorrected['data'];
      values.set(data.hour, { hour: data.hour, ...concentrationsOf(data) });
      if ('reason' in data) reasons.set(data.hour, data.reason);
    }
  }
  const latest = [...values.keys()].sort().at(-1);
  return latest === undefined ? null : hourDocOf(stationId, latest, [...values.values()], reasons.get(latest) ?? null);
}

async function stationAsOf(runtime: SubgraphRuntime, stationId: string, asOf: AsOf): Promise<StationNode | null> {
  const point = await resolveAsOf(runtime.store, asOf);
  const { at } = point;
  if (at === null) return null;
  const [registered] = await readStreamUpTo(runtime.store, stationStreamId(stationId), point);
  if (!registered) return null;
  const doc = stationDoc(registered.data as MonitoringStationRegistered['data'], registered.recordedAt);
  const latest = await latestAsOf(runtime, stationId, { ...point, at });
  return { doc: { ...doc, latest, latestHour: latest?.hour ?? null }, asOf: at, asOfPosition: point.position };
}

interface StationFilter {
  divisionCode?: string | null;
  kind?: StationKind | null;
}

function stationWhere(filter: StationFilter | null | undefined): Where {
  const where: Where = {};
  if (filter?.kind) where.kind = filter.kind;
  if (filter?.divisionCode) {
    const division = assertDivision(filter.divisionCode, undefined, 'filter.divisionCode');
    if (division.level === 'DISTRICT') where.districtCode = division.code;
    else if (division.level !== 'CITY') where.divisionCode = division.code;
  }
  return where;
}

function checkedRange(from: string, to: string): void {
  if (from > to) throw new ValidationError(`from ${from} is after to ${to}; give the earlier bound first`, { field: 'from' });
}

type WithMeta = { provenance?: ProvenanceInput | null; idempotencyKey?: string | null };

const positionsOf = (result: HandlerResult) => result.events.map((e) => e.position);

function observationsView(result: HandlerResult) {
  return result.events.map((e) => ({
    observedAt: (e.data as AirQualityObserved['data']).hour,
    revision: e.revision,
    position: e.position,
    corrected: e.type === 'AirQualityObservationCorrected',
  }));
}

// ---------------------------------------------------------------------------------------------

export function environmentResolvers(runtime: SubgraphRuntime, config: EnvironmentConfig): SubgraphResolvers<SubgraphContext> {
  const air = () => runtime.readModels.of(AIR_QUALITY_PROJECTION);
  const emissions = () => runtime.readModels.of(EMISSIONS_PROJECTION);

  const stations = (ctx: SubgraphContext) =>
    loader<string, StationDoc | undefined>(ctx, 'environment.stations', async (ids) =>
      (await air().collection(STATIONS).getMany(ids)).map((s) => s?.doc),
    );
  const stationProvenance = provenanceResolvers<StationNode, SubgraphContext>({
    entity: 'MonitoringStation',
    store: runtime.store,
    fields: STATION_FIELD_SOURCES,
    stored: (ctx, node) => storedDocLoader(ctx, 'environment.stationDocs', () => air().collection(STATIONS)).load(node.doc.stationId),
  });
  const rankings = (ctx: SubgraphContext) =>
    loader<string, RankingDoc | undefined>(ctx, 'environment.rankings', async (dates) =>
      (await runtime.readModels.of(RANKING_PROJECTION).collection<RankingDoc>(RANKINGS).getMany(dates)).map((s) => s?.doc),
    );
  const permits = (ctx: SubgraphContext) =>
    loader<string, PermitDoc | undefined>(ctx, 'environment.permits', async (ids) =>
      (await emissions().collection<PermitDoc>(PERMITS).getMany(ids)).map((s) => s?.doc),
    );
  const alarms = (ctx: SubgraphContext) =>
    loader<string, AlarmDoc | undefined>(ctx, 'environment.alarms', async (ids) =>
      (await emissions().collection<AlarmDoc>(ALARMS).getMany(ids)).map((s) => s?.doc),
    );

  const ports = (ctx: SubgraphContext, defaults: ProvenanceDefaults, input: WithMeta): CommandPorts => {
    const now = runtime.now().toISOString();
    return { store: runtime.store, now, metadata: mutationMetadata(ctx, 'environment.write', defaults, input.provenance, now) };
  };

  /** The station after a write: the read model's when it has caught up with the registration, else the registration's. */
  async function stationAfterWrite(ctx: SubgraphContext, stationId: string): Promise<StationNode | null> {
    const projected = await stations(ctx).load(stationId);
    if (projected) return { doc: projected, asOf: null };
    const [registered] = await runtime.store.readStream(stationStreamId(stationId), { limit: 1 });
    return registered ? { doc: stationDoc(registered.data as MonitoringStationRegistered['data'], registered.recordedAt), asOf: null } : null;
  }

  async function permitAfterWrite(ctx: SubgraphContext, permitId: string) {
    const projected = await permits(ctx).load(permitId);
    if (projected) return permitView(projected);
    const [issued] = await runtime.store.readStream(emissionPermitStreamId(permitId), { limit: 1 });
    return issued ? permitView({ ...(issued.data as EmissionPermitIssued['data']), issuedAt: issued.recordedAt }) : null;
  }

  async function alarmPayload(alarmId: string, result: HandlerResult) {
    const alarm = alarmDocOf(await runtime.store.readStream(emissionAlarmStreamId(alarmId)));
    if (!alarm) throw new Error(`alarm ${alarmId} has no stream after a command succeeded on it`);
    return {
      alarm: alarmView(alarm),
      status: alarm.status,
      positions: positionsOf(result),
      revision: result.events.at(-1)?.revision ?? -1,
      replayed: result.replayed,
    };
  }

  return {
    EmissionUnit: { MG_PER_M3: UNIT_OF.SO2, MG_PER_L: UNIT_OF.COD },

    Query: {
      async station(_root: unknown, args: { id: string } & AsOfArguments, ctx: SubgraphContext): Promise<StationNode | null> {
        const point = asOfArguments(args);
        if (point) return stationAsOf(runtime, args.id, point);
        const doc = await stations(ctx).load(args.id);
        return doc ? { doc, asOf: null } : null;
      },
      stations(_root: unknown, args: { filter?: StationFilter | null; first?: number | null; after?: string | null }) {
        return collectionConnection({
          list: 'environment.stations',
          collection: air().collection(STATIONS),
          where: stationWhere(args.filter),
          first: args.first,
          after: args.after,
          node: (stored): StationNode => ({ doc: stored.doc, asOf: null }),
        });
      },
      async airQualityRanking(_root: unknown, args: { date: string }, ctx: SubgraphContext) {
        return rankingView(await rankings(ctx).load(assertCalendarDate(args.date, 'date')));
      },
      async emissionPermit(_root: unknown, args: { id: string }, ctx: SubgraphContext) {
        const doc = await permits(ctx).load(args.id);
        return doc ? permitView(doc) : null;
      },
      async emissionAlarm(_root: unknown, args: { id: string }, ctx: SubgraphContext) {
        const doc = await alarms(ctx).load(args.id);
        return doc ? alarmView(doc) : null;
      },
      emissionAlarms(
        _root: unknown,
        args: { filter?: { status?: EmissionAlarmStatus[] | null; legalPersonId?: string | null } | null; first?: number | null; after?: string | null },
      ) {
        const where: Where = {};
        if (args.filter?.status?.length) where.status = { in: args.filter.status };
        if (args.filter?.legalPersonId) where.legalPersonId = args.filter.legalPersonId;
        return collectionConnection({
          list: 'environment.alarms.by-raised',
          collection: emissions().collection<AlarmDoc>(ALARMS),
          where,
          sortBy: 'raisedAt',
          direction: 'desc',
          first: args.first,
          after: args.after,
          node: (stored) => alarmView(stored.doc),
        });
      },
    },

    MonitoringStation: {
      async __resolveReference(ref: { id: string }, ctx: SubgraphContext): Promise<StationNode | null> {
        const doc = await stations(ctx).load(ref.id);
        return doc ? { doc, asOf: null } : null;
      },
      id: (node: StationNode) => node.doc.stationId,
      code: (node: StationNode) => node.doc.code,
      name: (node: StationNode) => node.doc.name,
      kind: (node: StationNode) => node.doc.kind,
      location: (node: StationNode) => ({ longitude: node.doc.longitude, latitude: node.doc.latitude }),
      divisionCode: (node: StationNode) => node.doc.divisionCode,
      division: (node: StationNode) => divisionReference(node.doc.divisionCode),
      latest: (node: StationNode) => (node.doc.latest ? hourView(node.doc.latest) : null),
      hourly(node: StationNode, args: { from: string; to: string; first?: number | null; after?: string | null }) {
        const from = canonicalInstant(parseInstantWithOffset(args.from, 'from'));
        const to = canonicalInstant(parseInstantWithOffset(args.to, 'to'));
        checkedRange(from, to);
        return hourlyConnection({
          days: air().collection(DAYS),
          stationId: node.doc.stationId,
          from,
          to,
          first: args.first,
          after: args.after,
          node: hourView,
        });
      },
      daily(node: StationNode, args: { from: string; to: string; first?: number | null; after?: string | null }) {
        const from = assertCalendarDate(args.from, 'from');
        const to = assertCalendarDate(args.to, 'to');
        checkedRange(from, to);
        return collectionConnection({
          list: `environment.daily:${node.doc.stationId}`,
          collection: air().collection(DAYS),
          where: { stationId: node.doc.stationId, date: { gte: from, lte: to } },
          sortBy: 'date',
          first: args.first,
          after: args.after,
          node: (stored) => dayView(stored.doc),
        });
      },
      history: (node: StationNode) => streamHistory(runtime.store, stationStreamId(node.doc.stationId), node),
      observationHistory: (node: StationNode, args: { date: string }) =>
        streamHistory(runtime.store, airQualityStreamId(node.doc.stationId, assertCalendarDate(args.date, 'date')), node),
      asOf: (node: StationNode) => node.asOf,
      asOfPosition: (node: StationNode) => node.asOfPosition ?? null,
      ...stationProvenance,
    },

    Division: {
      __resolveReference: (ref: { code: string }) => ({ code: ref.code }),
      name: divisionName,
      async airQuality(division: { code: string }, args: { date: string }, ctx: SubgraphContext) {
        if (getDivision(division.code)?.level !== 'DISTRICT') return null;
        const ranking = await rankings(ctx).load(assertCalendarDate(args.date, 'date'));
        return rankingView(ranking).find((d) => d.divisionCode === division.code) ?? null;
      },
    },

    LegalPerson: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      environment: (legalPerson: { id: string }) => ({ legalPersonId: legalPerson.id }),
    },

    LegalPersonEnvironment: {
      permits(parent: { legalPersonId: string }, args: { first?: number | null; after?: string | null }) {
        return collectionConnection({
          list: 'environment.permits.by-legal-person',
          collection: emissions().collection<PermitDoc>(PERMITS),
          where: { legalPersonId: parent.legalPersonId },
          first: args.first,
          after: args.after,
          node: (stored) => permitView(stored.doc),
        });
      },
      alarms(parent: { legalPersonId: string }, args: { status?: EmissionAlarmStatus[] | null; first?: number | null; after?: string | null }) {
        return collectionConnection({
          list: 'environment.alarms.by-raised',
          collection: emissions().collection<AlarmDoc>(ALARMS),
          where: { legalPersonId: parent.legalPersonId, ...(args.status?.length && { status: { in: args.status } }) },
          sortBy: 'raisedAt',
          direction: 'desc',
          first: args.first,
          after: args.after,
          node: (stored) => alarmView(stored.doc),
        });
      },
    },

    EmissionPermit: {
      async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
        const doc = await permits(ctx).load(ref.id);
        return doc ? permitView(doc) : null;
      },
      legalPerson: (permit: PermitDoc) => ({ __typename: 'LegalPerson', id: permit.legalPersonId }),
      history: (permit: PermitDoc) => streamHistory(runtime.store, emissionPermitStreamId(permit.permitId)),
    },

    EmissionAlarm: {
      async __resolveReference(ref: { id: string }, ctx: SubgraphContext) {
        const doc = await alarms(ctx).load(ref.id);
        return doc ? alarmView(doc) : null;
      },
      async permit(alarm: AlarmDoc, _args: unknown, ctx: SubgraphContext) {
        const doc = await permits(ctx).load(alarm.permitId);
        return doc ? permitView(doc) : null;
      },
      legalPerson: (alarm: AlarmDoc) => ({ __typename: 'LegalPerson', id: alarm.legalPersonId }),
      history: (alarm: AlarmDoc) => streamHistory(runtime.store, emissionAlarmStreamId(alarm.alarmId)),
    },

    AirQualityAlert: {
      observedAt: (alert: AirQualityAlert) => alert.hour,
      level: (alert: AirQualityAlert) => alert.levelNameEn,
      async station(alert: AirQualityAlert, _args: unknown, ctx: SubgraphContext): Promise<StationNode | null> {
        const doc = await stations(ctx).load(alert.stationId);
        return doc ? { doc, asOf: null } : null;
      },
    },

    Subscription: {
      airQualityAlert: {
        subscribe: async (_root: unknown, args: { divisionCode: string; above?: number | null }) =>
          airQualityAlerts(runtime.store, checkedAlertOptions(args.divisionCode, args.above ?? config.alertAqiAbove)),
        resolve: (alert: AirQualityAlert) => alert,
      },
    },

    Mutation: {
      async registerMonitoringStation(
        _root: unknown,
        { input }: { input: WithMeta & { id?: string | null; code: string; name: string; kind: StationKind; location: { longitude: number; latitude: number }; divisionCode: string } },
        ctx: SubgraphContext,
      ) {
        const stationId = newEntityId(input.id, input, ctx.caller, 'registerMonitoringStation');
        const { code, name, kind, location, divisionCode } = input;
        const result = await registerMonitoringStation(
          ports(ctx, PROVENANCE.station, input),
          { stationId, code, name, kind, location: { longitude: location.longitude, latitude: location.latitude }, divisionCode },
          commandOptionsOf(input, ctx.caller),
        );
        return { station: await stationAfterWrite(ctx, stationId), positions: positionsOf(result), replayed: result.replayed };
      },

      async recordAirQualityObservation(
        _root: unknown,
        { input }: { input: WithMeta & { stationId: string; observedAt: string; concentrations: ConcentrationsInput } },
        ctx: SubgraphContext,
      ) {
        const observation: ObservationInput = { hour: input.observedAt, ...concentrationsFromInput(input.concentrations) };
        const result = await recordAirQualityObservations(ports(ctx, PROVENANCE.station, input), input.stationId, [observation], commandOptionsOf(input, ctx.caller));
        return { station: await stationAfterWrite(ctx, input.stationId), observations: observationsView(result), positions: positionsOf(result), replayed: result.replayed };
      },

      async recordAirQualityObservations(
        _root: unknown,
        { input }: { input: WithMeta & { stationId: string; observations: { observedAt: string; concentrations: ConcentrationsInput }[] } },
        ctx: SubgraphContext,
      ) {
        if (input.observations.length > MAX_OBSERVATIONS_PER_BATCH) {
          throw new ValidationError(
            `a batch holds at most ${MAX_OBSERVATIONS_PER_BATCH} hours (a month), got ${input.observations.length}; split it`,
            { field: 'observations' },
          );
        }
        const observations = input.observations.map((o): ObservationInput => ({ hour: o.observedAt, ...concentrationsFromInput(o.concentrations) }));
        const result = await recordAirQualityObservations(ports(ctx, PROVENANCE.station, input), input.stationId, observations, commandOptionsOf(input, ctx.caller));
        return { station: await stationAfterWrite(ctx, input.stationId), observations: observationsView(result), positions: positionsOf(result), replayed: result.replayed };
      },

      async ingestAirQualityObservations(
        _root: unknown,
        { input }: { input: WithMeta & { stations: { stationId: string; observations: { observedAt: string; concentrations: ConcentrationsInput }[] }[] } },
        ctx: SubgraphContext,
      ) {
        const count = input.stations.reduce((n, s) => n + s.observations.length, 0);
        if (count > MAX_OBSERVATIONS_PER_INGEST) {
          throw new ValidationError(`a batch holds at most ${MAX_OBSERVATIONS_PER_INGEST} observations, got ${count}; split it`, { field: 'stations' });
        }
        const batch = input.stations.map((s) => ({
          stationId: s.stationId,
          observations: s.observations.map((o): ObservationInput => ({ hour: o.observedAt, ...concentrationsFromInput(o.concentrations) })),
        }));
        const result = await ingestAirQualityObservations(ports(ctx, PROVENANCE.station, input), batch, commandOptionsOf(input, ctx.caller));
        return {
          recorded: result.events.length,
          stationDays: new Set(result.events.map((e) => e.streamId)).size,
          positions: positionsOf(result),
          replayed: result.replayed,
        };
      },

      async correctAirQualityObservation(
        _root: unknown,
        { input }: { input: WithMeta & { stationId: string; observedAt: string; concentrations: ConcentrationsInput; reason: string } },
        ctx: SubgraphContext,
      ) {
        const result = await correctAirQualityObservation(
          ports(ctx, PROVENANCE.station, input),
          { stationId: input.stationId, hour: input.observedAt, reason: input.reason, ...concentrationsFromInput(input.concentrations) },
          commandOptionsOf(input, ctx.caller),
        );
        return { station: await stationAfterWrite(ctx, input.stationId), observations: observationsView(result), positions: positionsOf(result), replayed: result.replayed };
      },

      async issueEmissionPermit(
        _root: unknown,
        { input }: { input: WithMeta & { id?: string | null; legalPersonId: string; permitNo: string; outlets: Outlet[]; validFrom: string; validUntil: string } },
        ctx: SubgraphContext,
      ) {
        const permitId = newEntityId(input.id, input, ctx.caller, 'issueEmissionPermit');
        const { legalPersonId, permitNo, outlets, validFrom, validUntil } = input;
        const result = await issueEmissionPermit(
          ports(ctx, PROVENANCE.permit, input),
          {
            permitId,
            legalPersonId,
            permitNo,
            outlets: outlets.map((o) => ({ outletId: o.outletId, name: o.name, pollutants: o.pollutants.map((p) => ({ ...p })) })),
            validFrom,
            validUntil,
          },
          commandOptionsOf(input, ctx.caller),
        );
        return { permit: await permitAfterWrite(ctx, permitId), positions: positionsOf(result), replayed: result.replayed };
      },

      async recordEmissionObservation(
        _root: unknown,
        { input }: { input: WithMeta & EmissionObserved['data'] },
        ctx: SubgraphContext,
      ) {
        const { permitId, outletId, pollutant, value, unit, observedAt } = input;
        const result = await recordEmissionObservation(
          ports(ctx, PROVENANCE.emission, input),
          { permitId, outletId, pollutant, value, unit, observedAt },
          commandOptionsOf(input, ctx.caller),
        );
        const permit = await permitAfterWrite(ctx, permitId);
        const [observed] = result.events;
        const exceeds = Boolean(permit && observed && exceedance(permit, observed.data as EmissionObserved['data']));
        return {
          permit,
          exceedsLimit: exceeds,
          alarmId: exceeds && observed ? alarmIdFor(observed.eventId) : null,
          positions: positionsOf(result),
          replayed: result.replayed,
        };
      },

      async acknowledgeEmissionAlarm(_root: unknown, { input }: { input: WithMeta & { alarmId: string; by: string } }, ctx: SubgraphContext) {
        const result = await acknowledgeEmissionAlarm(ports(ctx, PROVENANCE.alarm, input), { alarmId: input.alarmId, by: input.by }, commandOptionsOf(input, ctx.caller));
        return alarmPayload(input.alarmId, result);
      },

      async resolveEmissionAlarm(
        _root: unknown,
        { input }: { input: WithMeta & { alarmId: string; evidence: string[]; note: string } },
        ctx: SubgraphContext,
      ) {
        const result = await resolveEmissionAlarm(
          ports(ctx, PROVENANCE.alarm, input),
          { alarmId: input.alarmId, evidence: input.evidence, note: input.note },
          commandOptionsOf(input, ctx.caller),
        );
        return alarmPayload(input.alarmId, result);
      },
    },
  };
}
