/**
 * What the gateway's response cache (gateway/responseCache.ts) needs from the process that hosts the
 * subgraphs: what one request's execution read, the caller's principal and the read models' versions
 * as of now, and its access records written again for a later request served the same answer.
 *
 * What an execution read is noted through the request's async context by the ports the hosted
 * resolvers are given (`notingReads`): each read model asked (a kept answer holds while their
 * versions stay, `SqlReadModels.version`), each stream it folded whole with the revision it folded,
 * among the streams the host says hold no personal data (the callers' consumer streams, for `me`: it
 * holds while each is at that revision; a stream with personal fields is never kept, as erasing a
 * key changes what it reads without moving the stream), each reading of the clock (it then holds for
 * the clock's second only, or, for a figure that says when it next changes — a date, a deadline —
 * until then), and whether it read the event log or the database otherwise (such an answer is never
 * kept: nothing cheap tells when it changes).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlDatabase } from '../../events/sql/database.ts';
import type { EventStore } from '../../events/types.ts';
import type { PersonalDataPort } from '../../events/crypto/personalDataStore.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import type { Caller } from '../../platform/auth.ts';
import { requestPrincipalsOf, type AccessControl } from './access.ts';
import { recordedAgain, type KeptAccessRecord } from './audit.ts';
import type { ClockReading } from './clock.ts';
import type { SubgraphRuntime } from './module.ts';

/** What one execution read. */
export class ExecutionReads {
  readonly readModels = new Set<string>();
  /** Streams folded whole, each with the revision folded (-1: no stream). */
  readonly streams = new Map<string, number>();
  /** The event log, the database or the personal-data keys were read directly. */
  beyondReadModels = false;
  /** Each reading of the clock (figures such as overdue cases or ages change with the clock alone). */
  private readonly clockReadings: { from: number; until: number }[] = [];

  /**
   * Notes a reading of the clock at `at` (ms): what was read from it holds from `at`'s second to the
   * end of that second, unless the figure says, with `holdsUntil`, the instant it next changes.
   */
  readClock(at: number): ClockReading {
    const from = Math.floor(at / 1000) * 1000;
    const reading = { from, until: from + 1000 };
    this.clockReadings.push(reading);
    return {
      now: new Date(at),
      holdsUntil: (changesAt) => {
        reading.until = changesAt;
      },
    };
  }

  /** When every figure read from the clock holds together (`from` ≥ `until`: never); undefined when the clock was not read. */
  clockWindow(): { from: number; until: number } | undefined {
    if (this.clockReadings.length === 0) return undefined;
    // A loop, not Math.max(...): an execution may read the clock once per item of a long list.
    let from = -Infinity;
    let until = Infinity;
    for (const reading of this.clockReadings) {
      from = Math.max(from, reading.from);
      until = Math.min(until, reading.until);
    }
    return { from, until };
  }
}

const currentReads = new AsyncLocalStorage<ExecutionReads>();

/** `target` whose every method call first runs `note` (in the caller's async context); `result` may wrap what a method returns. */
function noting<T extends object>(target: T, note: () => void, result: (key: PropertyKey, value: unknown) => unknown = (_, value) => value): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key, object);
      if (typeof value !== 'function') return value;
      let method = wrapped.get(key);
      if (!method) {
        method = (...args: unknown[]) => {
          note();
          return result(key, (value as (...a: unknown[]) => unknown).apply(object, args));
        };
        wrapped.set(key, method);
      }
      return method;
    },
  });
}

const noteBeyond = () => {
  const reads = currentReads.getStore();
  if (reads) reads.beyondReadModels = true;
};

/**
 * The store the hosted resolvers get: a stream `keptFolds` admits folded whole (`aggregate` without
 * options) is noted with the revision it was folded at; any other read is noted as beyond the read models.
 */
function notingStore(store: EventStore, keptFolds: (streamId: string) => boolean): EventStore {
  const beyond = noting<EventStore>(store, noteBeyond);
  const aggregate: EventStore['aggregate'] = async (decider, streamId, options) => {
    if (options !== undefined || !keptFolds(streamId)) return beyond.aggregate(decider, streamId, options);
    const reads = currentReads.getStore();
    const folded = await store.aggregate(decider, streamId);
    const revision = folded.revision ?? -1;
    // Folded twice at two revisions: no one revision the answer was read at.
    if (reads?.streams.has(streamId) && reads.streams.get(streamId) !== revision) reads.beyondReadModels = true;
    reads?.streams.set(streamId, revision);
    return folded;
  };
  return new Proxy(beyond, { get: (target, key) => (key === 'aggregate' ? aggregate : Reflect.get(target, key, target)) });
}

/**
 * The runtime the hosted resolvers get: every read they make is noted in the request that made it.
 * `keptFolds` names the streams whose whole folds an answer may be kept by: none with personal data.
 */
export function notingReads(runtime: SubgraphRuntime, keptFolds: (streamId: string) => boolean): SubgraphRuntime {
  const readModels: ReadModels = {
    checkpoints: (names) => {
      noteBeyond();
      return runtime.readModels.checkpoints(names);
    },
    of: (name) => {
      const note = () => currentReads.getStore()?.readModels.add(name);
      const documents = runtime.readModels.of(name);
      // A collection may be taken once and read on every request: its reads are noted too.
      return noting(documents, note, (key, value) => (key === 'collection' ? noting(value as object, note) : value));
    },
  };
  return {
    ...runtime,
    now: () => {
      const now = runtime.now();
      currentReads.getStore()?.readClock(now.getTime());
      return now;
    },
    readClock: () => {
      const now = runtime.now();
      return currentReads.getStore()?.readClock(now.getTime()) ?? { now, holdsUntil: () => undefined };
    },
    store: notingStore(runtime.store, keptFolds),
    readModels,
    ...(runtime.db && { db: noting<SqlDatabase>(runtime.db, noteBeyond) }),
    ...(runtime.personalData && { personalData: noting<PersonalDataPort>(runtime.personalData, noteBeyond) }),
  };
}

/**
 * The hosting process's side of the gateway's shared subgraph calls (gateway/sharedCalls.ts): the
 * caller's principal, the access records one call wrote, and those written again for a request that
 * shared the call.
 */
export interface CallSources {
  /** The caller's principal now — grants valid now, jurisdiction — as text; one fresh read, shared with the request's subgraph calls. */
  principal(caller: Caller, requestId: string): Promise<string>;
  /** The clock the subgraphs answer by. */
  now(): Date;
  /** Runs `execute` (one subgraph call), collecting the access records written within it. */
  trackCall<T>(execute: () => Promise<T>): Promise<{ value: T; records: KeptAccessRecord[] }>;
  /** Writes `records` again as `requestId`'s, at `at`; resolves once they are durable. */
  recordAgain(records: readonly KeptAccessRecord[], requestId: string, at: Date): Promise<void>;
}

/** The hosting process's side of the gateway's response cache. */
export interface AnswerSources extends CallSources {
  /** The version now of each hosted read model (undefined: not built), read by a statement issued after the call. */
  versions(): Promise<ReadonlyMap<string, string | undefined>>;
  /** The revision now of each stream (-1: none), read after the call. */
  streamRevisions(streamIds: readonly string[]): Promise<number[]>;
  /** Runs `execute`, noting what it reads and the access records written for `requestId` meanwhile. */
  track<T>(requestId: string, execute: () => Promise<T>): Promise<{ value: T; reads: ExecutionReads; records: KeptAccessRecord[] }>;
}

export function callSources(input: { access: AccessControl; now: () => Date }): CallSources {
  const { access } = input;
  const principals = requestPrincipalsOf(access);
  return {
    async principal(caller, requestId) {
      return JSON.stringify(await principals.principalFor(requestId, caller.consumerId));
    },
    now: input.now,
    async trackCall(execute) {
      const recorder = access.recorder;
      return recorder ? recorder.collectWithin(execute) : { value: await execute(), records: [] };
    },
    async recordAgain(records, requestId, at) {
      const recorder = access.recorder;
      if (!recorder) return;
      await Promise.all(records.map((kept) => {
        const { data, metadata } = recordedAgain(kept, requestId, at);
        return recorder.record(data, metadata);
      }));
    },
  };
}

export function answerSources(input: { access: AccessControl; runtime: SubgraphRuntime; readModelNames: readonly string[] }): AnswerSources | undefined {
  const { access, runtime } = input;
  const version = runtime.readModels.version?.bind(runtime.readModels);
  if (!version) return undefined;
  const names = [...new Set(input.readModelNames)];
  return {
    ...callSources({ access, now: () => runtime.now() }),
    async versions() {
      const read = await Promise.all(names.map(version));
      return new Map(names.map((name, i) => [name, read[i]]));
    },
    streamRevisions: (streamIds) => Promise.all(streamIds.map(async (id) => (await runtime.store.streamRevision(id)) ?? -1)),
    async track(requestId, execute) {
      const reads = new ExecutionReads();
      const stop = access.recorder?.collect(requestId);
      const value = await currentReads.run(reads, execute).catch((error: unknown) => {
        stop?.();
        throw error;
      });
      return { value, reads, records: stop?.() ?? [] };
    },
  };
}
