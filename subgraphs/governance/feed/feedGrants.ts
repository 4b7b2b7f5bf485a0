/**
 * The grants of consumers with open event feeds, kept across events instead of re-read for every
 * event of every subscriber. Three things keep them correct:
 * - the feed hub reads every change to a consumer's stream (`ConsumerRegistered`, `AccessGranted`,
 *   `AccessRevoked`) and calls `invalidate`, which drops the entry and wakes the consumer's feeds;
 * - an entry older than `reloadMs` is read again before it is used, and every `reloadMs` the
 *   watching feeds are woken to check again, so a stalled hub delays a change by `reloadMs` at most;
 * - which grants count is worked out again whenever an instant passes at which one of them starts
 *   or expires, so expiry applies to the very next event without a reload.
 */
import type { AccessGrant, Jurisdiction } from '../../kit/access.ts';
import { grantsValidAt, type ConsumerState } from '../consumer/decider.ts';

export interface FeedGrantsOptions {
  /** Reads a consumer's folded stream (`readConsumerState`). */
  load(consumerId: string): Promise<ConsumerState>;
  /** The clock grants are valid at. */
  now(): Date;
  /** The longest an entry is trusted without being read again. */
  reloadMs: number;
}

interface Entry {
  state: ConsumerState;
  loadedAt: number;
  valid: readonly AccessGrant[];
  /** The next instant (ms) at which a grant of `state` starts or expires. */
  changesAt: number;
}

function validity(state: ConsumerState, at: Date): Pick<Entry, 'valid' | 'changesAt'> {
  const now = at.getTime();
  let changesAt = Number.POSITIVE_INFINITY;
  if (state.status === 'REGISTERED') {
    for (const grant of state.grants) {
      if (grant.revocation) continue;
      for (const instant of [Date.parse(grant.validFrom), Date.parse(grant.validUntil)]) {
        if (instant > now && instant < changesAt) changesAt = instant;
      }
    }
  }
  return { valid: grantsValidAt(state, at), changesAt };
}

export class FeedGrants {
  private readonly entries = new Map<string, Entry>();
  /** Loads in flight, shared by every feed of the consumer. */
  private readonly loading = new Map<string, Promise<readonly AccessGrant[]>>();
  /** Bumped by `invalidate`: a load that started before the change must not be kept. */
  private readonly versions = new Map<string, number>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FeedGrantsOptions) {}

  /** The consumer's grants valid now: synchronous while the entry is fresh. */
  current(consumerId: string): readonly AccessGrant[] | Promise<readonly AccessGrant[]> {
    const entry = this.entries.get(consumerId);
    if (entry && Date.now() - entry.loadedAt < this.options.reloadMs) {
      const at = this.options.now();
      if (at.getTime() >= entry.changesAt) Object.assign(entry, validity(entry.state, at));
      return entry.valid;
    }
    return this.reload(consumerId);
  }

  /**
   * The consumer's jurisdiction as of the grants `current` last gave (undefined when none are kept):
   * the feed's access records name the principal as every other record does.
   */
  jurisdiction(consumerId: string): Jurisdiction | null | undefined {
    const entry = this.entries.get(consumerId);
    if (!entry) return undefined;
    return entry.state.status === 'REGISTERED' ? entry.state.jurisdiction : null;
  }

  /** The consumer's stream changed: forget its grants and wake its feeds to check again. */
  invalidate(consumerId: string): void {
    // Nobody follows this consumer: nothing is cached or loading for it.
    if (!this.watchers.has(consumerId) && !this.loading.has(consumerId)) return;
    this.versions.set(consumerId, (this.versions.get(consumerId) ?? 0) + 1);
    this.entries.delete(consumerId);
    this.loading.delete(consumerId);
    for (const wake of this.watchers.get(consumerId) ?? []) wake();
  }

  /** Calls `wake` when the consumer's grants may have changed; returns the way to stop. */
  watch(consumerId: string, wake: () => void): () => void {
    let set = this.watchers.get(consumerId);
    if (!set) this.watchers.set(consumerId, (set = new Set()));
    set.add(wake);
    this.timer ??= setInterval(() => this.wakeAll(), this.options.reloadMs).unref();
    return () => {
      set.delete(wake);
      if (set.size === 0) {
        this.watchers.delete(consumerId);
        this.entries.delete(consumerId);
        this.versions.delete(consumerId);
      }
      if (this.watchers.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private wakeAll(): void {
    for (const set of this.watchers.values()) for (const wake of set) wake();
  }

  private reload(consumerId: string): Promise<readonly AccessGrant[]> {
    let pending = this.loading.get(consumerId);
    if (pending) return pending;
    const version = this.versions.get(consumerId) ?? 0;
    pending = this.options.load(consumerId).then(
      (state): readonly AccessGrant[] | Promise<readonly AccessGrant[]> => {
        // Changed while loading: what was read may predate the change, so read again.
        if ((this.versions.get(consumerId) ?? 0) !== version) return this.current(consumerId);
        this.loading.delete(consumerId);
        const entry: Entry = { state, loadedAt: Date.now(), ...validity(state, this.options.now()) };
        // Only consumers with a feed open are kept; a feed that closed meanwhile leaves nothing behind.
        if (this.watchers.has(consumerId)) this.entries.set(consumerId, entry);
        return entry.valid;
      },
      (error: unknown) => {
        this.loading.delete(consumerId);
        throw error;
      },
    );
    this.loading.set(consumerId, pending);
    return pending;
  }
}
