/**
 * The environment subgraph (生态环境一体监管, §(十六)(十七)): air-quality stations and their hourly
 * observations with the HJ 633-2012 AQI, the districts' daily ranking, discharge permits with online
 * monitoring, and the alarm closed loop run by two process managers.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { processManagerProjection } from '../../projections/processManager.ts';
import type { SubgraphModule } from '../kit/module.ts';
import { environmentConfig, type EnvironmentConfig } from './config.ts';
import { emissionEventDefinitions } from './emission/events.ts';
import { environmentIngestKinds } from './ingest.ts';
import { alarmEscalationManager, exceedanceAlarmManager } from './processes/emissionAlarms.ts';
import { airQualityProjection } from './readModels/airQuality.ts';
import { emissionsProjection } from './readModels/emissions.ts';
import { rankingProjection } from './readModels/ranking.ts';
import { environmentResolvers } from './resolvers.ts';
import { seedEnvironment } from './seed.ts';
import { stationEventDefinitions } from './station/events.ts';

export const environmentTypeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/** The module with explicit operating rules (tests use short acknowledgement times). */
export function createEnvironmentModule(config: EnvironmentConfig): SubgraphModule {
  const managers = [exceedanceAlarmManager(config), alarmEscalationManager()];
  return {
    name: 'environment',
    typeDefs: environmentTypeDefs,
    eventTypes: [...stationEventDefinitions, ...emissionEventDefinitions],
    projections: [airQualityProjection, rankingProjection, emissionsProjection, ...managers.map((m) => processManagerProjection(m))],
    processManagers: managers,
    resolvers: (runtime) => environmentResolvers(runtime, config),
    seed: (runtime) => seedEnvironment(runtime, config),
    ingestKinds: environmentIngestKinds,
  };
}

/** Configured from `ENVIRONMENT_ALERT_AQI_ABOVE` and `ENVIRONMENT_ALARM_ACKNOWLEDGE_MINUTES` (config.ts). */
export const environmentModule: SubgraphModule = createEnvironmentModule(environmentConfig());
