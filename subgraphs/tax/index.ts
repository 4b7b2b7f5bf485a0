/**
 * The tax subgraph (税收治理, §(十九)): taxpayers, declarations and payments; property transactions
 * shared by the housing and land departments and the deed-tax deadline process over them.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { processManagerProjection } from '../../projections/processManager.ts';
import type { SubgraphModule } from '../kit/module.ts';
import { createDeedTaxDeadlineManager, DEFAULT_DEED_TAX_DEADLINE_DAYS } from './processes/deedTaxDeadlines.ts';
import { propertyTransactionEventDefinitions } from './propertyTransaction/events.ts';
import { taxRegisterProjection } from './readModels/taxRegister.ts';
import { taxIngestKinds } from './ingest.ts';
import { createTaxResolvers } from './resolvers.ts';
import { seedTax } from './seed.ts';
import { taxCommandsEventTypes } from './taxCommands.ts';
import { taxpayerEventDefinitions } from './taxpayer/events.ts';

export const taxTypeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface TaxModuleOptions {
  /** Days after the contract date within which a buyer declares deed tax. @default 30 */
  deedTaxDeadlineDays?: number;
}

export function createTaxModule(options: TaxModuleOptions = {}): SubgraphModule {
  const deedTaxDeadlineDays = options.deedTaxDeadlineDays ?? DEFAULT_DEED_TAX_DEADLINE_DAYS;
  const deadlines = createDeedTaxDeadlineManager({ deadlineDays: deedTaxDeadlineDays });
  return {
    name: 'tax',
    typeDefs: taxTypeDefs,
    eventTypes: [...taxpayerEventDefinitions, ...propertyTransactionEventDefinitions, ...taxCommandsEventTypes],
    projections: [taxRegisterProjection, processManagerProjection(deadlines)],
    processManagers: [deadlines],
    resolvers: (runtime) => createTaxResolvers(runtime, { deedTaxDeadlineDays }),
    seed: (runtime) => seedTax(runtime),
    ingestKinds: taxIngestKinds,
  };
}

export const taxModule: SubgraphModule = createTaxModule();
