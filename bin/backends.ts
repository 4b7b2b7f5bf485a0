/**
 * Which event store and which read models a process opens, from the environment (`EVENT_STORE`,
 * `READ_MODELS` and their servers' URLs), and the opening of the read side. What is supported:
 * - `EVENT_STORE=sql` (default): the log in PGlite, or in PostgreSQL when `DATABASE_URL` is set,
 *   with `READ_MODELS=sql` (default: the same database) or `READ_MODELS=mongodb`;
 * - `EVENT_STORE=kurrentdb` with `READ_MODELS=mongodb`: no SQL database at all.
 * Refused: KurrentDB with SQL read models, because the SQL projector follows the SQL log itself
 * (its catch-up target and its wake-ups come from the `es_events` table).
 * What only the SQL event store has, and a KurrentDB deployment therefore goes without (the commands
 * that need it say so): the hash chain over the log (its seals, `verify`, `integrity`), the data
 * directory's lock, and the advisory locks by which one process sets up the schema or seeds the
 * demo city. Access records are events like any other, kept by whichever store is chosen.
 */
import { z } from 'zod';
import { storageConfigSchema } from '../events/config.ts';
import { ValidationError } from '../events/errors.ts';
// The clients of the other backends load only where they are configured (`open…` below): a start on the SQL store does not pay for them.
import type { KurrentEventStore, KurrentEventStoreOptions } from '../events/kurrentdb/kurrentEventStore.ts';
import { kurrentConfigSchema } from '../events/kurrentdb/config.ts';
import type { EventRegistry } from '../events/registry.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { EventStore } from '../events/types.ts';
import { mongoConfigSchema } from '../projections/mongodb/config.ts';
import type { MongoReadModelDatabase, OpenMongoOptions } from '../projections/mongodb/mongoDocumentStore.ts';
import type { Projector, ReadModels } from '../projections/readModels.ts';
import { ProjectionRunner, type RunnerOptions } from '../projections/runner.ts';
import { SqlReadModels } from '../projections/sql/readModels.ts';
import type { Projection } from '../projections/types.ts';

const eventStoreShape = {
  EVENT_STORE: z.enum(['sql', 'kurrentdb'], { message: 'must be sql (PGlite, or PostgreSQL when DATABASE_URL is set) or kurrentdb' }).default('sql'),
  KURRENTDB_URL: kurrentConfigSchema.shape.KURRENTDB_URL.optional(),
  KURRENTDB_STREAM_PREFIX: kurrentConfigSchema.shape.KURRENTDB_STREAM_PREFIX,
};

const readModelShape = {
  READ_MODELS: z.enum(['sql', 'mongodb'], { message: "must be sql (in the SQL event store's database) or mongodb" }).default('sql'),
  MONGODB_URL: mongoConfigSchema.shape.MONGODB_URL.optional(),
};

interface Selection {
  EVENT_STORE?: 'sql' | 'kurrentdb';
  KURRENTDB_URL?: string | undefined;
  READ_MODELS?: 'sql' | 'mongodb';
  MONGODB_URL?: string | undefined;
}

/** A chosen backend needs its server's URL; KurrentDB events need MongoDB read models. */
function checkSelection(config: Selection, ctx: z.RefinementCtx): void {
  if (config.EVENT_STORE === 'kurrentdb' && !config.KURRENTDB_URL) {
    ctx.addIssue({ code: 'custom', path: ['KURRENTDB_URL'], message: 'required when EVENT_STORE=kurrentdb, e.g. kurrentdb://127.0.0.1:2113?tls=false' });
  }
  if (config.READ_MODELS === 'mongodb' && !config.MONGODB_URL) {
    ctx.addIssue({ code: 'custom', path: ['MONGODB_URL'], message: 'required when READ_MODELS=mongodb, e.g. mongodb://127.0.0.1:27017/citybrain?replicaSet=rs0' });
  }
  if (config.EVENT_STORE === 'kurrentdb' && config.READ_MODELS === 'sql') {
    ctx.addIssue({
      code: 'custom',
      path: ['READ_MODELS'],
      message: 'sql read models need EVENT_STORE=sql (the SQL projector follows the SQL log); with EVENT_STORE=kurrentdb set READ_MODELS=mongodb',
    });
  }
}

export const eventStoreConfigSchema = z.object(eventStoreShape).superRefine(checkSelection);
export const readModelConfigSchema = z.object(readModelShape).superRefine(checkSelection);
/** Everything a process is configured by: storage (`events/config.ts`), and which event store and read models. */
export const platformConfigSchema = storageConfigSchema.extend({ ...eventStoreShape, ...readModelShape }).superRefine(checkSelection);
export type EventStoreConfig = z.infer<typeof eventStoreConfigSchema>;
export type ReadModelConfig = z.infer<typeof readModelConfigSchema>;
export type PlatformConfig = z.infer<typeof platformConfigSchema>;

/** A server that does not answer is a configuration mistake: one line naming the variable, as `DATABASE_URL`'s. */
async function reachable<T>(variable: string, opening: Promise<T>): Promise<T> {
  try {
    return await opening;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(`invalid configuration:\n  ${variable}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The KurrentDB store `EVENT_STORE=kurrentdb` names, checked to answer. */
export async function openConfiguredKurrent(config: EventStoreConfig, registry: EventRegistry, options: Omit<KurrentEventStoreOptions, 'streamPrefix'> = {}): Promise<KurrentEventStore> {
  if (config.EVENT_STORE !== 'kurrentdb' || !config.KURRENTDB_URL) throw new Error('openConfiguredKurrent: EVENT_STORE is not kurrentdb');
  const streamPrefix = config.KURRENTDB_STREAM_PREFIX;
  const { openKurrentEventStore } = await import('../events/kurrentdb/kurrentEventStore.ts');
  return reachable('KURRENTDB_URL', openKurrentEventStore(config.KURRENTDB_URL, registry, { ...options, ...(streamPrefix && { streamPrefix }) }));
}

/** The read side a process works with: the query port, and projectors over it. */
export interface ReadModelBackend {
  readModels: ReadModels;
  /** A projector of `projections` from `store` into these read models. */
  projector(store: EventStore, projections: readonly Projection[], options?: RunnerOptions): Projector;
  close(): Promise<void>;
}

/**
 * Read models in the SQL event store's database; the caller owns `db`. The store given to
 * `projector` is the SQL store over `db`: the SQL projector reads the log's table for its catch-up
 * target and is woken by its notifications.
 */
export function sqlReadModelBackend(db: SqlDatabase): ReadModelBackend {
  return {
    readModels: new SqlReadModels(db),
    projector: (store, projections, options) => new ProjectionRunner(db, store, projections, options),
    close: async () => undefined,
  };
}

/** Read models in the MongoDB `READ_MODELS=mongodb` names, checked to answer; `mongo` is what the backend holds open. */
export async function openMongoReadModelBackend(config: ReadModelConfig, options: OpenMongoOptions = {}): Promise<ReadModelBackend & { mongo: MongoReadModelDatabase }> {
  if (config.READ_MODELS !== 'mongodb' || !config.MONGODB_URL) throw new Error('openMongoReadModelBackend: READ_MODELS is not mongodb');
  const [{ openMongoDocumentStore }, { MongoProjectionRunner }] = await Promise.all([
    import('../projections/mongodb/mongoDocumentStore.ts'),
    import('../projections/mongodb/mongoProjectionRunner.ts'),
  ]);
  const mongo = await reachable('MONGODB_URL', openMongoDocumentStore(config.MONGODB_URL, options));
  return {
    mongo,
    readModels: mongo.readModels,
    projector: (store, projections, options) => new MongoProjectionRunner(mongo, store, projections, options),
    close: () => mongo.close(),
  };
}
