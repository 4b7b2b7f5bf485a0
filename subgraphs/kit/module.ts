/**
 * What a domain subgraph hands to the composition root (`bin/`): its schema, its event types, its
 * projections and process managers, its resolvers (built over the runtime's ports), and its demo
 * data. `npm start` hosts every module in one process; production hosts one module per process.
 * Nothing here opens a connection: the root does, and passes the ports in.
 */
import type { DocumentNode } from 'graphql';
import type { Logger } from 'pino';
import type { EventTypeDefinition } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import type { EventStore } from '../../events/types.ts';
import type { PersonalDataPort } from '../../events/crypto/personalDataStore.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import type { ProcessManager } from '../../projections/processManager.ts';
import type { Projection } from '../../projections/types.ts';
import type { SubgraphName } from '../../platform/subgraphs.ts';
import type { SubgraphContext } from './context.ts';
import type { ClockReading } from './clock.ts';
import type { IngestKind } from './ingest.ts';
import type { SubgraphResolvers } from './server.ts';

export type { PersonalDataPort } from '../../events/crypto/personalDataStore.ts';

/** The ports a subgraph's resolvers, process managers and seed work against. */
export interface SubgraphRuntime {
  store: EventStore;
  readModels: ReadModels;
  /** The clock commands are decided at (tests pass a virtual one). */
  now: () => Date;
  /**
   * The clock, read for a figure that may say when it next changes (kit/clock.ts `readClock`);
   * given by a host that keeps answers, which holds one with such a figure until then.
   */
  readClock?: () => ClockReading;
  logger: Logger;
  /**
   * The SQL database under the store and read models, for the few queries that need it directly
   * (the hash chain's `integrity`); absent where a deployment does not share it with subgraphs.
   */
  db?: SqlDatabase;
  /** The data keys personal fields are encrypted with, where this process may erase them (governance). */
  personalData?: PersonalDataPort;
}


export interface SubgraphModule<Extra extends object = object> {
  name: SubgraphName;
  /** The parsed `schema.graphql` of the subgraph. */
  typeDefs: DocumentNode;
  /** Every event type this subgraph appends (registered once in the process's `EventRegistry`). */
  eventTypes: readonly EventTypeDefinition[];
  /** Read models this subgraph queries; they may consume other domains' events. */
  projections: readonly Projection[];
  /**
   * Process managers the root ticks with a `ProcessManagerRuntime`; each one's schedule is a
   * projection (`processManagerProjection`) the module also lists in `projections`.
   */
  processManagers?: readonly ProcessManager[];
  resolvers(runtime: SubgraphRuntime): SubgraphResolvers<SubgraphContext & Extra>;
  /**
   * Appends the demo city's data for this domain; called once, on an empty store, in dependency order.
   * `runtime.store` is write-behind (`BufferedEventStore`): commands run as usual, their appends are
   * written in large transactions, and what they return carries provisional positions until written.
   * Everything earlier modules seeded is written before a module's seed starts.
   */
  seed?(runtime: SubgraphRuntime): Promise<void>;
  /**
   * `'direct'` when the seed needs each append's stored position at once (it cites the events it
   * appends as evidence): each of its appends is then written before it returns. @default 'buffered'
   */
  seedWrites?: 'buffered' | 'direct';
  /** The kinds of records departments and sensors deliver to this domain through the aggregation channel (`ingest/`). */
  ingestKinds?: readonly IngestKind[];
}
