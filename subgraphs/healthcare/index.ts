/**
 * The healthcare subgraph (三医联动, §(二十)): health records with exam-result mutual recognition,
 * medical-insurance claims screened before settlement, the process manager reacting to deaths, and
 * the demo data.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { processManagerProjection } from '../../projections/processManager.ts';
import type { SubgraphModule } from '../kit/module.ts';
import { claimEventDefinitions } from './claim/events.ts';
import { deceasedManager } from './processes/deceased.ts';
import { healthRecordEventDefinitions } from './healthRecord/events.ts';
import { healthcareIngestKinds } from './ingest.ts';
import { healthcareProjection } from './readModels/projection.ts';
import { healthcareResolvers } from './resolvers.ts';
import { seedHealthcare } from './seed.ts';

export const healthcareTypeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const healthcareModule: SubgraphModule = {
  name: 'healthcare',
  typeDefs: healthcareTypeDefs,
  eventTypes: [...healthRecordEventDefinitions, ...claimEventDefinitions],
  projections: [healthcareProjection, processManagerProjection(deceasedManager)],
  processManagers: [deceasedManager],
  resolvers: (runtime) => healthcareResolvers(runtime),
  seed: (runtime) => seedHealthcare(runtime),
  // Screening facts cite the visits' and settlements' events by position, so each append is written at once.
  seedWrites: 'direct',
  ingestKinds: healthcareIngestKinds,
};
