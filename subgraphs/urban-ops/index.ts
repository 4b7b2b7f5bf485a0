/**
 * The urban-operations subgraph (城市运行一网统管, §(十三)): the incident closed loop over four levels,
 * its read models and metrics, the deadline process manager, and the demo incidents.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { processManagerProjection } from '../../projections/processManager.ts';
import type { SubgraphModule } from '../kit/module.ts';
import { caseSerialAllocated } from './caseSerials.ts';
import { deadlineManager } from './processes/deadlines.ts';
import { incidentEventDefinitions } from './incident/events.ts';
import { urbanOpsIngestKinds } from './ingest.ts';
import { incidentsProjection } from './readModels/incidentsProjection.ts';
import { urbanOpsResolvers } from './resolvers.ts';
import { seedIncidents } from './seed.ts';

export const urbanOpsTypeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const urbanOpsModule: SubgraphModule = {
  name: 'urban-ops',
  typeDefs: urbanOpsTypeDefs,
  eventTypes: [...incidentEventDefinitions, caseSerialAllocated],
  projections: [incidentsProjection, processManagerProjection(deadlineManager)],
  processManagers: [deadlineManager],
  resolvers: (runtime) => urbanOpsResolvers(runtime),
  seed: (runtime) => seedIncidents(runtime),
  ingestKinds: urbanOpsIngestKinds,
};
