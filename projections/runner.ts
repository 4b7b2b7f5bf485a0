/**
 * The projection runner. For each projection it:
 * - owns it through a PostgreSQL advisory lock (one process at a time; another takes over when the
 *   owner's session dies);
 * - reads the events it handles after its checkpoint, applies a batch through a buffered document
 *   store, and commits the read-model writes with the new checkpoint in one transaction — a crash
 *   anywhere leaves both consistent, so nothing is applied twice or skipped;
 * - builds a new version (or a requested rebuild) into a fresh table while queries keep reading the
 *   active one, and swaps it in when it has caught up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { comparePositions, encodePosition } from '../events/position.ts';
import type { AdvisoryLock, SqlDatabase, SqlExecutor } from '../events/sql/database.ts';
import { START, type EventStore, type Position } from '../events/types.ts';
import { BatchDocumentStore, DocumentCache, indexSql, readModelTableSql } from './sql/documentStore.ts';
import { PROJECTION_SCHEMA, type BuildRow } from './sql/schema.ts';
import type { Projection } from './types.ts';

export interface RunnerOptions {
  /** Events per transaction. @default 500 */
  batchSize?: number;
  /** How often a process that does not own a projection retries the lock. @default 1000 */
  lockRetryMs?: number;
  /** Called after each committed batch (progress bars, metrics). */
  onProgress?: (progress: BatchProgress) => void;
  logger?: Logger;
}

export interface BatchProgress {
  projection: string;
  buildId: string;
  applied: number;
  checkpoint: Position;
  caughtUp: boolean;
}

export interface ProjectionLag {
  projection: string;
  /** Events in the store after the checkpoint (by global sequence). */
  events: number;
  /** Age of the oldest event the projection has not yet applied; 0 when caught up. */
  seconds: number;
  owned: boolean;
}

const RETIRED_GRACE_MS = 30_000;

function lockKey(name: string): bigint {
  return createHash('sha1').update(`projection:${name}`).digest().readBigInt64BE(0);
}

function tableName(name: string, version: number, buildId: string): string {
  return `rm_${name.replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 30)}_v${version}_${buildId}`;
}

export async function ensureProjectionSchema(db: SqlExecutor & { exec(sql: string): Promise<void> }): Promise<void> {
  await db.exec(PROJECTION_SCHEMA);
}

export class ProjectionRunner {
  private readonly batchSize: number;
  private readonly lockRetryMs: number;
  private readonly locks = new Map<string, AdvisoryLock>();
  private readonly loops: Promise<void>[] = [];
  private readonly controller = new AbortController();
  private wake: (() => void) | undefined;
  private readonly wakeups = new Set<() => void>();
  private unlisten: (() => Promise<void>) | undefined;
  private readonly reportedCaughtUp = new Set<string>();
  /** Per projection, the documents of its build's last batches (valid only while this process owns it). */
  private readonly caches = new Map<string, { buildId: string; cache: DocumentCache }>();

  constructor(
    private readonly db: SqlDatabase,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly options: RunnerOptions = {},
  ) {
    // One loop per projection waits on this signal at a time: more than Node's default 10 is expected.
    setMaxListeners(0, this.controller.signal);
    this.batchSize = options.batchSize ?? 500;
    this.lockRetryMs = options.lockRetryMs ?? 1000;
    const names = new Set<string>();
    for (const p of projections) {
      if (names.has(p.name)) throw new Error(`projection ${p.name} is declared twice`);
      names.add(p.name);
    }
  }

  /** Starts one loop per projection; each waits for its lock, catches up, then follows live appends. */
  async start(): Promise<void> {
    await ensureProjectionSchema(this.db);
    this.unlisten = await this.db.listen('es_events', () => {
      for (const w of this.wakeups) w();
    });
    for (const projection of this.projections) this.loops.push(this.runLoop(projection));
  }

  async stop(): Promise<void> {
    this.controller.abort();
    for (const w of this.wakeups) w();
    await Promise.allSettled(this.loops);
    for (const lock of this.locks.values()) await lock.release().catch(() => undefined);
    this.locks.clear();
    await this.unlisten?.();
  }

  /** Names of the projections this process owns now. */
  owned(): string[] {
    return [...this.locks.keys()];
  }

  /**
   * Applies everything committed before this call, in this call, for every projection (tests, the
   * `replay` CLI, and `npm start` before serving). Takes the locks it does not hold yet.
   *
   * "Committed before this call" is the last stored event, not the visible head: on PostgreSQL the
   * visible head stops at the oldest transaction open anywhere on the server (DESIGN §6), so a batch
   * can come back short while committed events still wait behind it. Those are waited for, up to
   * `timeoutMs`.
   */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    await ensureProjectionSchema(this.db);
    const { rows } = await this.db.query<{ transaction_id: string; global_position: string }>(
      `SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position FROM es_events e
       ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
    );
    const target = rows[0] ? encodePosition(rows[0].transaction_id, rows[0].global_position) : START;
    const deadline = Date.now() + timeoutMs;
    for (const projection of this.projections) {
      if (!(await this.acquire(projection))) throw new Error(`projection ${projection.name} is owned by another process`);
      const build = await this.currentBuild(projection);
      for (;;) {
        const { caughtUp } = await this.step(projection, build);
        if (!caughtUp) continue;
        if (comparePositions(build.checkpoint, target) >= 0) break;
        if (Date.now() > deadline) {
          throw new Error(`projection ${projection.name} could not pass ${target} within ${timeoutMs} ms: a transaction stays open on the server`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  /** Rebuilds from position 0 into a fresh table and swaps it in when caught up. */
  async rebuild(name: string): Promise<void> {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection) throw new Error(`unknown projection ${name}; known: ${this.projections.map((p) => p.name).join(', ')}`);
    await ensureProjectionSchema(this.db);
    if (!(await this.acquire(projection))) throw new Error(`projection ${name} is owned by another process; stop it first`);
    await this.db.query(`UPDATE proj_builds SET status = 'retired' WHERE name = $1 AND status = 'building'`, [name]);
    const build = await this.createBuild(projection, 'building');
    while (!(await this.step(projection, build)).caughtUp);
  }

  async lag(): Promise<ProjectionLag[]> {
    await ensureProjectionSchema(this.db);
    const head = await this.store.headPosition();
    const headSeq = Number(head.split(':')[1]);
    const out: ProjectionLag[] = [];
    for (const p of this.projections) {
      const { rows } = await this.db.query<BuildRow>(
        `SELECT * FROM proj_builds WHERE name = $1 AND status IN ('active', 'building') ORDER BY status = 'building' DESC LIMIT 1`,
        [p.name],
      );
      const checkpoint = rows[0]?.checkpoint ?? START;
      const [next] = await this.store.readAll({ fromPosition: checkpoint, limit: 1, filter: { types: p.eventTypes } });
      out.push({
        projection: p.name,
        events: Math.max(0, headSeq - Number(checkpoint.split(':')[1])),
        seconds: next ? Math.max(0, (Date.now() - Date.parse(next.recordedAt)) / 1000) : 0,
        owned: this.locks.has(p.name),
      });
    }
    return out;
  }

  private async acquire(projection: Projection): Promise<boolean> {
    if (this.locks.has(projection.name)) return true;
    const lock = await this.db.tryAdvisoryLock(lockKey(projection.name));
    if (!lock) return false;
    this.locks.set(projection.name, lock);
    // Another owner may have written the tables since this process last cached any of them.
    this.caches.delete(projection.name);
    await this.dropRetiredTables(projection.name);
    this.options.logger?.info({ projection: projection.name }, 'projection owned by this process');
    return true;
  }

  private async runLoop(projection: Projection): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        if (!(await this.acquire(projection))) {
          await this.sleep(this.lockRetryMs);
          continue;
        }
        const build = await this.currentBuild(projection);
        let idle = 5;
        while (!signal.aborted) {
          let woken = false;
          const wokenPromise = new Promise<void>((resolve) => {
            const w = () => {
              woken = true;
              this.wakeups.delete(w);
              resolve();
            };
            this.wakeups.add(w);
          });
          const { caughtUp } = await this.step(projection, build);
          if (!caughtUp) {
            idle = 5;
            continue;
          }
          if (!woken) await Promise.race([wokenPromise, this.sleep(idle)]);
          idle = woken ? 5 : Math.min(idle * 2, 500);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.options.logger?.error({ err, projection: projection.name }, 'projection batch failed; retrying');
        // The lock may have died with its connection: drop it so the next round re-acquires or yields.
        const lock = this.locks.get(projection.name);
        this.locks.delete(projection.name);
        await lock?.release().catch(() => undefined);
        await this.sleep(this.lockRetryMs);
      }
    }
  }

  /**
   * Retired tables are dropped only after a grace period: a query that resolved the old table name
   * just before the swap must still find it.
   */
  private scheduleCleanup(): void {
    const timer = setTimeout(() => {
      for (const name of this.locks.keys()) void this.dropRetiredTables(name).catch(() => undefined);
    }, RETIRED_GRACE_MS);
    timer.unref();
  }

  private async dropRetiredTables(name: string): Promise<void> {
    const { rows } = await this.db.query<{ table_name: string; build_id: string }>(
      `SELECT table_name, build_id FROM proj_builds WHERE name = $1 AND status = 'retired' AND dropped_at IS NULL
       AND updated_at < now() - make_interval(secs => $2)`,
      [name, RETIRED_GRACE_MS / 1000],
    );
    for (const r of rows) {
      await this.db.query(`DROP TABLE IF EXISTS ${r.table_name}`);
      await this.db.query('UPDATE proj_builds SET dropped_at = now() WHERE name = $1 AND build_id = $2', [name, r.build_id]);
    }
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.controller.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The build this process should advance: a build of the declared version, created if missing. */
  private async currentBuild(projection: Projection): Promise<BuildRow> {
    const { rows } = await this.db.query<BuildRow>(
      `SELECT * FROM proj_builds WHERE name = $1 AND status IN ('active', 'building') ORDER BY created_at`,
      [projection.name],
    );
    const building = rows.find((r) => r.status === 'building' && r.version === projection.version);
    if (building) return building;
    const active = rows.find((r) => r.status === 'active');
    if (active && active.version === projection.version) return active;
    // No build of this version yet: with nothing served, the first build is active at once;
    // otherwise the old version keeps serving until the new one catches up.
    return this.createBuild(projection, active ? 'building' : 'active');
  }

  private async createBuild(projection: Projection, status: 'active' | 'building'): Promise<BuildRow> {
    const buildId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const table = tableName(projection.name, projection.version, buildId);
    await this.db.transaction(async (tx) => {
      await tx.query(readModelTableSql(table));
      for (const index of projection.indexes ?? []) await tx.query(indexSql(table, index));
      await tx.query(
        `INSERT INTO proj_builds (name, build_id, version, table_name, checkpoint, status) VALUES ($1, $2, $3, $4, $5, $6)`,
        [projection.name, buildId, projection.version, table, START, status],
      );
    });
    this.options.logger?.info({ projection: projection.name, version: projection.version, table, status }, 'projection build created');
    const { rows } = await this.db.query<BuildRow>('SELECT * FROM proj_builds WHERE name = $1 AND build_id = $2', [projection.name, buildId]);
    return rows[0]!;
  }

  /** One batch: read after the checkpoint, apply, and commit writes + checkpoint together. */
  private async step(projection: Projection, build: BuildRow): Promise<{ caughtUp: boolean }> {
    const { events, scannedThrough } = await this.store.readAllWithHead({
      fromPosition: build.checkpoint,
      limit: this.batchSize,
      filter: { types: projection.eventTypes },
    });
    const caughtUp = events.length < this.batchSize;
    const advanced = comparePositions(scannedThrough, build.checkpoint) > 0;
    if (!advanced && !(caughtUp && build.status === 'building')) {
      // Report reaching the head once, even when the last batch was exactly full.
      if (caughtUp && !this.reportedCaughtUp.has(build.build_id)) {
        this.reportedCaughtUp.add(build.build_id);
        this.options.onProgress?.({ projection: projection.name, buildId: build.build_id, applied: 0, checkpoint: build.checkpoint, caughtUp });
      }
      return { caughtUp };
    }
    const previous = build.checkpoint;
    let cached = this.caches.get(projection.name);
    if (cached?.buildId !== build.build_id) {
      cached = { buildId: build.build_id, cache: new DocumentCache() };
      this.caches.set(projection.name, cached);
    }
    // The batch takes the cache's documents; they are handed back only when its transaction commits.
    let docs: BatchDocumentStore | undefined;
    await this.db.transaction(async (tx) => {
      docs = new BatchDocumentStore(tx, build.table_name, cached.cache);
      for (const event of events) await projection.apply(event, docs);
      await docs.flush();
      // Compare-and-set: if another owner moved the checkpoint, this batch must not commit.
      const { rows } = await tx.query(
        `UPDATE proj_builds SET checkpoint = $3, updated_at = now() WHERE name = $1 AND build_id = $2 AND checkpoint = $4 RETURNING 1`,
        [projection.name, build.build_id, scannedThrough, previous],
      );
      if (rows.length !== 1) throw new Error(`projection ${projection.name}: checkpoint moved by another process; batch discarded`);
      if (caughtUp && build.status === 'building') {
        const retired = await tx.query<{ table_name: string }>(
          `UPDATE proj_builds SET status = 'retired', updated_at = now() WHERE name = $1 AND status = 'active' RETURNING table_name`,
          [projection.name],
        );
        await tx.query(`UPDATE proj_builds SET status = 'active', activated_at = now() WHERE name = $1 AND build_id = $2`, [projection.name, build.build_id]);
        if (retired.rows.length) this.scheduleCleanup();
        this.options.logger?.info({ projection: projection.name, table: build.table_name }, 'rebuilt projection swapped in');
      }
    });
    docs?.commitTo(cached.cache);
    build.checkpoint = scannedThrough;
    if (caughtUp && build.status === 'building') build.status = 'active';
    if (caughtUp) this.reportedCaughtUp.add(build.build_id);
    else this.reportedCaughtUp.delete(build.build_id);
    this.options.onProgress?.({ projection: projection.name, buildId: build.build_id, applied: events.length, checkpoint: scannedThrough, caughtUp });
    return { caughtUp };
  }
}
