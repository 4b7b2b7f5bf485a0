/**
 * The projection runner for read models in MongoDB, with the SQL runner's behaviour and public
 * surface (`start`, `stop`, `catchUp`, `rebuild`, `owned`, `lag`), so domain projections and their
 * callers do not change. Events come from any `EventStore`. For each projection it:
 * - owns it through a lease document (`proj_leases`, expiry on the server's clock): MongoDB has no
 *   advisory locks; a dead owner's lease lapses after `leaseMs` and another process takes over;
 * - reads the handled events after the checkpoint and applies a batch; on a replica set or sharded
 *   cluster the writes and the checkpoint commit in one transaction. On a standalone server each
 *   write is guarded by the position of the event being applied (`pos`), and the checkpoint moves
 *   after the batch: a crash between the two re-applies the batch, and every write already made is
 *   a no-op — exact for projections whose writes to a document depend on that document and the
 *   event (README: "standalone fallback");
 * - builds a new version (or a requested rebuild) into fresh collections while queries keep reading
 *   the active build, and swaps it in when it has caught up.
 * Both paths compare-and-set the checkpoint, so an owner that lost its lease cannot commit a batch.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientSession, Db } from 'mongodb';
import { comparePositions } from '../../events/position.ts';
import { START, type EventStore, type RecordedEvent } from '../../events/types.ts';
import type { ProjectionLag, Projector, ProjectorOptions } from '../readModels.ts';
import { assertDistinctNames, LAG_SCAN_LIMIT } from '../runner.ts';
import type { Projection } from '../types.ts';
import { BUILDS, MongoDocumentStore, type MongoBuild, type MongoReadModelDatabase, type StoredRow } from './mongoDocumentStore.ts';
import { buildCollectionName, buildPrefix, positionKey } from './query.ts';

export interface MongoRunnerOptions extends ProjectorOptions {
  /** How long a lease outlives its owner's last renewal. @default 10000 */
  leaseMs?: number;
  /** Longest wait between polls for new events when caught up. @default 500 */
  maxPollIntervalMs?: number;
}

interface Lease {
  _id: string;
  owner: string;
  expiresAt: Date;
}

const LEASES = 'proj_leases';
const RETIRED_GRACE_MS = 30_000;

export class MongoProjectionRunner implements Projector {
  private readonly batchSize: number;
  private readonly lockRetryMs: number;
  private readonly leaseMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly owner = randomUUID();
  private readonly leases = new Set<string>();
  private readonly loops: Promise<void>[] = [];
  private readonly controller = new AbortController();
  private readonly reportedCaughtUp = new Set<string>();
  private readonly db: Db;

  /** Stops reporting lag to the process's metrics (`ProjectorOptions.watch`). */
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly mongo: MongoReadModelDatabase,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly options: MongoRunnerOptions = {},
  ) {
    this.db = mongo.db;
    this.batchSize = options.batchSize ?? 500;
    this.lockRetryMs = options.lockRetryMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.maxPollIntervalMs = options.maxPollIntervalMs ?? 500;
    assertDistinctNames(projections);
  }

  private builds() {
    return this.db.collection<MongoBuild>(BUILDS);
  }

  private async ensureSchema(): Promise<void> {
    await this.builds().createIndex({ name: 1 }, { unique: true, partialFilterExpression: { status: 'active' }, name: 'one_active_build' });
  }

  async start(): Promise<void> {
    await this.ensureSchema();
    this.unwatch ??= this.options.watch?.(this);
    for (const projection of this.projections) this.loops.push(this.runLoop(projection));
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.controller.abort();
    await Promise.allSettled(this.loops);
    for (const name of this.leases) await this.release(name).catch(() => undefined);
    this.leases.clear();
  }

  owned(): string[] {
    return [...this.leases];
  }

  async catchUp(): Promise<void> {
    await this.ensureSchema();
    for (const projection of this.projections) {
      if (!(await this.acquire(projection.name))) throw new Error(`projection ${projection.name} is owned by another process`);
      const build = await this.currentBuild(projection);
      while (!(await this.step(projection, build)).caughtUp);
    }
  }

  async rebuild(name: string): Promise<void> {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection) throw new Error(`unknown projection ${name}; known: ${this.projections.map((p) => p.name).join(', ')}`);
    await this.ensureSchema();
    if (!(await this.acquire(name))) throw new Error(`projection ${name} is owned by another process; stop it first`);
    await this.builds().updateMany({ name, status: 'building' }, { $set: { status: 'retired', updatedAt: new Date() } });
    const build = await this.createBuild(projection, 'building');
    while (!(await this.step(projection, build)).caughtUp);
  }

  /** `events` counts handled events after the checkpoint, up to 10,000 (positions carry no count on every backend). */
  async lag(): Promise<ProjectionLag[]> {
    const out: ProjectionLag[] = [];
    for (const p of this.projections) {
      const build = await this.builds().findOne({ name: p.name, status: { $in: ['active', 'building'] } }, { sort: { status: -1 } });
      const pending = await this.store.readAll({ fromPosition: build?.checkpoint ?? START, limit: LAG_SCAN_LIMIT, filter: { types: p.eventTypes } });
      const next = pending[0];
      out.push({
        projection: p.name,
        checkpoint: build?.checkpoint ?? START,
        events: pending.length,
        seconds: next ? Math.max(0, (Date.now() - Date.parse(next.recordedAt)) / 1000) : 0,
        owned: this.leases.has(p.name),
      });
    }
    return out;
  }

  /** Takes or renews the lease; expiry is judged by the server's clock (`$$NOW`), never a process's. */
  private async acquire(name: string): Promise<boolean> {
    try {
      await this.db.collection<Lease>(LEASES).updateOne(
        { _id: name, $or: [{ owner: this.owner }, { $expr: { $lt: ['$expiresAt', '$$NOW'] } }] },
        [{ $set: { owner: this.owner, expiresAt: { $add: ['$$NOW', this.leaseMs] } } }],
        { upsert: true },
      );
    } catch (err) {
      // The upsert met the live lease of another owner on its _id.
      if ((err as { code?: unknown }).code === 11000) {
        if (this.leases.delete(name)) this.options.logger?.warn({ projection: name }, 'projection lease lost to another process');
        return false;
      }
      throw err;
    }
    if (!this.leases.has(name)) {
      this.leases.add(name);
      await this.dropRetired(name);
      this.options.logger?.info({ projection: name }, 'projection owned by this process');
    }
    return true;
  }

  private async release(name: string): Promise<void> {
    await this.db.collection<Lease>(LEASES).deleteOne({ _id: name, owner: this.owner });
  }

  private async runLoop(projection: Projection): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        if (!(await this.acquire(projection.name))) {
          await this.sleep(this.lockRetryMs);
          continue;
        }
        const build = await this.currentBuild(projection);
        let idle = 5;
        let renewedAt = Date.now();
        while (!signal.aborted) {
          if (Date.now() - renewedAt > this.leaseMs / 3) {
            if (!(await this.acquire(projection.name))) break;
            renewedAt = Date.now();
          }
          const { caughtUp } = await this.step(projection, build);
          if (!caughtUp) {
            idle = 5;
            continue;
          }
          await this.sleep(idle);
          idle = Math.min(idle * 2, this.maxPollIntervalMs);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.options.logger?.error({ err, projection: projection.name }, 'projection batch failed; retrying');
        this.leases.delete(projection.name);
        await this.release(projection.name).catch(() => undefined);
        await this.sleep(this.lockRetryMs);
      }
    }
  }

  /** Waits `ms`, or less when the runner stops (the abort is not an error). */
  private async sleep(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.controller.signal }).catch(() => undefined);
  }

  private async dropRetired(name: string): Promise<void> {
    const retired = await this.builds()
      .find({ name, status: 'retired', droppedAt: { $exists: false }, updatedAt: { $lt: new Date(Date.now() - RETIRED_GRACE_MS) } })
      .toArray();
    for (const build of retired) {
      const collections = await this.db.listCollections({ name: { $regex: `^${build.prefix.replace(/\./g, '\\.')}\\.` } }, { nameOnly: true }).toArray();
      for (const c of collections) await this.db.collection(c.name).drop().catch(() => undefined);
      await this.builds().updateOne({ _id: build._id }, { $set: { droppedAt: new Date() } });
    }
  }

  private async currentBuild(projection: Projection): Promise<MongoBuild> {
    const rows = await this.builds()
      .find({ name: projection.name, status: { $in: ['active', 'building'] } })
      .sort({ createdAt: 1 })
      .toArray();
    const building = rows.find((r) => r.status === 'building' && r.version === projection.version);
    if (building) return building;
    const active = rows.find((r) => r.status === 'active');
    if (active && active.version === projection.version) return active;
    return this.createBuild(projection, active ? 'building' : 'active');
  }

  private async createBuild(projection: Projection, status: 'active' | 'building'): Promise<MongoBuild> {
    const buildId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const prefix = buildPrefix(projection.name, projection.version, buildId);
    for (const index of projection.indexes ?? []) {
      await this.db
        .collection<StoredRow>(buildCollectionName(prefix, index.collection))
        .createIndex(Object.fromEntries(index.fields.map((f) => [`doc.${f}`, 1])), { unique: index.unique ?? false });
    }
    const now = new Date();
    const build: MongoBuild = { _id: `${projection.name}:${buildId}`, name: projection.name, buildId, version: projection.version, prefix, checkpoint: START, status, createdAt: now, updatedAt: now };
    await this.builds().insertOne(build);
    this.options.logger?.info({ projection: projection.name, version: projection.version, prefix, status }, 'projection build created');
    return build;
  }

  /** One batch: read after the checkpoint, apply, and commit the writes with the checkpoint. */
  private async step(projection: Projection, build: MongoBuild): Promise<{ caughtUp: boolean }> {
    const { events, scannedThrough } = await this.store.readAllWithHead({ fromPosition: build.checkpoint, limit: this.batchSize, filter: { types: projection.eventTypes } });
    const caughtUp = events.length < this.batchSize;
    const advanced = comparePositions(scannedThrough, build.checkpoint) > 0;
    if (!advanced && !(caughtUp && build.status === 'building')) {
      if (caughtUp && !this.reportedCaughtUp.has(build.buildId)) {
        this.reportedCaughtUp.add(build.buildId);
        this.options.onProgress?.({ projection: projection.name, buildId: build.buildId, applied: 0, checkpoint: build.checkpoint, caughtUp });
      }
      return { caughtUp };
    }
    const swap = caughtUp && build.status === 'building';
    if (this.mongo.transactions) {
      const session = this.mongo.client.startSession();
      try {
        await session.withTransaction(async () => {
          await this.applyBatch(projection, build, events, { session });
          await this.commit(projection, build, scannedThrough, swap, session);
        });
      } finally {
        await session.endSession();
      }
    } else {
      await this.applyBatch(projection, build, events, {});
      await this.commit(projection, build, scannedThrough, swap, undefined);
    }
    build.checkpoint = scannedThrough;
    if (swap) build.status = 'active';
    if (caughtUp) this.reportedCaughtUp.add(build.buildId);
    else this.reportedCaughtUp.delete(build.buildId);
    this.options.onProgress?.({ projection: projection.name, buildId: build.buildId, applied: events.length, checkpoint: scannedThrough, caughtUp });
    return { caughtUp };
  }

  private async applyBatch(projection: Projection, build: MongoBuild, events: readonly RecordedEvent[], scope: { session?: ClientSession }): Promise<void> {
    let current: string | undefined;
    const docs = new MongoDocumentStore(this.db, async () => build.prefix, scope.session ? { session: scope.session } : { guardKey: () => current });
    for (const event of events) {
      current = positionKey(event.position);
      await projection.apply(event, docs);
    }
  }

  /** Compare-and-set of the checkpoint (and the swap of a caught-up build), in the session when there is one. */
  private async commit(projection: Projection, build: MongoBuild, checkpoint: string, swap: boolean, session: ClientSession | undefined): Promise<void> {
    const opts = session ? { session } : {};
    const moved = await this.builds().updateOne({ _id: build._id, checkpoint: build.checkpoint }, { $set: { checkpoint, updatedAt: new Date() } }, opts);
    if (moved.matchedCount !== 1) throw new Error(`projection ${projection.name}: checkpoint moved by another process; batch discarded`);
    if (!swap) return;
    // Retire first: the partial unique index allows one active build per projection. Without a
    // transaction a crash here leaves none active until the next step swaps again.
    await this.builds().updateMany({ name: projection.name, status: 'active' }, { $set: { status: 'retired', updatedAt: new Date() } }, opts);
    await this.builds().updateOne({ _id: build._id }, { $set: { status: 'active', activatedAt: new Date() } }, opts);
    this.options.logger?.info({ projection: projection.name, prefix: build.prefix }, 'rebuilt projection swapped in');
  }
}
