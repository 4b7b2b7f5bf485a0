/**
 * The governance subgraph (数据授权应用, DESIGN §2): the data catalog, consumers and their grants,
 * and the access records every subgraph writes. `createGovernanceAccess` is what the composition
 * root passes to every subgraph server.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import type { SubgraphModule } from '../kit/module.ts';
import { dataAccessedDefinition } from '../kit/dataAccessed.ts';
import { consumerEventDefinitions } from './consumer/events.ts';
import { withAuditQueries } from './audit-queries/resolvers.ts';
import { dataIssueEventDefinitions } from './dataIssue/events.ts';
import { erasureEventDefinitions } from './erasure/events.ts';
import { ingestBatchEventDefinitions } from './ingest/events.ts';
import { ingestBatchesProjection } from './ingest/projection.ts';
import { withIngestBatches } from './ingest/resolvers.ts';
import { dataIssuesProjection } from './dataIssue/projection.ts';
import { usageProjection } from './audit-queries/usage.ts';
import { accessLogProjection } from './readModels/accessLog.ts';
import { consumersProjection } from './readModels/consumers.ts';
import { governanceResolvers } from './resolvers.ts';
import { seedDemoConsumers } from './seed.ts';

export { createGovernanceAccess, type GovernanceAccessOptions } from './access.ts';
/** Every process that hosts any subgraph appends access records: its registry needs this type. */
export { dataAccessedDefinition } from '../kit/dataAccessed.ts';
export { ADMIN, AUDITOR, DEMO_CONSUMER_ROLES, DEMO_CONSUMERS, DEMO_DASHBOARD, DEMO_GRANTS, DEMO_OPS_EXAMPLES, PARTNER_APP } from './seed.ts';

export const governanceModule: SubgraphModule = {
  name: 'governance',
  typeDefs: parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8')),
  eventTypes: [...consumerEventDefinitions, dataAccessedDefinition, ...dataIssueEventDefinitions, ...ingestBatchEventDefinitions, ...erasureEventDefinitions],
  projections: [consumersProjection, accessLogProjection, usageProjection, dataIssuesProjection, ingestBatchesProjection],
  resolvers: (runtime) => withIngestBatches(withAuditQueries(governanceResolvers(runtime), runtime), runtime),
  seed: seedDemoConsumers,
};
