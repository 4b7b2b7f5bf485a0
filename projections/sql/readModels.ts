/**
 * The query side of the read models in SQL: a DocumentStore per projection that always reads the active
 * build's table. The table name is cached briefly, so a swap after a rebuild reaches readers within
 * `refreshMs` (the runner keeps a retired table for longer than that).
 *
 * Query results are kept per projection for as long as the version of its documents stays what it
 * was when they were read (`QueryResultCache`): the active build, and where its documents last
 * changed (`changed_through`, moved only by a batch that applied events, in the transaction that
 * wrote them), so a result read at a version is what the same query would return while it stays.
 * A checkpoint moved past events the projection does not handle (each request's access record)
 * keeps them. Every read asks the version again (`VersionReads`: one statement for the reads that
 * arrive together, issued after each of them), so a read never sees less than a fresh query would.
 * A query asked again while the same one is still being read at the same version
 * waits for that read instead of issuing its own (a screen's concurrent clients miss together). The
 * cache is below grants and masks: what the caller may see is decided per request on the documents,
 * cached or not.
 */
import type { SqlDatabase, SqlExecutor } from '../../events/sql/database.ts';
import type { Position } from '../../events/types.ts';
import { activeBuildLocator, type ReadModels } from '../readModels.ts';
import type { DocumentStore } from '../types.ts';
import { keyColumnsArraySql, SqlDocumentStore, type ReadModelTable } from './documentStore.ts';

/** Results kept per projection: enough for the lists and lookups a busy screen repeats. */
const MAX_RESULTS_PER_PROJECTION = 512;

/**
 * The document versions of projections (`SqlReadModels.versions`), each read by a statement issued
 * after it was asked for: those asked for in the same turn of the event loop, or while a statement
 * is in flight, are read together by the next one.
 */
class VersionReads {
  private readonly waiting = new Map<string, ((version: string | undefined) => void)[]>();
  private waitingFailed: ((error: unknown) => void)[] = [];
  private busy = false;

  constructor(private readonly read: (names: readonly string[]) => Promise<Map<string, string>>) {}

  versionOf(name: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.waiting.get(name);
      if (waiting) waiting.push(resolve);
      else this.waiting.set(name, [resolve]);
      this.waitingFailed.push(reject);
      this.issue();
    });
  }

  private issue(): void {
    if (this.busy || this.waiting.size === 0) return;
    this.busy = true;
    setImmediate(() => this.readWaiting());
  }

  private readWaiting(): void {
    const batch = new Map(this.waiting);
    const failed = this.waitingFailed;
    this.waiting.clear();
    this.waitingFailed = [];
    this.read([...batch.keys()])
      .then(
        (versions) => {
          for (const [name, resolvers] of batch) for (const resolve of resolvers) resolve(versions.get(name));
        },
        (error: unknown) => {
          for (const reject of failed) reject(error);
        },
      )
      .finally(() => {
        this.busy = false;
        this.issue();
      });
  }
}

/**
 * Frozen all the way down: every reader of a kept result gets the same rows, and none can change them
 * under the next (copying them for each reader cost the screen's busiest queries a third of their
 * read-model time and much of their garbage).
 */
function deepFrozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key in value) deepFrozen((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/** One projection's query results, valid at `version` of its documents only; oldest dropped first past the bound. */
class QueryResultCache {
  private version: string | undefined;
  private readonly results = new Map<string, readonly Record<string, unknown>[]>();
  /** Reads issued at `version` and not answered yet: the same query asked meanwhile waits for them. */
  private readonly reading = new Map<string, Promise<readonly Record<string, unknown>[]>>();

  constructor(
    private readonly db: SqlExecutor,
    private readonly versionNow: () => Promise<string | undefined>,
  ) {}

  /** An executor that answers repeated SELECTs from the cache while the version stays; anything else goes through and empties it. */
  executor(): SqlExecutor {
    return {
      query: async <Row>(sql: string, params?: readonly unknown[]) => {
        if (!sql.startsWith('SELECT ')) {
          this.forget();
          return this.db.query<Row>(sql, params);
        }
        const version = await this.versionNow();
        if (version !== this.version) {
          this.forget();
          this.version = version;
        }
        const key = `${sql}\u0000${JSON.stringify(params ?? [])}`;
        const pending = this.reading.get(key);
        const kept = this.results.get(key) ?? (pending && (await pending));
        if (kept) return { rows: kept as Row[] };
        // Only reads of the version's own table are kept: right after a swap, a reader may still be given the retired table's name.
        if (version === undefined || !sql.includes(` ${version.slice(0, version.indexOf(' '))} `)) return this.db.query<Row>(sql, params);
        const read = this.db.query<Record<string, unknown>>(sql, params).then(({ rows }) => deepFrozen(rows));
        this.reading.set(key, read);
        try {
          const rows = await read;
          // Read before the version moved again: else the rows may be newer than the version they would be kept under.
          if (version === this.version) {
            if (this.results.size >= MAX_RESULTS_PER_PROJECTION) this.results.delete(this.results.keys().next().value!);
            this.results.set(key, rows);
          }
          return { rows: rows as Row[] };
        } finally {
          if (this.reading.get(key) === read) this.reading.delete(key);
        }
      },
    };
  }

  private forget(): void {
    this.results.clear();
    this.reading.clear();
  }
}

export class SqlReadModels implements ReadModels {
  private readonly activeTable: (name: string) => Promise<ReadModelTable>;
  private readonly documentVersions = new VersionReads((names) => this.versions(names));
  private readonly caches = new Map<string, SqlExecutor>();

  constructor(
    private readonly db: SqlDatabase,
    refreshMs = 1000,
  ) {
    this.activeTable = activeBuildLocator(refreshMs, async (name) => {
      const { rows } = await db.query<{ table_name: string; keyed: string[] }>(
        `SELECT table_name, ${keyColumnsArraySql('table_name')} AS keyed FROM proj_builds WHERE name = $1 AND status = 'active'`,
        [name],
      );
      return rows[0] && { name: rows[0].table_name, keyed: new Set(rows[0].keyed) };
    });
  }

  async checkpoints(names: readonly string[]): Promise<Map<string, Position>> {
    const { rows } = await this.db.query<{ name: string; checkpoint: Position }>(
      `SELECT name, checkpoint FROM proj_builds WHERE status = 'active' AND name = ANY($1::text[])`,
      [[...names]],
    );
    return new Map(rows.map((r) => [r.name, r.checkpoint]));
  }

  /**
   * Per projection, what its active documents are as of: the build's table, a space, and where its
   * documents last changed. A swap to another build, or a batch that applied events, changes it; a checkpoint moved
   * past events the projection does not handle does not. (A build's first batches set it; before, the
   * checkpoint stands in.)
   */
  private async versions(names: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ name: string; version: string }>(
      `SELECT name, table_name || ' ' || COALESCE(changed_through, checkpoint) AS version FROM proj_builds WHERE status = 'active' AND name = ANY($1::text[])`,
      [[...names]],
    );
    return new Map(rows.map((r) => [r.name, r.version]));
  }

  version(name: string): Promise<string | undefined> {
    return this.documentVersions.versionOf(name);
  }

  of(name: string): DocumentStore {
    let cached = this.caches.get(name);
    if (!cached) {
      cached = new QueryResultCache(this.db, () => this.documentVersions.versionOf(name)).executor();
      this.caches.set(name, cached);
    }
    return new SqlDocumentStore(cached, () => this.activeTable(name));
  }
}
