/**
 * One domain subgraph served over real HTTP for integration specs: its module's resolvers over a
 * real event store and read models on the given database, the kit's access enforcement, and requests
 * relayed the way the gateway relays them. Grants are either fixed per consumer (no governance
 * needed) or, with `grants: 'governance'`, folded from the consumers' streams by the governance
 * access that deployments use, every served request leaving its access record.
 * Modules listed in `with` contribute event types and projections only (e.g. population for the
 * legal-person subgraph, whose representatives are persons); `events` adds event types the subgraph
 * reads from other domains' streams without hosting their projections.
 */
import { pino } from 'pino';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { EventRegistry, type EventTypeDefinition } from '../../events/registry.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { createGovernanceAccess } from '../../subgraphs/governance/access.ts';
import { consumerEventDefinitions } from '../../subgraphs/governance/consumer/events.ts';
import type { AccessControl, AccessGrant, Jurisdiction } from '../../subgraphs/kit/access.ts';
import { dataAccessedDefinition } from '../../subgraphs/kit/dataAccessed.ts';
import type { SubgraphModule, SubgraphRuntime } from '../../subgraphs/kit/module.ts';
import { createSubgraphServer, type ListeningSubgraph } from '../../subgraphs/kit/server.ts';
import { postGraphQL, relayedHeaders, SUBGRAPH_TEST_AUTH, type SubgraphResponse } from './subgraphAuth.ts';

export interface SubgraphHarness {
  store: SqlEventStore;
  runtime: SubgraphRuntime;
  runner: ProjectionRunner;
  access: AccessControl;
  url: string;
  /** Applies every appended event to the read models. */
  catchUp(): Promise<void>;
  /** Sends one operation as `consumerId` (whose grants are the harness's `grants[consumerId]`). */
  ask<Data = Record<string, unknown>>(consumerId: string, query: string, variables?: Record<string, unknown>): Promise<SubgraphResponse<Data>['body']>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface SubgraphHarnessOptions {
  module: SubgraphModule;
  with?: readonly SubgraphModule[];
  /** Event types of other domains' streams the subgraph reads, beyond those of its modules. */
  events?: readonly EventTypeDefinition[];
  /** Fixed grants per consumer, or the governance access over the consumers' streams (grant with `testGrants`). */
  grants: Readonly<Record<string, readonly AccessGrant[]>> | 'governance';
  /** With fixed grants: each consumer's jurisdiction (none when absent). */
  jurisdictions?: Readonly<Record<string, Jurisdiction>>;
  /**
   * `'running'`: the projector follows the log as a deployment's does; `'on-demand'`: read models
   * change only on `catchUp()`. @default 'on-demand'
   */
  projector?: 'on-demand' | 'running';
  now?: () => Date;
  /** How long a query sent with `x-min-position` waits for the read models. @default 5000 */
  readAfterWriteMaxWaitMs?: number;
}

/** What a spec serving a subgraph started; a part is missing when the spec's setup failed before it. */
export interface ServedSubgraphParts {
  server?: ListeningSubgraph;
  access?: AccessControl;
  runner?: ProjectionRunner;
  store?: { close(): Promise<void> };
}

/** Stops a served subgraph: the server first, so no request meets a closed recorder, a stopped projector or a closed store. */
export async function closeServedSubgraph({ server, access, runner, store }: ServedSubgraphParts): Promise<void> {
  await server?.close();
  await access?.recorder?.close();
  await runner?.stop();
  await store?.close();
}

/** A grant of `resources` for `actions`, valid for the whole test. */
export function grantOf(resources: readonly string[], actions: AccessGrant['actions'] = ['READ'], masked = false): AccessGrant {
  return { grantId: `grant-${resources.join('+')}-${actions.join('+')}`, resources, actions, masked, purpose: 'integration test' };
}

export async function startSubgraphHarness(db: SqlDatabase, options: SubgraphHarnessOptions): Promise<SubgraphHarness> {
  const modules = [options.module, ...(options.with ?? [])];
  const registry = new EventRegistry();
  for (const module of modules) registry.registerAll(module.eventTypes);
  const governed = options.grants === 'governance';
  const extraEvents = [...(options.events ?? []), ...(governed ? [...consumerEventDefinitions, dataAccessedDefinition] : [])];
  for (const definition of extraEvents) if (!registry.has(definition.type)) registry.register(definition);
  const store = await SqlEventStore.open(db, registry);
  const logger = pino({ level: 'silent' });
  const runtime: SubgraphRuntime = { store, readModels: new SqlReadModels(db, 0), now: options.now ?? (() => new Date()), logger };
  const fixedGrants = options.grants === 'governance' ? {} : options.grants;
  const access: AccessControl = governed
    ? createGovernanceAccess(runtime, { recorder: { maxDelayMs: 5 } })
    : {
        principalFor: async (consumerId) => ({ grants: fixedGrants[consumerId] ?? [], jurisdiction: options.jurisdictions?.[consumerId] ?? null }),
        // The units are those the fixed jurisdictions name.
        unit: async (unitId) => {
          const found = Object.values(options.jurisdictions ?? {}).find((j) => j.unitId === unitId);
          return found?.unitId !== undefined && found.unitName !== undefined ? { divisionCode: found.divisionCode, unitId: found.unitId, unitName: found.unitName } : null;
        },
        recorder: null,
      };
  const runner = new ProjectionRunner(db, store, modules.flatMap((m) => m.projections), { batchSize: 500, lockRetryMs: 100 });
  // The read models exist before the first request, as they do once a projector has started.
  if (options.projector === 'running') await runner.start();
  else await runner.catchUp();
  const server: ListeningSubgraph = await createSubgraphServer({
    name: options.module.name,
    typeDefs: options.module.typeDefs,
    resolvers: options.module.resolvers(runtime),
    auth: SUBGRAPH_TEST_AUTH,
    access,
    logger,
    now: runtime.now,
    readAfterWrite: { readModels: runtime.readModels, projections: modules.flatMap((m) => m.projections.map((p) => p.name)), maxWaitMs: options.readAfterWriteMaxWaitMs ?? 5000 },
  }).listen(0);
  const close = () => closeServedSubgraph({ server, access, runner, store });
  return {
    store,
    runtime,
    runner,
    access,
    url: server.url,
    catchUp: () => runner.catchUp(),
    async ask<Data>(consumerId: string, query: string, variables?: Record<string, unknown>) {
      return (await postGraphQL<Data>(server.url, await relayedHeaders(consumerId), query, variables)).body;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
