/**
 * The projection runner. For each projection it:
 * - owns it through a PostgreSQL advisory lock (one process at a time; another takes over when the
 *   owner's session dies);
 * - applies the events it handles after its checkpoint in batches through a buffered document
 *   store, and commits the read-model writes with the new checkpoint in one transaction — a crash
 *   anywhere leaves both consistent, so nothing is applied twice or skipped;
 * - builds a new version (or a requested rebuild) into a fresh table while queries keep reading the
 *   active one, and swaps it in when it has caught up.
 * The projections it owns share their reads: those at the same checkpoint are advanced together
 * from one read of the log (filtered by the union of their event types), each in its own
 * transaction, so twenty projections cost one read per batch, and one wake-up per append.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { comparePositions, decodePosition, encodePosition } from '../events/position.ts';
import type { AdvisoryLock, SqlDatabase, SqlExecutor } from '../events/sql/database.ts';
import { START, type EventStore, type Position, type RecordedEvent } from '../events/types.ts';
import { BatchDocumentStore, DocumentCache, ensureIndexes, indexSql, keyColumnsSql, keyedFields, readModelTableSql, upgradeReadModelTable } from './sql/documentStore.ts';
import { PROJECTION_SCHEMA, type BuildRow } from './sql/schema.ts';
import type { ProjectionLag, Projector, ProjectorOptions } from './readModels.ts';
import type { IndexDeclaration, Projection } from './types.ts';

export interface RunnerOptions extends ProjectorOptions {
  /**
   * Events read per transaction of one projection; projections sharing a read read up to ten times
   * as many at once (each applies its own share). @default 500
   */
  batchSize?: number;
  /**
   * Events read per transaction of one projection by `catchUp()`, when it should differ from the
   * live loop's `batchSize`: `npm start` catching up a freshly seeded city before it serves anything
   * spends less per event in larger transactions (fewer reads, flushes and checkpoint writes), while
   * the live loop keeps its transactions short beside the queries. @default batchSize
   */
  catchUpBatchSize?: number;
  /**
   * After a wake-up while caught up, how long to let further appends gather before reading: one
   * read then takes many commands' events instead of one each (on the embedded store, whose one
   * session the writers share, that halves the work per command). @default 25
   */
  coalesceMs?: number;
}

/** `lag()` counts at most this many events per projection (positions carry no count). */
export const LAG_SCAN_LIMIT = 10_000;

const RETIRED_GRACE_MS = 30_000;
/** A read shared by a group of projections is at most this many batches long. */
const MAX_GROUP_READ_FACTOR = 10;

function lockKey(name: string): bigint {
  return createHash('sha1').update(`projection:${name}`).digest().readBigInt64BE(0);
}

function tableName(name: string, version: number, buildId: string): string {
  return `rm_${name.replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 30)}_v${version}_${buildId}`;
}

export async function ensureProjectionSchema(db: SqlExecutor & { exec(sql: string): Promise<void> }): Promise<void> {
  await db.exec(PROJECTION_SCHEMA);
}

/** A projection this process owns, with the build it advances and that build's document cache. */
interface Slot {
  projection: Projection;
  build: BuildRow;
  cache: DocumentCache;
  types: ReadonlySet<string>;
}

/** A runner keeps one checkpoint per projection name: two projections of one name would share it. */
export function assertDistinctNames(projections: readonly Projection[]): void {
  const names = new Set<string>();
  for (const p of projections) {
    if (names.has(p.name)) throw new Error(`projection ${p.name} is declared twice`);
    names.add(p.name);
  }
}

/** The SQL projector: read models in PGlite or PostgreSQL, over the SQL event store on the same database. */
export class ProjectionRunner implements Projector {
  private readonly batchSize: number;
  private readonly catchUpBatchSize: number;
  private readonly lockRetryMs: number;
  private readonly coalesceMs: number;
  private readonly locks = new Map<string, AdvisoryLock>();
  /** The projections this process owns, by name. */
  private readonly slots = new Map<string, Slot>();
  /** When a projection this process does not own may be tried again. */
  private readonly retryAt = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private readonly controller = new AbortController();
  private wake: (() => void) | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Stops reporting this runner's lag in `/metrics`. */
  private unwatch: (() => void) | undefined;
  private readonly reportedCaughtUp = new Set<string>();
  /** Events applied and milliseconds spent per projection during a `catchUp`. */
  private tally: Map<string, { events: number; ms: number }> | undefined;
  /**
   * During a `catchUp`: the tables it created empty, to be indexed once filled. Filling a table and
   * then indexing it took 5 % less of a fresh start's catch-up CPU than keeping every index up to
   * date row by row (bench/README.md, startup).
   */
  private unindexed: Map<string, readonly IndexDeclaration[]> | undefined;
  /** Steps run one at a time (the live loop, catchUp and rebuild share the slots). */
  private stepping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: SqlDatabase,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly options: RunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.catchUpBatchSize = options.catchUpBatchSize ?? this.batchSize;
    this.lockRetryMs = options.lockRetryMs ?? 1000;
    this.coalesceMs = options.coalesceMs ?? 25;
    assertDistinctNames(projections);
  }

  /** Starts the live loop: it takes the projections it can own, catches them up, then follows appends. */
  async start(): Promise<void> {
    await ensureProjectionSchema(this.db);
    this.unlisten = await this.db.listen('es_events', () => this.wake?.());
    this.unwatch ??= this.options.watch?.(this);
    this.loop ??= this.runLoop();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.controller.abort();
    this.wake?.();
    await this.loop?.catch(() => undefined);
    await this.stepping.catch(() => undefined);
    for (const lock of this.locks.values()) await lock.release().catch(() => undefined);
    this.locks.clear();
    this.slots.clear();
    await this.unlisten?.();
  }

  /** Names of the projections this process owns now. */
  owned(): string[] {
    return [...this.locks.keys()];
  }

  /**
   * Applies everything committed before this call, in this call, for every projection (tests, the
   * `replay` CLI, and `npm start` before serving). Takes the locks it does not hold yet; a
   * projection that fails rejects the call.
   *
   * "Committed before this call" is the last stored event, not the visible head: on PostgreSQL the
   * visible head stops at the oldest transaction open anywhere on the server (DESIGN §6), so a batch
   * can come back short while committed events still wait behind it. Those are waited for, up to
   * `timeoutMs` (however long applying the rest takes).
   */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    const tally = new Map<string, { events: number; ms: number }>();
    this.tally = tally;
    const unindexed = new Map<string, readonly IndexDeclaration[]>();
    this.unindexed = unindexed;
    let failed = false;
    try {
      await this.catchUpUntilCommitted(timeoutMs);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.tally = undefined;
      this.unindexed = undefined;
      // Also after a failure: what was filled stays served. A crash before this leaves it to the next owner (`currentBuild`).
      for (const [table, indexes] of unindexed) await ensureIndexes(this.db, table, indexes).catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
    // Where a long catch-up (the freshly seeded city) spent its time, projection by projection.
    if (tally.size > 0) this.options.logger?.info({ projections: Object.fromEntries(tally) }, 'projections applied what was committed before the catch-up');
  }

  /**
   * One read of the checkpoints, against the last event committed: what a restart with nothing to
   * apply pays instead of owning every projection and reading the log (half a second of a restart).
   * A crash in the middle of a batch leaves its checkpoint behind, so that restart catches up.
   */
  async isCaughtUp(): Promise<boolean> {
    await ensureProjectionSchema(this.db);
    const target = await this.lastCommitted();
    const { rows } = await this.db.query<Pick<BuildRow, 'name' | 'version' | 'status' | 'checkpoint'>>(
      `SELECT name, version, status, checkpoint FROM proj_builds WHERE name = ANY($1::text[]) AND status IN ('active', 'building')`,
      [this.projections.map((p) => p.name)],
    );
    return this.projections.every((projection) => {
      const builds = rows.filter((r) => r.name === projection.name);
      const [build] = builds;
      return builds.length === 1 && build!.status === 'active' && build!.version === projection.version && comparePositions(build!.checkpoint, target) >= 0;
    });
  }

  /** The last event stored (not the visible head: see `catchUp`). */
  private async lastCommitted(): Promise<Position> {
    const { rows } = await this.db.query<{ transaction_id: string; global_position: string }>(
      `SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position FROM es_events e
       ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
    );
    return rows[0] ? encodePosition(rows[0].transaction_id, rows[0].global_position) : START;
  }

  private async catchUpUntilCommitted(timeoutMs: number): Promise<void> {
    await ensureProjectionSchema(this.db);
    const target = await this.lastCommitted();
    // The time allowed to wait for committed events to become visible (not for applying them).
    let waitingSince: number | undefined;
    for (;;) {
      // (Again each round: the live loop gives up a projection whose batch failed.)
      for (const projection of this.projections) {
        if (!(await this.own(projection))) throw new Error(`projection ${projection.name} is owned by another process`);
      }
      // A new build at the target still has to be swapped in, by a batch that finds the head.
      const behind = this.projections
        .map((p) => this.slots.get(p.name)!)
        .filter((slot) => comparePositions(slot.build.checkpoint, target) < 0 || slot.build.status === 'building');
      if (behind.length === 0) return;
      if (waitingSince !== undefined && Date.now() - waitingSince > timeoutMs) {
        throw new Error(`projection ${behind[0]!.projection.name} could not pass ${target} within ${timeoutMs} ms: a transaction stays open on the server`);
      }
      const { caughtUp } = await this.serialised(() => this.advance(behind, { rethrow: true, batchSize: this.catchUpBatchSize }));
      if (!caughtUp) {
        waitingSince = undefined;
        continue;
      }
      waitingSince ??= Date.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Rebuilds from position 0 into a fresh table and swaps it in when caught up. */
  async rebuild(name: string): Promise<void> {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection) throw new Error(`unknown projection ${name}; known: ${this.projections.map((p) => p.name).join(', ')}`);
    await ensureProjectionSchema(this.db);
    if (!(await this.own(projection))) throw new Error(`projection ${name} is owned by another process; stop it first`);
    await this.serialised(async () => {
      await this.db.query(`UPDATE proj_builds SET status = 'retired' WHERE name = $1 AND status = 'building'`, [name]);
      this.setSlot(projection, await this.createBuild(projection, 'building'), true);
    });
    const slot = () => this.slots.get(name)!;
    while (!(await this.serialised(() => this.advance([slot()], { rethrow: true }))).caughtUp);
  }

  /**
   * Measured against the committed log, not the visible head: on PostgreSQL readers cannot pass a
   * transaction open anywhere on the server (DESIGN §6), and against the head they see, committed
   * events waiting behind one would read as no lag at all. The stall is lag.
   */
  async lag(): Promise<ProjectionLag[]> {
    await ensureProjectionSchema(this.db);
    const out: ProjectionLag[] = [];
    for (const p of this.projections) {
      const { rows } = await this.db.query<BuildRow>(
        `SELECT * FROM proj_builds WHERE name = $1 AND status IN ('active', 'building') ORDER BY status = 'building' DESC LIMIT 1`,
        [p.name],
      );
      const checkpoint = rows[0]?.checkpoint ?? START;
      const { tx, seq } = decodePosition(checkpoint);
      const { rows: [pending] } = await this.db.query<{ events: number; oldest: Date | string | null }>(
        `SELECT count(*)::int AS events, min(recorded_at) AS oldest FROM (
           SELECT e.recorded_at FROM es_events e
           WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint) AND e.type = ANY($3::text[])
           ORDER BY e.transaction_id, e.global_position LIMIT $4) AS after_checkpoint`,
        [tx.toString(), seq.toString(), [...p.eventTypes], LAG_SCAN_LIMIT],
      );
      out.push({
        projection: p.name,
        checkpoint,
        events: pending!.events,
        seconds: pending!.oldest ? Math.max(0, (Date.now() - new Date(pending!.oldest).getTime()) / 1000) : 0,
        owned: this.locks.has(p.name),
      });
    }
    return out;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.stepping.then(work, work);
    this.stepping = run.catch(() => undefined);
    return run;
  }

  /** Owns `projection` (taking its lock if needed) with a slot on its current build. */
  private async own(projection: Projection): Promise<boolean> {
    if (!this.locks.has(projection.name)) {
      const lock = await this.db.tryAdvisoryLock(lockKey(projection.name));
      if (!lock) return false;
      this.locks.set(projection.name, lock);
      await this.dropRetiredTables(projection.name);
      this.options.logger?.info({ projection: projection.name }, 'projection owned by this process');
    }
    // A new owner starts from the table (another owner may have written it since this one cached it).
    if (!this.slots.has(projection.name)) {
      const { build, created } = await this.currentBuild(projection);
      this.setSlot(projection, build, created);
    }
    return true;
  }

  /** `created`: the build's table was just made here, empty, so its cache knows every document in it. */
  private setSlot(projection: Projection, build: BuildRow, created: boolean): void {
    this.slots.set(projection.name, { projection, build, cache: new DocumentCache({ tableStartsEmpty: created }), types: new Set(projection.eventTypes) });
  }

  /** Gives a projection up after a failure: another process (or this one, later) takes it over. */
  private async disown(name: string): Promise<void> {
    this.slots.delete(name);
    const lock = this.locks.get(name);
    this.locks.delete(name);
    this.retryAt.set(name, Date.now() + this.lockRetryMs);
    await lock?.release().catch(() => undefined);
  }

  private async runLoop(): Promise<void> {
    const signal = this.controller.signal;
    let idle = 5;
    while (!signal.aborted) {
      // Arm the wake-up before reading, so an append between the read and the wait is not missed.
      let woken = false;
      const wokenPromise = new Promise<void>((resolve) => {
        this.wake = () => {
          woken = true;
          resolve();
        };
      });
      let caughtUp = true;
      try {
        for (const projection of this.projections) {
          if (this.slots.has(projection.name) || (this.retryAt.get(projection.name) ?? 0) > Date.now()) continue;
          if (!(await this.own(projection))) this.retryAt.set(projection.name, Date.now() + this.lockRetryMs);
        }
        if (this.slots.size > 0) ({ caughtUp } = await this.serialised(() => this.advance([...this.slots.values()], { rethrow: false })));
      } catch (err) {
        if (signal.aborted) return;
        this.options.logger?.error({ err }, 'projection runner step failed; retrying');
        await this.sleep(this.lockRetryMs);
        continue;
      }
      if (!caughtUp) {
        idle = 5;
        continue;
      }
      // Unowned projections are tried again within lockRetryMs.
      if (!woken) await Promise.race([wokenPromise, this.sleep(Math.min(idle, this.lockRetryMs))]);
      if (woken) await this.sleep(this.coalesceMs);
      idle = woken ? 5 : Math.min(idle * 2, 500);
    }
  }

  /**
   * One batch for each group of `slots` sharing a checkpoint: one read of the log with the union of
   * their event types, then each slot's share committed with the new checkpoint. A slot that fails
   * is given up (`rethrow: false`, the live loop: the others go on) or fails the call.
   */
  private async advance(slots: readonly Slot[], { rethrow, batchSize = this.batchSize }: { rethrow: boolean; batchSize?: number }): Promise<{ caughtUp: boolean }> {
    const groups = new Map<string, Slot[]>();
    for (const slot of slots) groups.set(slot.build.checkpoint, [...(groups.get(slot.build.checkpoint) ?? []), slot]);
    let caughtUp = true;
    for (const [checkpoint, group] of groups) {
      const types = [...new Set(group.flatMap((slot) => slot.projection.eventTypes))];
      // Each projection takes its share of the read: a larger read for a larger group keeps the
      // batches of projections with few event types from shrinking to a handful of events each.
      const limit = batchSize * Math.min(group.length, MAX_GROUP_READ_FACTOR);
      const { events, scannedThrough } = await this.store.readAllWithHead({ fromPosition: checkpoint, limit, filter: { types } });
      const full = events.length === limit;
      if (full) caughtUp = false;
      const idle: Slot[] = [];
      for (const slot of group) {
        const mine = group.length === 1 ? events : events.filter((e) => slot.types.has(e.type));
        const advanced = comparePositions(scannedThrough, checkpoint) > 0;
        const swaps = !full && slot.build.status === 'building';
        if (mine.length === 0 && !swaps) {
          if (advanced) idle.push(slot);
          else this.reportCaughtUpOnce(slot, full);
          continue;
        }
        try {
          await this.commitBatch(slot, mine, scannedThrough, !full);
        } catch (err) {
          if (rethrow) throw err;
          this.options.logger?.error({ err, projection: slot.projection.name }, 'projection batch failed; retrying');
          await this.disown(slot.projection.name);
        }
      }
      if (idle.length > 0) await this.moveCheckpoints(idle, checkpoint, scannedThrough, !full, rethrow);
    }
    return { caughtUp };
  }

  private reportCaughtUpOnce(slot: Slot, full: boolean): void {
    // Report reaching the head once, even when the last batch was exactly full.
    if (full || this.reportedCaughtUp.has(slot.build.build_id)) return;
    this.reportedCaughtUp.add(slot.build.build_id);
    this.options.onProgress?.({ projection: slot.projection.name, buildId: slot.build.build_id, applied: 0, checkpoint: slot.build.checkpoint, caughtUp: true });
  }

  private progressed(slot: Slot, applied: number, checkpoint: Position, caughtUp: boolean): void {
    slot.build.checkpoint = checkpoint;
    if (caughtUp) this.reportedCaughtUp.add(slot.build.build_id);
    else this.reportedCaughtUp.delete(slot.build.build_id);
    this.options.onProgress?.({ projection: slot.projection.name, buildId: slot.build.build_id, applied, checkpoint, caughtUp });
  }

  /** Moves the checkpoints of projections with nothing to apply in one statement (compare-and-set per row). */
  private async moveCheckpoints(slots: readonly Slot[], previous: Position, checkpoint: Position, caughtUp: boolean, rethrow: boolean): Promise<void> {
    const { rows } = await this.db.query<{ name: string }>(
      `UPDATE proj_builds p SET checkpoint = $1, updated_at = now()
       FROM unnest($2::text[], $3::text[]) AS x(name, build_id)
       WHERE p.name = x.name AND p.build_id = x.build_id AND p.checkpoint = $4 RETURNING p.name`,
      [checkpoint, slots.map((s) => s.projection.name), slots.map((s) => s.build.build_id), previous],
    );
    const moved = new Set(rows.map((r) => r.name));
    for (const slot of slots) {
      if (moved.has(slot.projection.name)) {
        this.progressed(slot, 0, checkpoint, caughtUp);
        continue;
      }
      const error = new Error(`projection ${slot.projection.name}: checkpoint moved by another process`);
      if (rethrow) throw error;
      this.options.logger?.error({ err: error, projection: slot.projection.name }, 'projection lost to another process');
      await this.disown(slot.projection.name);
    }
  }

  /** Applies a slot's events and commits its writes with the new checkpoint (and a caught-up rebuild's swap). */
  private async commitBatch(slot: Slot, events: readonly RecordedEvent[], checkpoint: Position, caughtUp: boolean): Promise<void> {
    const { projection, build, cache } = slot;
    const previous = build.checkpoint;
    const started = performance.now();
    // The batch takes the cache's documents; they are handed back only when its transaction commits.
    let docs: BatchDocumentStore | undefined;
    await this.db.transaction(async (tx) => {
      docs = new BatchDocumentStore(tx, build.table_name, cache, keyedFields(projection.indexes));
      for (const event of events) await projection.apply(event, docs);
      await docs.flush();
      // Compare-and-set: if another owner moved the checkpoint, this batch must not commit.
      const { rows } = await tx.query(
        `UPDATE proj_builds SET checkpoint = $3, changed_through = $3, updated_at = now() WHERE name = $1 AND build_id = $2 AND checkpoint = $4 RETURNING 1`,
        [projection.name, build.build_id, checkpoint, previous],
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
    docs?.commitTo(cache);
    const tallied = this.tally?.get(projection.name) ?? { events: 0, ms: 0 };
    this.tally?.set(projection.name, { events: tallied.events + events.length, ms: Math.round(tallied.ms + performance.now() - started) });
    if (caughtUp && build.status === 'building') build.status = 'active';
    this.progressed(slot, events.length, checkpoint, caughtUp);
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

  /** Waits `ms`, or less when the runner stops (the abort is not an error). */
  private async sleep(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.controller.signal }).catch(() => undefined);
  }

  /** The build this process should advance: a build of the declared version, created if missing. */
  private async currentBuild(projection: Projection): Promise<{ build: BuildRow; created: boolean }> {
    const { rows } = await this.db.query<BuildRow>(
      `SELECT * FROM proj_builds WHERE name = $1 AND status IN ('active', 'building') ORDER BY created_at`,
      [projection.name],
    );
    // Tables of this version built before key columns existed get them (the readers follow within their refresh),
    // and a table a catch-up filled, but did not live to index, its indexes.
    for (const row of rows) {
      if (row.version !== projection.version) continue;
      await upgradeReadModelTable(this.db, row.table_name, projection.indexes);
      await ensureIndexes(this.db, row.table_name, projection.indexes);
    }
    const building = rows.find((r) => r.status === 'building' && r.version === projection.version);
    if (building) return { build: building, created: false };
    const active = rows.find((r) => r.status === 'active');
    if (active && active.version === projection.version) return { build: active, created: false };
    // No build of this version yet: with nothing served, the first build is active at once;
    // otherwise the old version keeps serving until the new one catches up.
    return { build: await this.createBuild(projection, active ? 'building' : 'active'), created: true };
  }

  private async createBuild(projection: Projection, status: 'active' | 'building'): Promise<BuildRow> {
    const buildId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const table = tableName(projection.name, projection.version, buildId);
    // A first build made during a catch-up is indexed when the catch-up ends (`unindexed`); others at once.
    const unindexed = status === 'active' ? this.unindexed : undefined;
    await this.db.transaction(async (tx) => {
      await tx.query(readModelTableSql(table));
      for (const sql of keyColumnsSql(table, keyedFields(projection.indexes))) await tx.query(sql);
      if (!unindexed) for (const index of projection.indexes ?? []) await tx.query(indexSql(table, index));
      await tx.query(
        `INSERT INTO proj_builds (name, build_id, version, table_name, checkpoint, status) VALUES ($1, $2, $3, $4, $5, $6)`,
        [projection.name, buildId, projection.version, table, START, status],
      );
    });
    unindexed?.set(table, projection.indexes ?? []);
    this.options.logger?.info({ projection: projection.name, version: projection.version, table, status }, 'projection build created');
    const { rows } = await this.db.query<BuildRow>('SELECT * FROM proj_builds WHERE name = $1 AND build_id = $2', [projection.name, buildId]);
    return rows[0]!;
  }
}
