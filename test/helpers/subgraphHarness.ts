/**
 * One domain subgraph served over real HTTP for integration specs: its module's resolvers over a
 * real event store and read models on the given database, the kit's access enforcement with fixed
 * grants per consumer (no governance needed), and requests relayed the way the gateway relays them.
 * Modules listed in `with` contribute event types and projections only (e.g. population for the
 * legal-person subgraph, whose representatives are persons).
 */
import { pino } from 'pino';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { EventRegistry } from '../../events/registry.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { ReadModels } from '../../projections/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import type { AccessGrant } from '../../subgraphs/kit/access.ts';
import type { SubgraphModule, SubgraphRuntime } from '../../subgraphs/kit/module.ts';
import { createSubgraphServer, type ListeningSubgraph } from '../../subgraphs/kit/server.ts';
import { postGraphQL, relayedHeaders, SUBGRAPH_TEST_AUTH, type SubgraphResponse } from './subgraphAuth.ts';

export interface SubgraphHarness {
  store: SqlEventStore;
  runtime: SubgraphRuntime;
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
  grants: Readonly<Record<string, readonly AccessGrant[]>>;
  now?: () => Date;
}

/** A grant of `resources` for `actions`, valid for the whole test. */
export function grantOf(resources: readonly string[], actions: AccessGrant['actions'] = ['READ'], masked = false): AccessGrant {
  return { grantId: `grant-${resources.join('+')}-${actions.join('+')}`, resources, actions, masked, purpose: 'integration test' };
}

export async function startSubgraphHarness(db: SqlDatabase, options: SubgraphHarnessOptions): Promise<SubgraphHarness> {
  const modules = [options.module, ...(options.with ?? [])];
  const registry = new EventRegistry();
  for (const module of modules) registry.registerAll(module.eventTypes);
  const store = await SqlEventStore.open(db, registry);
  const logger = pino({ level: 'silent' });
  const runtime: SubgraphRuntime = { store, readModels: new ReadModels(db, 0), now: options.now ?? (() => new Date()), logger };
  const runner = new ProjectionRunner(db, store, modules.flatMap((m) => m.projections), { batchSize: 500 });
  // The read models exist before the first request, as they do once a projector has started.
  await runner.catchUp();
  const server: ListeningSubgraph = await createSubgraphServer({
    name: options.module.name,
    typeDefs: options.module.typeDefs,
    resolvers: options.module.resolvers(runtime),
    auth: SUBGRAPH_TEST_AUTH,
    access: { grantsFor: async (consumerId) => options.grants[consumerId] ?? [], recorder: null },
    logger,
  }).listen(0);
  const close = async () => {
    await server.close();
    await runner.stop();
    await store.close();
  };
  return {
    store,
    runtime,
    url: server.url,
    catchUp: () => runner.catchUp(),
    async ask<Data>(consumerId: string, query: string, variables?: Record<string, unknown>) {
      return (await postGraphQL<Data>(server.url, await relayedHeaders(consumerId), query, variables)).body;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
