/**
 * One small SQL port over the two engines that share our SQL: PGlite (Postgres in WASM, in process)
 * and PostgreSQL over `pg`. The event store, the projection runner and the document store are
 * written once against it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { lockDataDir, type DataDirLock } from './dataDirLock.ts';
import { emptyClusterTarball } from './pgliteTemplate.ts';

export interface QueryOptions {
  /**
   * The text is one of a few fixed statements run often (a stream read): the engine may keep its plan
   * instead of parsing and planning it on every call (PostgreSQL: a named prepared statement per
   * connection; PGlite: `PREPARE`d in its one session, `pglitePrepared`). Only the plan is kept, never
   * rows: each call reads afresh.
   */
  prepared?: boolean;
}

export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<{ rows: Row[] }>;
}

/** A session-level advisory lock; released by `release()` or when the holding process dies. */
export interface AdvisoryLock {
  release(): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly backend: 'pglite' | 'postgres';
  /** Runs several statements (no parameters): migrations. */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; the callback is only a wake-up, nothing may depend on it arriving. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** Takes the advisory lock `key` if free; `undefined` when another session holds it. */
  tryAdvisoryLock(key: bigint): Promise<AdvisoryLock | undefined>;
  /** The embedded store's hold on its data directory (events/sql/dataDirLock.ts), released by `close()`. */
  readonly dataDirLock?: DataDirLock;
  close(): Promise<void>;
}

function toParams(params: readonly unknown[] | undefined): unknown[] {
  return params ? [...params] : [];
}

/**
 * The name of a prepared statement: one per text (node-postgres refuses one name for two texts on a
 * connection), from its digest; kept per text, as only a few fixed texts are prepared.
 */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) statementNames.set(sql, (name = `cb_${createHash('sha256').update(sql).digest('base64url').slice(0, 32)}`));
  return name;
}

/** A node-postgres query: named (prepared once per connection, its plan kept there) when `options.prepared`. */
function pgQuery(sql: string, params: readonly unknown[] | undefined, options: QueryOptions | undefined): pg.QueryConfig {
  return { ...(options?.prepared && { name: statementName(sql) }), text: sql, values: toParams(params) };
}

/** A scalar parameter as the text PostgreSQL reads it (as the drivers send it); none for anything else. */
function scalarText(param: unknown): string | undefined {
  return typeof param === 'string' || typeof param === 'number' || typeof param === 'bigint' || typeof param === 'boolean' ? String(param) : undefined;
}

/** An array of scalars (or nulls) as an array literal's text, each element quoted; none for anything else. */
function arrayText(param: readonly unknown[]): string | undefined {
  const elements: string[] = [];
  for (const element of param) {
    if (element === null || element === undefined) {
      elements.push('NULL');
      continue;
    }
    const text = scalarText(element);
    if (text === undefined) return undefined;
    elements.push(`"${text.replace(/[\\"]/g, '\\$&')}"`);
  }
  return `{${elements.join(',')}}`;
}

/**
 * `EXECUTE` of the statement `name` with `params` as literals (escaped as node-postgres escapes one, so
 * a value is never read as SQL), or none when a parameter is neither a scalar nor an array of scalars
 * (a buffer, an object): that call runs unprepared. A utility statement such as `EXECUTE` takes no bind
 * parameters.
 */
function executeWith(name: string, params: readonly unknown[]): string | undefined {
  const literals: string[] = [];
  for (const param of params) {
    if (param === null || param === undefined) {
      literals.push('NULL');
      continue;
    }
    const text = Array.isArray(param) ? arrayText(param) : scalarText(param);
    if (text === undefined) return undefined;
    literals.push(pg.escapeLiteral(text));
  }
  return literals.length ? `EXECUTE ${name}(${literals.join(', ')})` : `EXECUTE ${name}`;
}

/**
 * PGlite's API has no named statements: a `prepared` text is `PREPARE`d once in its one session and
 * then run by `EXECUTE`, its plan kept. A person's stream read cost ~320 µs of CPU parsed and planned
 * each time against ~210 µs prepared, ~370 against ~240 with its data keys' subquery (events/crypto/).
 */
function pglitePrepared(db: PGlite): (sql: string, params: readonly unknown[]) => Promise<string | undefined> {
  const prepared = new Map<string, Promise<boolean>>();
  return async (sql, params) => {
    // Quoted: a digest's base64url may hold `-` and capitals.
    const name = pg.escapeIdentifier(statementName(sql));
    const execute = executeWith(name, params);
    if (execute === undefined) return undefined;
    let preparing = prepared.get(sql);
    if (!preparing) {
      // A text that fails to prepare (a table not created yet) runs unprepared, which gives its error if
      // it has one; its next call tries again.
      preparing = db.exec(`PREPARE ${name} AS ${sql}`).then(() => true, () => (prepared.delete(sql), false));
      prepared.set(sql, preparing);
    }
    return (await preparing) ? execute : undefined;
  };
}

/** How long work on the embedded store may keep the event loop before a statement waits one turn. */
export const PGLITE_MAX_TURN_MS = 10;

/**
 * PGlite runs a statement synchronously in WebAssembly and settles its promise as a microtask, with
 * no I/O between: a loop of statements (the hash chain extending a freshly seeded city, a projection
 * working off a backlog) never lets the event loop reach its timers or sockets, so the graph accepted
 * no request for the ~10 s the chain of a fresh demo city took. So a statement begun after the loop
 * has been held `maxMs` first waits one turn (`setImmediate`): requests are read, and their
 * statements queue in PGlite between the loop's. A turn is noticed by an immediate scheduled when
 * the first statement after the last one ran: one timestamp per statement otherwise.
 */
export function eventLoopTurns(maxMs = PGLITE_MAX_TURN_MS): () => Promise<void> | undefined {
  let pending = false;
  let since = 0;
  const turned = () => {
    pending = false;
  };
  return () => {
    if (!pending) {
      pending = true;
      since = performance.now();
      setImmediate(turned);
      return undefined;
    }
    return performance.now() - since > maxMs ? nextTurn() : undefined;
  };
}

/**
 * PGlite is one session per data directory (DESIGN §6): every query and transaction is serialised
 * by PGlite itself, so advisory locks always succeed for the one process that opened it.
 */
export async function createPgliteDatabase(dataDir?: string): Promise<SqlDatabase> {
  // One owner per data directory: a second process is refused before PGlite touches the files.
  const dataDirLock = dataDir ? await lockDataDir(dataDir) : undefined;
  let db: PGlite;
  try {
    // A new cluster is unpacked from the ready-made one rather than made by initdb (pgliteTemplate.ts).
    const isNew = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
    db = await PGlite.create({ ...(dataDir && { dataDir }), ...(isNew && { loadDataDir: await emptyClusterTarball() }) });
  } catch (error) {
    await dataDirLock?.release();
    throw error;
  }
  const prepared = pglitePrepared(db);
  const fairTurn = eventLoopTurns();
  return {
    backend: 'pglite',
    ...(dataDirLock && { dataDirLock }),
    async query<Row>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      await fairTurn();
      const execute = options?.prepared ? await prepared(sql, params ?? []) : undefined;
      const res = execute ? await db.query<Row>(execute) : await db.query<Row>(sql, toParams(params));
      return { rows: res.rows };
    },
    async exec(sql) {
      await fairTurn();
      await db.exec(sql);
    },
    async transaction(fn) {
      // Only before the transaction: inside it, PGlite's session is held whatever waits.
      await fairTurn();
      return db.transaction((tx) =>
        fn({
          async query<Row>(sql: string, params?: readonly unknown[]) {
            const res = await tx.query<Row>(sql, toParams(params));
            return { rows: res.rows };
          },
        }),
      );
    },
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, () => onNotify());
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    async tryAdvisoryLock(key) {
      const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key.toString()]);
      if (!rows[0]?.locked) return undefined;
      return {
        async release() {
          if (!db.closed) await db.query('SELECT pg_advisory_unlock($1)', [key.toString()]);
        },
      };
    },
    async close() {
      if (!db.closed) await db.close();
      await dataDirLock?.release();
    },
  };
}

export interface PostgresOptions {
  connectionString: string;
  /** Pool size. @default 10 */
  max?: number;
  /**
   * A transaction left open stalls every subscriber (the snapshot xmin is cluster-wide, DESIGN §6),
   * so idle-in-transaction sessions are cut. @default 10000
   */
  idleInTransactionTimeoutMs?: number;
}

export function createPostgresDatabase(options: PostgresOptions): SqlDatabase {
  const clientConfig = {
    connectionString: options.connectionString,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 10_000,
    // The store's statements are short and many: JIT compiling a large batch append or page read
    // costs more than it saves (measured: ingest 17.6k → 28k observations/s with it off).
    options: '-c jit=off',
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.max ?? 10 });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  let listener: pg.Client | undefined;
  const channels = new Map<string, Set<() => void>>();
  const dedicated = new Set<pg.Client>();

  async function listenerClient(): Promise<pg.Client> {
    if (listener) return listener;
    const client = new pg.Client(clientConfig);
    client.on('error', () => {
      // The connection died: forget it so the next listen() reconnects; polling covers the gap.
      if (listener === client) listener = undefined;
    });
    client.on('notification', (msg) => {
      for (const cb of channels.get(msg.channel) ?? []) cb();
    });
    await client.connect();
    listener = client;
    return client;
  }

  return {
    backend: 'postgres',
    async query<Row>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      const res = await pool.query(pgQuery(sql, params, options));
      return { rows: res.rows as Row[] };
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query<Row>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
            const res = await client.query(pgQuery(sql, params, options));
            return { rows: res.rows as Row[] };
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const client = await listenerClient();
      let set = channels.get(channel);
      if (!set) {
        set = new Set();
        channels.set(channel, set);
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
      };
    },
    async tryAdvisoryLock(key) {
      // Session-level locks live as long as the connection: hold a dedicated one, outside the pool.
      const client = new pg.Client(clientConfig);
      client.on('error', () => undefined);
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key.toString()]);
      if (!rows[0]?.locked) {
        await client.end();
        return undefined;
      }
      dedicated.add(client);
      return {
        async release() {
          if (!dedicated.delete(client)) return;
          await client.query('SELECT pg_advisory_unlock($1)', [key.toString()]).catch(() => undefined);
          await client.end().catch(() => undefined);
        },
      };
    },
    async close() {
      for (const client of dedicated) await client.end().catch(() => undefined);
      dedicated.clear();
      if (listener) await listener.end().catch(() => undefined);
      listener = undefined;
      await pool.end();
    },
  };
}
