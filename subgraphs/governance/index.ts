/**
 * The governance subgraph (数据授权应用, DESIGN §2): the data catalog, consumers and their grants,
 * and the access records every subgraph writes. `createGovernanceAccess` is what the composition
 * root passes to every subgraph server.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { storageConfigSchema, parseConfig } from '../../events/config.ts';
import { scopesOf } from '../../events/crypto/personalFields.ts';
import { assertRetentionResources, type RetentionRule } from '../../events/crypto/retentionRules.ts';
import { processManagerProjection } from '../../projections/processManager.ts';
import type { SubgraphModule } from '../kit/module.ts';
import { personalFieldRules } from '../kit/personalData.ts';
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
import { retentionManager } from './processes/retention.ts';
import { governanceResolvers } from './resolvers.ts';
import { seedDemoConsumers } from './seed.ts';

export { createGovernanceAccess, type GovernanceAccessOptions } from './access.ts';
/** Every process that hosts any subgraph appends access records: its registry needs this type. */
export { dataAccessedDefinition } from '../kit/dataAccessed.ts';
export { ADMIN, AUDITOR, DEMO_CONSUMER_ROLES, DEMO_CONSUMERS, DEMO_DASHBOARD, DEMO_GRANTS, DEMO_OPS_EXAMPLES, PARTNER_APP } from './seed.ts';

const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface GovernanceConfig {
  /** Retention rules per resource, run by the retention process manager (none: no manager). */
  retention: readonly RetentionRule[];
}

/**
 * `PERSONAL_DATA_RETENTION` (events/crypto/retentionRules.ts), validated at start: a malformed rule,
 * or one naming a resource no personal data is sealed under, stops it with every mistake named.
 */
export function governanceConfig(env: Record<string, string | undefined> = process.env): GovernanceConfig {
  const { PERSONAL_DATA_RETENTION: retention } = parseConfig(storageConfigSchema.pick({ PERSONAL_DATA_RETENTION: true }), env);
  assertRetentionResources(retention, scopesOf(personalFieldRules()));
  return { retention };
}

/** The module with explicit retention rules (tests pass their own). */
export function createGovernanceModule(config: GovernanceConfig): SubgraphModule {
  const managers = config.retention.length ? [retentionManager(config.retention)] : [];
  return {
    name: 'governance',
    typeDefs,
    eventTypes: [...consumerEventDefinitions, dataAccessedDefinition, ...dataIssueEventDefinitions, ...ingestBatchEventDefinitions, ...erasureEventDefinitions],
    projections: [consumersProjection, accessLogProjection, usageProjection, dataIssuesProjection, ingestBatchesProjection, ...managers.map((m) => processManagerProjection(m))],
    processManagers: managers,
    resolvers: (runtime) => withIngestBatches(withAuditQueries(governanceResolvers(runtime), runtime), runtime),
    seed: seedDemoConsumers,
  };
}

/** Configured from `PERSONAL_DATA_RETENTION`. */
export const governanceModule: SubgraphModule = createGovernanceModule(governanceConfig());
