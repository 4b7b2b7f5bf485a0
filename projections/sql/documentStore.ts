/**
 * Read-model documents in one JSONB table per projection build:
 *   (collection, id) → doc jsonb, and where each top-level field came from: `source` (the event that
 *   set every field not listed in `sources`) and `sources` (per field, where it differs).
 * Most documents are written whole by one event, so their provenance is one entry, not one per field:
 * per-field maps made rows three times larger and their writes three times slower.
 * Each field a projection declares an index on is also kept in a generated column of its own
 * (`"k_<field>"`), which filters, sorts and indexes use: reading it never detoasts the document, so a
 * sorted page of large documents (incidents with their timelines) reads a few bytes per candidate
 * row instead of decompressing every matching document.
 * `SqlDocumentStore` queries directly (the read path); `BatchDocumentStore` buffers a batch's writes
 * in memory and flushes them in a few bulk statements inside the runner's transaction, so a
 * rebuild costs a handful of round trips per batch rather than one per event.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../events/errors.ts';
import type { SqlExecutor } from '../../events/sql/database.ts';
import type {
  Collection,
  Comparable,
  Doc,
  DocumentStore,
  FieldCondition,
  FieldSource,
  FindOptions,
  IndexDeclaration,
  Page,
  StoredDoc,
  Where,
} from '../types.ts';

export const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_PAGE = 1000;

/** A read-model table, and the fields it keeps in generated key columns. */
export interface ReadModelTable {
  name: string;
  keyed: ReadonlySet<string>;
}

const NOTHING_KEYED: ReadonlySet<string> = new Set();

/** A table whose declared fields have no key columns (yet): they are read from the document. */
export const unkeyed = (name: string): ReadModelTable => ({ name, keyed: NOTHING_KEYED });

function checkedField(name: string): string {
  if (!FIELD.test(name)) throw new ValidationError(`"${name}" is not a filterable field name`);
  return name;
}

const keyColumn = (name: string): string => `"k_${checkedField(name)}"`;

/** The SQL that reads a document's field in `table`: its key column if it has one. */
function fieldOf(table: ReadModelTable, name: string): string {
  return table.keyed.has(checkedField(name)) ? keyColumn(name) : `doc->'${name}'`;
}

/** The fields a projection's index declarations key. */
export const keyedFields = (indexes: readonly IndexDeclaration[] = []): ReadonlySet<string> => new Set(indexes.flatMap((i) => i.fields));

export function readModelTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    collection text NOT NULL,
    id text COLLATE "C" NOT NULL,
    doc jsonb NOT NULL,
    sources jsonb NOT NULL DEFAULT '{}',
    source jsonb,
    PRIMARY KEY (collection, id)
  )`;
}

/** Adds the key column of each of `fields` that `existing` lacks (a generated column fills itself, rows already stored included). */
export function keyColumnsSql(table: string, fields: ReadonlySet<string>, existing: ReadonlySet<string> = NOTHING_KEYED): string[] {
  return [...fields]
    .filter((f) => !existing.has(f))
    .map((f) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${keyColumn(f)} jsonb GENERATED ALWAYS AS (doc->'${f}') STORED`);
}

/**
 * An index over key columns (create them first, with `keyColumnsSql`). A plain index leads with the
 * collection column whatever collection declared it, so it is named by its fields alone: two
 * collections declaring the same fields share one index instead of each row paying for two.
 */
export function indexSql(table: string, index: IndexDeclaration): string {
  const name = indexName(table, index);
  const columns = index.fields.map(keyColumn).join(', ');
  const collection = index.collection.replace(/'/g, "''");
  return index.unique
    ? `CREATE UNIQUE INDEX IF NOT EXISTS ${name} ON ${table} (${columns}) WHERE collection = '${collection}'`
    : `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (collection, ${columns})`;
}

function indexName(table: string, index: IndexDeclaration): string {
  const identity = index.unique ? `${index.collection}:${index.fields.join(',')}:true` : `*:${index.fields.join(',')}`;
  return `${table}_k_${createHash('sha1').update(identity).digest('hex').slice(0, 10)}`;
}

/** Creates those of `indexes` that `table` lacks (one catalog query when it has them all). */
export async function ensureIndexes(db: SqlExecutor, table: string, indexes: readonly IndexDeclaration[] = []): Promise<void> {
  if (indexes.length === 0) return;
  const { rows } = await db.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1', [table]);
  const existing = new Set(rows.map((r) => r.indexname));
  // The catalog holds names cut to PostgreSQL's 63 bytes (the names are ASCII).
  for (const index of indexes) if (!existing.has(indexName(table, index).slice(0, 63))) await db.query(indexSql(table, index));
}

/** SQL for the array of the key columns' field names of the table named by the SQL expression `table`. */
export const keyColumnsArraySql = (table: string): string =>
  `ARRAY(SELECT substr(attname, 3) FROM pg_attribute WHERE attrelid = to_regclass(${table}) AND attnum > 0 AND NOT attisdropped AND attgenerated = 's' AND attname LIKE 'k\\_%')`;

/** The key columns `table` has, by field name (one catalog query). */
export async function keyedColumnsOf(db: SqlExecutor, table: string): Promise<ReadonlySet<string>> {
  const { rows } = await db.query<{ fields: string[] }>(`SELECT ${keyColumnsArraySql('$1')} AS fields`, [table]);
  return new Set(rows[0]?.fields);
}

/** Brings a table built before key columns up to its declared indexes; its expression indexes go. */
export async function upgradeReadModelTable(db: SqlExecutor, table: string, indexes: readonly IndexDeclaration[] = []): Promise<void> {
  const declared = keyedFields(indexes);
  const existing = await keyedColumnsOf(db, table);
  if ([...declared].every((f) => existing.has(f))) return;
  for (const sql of keyColumnsSql(table, declared, existing)) await db.query(sql);
  for (const index of indexes) await db.query(indexSql(table, index));
  const { rows } = await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%(doc -> %'`, [table]);
  for (const { indexname } of rows) await db.query(`DROP INDEX IF EXISTS ${indexname}`);
}

export function isRange(c: object): c is { gt?: Comparable; gte?: Comparable; lt?: Comparable; lte?: Comparable } {
  return ['gt', 'gte', 'lt', 'lte'].some((k) => k in c);
}

/** `AND ...` for each condition; parameters appended to `params`. */
function whereSql(table: ReadModelTable, where: Where | undefined, params: unknown[]): string {
  let sql = '';
  for (const [name, condition] of Object.entries(where ?? {}) as [string, FieldCondition][]) {
    const f = fieldOf(table, name);
    if (condition === null) {
      sql += ` AND (${f} IS NULL OR ${f} = 'null'::jsonb)`;
    } else if (typeof condition !== 'object') {
      params.push(JSON.stringify(condition));
      sql += ` AND ${f} = $${params.length}::jsonb`;
    } else if ('in' in condition) {
      params.push(condition.in.map((v) => JSON.stringify(v)));
      sql += ` AND ${f} = ANY($${params.length}::jsonb[])`;
    } else if ('contains' in condition) {
      params.push(JSON.stringify([condition.contains]));
      sql += ` AND ${f} @> $${params.length}::jsonb`;
    } else if (isRange(condition)) {
      for (const [op, sym] of [['gt', '>'], ['gte', '>='], ['lt', '<'], ['lte', '<=']] as const) {
        const value = condition[op];
        if (value === undefined) continue;
        params.push(JSON.stringify(value));
        sql += ` AND ${f} ${sym} $${params.length}::jsonb`;
      }
    }
  }
  return sql;
}

export function encodeCursor(sortValue: unknown, id: string): string {
  return Buffer.from(JSON.stringify([sortValue ?? null, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [unknown, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // fall through to the error below
  }
  throw new ValidationError(`cursor "${cursor}" is not one this list returned: start again without "after"`);
}

interface Row {
  id: string;
  doc: Doc;
  sources: Record<string, FieldSource>;
  source: FieldSource | null;
}

const COLUMNS = 'id, doc, sources, source';

/** Each field's source: its own entry, else the document's default (rows written before it have only entries). */
function fieldSourcesOf(row: Row): Record<string, FieldSource> {
  if (!row.source) return row.sources ?? {};
  const out: Record<string, FieldSource> = {};
  for (const key of Object.keys(row.doc)) out[key] = row.sources?.[key] ?? row.source;
  return out;
}

function toStored<T extends Doc>(row: Row): StoredDoc<T> {
  return { id: row.id, doc: row.doc as T, fieldSources: fieldSourcesOf(row) };
}

const sameSource = (a: FieldSource, b: FieldSource) => a.eventId === b.eventId && a.position === b.position;

export function sourcesFor(fields: object, source: FieldSource): Record<string, FieldSource> {
  return Object.fromEntries(Object.keys(fields).map((k) => [k, source]));
}

/** Direct reads and writes on one table through one executor (a pool or a transaction). */
export class SqlCollection<T extends Doc> implements Collection<T> {
  constructor(
    private readonly db: SqlExecutor,
    private readonly table: () => Promise<ReadModelTable>,
    private readonly name: string,
  ) {}

  async get(id: string): Promise<StoredDoc<T> | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM ${(await this.table()).name} WHERE collection = $1 AND id = $2`, [this.name, id]);
    return rows[0] ? toStored<T>(rows[0]) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<(StoredDoc<T> | undefined)[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM ${(await this.table()).name} WHERE collection = $1 AND id = ANY($2::text[])`, [
      this.name,
      [...new Set(ids)],
    ]);
    const byId = new Map(rows.map((r) => [r.id, toStored<T>(r)]));
    return ids.map((id) => byId.get(id));
  }

  async find(options: FindOptions = {}): Promise<Page<T>> {
    const first = Math.min(options.first ?? 50, MAX_PAGE);
    if (first < 0) throw new ValidationError('"first" must not be negative');
    const params: unknown[] = [this.name];
    const table = await this.table();
    let sql = `SELECT ${COLUMNS}, ${options.sortBy ? fieldOf(table, options.sortBy) : 'NULL::jsonb'} AS sort_value FROM ${table.name} WHERE collection = $1`;
    sql += whereSql(table, options.where, params);
    const desc = options.direction === 'desc';
    const cmp = desc ? '<' : '>';
    if (options.after) {
      const [sortValue, id] = decodeCursor(options.after);
      if (options.sortBy) {
        params.push(JSON.stringify(sortValue), id);
        const s = fieldOf(table, options.sortBy);
        // jsonb ordering puts SQL NULL last ascending; coalesce so the row comparison is total.
        sql += ` AND (COALESCE(${s}, 'null'::jsonb), id) ${cmp} ($${params.length - 1}::jsonb, $${params.length})`;
      } else {
        params.push(id);
        sql += ` AND id ${cmp} $${params.length}`;
      }
    }
    const dir = desc ? 'DESC' : 'ASC';
    sql += options.sortBy ? ` ORDER BY COALESCE(${fieldOf(table, options.sortBy)}, 'null'::jsonb) ${dir}, id ${dir}` : ` ORDER BY id ${dir}`;
    params.push(first + 1);
    sql += ` LIMIT $${params.length}`;
    const { rows } = await this.db.query<Row & { sort_value: unknown }>(sql, params);
    const items = rows.slice(0, first).map((r) => ({ cursor: encodeCursor(r.sort_value, r.id), node: toStored<T>(r) }));
    return { items, hasNextPage: rows.length > first, endCursor: items.length ? items[items.length - 1]!.cursor : null };
  }

  async count(where?: Where): Promise<number> {
    const params: unknown[] = [this.name];
    const table = await this.table();
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table.name} WHERE collection = $1${whereSql(table, where, params)}`,
      params,
    );
    return rows[0]!.n;
  }

  async upsert(id: string, doc: T, source: FieldSource): Promise<void> {
    await this.db.query(
      `INSERT INTO ${(await this.table()).name} (collection, id, doc, sources, source) VALUES ($1, $2, $3::jsonb, '{}', $4::jsonb)
       ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc, sources = EXCLUDED.sources, source = EXCLUDED.source`,
      [this.name, id, JSON.stringify(doc), JSON.stringify(source)],
    );
  }

  async patch(id: string, fields: Partial<T>, source: FieldSource): Promise<void> {
    const { name: table } = await this.table();
    await this.db.query(
      `INSERT INTO ${table} AS t (collection, id, doc, sources) VALUES ($1, $2, $3::jsonb, $4::jsonb)
       ON CONFLICT (collection, id) DO UPDATE SET doc = t.doc || EXCLUDED.doc, sources = t.sources || EXCLUDED.sources`,
      [this.name, id, JSON.stringify(fields), JSON.stringify(sourcesFor(fields, source))],
    );
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${(await this.table()).name} WHERE collection = $1 AND id = $2`, [this.name, id]);
  }
}

/** The read path: documents of whichever table `table()` names now (the active build). */
export class SqlDocumentStore implements DocumentStore {
  constructor(
    private readonly db: SqlExecutor,
    private readonly table: () => Promise<ReadModelTable>,
  ) {}

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return new SqlCollection<T>(this.db, this.table, name);
  }
}

/**
 * A document's state in a batch, with its field sources as the table stores them: the default
 * `source` of every field not listed in `sources`. Kept in that form, a write costs no map of every
 * field to build and compact again.
 */
type Pending =
  | { kind: 'clean' | 'replace'; doc: Doc; source: FieldSource | null; sources: Record<string, FieldSource> }
  | { kind: 'merge'; doc: Doc; sources: Record<string, FieldSource> }
  | { kind: 'absent' }
  | { kind: 'delete' };

/**
 * The documents a projection's last committed batches read or wrote, kept for its next batch so a
 * document used by consecutive batches is read from the table once. Only the owner of a
 * projection (the advisory lock) writes its table, so what it committed is what the table holds;
 * the runner drops the cache when a batch fails or ownership is lost. Bounded: past `maxDocs`
 * documents the oldest are forgotten (read again when needed).
 */
export class DocumentCache {
  private docs = new Map<string, Map<string, Pending>>();
  /**
   * For a build whose table this owner filled from empty: per collection, every id the table holds,
   * so a document it does not hold is known absent without a read (a fresh build's gets are mostly
   * of documents not written yet).
   */
  private readonly stored: Map<string, Set<string>> | undefined;

  constructor(options: { maxDocs?: number; tableStartsEmpty?: boolean } = {}) {
    this.maxDocs = options.maxDocs ?? 20_000;
    this.stored = options.tableStartsEmpty ? new Map() : undefined;
  }

  private readonly maxDocs: number;

  /** The maps a new batch starts from (it changes them in place). */
  take(): Map<string, Map<string, Pending>> {
    const taken = this.docs;
    this.docs = new Map();
    return taken;
  }

  /** Whether the table is known not to hold the document (only for a table filled from empty). */
  knowsAbsent(collection: string, id: string): boolean {
    return this.stored !== undefined && !this.stored.get(collection)?.has(id);
  }

  /** Keeps a committed batch's documents (all clean or absent after its flush). */
  keep(committed: Map<string, Map<string, Pending>>): void {
    if (this.stored) {
      for (const [collection, docs] of committed) {
        let ids = this.stored.get(collection);
        if (!ids) this.stored.set(collection, (ids = new Set()));
        for (const [id, p] of docs) {
          if (p.kind === 'clean') ids.add(id);
          else ids.delete(id);
        }
      }
    }
    let total = 0;
    for (const docs of committed.values()) total += docs.size;
    for (const docs of committed.values()) {
      for (const id of docs.keys()) {
        if (total <= this.maxDocs) break;
        docs.delete(id);
        total--;
      }
    }
    this.docs = committed;
  }
}

/**
 * Buffers one batch's writes. Each document's pending change collapses to one of replace / merge /
 * delete, so `flush()` issues at most three bulk statements per collection. Reads see the buffer.
 * With a `cache`, the batch starts from the documents earlier batches left in it; the caller hands
 * them back with `commitTo(cache)` once the transaction has committed.
 *
 * Nothing is copied: a read returns the batch's own document, and a write keeps the object it is
 * given, so a projection follows `Collection`'s rule (projections/types.ts). Copying every document
 * read and written, and mapping every field to its source, were a fifth of a fresh start's catch-up
 * CPU (bench/README.md, startup).
 */
export class BatchDocumentStore implements DocumentStore {
  private readonly pending: Map<string, Map<string, Pending>>;
  private readonly deferredWrites = new Map<object, { state: unknown; write: (state: unknown) => Promise<void> }>();

  constructor(
    private readonly tx: SqlExecutor,
    private readonly table: string,
    private readonly cache?: DocumentCache,
    private readonly keyed: ReadonlySet<string> = NOTHING_KEYED,
  ) {
    this.pending = cache?.take() ?? new Map();
  }

  /** After the batch's transaction committed (and `flush()` ran): its documents seed the next batch. */
  commitTo(cache: DocumentCache): void {
    cache.keep(this.pending);
  }

  private docs(collection: string): Map<string, Pending> {
    let map = this.pending.get(collection);
    if (!map) {
      map = new Map();
      this.pending.set(collection, map);
    }
    return map;
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    const docs = this.docs(name);
    const direct = new SqlCollection<T>(this.tx, async () => ({ name: this.table, keyed: this.keyed }), name);
    const flush = (): Promise<void> => this.flush();
    const { cache, tx, table } = this;

    const resolve = async (ids: readonly string[]): Promise<void> => {
      const missing = [...new Set(ids)].filter((id) => {
        const p = docs.get(id);
        if (p && p.kind !== 'merge') return false;
        if (!cache?.knowsAbsent(name, id)) return true;
        // Known absent from the table: nothing to read, and a pending merge is the whole document.
        docs.set(id, p ? { kind: 'replace', doc: p.doc, source: null, sources: p.sources } : { kind: 'absent' });
        return false;
      });
      if (missing.length === 0) return;
      const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM ${table} WHERE collection = $1 AND id = ANY($2::text[])`, [name, missing]);
      const found = new Map(rows.map((r) => [r.id, r]));
      for (const id of missing) {
        const row = found.get(id);
        const p = docs.get(id);
        if (p?.kind === 'merge') {
          docs.set(id, { kind: 'replace', doc: { ...row?.doc, ...p.doc }, source: row?.source ?? null, sources: { ...row?.sources, ...p.sources } });
        } else {
          docs.set(id, row ? { kind: 'clean', doc: row.doc, source: row.source, sources: row.sources ?? {} } : { kind: 'absent' });
        }
      }
    };
    const view = (id: string): StoredDoc<T> | undefined => {
      const p = docs.get(id);
      if (!p || (p.kind !== 'clean' && p.kind !== 'replace')) return undefined;
      // Projections seldom ask where fields came from: worked out when asked.
      return {
        id,
        doc: p.doc as T,
        get fieldSources() {
          return fieldSourcesOf({ id, doc: p.doc, source: p.source, sources: p.sources });
        },
      };
    };

    return {
      async get(id) {
        await resolve([id]);
        return view(id);
      },
      async getMany(ids) {
        await resolve(ids);
        return ids.map(view);
      },
      async find(options) {
        await flush();
        return direct.find(options);
      },
      async count(where) {
        await flush();
        return direct.count(where);
      },
      async upsert(id, doc, source) {
        docs.set(id, { kind: 'replace', doc, source, sources: {} });
      },
      async patch(id, fields, source) {
        const p = docs.get(id);
        if (p?.kind === 'clean' || p?.kind === 'replace') {
          const sources = { ...p.sources };
          // A field the default source set again needs no entry of its own.
          const isDefault = p.source !== null && sameSource(p.source, source);
          for (const field in fields) {
            if (isDefault) delete sources[field];
            else sources[field] = source;
          }
          docs.set(id, { kind: 'replace', doc: { ...p.doc, ...fields }, source: p.source, sources });
        } else if (p?.kind === 'merge') {
          docs.set(id, { kind: 'merge', doc: { ...p.doc, ...fields }, sources: { ...p.sources, ...sourcesFor(fields, source) } });
        } else if (p || cache?.knowsAbsent(name, id)) {
          // Absent or deleted: the patch is the whole document.
          docs.set(id, { kind: 'replace', doc: { ...fields }, source, sources: {} });
        } else {
          docs.set(id, { kind: 'merge', doc: { ...fields }, sources: sourcesFor(fields, source) });
        }
      },
      async delete(id) {
        docs.set(id, { kind: 'delete' });
      },
    };
  }

  deferred<S>(key: object, start: () => S, write: (state: S) => Promise<void>): S {
    let entry = this.deferredWrites.get(key);
    if (!entry) {
      entry = { state: start(), write: write as (state: unknown) => Promise<void> };
      this.deferredWrites.set(key, entry);
    }
    return entry.state as S;
  }

  /** Writes everything buffered (deferred folds first); afterwards the buffer holds only what the table holds. */
  async flush(): Promise<void> {
    const deferred = [...this.deferredWrites.values()];
    this.deferredWrites.clear();
    for (const { state, write } of deferred) await write(state);
    for (const [collection, docs] of this.pending) {
      const replace: { id: string; doc: Doc; sources: Record<string, FieldSource>; source: FieldSource | null }[] = [];
      const merge: { id: string; doc: Doc; sources: Record<string, FieldSource>; source: null }[] = [];
      const remove: string[] = [];
      for (const [id, p] of docs) {
        if (p.kind === 'replace') replace.push({ id, doc: p.doc, sources: p.sources, source: p.source });
        else if (p.kind === 'merge') merge.push({ id, doc: p.doc, sources: p.sources, source: null });
        else if (p.kind === 'delete') remove.push(id);
      }
      if (remove.length) {
        await this.tx.query(`DELETE FROM ${this.table} WHERE collection = $1 AND id = ANY($2::text[])`, [collection, remove]);
      }
      for (const [rows, onConflict] of [
        [replace, 'doc = EXCLUDED.doc, sources = EXCLUDED.sources, source = EXCLUDED.source'],
        // A merge knows only the fields it sets: they get their own sources, the default stays.
        [merge, 'doc = t.doc || EXCLUDED.doc, sources = t.sources || EXCLUDED.sources'],
      ] as const) {
        if (!rows.length) continue;
        // One JSON parameter: cheaper to send and to parse than one array per column.
        await this.tx.query(
          `INSERT INTO ${this.table} AS t (collection, id, doc, sources, source)
           SELECT $1, x.id, x.doc, x.sources, x.source FROM jsonb_to_recordset($2::jsonb) AS x(id text, doc jsonb, sources jsonb, source jsonb)
           ON CONFLICT (collection, id) DO UPDATE SET ${onConflict}`,
          [collection, JSON.stringify(rows)],
        );
      }
      for (const [id, p] of docs) {
        if (p.kind === 'replace') docs.set(id, { ...p, kind: 'clean' });
        else if (p.kind === 'delete') docs.set(id, { kind: 'absent' });
        else if (p.kind === 'merge') docs.delete(id);
      }
    }
  }
}
