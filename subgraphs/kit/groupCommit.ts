/**
 * Group commit for the command seam (`handle` with `groupCommit`): the appends that commands issue while an earlier batch
 * is being written go to the store together, in one `appendMany`, i.e. one transaction and one
 * commit, instead of one transaction each. Under load most of what a one-event command costs the
 * store is its transaction (the round trip, the commit, the WAL flush); shared by the commands of a
 * batch, it is paid once.
 *
 * Nothing a command observes changes:
 * - every append keeps its own expected revision, checked by the store in the batch's transaction;
 * - a command's promise settles only after its batch has committed (or failed);
 * - a batch is all-or-nothing (SQL `appendMany`), so when it is refused for a reason that proves
 *   nothing was written — a stale expected revision (ConcurrencyError), a broken uniqueness rule
 *   (ConflictError) or invalid data (ValidationError, raised before anything is sent) — each unit of
 *   it is written again on its own and gets exactly the outcome it would have had alone. Any other
 *   failure (a dropped connection: the commit may or may not have happened) is reported to every
 *   unit of the batch, as it would have been to a single append, and nothing is retried.
 *
 * Only appends that can never be replays are batched: no idempotency key, no caller-chosen event id.
 * A replay is detected after the commit (the stored content is compared in `appendMany`), so a
 * replay refused there would fail a batch that other commands already committed in.
 *
 * Only a store whose `appendMany` is one transaction (`atomicAppendMany`: the SQL stores) batches;
 * with any other (KurrentDB runs the appends in turn, the seed's write-behind buffer writes later), a
 * unit is written with `appendMany` on its own.
 */
import { ConcurrencyError, ConflictError, ValidationError } from '../../events/errors.ts';
import type { AppendResult, EventStore, StreamAppend } from '../../events/types.ts';
import { onePer } from './onePer.ts';

/** Appends written together or not at all (e.g. a case serial and the registration that uses it). */
export type AppendUnit = readonly StreamAppend[];

interface Queued {
  unit: AppendUnit;
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/** Failures after which nothing of the batch is in the store, so its units may be written again one by one. */
export function provesRollback(error: unknown): boolean {
  return error instanceof ConcurrencyError || error instanceof ConflictError || error instanceof ValidationError;
}

export interface GroupCommitOptions {
  /** Most units in one batch. @default 200 */
  maxUnits?: number;
}

export class GroupCommit {
  private queue: Queued[] = [];
  private writing = false;
  private readonly maxUnits: number;
  private readonly atomic: boolean;
  /** Units written and batches sent, for tests and the bench. */
  readonly stats = { units: 0, batches: 0, retriedAlone: 0 };

  constructor(
    private readonly store: EventStore,
    options: GroupCommitOptions = {},
  ) {
    this.maxUnits = options.maxUnits ?? 200;
    this.atomic = store.atomicAppendMany;
  }

  /** Writes the unit, in a batch with whatever else is waiting; resolves once it is committed. */
  write(unit: AppendUnit): Promise<AppendResult[]> {
    for (const append of unit) {
      if (append.options?.idempotencyKey !== undefined || append.events.some((e) => e.eventId !== undefined)) {
        throw new Error(`group commit takes no idempotent appends (${append.streamId}): write them with the store itself`);
      }
    }
    if (!this.atomic) return this.store.appendMany(unit);
    return new Promise((resolve, reject) => {
      this.queue.push({ unit, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** One batch at a time: what queues meanwhile is the next batch. */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      // Units written in the same turn of the event loop go together from the first batch on.
      await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxUnits);
        await this.writeBatch(batch);
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(batch: Queued[]): Promise<void> {
    this.stats.batches++;
    this.stats.units += batch.length;
    if (batch.length === 1) {
      const [only] = batch as [Queued];
      await this.store.appendMany(only.unit).then(only.resolve, only.reject);
      return;
    }
    let results: AppendResult[];
    try {
      results = await this.store.appendMany(batch.flatMap((q) => q.unit));
    } catch (error) {
      if (!provesRollback(error)) {
        for (const q of batch) q.reject(error);
        return;
      }
      // Nothing was written: each unit alone gets its own outcome, in the batch's order (a unit may
      // extend a stream an earlier one of the batch writes).
      this.stats.retriedAlone += batch.length;
      for (const q of batch) await this.store.appendMany(q.unit).then(q.resolve, q.reject);
      return;
    }
    let offset = 0;
    for (const q of batch) {
      q.resolve(results.slice(offset, offset + q.unit.length));
      offset += q.unit.length;
    }
  }
}

const commits = new WeakMap<EventStore, GroupCommit>();

/** The group commit of `store` (one per store, so every command of the process shares it). */
export function groupCommitOf(store: EventStore): GroupCommit {
  return onePer(commits, store, (s) => new GroupCommit(s));
}
