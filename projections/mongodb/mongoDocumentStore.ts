/**
 * Read-model documents in MongoDB, behind the same `DocumentStore` port as the SQL store: one MongoDB
 * collection per read-model collection of a projection build, documents
 * `{ _id, doc, sources, pos? }` with per-field provenance kept exactly as the SQL store keeps it.
 *
 * Writes take a `WriteScope`: inside the runner's transaction (replica set or sharded cluster) they
 * carry its session; on a standalone server, where MongoDB has no transactions, each write carries
 * the position of the event being applied and only changes a document no newer event has written
 * (`pos`), so re-applying a batch after a crash is a no-op for what was already written.
 */
import { MongoClient, MongoServerError, type ClientSession, type Collection as MongoCollectionHandle, type Db } from 'mongodb';
import { ValidationError } from '../../events/errors.ts';
import { parseConfig } from '../../events/config.ts';
import { mongoConfigSchema } from './config.ts';
import { MAX_PAGE, decodeCursor, encodeCursor, sourcesFor } from '../sql/documentStore.ts';
import type { Position } from '../../events/types.ts';
import { activeBuildLocator, type ReadModels } from '../readModels.ts';
import type { Collection, Doc, DocumentStore, FieldSource, FindOptions, Page, StoredDoc, Where } from '../types.ts';
import { assertStorableFields, buildCollectionName, docPath, keysetFilter, olderThan, sortSpec, whereToFilter, type MongoFilter } from './query.ts';

export interface StoredRow {
  _id: string;
  doc: Doc;
  sources: Record<string, FieldSource>;
  /** Fallback only: `positionKey` of the event that last wrote the document. */
  pos?: string;
}

/** How writes are made: in a transaction (`session`), or guarded by the position being applied. */
export interface WriteScope {
  session?: ClientSession;
  /** `positionKey` of the event being applied, when writes are guarded instead of transactional. */
  guardKey?: () => string | undefined;
}

const DUPLICATE_KEY = 11000;

function toStored<T extends Doc>(row: StoredRow): StoredDoc<T> {
  return { id: row._id, doc: row.doc as T, fieldSources: row.sources ?? {} };
}

/** JSON in, JSON out, as the SQL store's jsonb: `undefined` members vanish, dates become strings. */
function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class MongoCollection<T extends Doc> implements Collection<T> {
  constructor(
    private readonly handle: () => Promise<MongoCollectionHandle<StoredRow>>,
    private readonly scope: WriteScope = {},
  ) {}

  private get session(): { session?: ClientSession } {
    return this.scope.session ? { session: this.scope.session } : {};
  }

  async get(id: string): Promise<StoredDoc<T> | undefined> {
    const row = await (await this.handle()).findOne({ _id: id }, this.session);
    return row ? toStored<T>(row) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<(StoredDoc<T> | undefined)[]> {
    if (ids.length === 0) return [];
    const rows = await (await this.handle()).find({ _id: { $in: [...new Set(ids)] } }, this.session).toArray();
    const byId = new Map(rows.map((r) => [r._id, toStored<T>(r)]));
    return ids.map((id) => byId.get(id));
  }

  async find(options: FindOptions = {}): Promise<Page<T>> {
    const first = Math.min(options.first ?? 50, MAX_PAGE);
    if (first < 0) throw new ValidationError('"first" must not be negative');
    const filters: MongoFilter[] = [whereToFilter(options.where)];
    if (options.after) {
      const [sortValue, id] = decodeCursor(options.after);
      filters.push(keysetFilter(options.sortBy, options.direction, sortValue, id));
    }
    const sort = sortSpec(options.sortBy, options.direction);
    const rows = await (await this.handle())
      .find({ $and: filters }, this.session)
      .sort(sort)
      .limit(first + 1)
      .toArray();
    const sortBy = options.sortBy;
    const items = rows.slice(0, first).map((r) => ({ cursor: encodeCursor(sortBy ? r.doc[sortBy] : null, r._id), node: toStored<T>(r) }));
    return { items, hasNextPage: rows.length > first, endCursor: items.length ? items[items.length - 1]!.cursor : null };
  }

  async count(where?: Where): Promise<number> {
    return (await this.handle()).countDocuments(whereToFilter(where), this.session);
  }

  /** The filter for a write: the id, plus "no newer event wrote it" when writes are guarded. */
  private target(id: string): MongoFilter {
    const key = this.scope.guardKey?.();
    return key === undefined ? { _id: id } : { _id: id, ...olderThan(key) };
  }

  private guardFields(): { pos?: string } {
    const key = this.scope.guardKey?.();
    return key === undefined ? {} : { pos: key };
  }

  /** A guarded upsert that finds the document newer than the write hits its `_id`: that write is a no-op. */
  private async ignoringNewer(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (this.scope.guardKey?.() !== undefined && err instanceof MongoServerError && err.code === DUPLICATE_KEY) return;
      throw err;
    }
  }

  async upsert(id: string, doc: T, source: FieldSource): Promise<void> {
    assertStorableFields(doc);
    const replacement = { doc: asJson(doc), sources: sourcesFor(doc, source), ...this.guardFields() };
    const handle = await this.handle();
    await this.ignoringNewer(() => handle.replaceOne(this.target(id), replacement, { upsert: true, ...this.session }));
  }

  async patch(id: string, fields: Partial<T>, source: FieldSource): Promise<void> {
    assertStorableFields(fields);
    const set: Record<string, unknown> = { ...this.guardFields() };
    for (const [key, value] of Object.entries(asJson(fields))) set[docPath(key)] = value;
    for (const [key, value] of Object.entries(sourcesFor(fields, source))) set[`sources.${key}`] = value;
    const handle = await this.handle();
    // An empty `doc`/`sources` on insert keeps a patch of no fields a valid, empty document (as SQL's `{}`).
    const update = {
      ...(Object.keys(set).length > 0 && { $set: set }),
      ...(Object.keys(fields).length === 0 && { $setOnInsert: { doc: {}, sources: {} } }),
    };
    await this.ignoringNewer(() => handle.updateOne(this.target(id), update, { upsert: true, ...this.session }));
  }

  async delete(id: string): Promise<void> {
    await (await this.handle()).deleteOne(this.target(id), this.session);
  }
}

/** The documents of one projection build: `collectionName(name)` says where collection `name` lives. */
export class MongoDocumentStore implements DocumentStore {
  constructor(
    private readonly db: Db,
    private readonly prefix: () => Promise<string>,
    private readonly scope: WriteScope = {},
  ) {}

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return new MongoCollection<T>(async () => this.db.collection<StoredRow>(buildCollectionName(await this.prefix(), name)), this.scope);
  }
}

/** One row per projection build, as the SQL runner's `proj_builds`. */
export interface MongoBuild {
  _id: string;
  name: string;
  buildId: string;
  version: number;
  /** Prefix of this build's collections (`rm.<name>.v<version>.<buildId>`). */
  prefix: string;
  checkpoint: string;
  status: 'active' | 'building' | 'retired';
  createdAt: Date;
  updatedAt: Date;
  activatedAt?: Date;
  droppedAt?: Date;
}

export const BUILDS = 'proj_builds';

/**
 * The query side: the documents of a projection's active build. The build is cached for
 * `refreshMs`, so a swap after a rebuild reaches readers within that time.
 */
export class MongoReadModels implements ReadModels {
  private readonly activePrefix: (name: string) => Promise<string>;

  constructor(
    private readonly db: Db,
    refreshMs = 1000,
  ) {
    this.activePrefix = activeBuildLocator(refreshMs, async (name) => (await db.collection<MongoBuild>(BUILDS).findOne({ name, status: 'active' }))?.prefix);
  }

  async checkpoints(names: readonly string[]): Promise<Map<string, Position>> {
    const active = await this.db
      .collection<MongoBuild>(BUILDS)
      .find({ status: 'active', name: { $in: [...names] } })
      .toArray();
    return new Map(active.map((b) => [b.name, b.checkpoint]));
  }

  of(name: string): DocumentStore {
    return new MongoDocumentStore(this.db, () => this.activePrefix(name));
  }
}

export interface MongoReadModelDatabase {
  client: MongoClient;
  db: Db;
  /** True on a replica set or sharded cluster: batches commit with their checkpoint in one transaction. */
  transactions: boolean;
  readModels: MongoReadModels;
  close(): Promise<void>;
}

export interface OpenMongoOptions {
  /** Database for read models. @default the one the URL names, else "citybrain" */
  database?: string;
  /** Overrides the detection of transaction support (tests of the fallback on a replica set). */
  transactions?: boolean;
}

/** The database a connection string names (`mongodb://h1,h2/citybrain?…` → `citybrain`), if any. */
export function databaseName(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

/** The connection string without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Connects to `url` (`MONGODB_URL`), checks the server answers, and finds out whether it can run
 * transactions (a replica set or `mongos`); a standalone server gets the position-guarded fallback.
 */
export async function openMongoDocumentStore(url: string, options: OpenMongoOptions = {}): Promise<MongoReadModelDatabase> {
  parseConfig(mongoConfigSchema, { MONGODB_URL: url });
  // A wrong address should fail start-up in seconds, not after the driver's 30 s default.
  const client = new MongoClient(url, /serverSelectionTimeoutMS=/i.test(url) ? {} : { serverSelectionTimeoutMS: 5000 });
  let hello: { setName?: string; msg?: string };
  try {
    await client.connect();
    hello = (await client.db('admin').command({ hello: 1 })) as typeof hello;
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`MongoDB at ${redact(url)} did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const db = client.db(options.database ?? databaseName(url) ?? 'citybrain');
  const transactions = options.transactions ?? (hello.setName !== undefined || hello.msg === 'isdbgrid');
  return { client, db, transactions, readModels: new MongoReadModels(db), close: () => client.close() };
}
