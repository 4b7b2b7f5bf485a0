/**
 * The read side's ports beside `DocumentStore`: the query side of every projection's read model
 * (`ReadModels`) and what keeps them projected (`Projector`). The SQL backend implements them in
 * `sql/readModels.ts` and `runner.ts`, MongoDB in `mongodb/`; resolvers, the kit and the process
 * managers see only these, so `bin/` chooses the backend by configuration.
 */
import type { Logger } from 'pino';
import { NotFoundError } from '../events/errors.ts';
import type { Position } from '../events/types.ts';
import type { DocumentStore } from './types.ts';

export interface ReadModels {
  /**
   * The checkpoint of the active build of each of `names` (absent: not built yet): queries on a
   * projection see every event up to its checkpoint (read-after-write, kit/readAfterWrite.ts).
   */
  checkpoints(names: readonly string[]): Promise<Map<string, Position>>;
  /** The documents of projection `name` as queries see them now. */
  of(name: string): DocumentStore;
  /**
   * What the documents of `name` are as of now (undefined: not built), read after the call: it
   * changes whenever they may have (gateway/responseCache.ts). Absent: not known cheaply.
   */
  version?(name: string): Promise<string | undefined>;
}

/**
 * Where each projection's active build lives (`locate`: undefined before the first build), remembered
 * for `refreshMs`: it changes only when a rebuild is swapped in, so readers reach a swap within that
 * time (runners keep a retired build for longer).
 */
export function activeBuildLocator<T>(refreshMs: number, locate: (name: string) => Promise<T | undefined>): (name: string) => Promise<T> {
  const cache = new Map<string, { location: T; at: number }>();
  // Readers arriving while a lookup runs share it (when the time is up under load, one lookup, not one
  // per reader): it may have started just before they came, which `refreshMs` > 0 allows anyway.
  const looking = new Map<string, Promise<T>>();
  const lookUp = async (name: string): Promise<T> => {
    const location = await locate(name);
    if (location === undefined) throw new NotFoundError(`read model ${name} has not been built yet: is the projector running?`);
    cache.set(name, { location, at: Date.now() });
    return location;
  };
  return async (name) => {
    const cached = cache.get(name);
    if (cached && Date.now() - cached.at < refreshMs) return cached.location;
    if (refreshMs === 0) return lookUp(name);
    let lookup = looking.get(name);
    if (!lookup) {
      lookup = lookUp(name).finally(() => looking.delete(name));
      looking.set(name, lookup);
    }
    return lookup;
  };
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
  /** The position its read model has applied through. */
  checkpoint: Position;
  /** Committed events of its types after the checkpoint, up to `LAG_SCAN_LIMIT`; 0 when caught up. */
  events: number;
  /** Age of the oldest committed event the projection has not yet applied; 0 when caught up. */
  seconds: number;
  owned: boolean;
}

/** What every projector takes; each backend's runner adds its own tuning. */
export interface ProjectorOptions {
  /** Events per batch (and per transaction where the backend has them). @default 500 */
  batchSize?: number;
  /** How often a process that does not own a projection tries again to own it. @default 1000 */
  lockRetryMs?: number;
  /** Called after each committed batch (progress bars, metrics). */
  onProgress?: (progress: BatchProgress) => void;
  /** Called when the live loop starts, to report its lag (the process's /metrics); what it returns is called on stop. */
  watch?: (projector: Pick<Projector, 'lag'>) => () => void;
  logger?: Logger;
}

/**
 * Runs projections into their read models: each projection is owned by one process at a time, its
 * events applied after its checkpoint, a new version built beside the active one and swapped in.
 */
export interface Projector {
  /** Starts the live loop: it takes the projections it can own, catches them up, then follows appends. */
  start(): Promise<void>;
  /** Stops the loop and gives up every projection this process owns. */
  stop(): Promise<void>;
  /** Applies everything committed before this call, for every projection; rejects when one fails or another process owns it. */
  catchUp(): Promise<void>;
  /**
   * Whether `catchUp()` would find nothing to do, from the checkpoints alone (taking no ownership):
   * every projection's build of its declared version active, and at the last event committed. A
   * start skips the catch-up on `true`; a backend that cannot tell cheaply leaves it out.
   */
  isCaughtUp?(): Promise<boolean>;
  /** Builds projection `name` again from the first event and swaps the new build in. */
  rebuild(name: string): Promise<void>;
  /** Names of the projections this process owns now. */
  owned(): string[];
  lag(): Promise<ProjectionLag[]>;
}
