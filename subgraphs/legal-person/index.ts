/** The legal-person subgraph (法人综合库) as the composition root hosts it. */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import type { SubgraphModule } from '../kit/module.ts';
import { creditCodes } from './handlers.ts';
import { legalPersonIngestKinds } from './ingest.ts';
import { legalPersonEventDefinitions } from './legalPerson/events.ts';
import { legalPersonsProjection } from './readModels/legalPersons.ts';
import { createLegalPersonResolvers } from './resolvers.ts';
import { seedLegalPersons } from './seed.ts';
import { demoCityConfig } from '../kit/demoCity.ts';
import { shellCompanyFactsProjection } from './shellCompany/index.ts';

export const legalPersonModule: SubgraphModule = {
  name: 'legal-person',
  typeDefs: parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8')),
  eventTypes: [...legalPersonEventDefinitions, ...creditCodes.eventTypes],
  projections: [legalPersonsProjection, shellCompanyFactsProjection],
  resolvers: createLegalPersonResolvers,
  ingestKinds: legalPersonIngestKinds,
  /** Needs the population seeded first: its people are the legal representatives. */
  async seed(runtime) {
    const { people, legalPersons } = demoCityConfig();
    await seedLegalPersons(runtime, { count: legalPersons, people });
  },
};
