/** The population subgraph (人口综合库) as the composition root hosts it. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import type { SubgraphModule } from '../kit/module.ts';
import { idNumbers } from './handlers.ts';
import { populationIngestKinds } from './ingest.ts';
import { householdEventDefinitions } from './household/events.ts';
import { personEventDefinitions } from './person/events.ts';
import { divisionStatsProjection } from './readModels/divisionStats.ts';
import { registryProjection } from './readModels/registry.ts';
import { createPopulationResolvers } from './resolvers.ts';
import { seedPopulation } from './seed.ts';
import { demoCityConfig } from '../kit/demoCity.ts';

export const populationModule: SubgraphModule = {
  name: 'population',
  typeDefs: parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8')),
  eventTypes: [...personEventDefinitions, ...householdEventDefinitions, ...idNumbers.eventTypes],
  projections: [registryProjection, divisionStatsProjection],
  resolvers: createPopulationResolvers,
  ingestKinds: populationIngestKinds,
  async seed(runtime) {
    await seedPopulation(runtime, { people: demoCityConfig().people });
  },
};
