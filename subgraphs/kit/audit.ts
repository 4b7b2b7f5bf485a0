/**
 * The access record (DESIGN §2): every request a subgraph served appends one `DataAccessed` before
 * its response leaves the subgraph, and a response whose record could not be written is replaced by
 * an error. Records of concurrent requests are written together (group commit): one append of many
 * events to a fresh stream per batch, so auditing costs one round trip per batch, not per request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { actorOf } from './provenance.ts';
import type { Logger } from 'pino';
import type { Actor, EventMetadata, EventStore, NewEvent } from '../../events/types.ts';
import { accessStreamId, type DataAccessed } from './dataAccessed.ts';
import { observeAccessBatch } from '../../platform/metrics.ts';
import type { RequestAccess, ServedData } from './access.ts';
import type { Caller } from '../../platform/auth.ts';
import type { OperationInfo } from './server.ts';

export type AccessRecord = DataAccessed['data'];

export interface AccessRecorderOptions {
  /**
   * A batch is appended as soon as this many records wait, and no batch holds more. Under load the
   * records arriving during an append all go into the next one, so this bounds the commits per
   * second a stream of deliveries needs: a broadcast feed makes one record per subscriber per event
   * (written as one event per grant group, `mergeDeliveries`). @default 1000
   */
  maxBatch?: number;
  /** The longest the first record of a batch waits for company. @default 2 */
  maxDelayMs?: number;
  /** Appends in flight at once; records arriving meanwhile join the next batch. @default 2 */
  maxConcurrentAppends?: number;
  logger?: Logger;
}

/** An access record as written, kept with a response cache's answer (gateway/responseCache.ts). */
export interface KeptAccessRecord {
  data: AccessRecord;
  metadata: EventMetadata;
}

interface Pending {
  event: NewEvent<'DataAccessed', AccessRecord>;
  /** `performance.now()` when it arrived (the group-commit wait metric). */
  since: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The error every request of a batch gets when the batch could not be written. */
export class AccessRecordNotWrittenError extends GraphQLError {
  constructor() {
    super('the access record of this request could not be written, so no data was served; try again shortly', {
      extensions: { code: 'INTERNAL_SERVER_ERROR', retryable: true },
    });
  }
}

/** What the async context a record is written in asks of it (`AccessRecorder.collectWithin`, `holdingDurability`). */
interface RecordingScope {
  /** The records written within, collected (the gateway's shared calls). */
  records?: KeptAccessRecord[];
  /** Whether each record written within became durable, for the caller in this process that holds the answer until then. */
  durable?: Promise<boolean>[];
}

const recordingScope = new AsyncLocalStorage<RecordingScope>();

/**
 * Runs `execute`, a subgraph call made in this process, letting the records written within it be
 * awaited by its caller instead of by the subgraph: each record's durability goes into `durable` and
 * the subgraph's answer goes on at once. Only for a caller that serves nothing of what it was answered
 * until every one of `durable` came out true (the gateway, gateway/server.ts `onExecuteDone`): one wait
 * per client request instead of one per subgraph call. Never across a process boundary.
 */
export function holdingDurability<T>(durable: Promise<boolean>[], execute: () => Promise<T>): Promise<T> {
  const outer = recordingScope.getStore();
  return recordingScope.run({ ...(outer?.records && { records: outer.records }), durable }, execute);
}

/** Hands `written` to the caller holding the answer (`holdingDurability`); false when there is none, and it must be awaited here. */
export function heldByCaller(written: Promise<void>): boolean {
  const durable = recordingScope.getStore()?.durable;
  if (!durable) return false;
  durable.push(written.then(() => true, () => false));
  return true;
}

export class AccessRecorder {
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxConcurrentAppends: number;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The first waiting record has waited long enough: flush as soon as an append slot is free. */
  private due = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Records written for these request ids, collected for the response cache. */
  private readonly collecting = new Map<string, KeptAccessRecord[]>();

  constructor(
    private readonly store: EventStore,
    private readonly options: AccessRecorderOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 2;
    this.maxConcurrentAppends = options.maxConcurrentAppends ?? 2;
  }

  /** Resolves once the record is durable; rejects with {@link AccessRecordNotWrittenError} otherwise. */
  record(data: AccessRecord, metadata: EventMetadata): Promise<void> {
    // Collected even when it cannot be written: what is served again from an answer must be written
    // again whole, and then fails the same way.
    this.collecting.get(data.requestId)?.push({ data, metadata });
    recordingScope.getStore()?.records?.push({ data, metadata });
    if (this.closed) return Promise.reject(new AccessRecordNotWrittenError());
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event: { type: 'DataAccessed', data, metadata }, since: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Collects the records of `requestId` from now on; the returned function stops and hands them over. */
  collect(requestId: string): () => KeptAccessRecord[] {
    const records: KeptAccessRecord[] = [];
    this.collecting.set(requestId, records);
    return () => {
      if (this.collecting.get(requestId) === records) this.collecting.delete(requestId);
      return records;
    };
  }

  /**
   * Runs `execute`, collecting the records written within it (in its async context), whichever
   * request they name: the records of one subgraph call, where a request makes several at once.
   */
  async collectWithin<T>(execute: () => Promise<T>): Promise<{ value: T; records: KeptAccessRecord[] }> {
    const records: KeptAccessRecord[] = [];
    const durable = recordingScope.getStore()?.durable;
    const value = await recordingScope.run({ records, ...(durable && { durable }) }, execute);
    return { value, records };
  }

  /** Writes what is waiting and refuses further records. */
  async close(): Promise<void> {
    this.closed = true;
    this.due = true;
    while (this.pending.length || this.inFlight.size) {
      this.schedule();
      await Promise.allSettled([...this.inFlight]);
    }
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.inFlight.size >= this.maxConcurrentAppends) return;
    if (this.due || this.closed || this.pending.length >= this.maxBatch) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.schedule();
    }, this.maxDelayMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = false;
    const batch = this.pending.splice(0, this.maxBatch);
    const streamId = accessStreamId(randomUUID());
    const written = this.store
      .append(streamId, mergeDeliveries(batch), { expectedRevision: 'no_stream' })
      .then(
        () => {
          observeAccessBatch(batch.length, batch[0]!.since);
          for (const p of batch) p.resolve();
        },
        (error: unknown) => {
          this.options.logger?.error({ err: error, streamId, records: batch.length }, 'could not write a batch of access records; its requests were refused');
          for (const p of batch) p.reject(new AccessRecordNotWrittenError());
        },
      );
    this.inFlight.add(written);
    void written.finally(() => {
      this.inFlight.delete(written);
      // Records that arrived during the append have already waited one append: write them now.
      if (this.pending.length) this.due = true;
      this.schedule();
    });
    if (this.pending.length) this.schedule();
  }
}

/**
 * Requests one merged record lists at most: a request id is a gateway's (a UUID), so a record of this
 * many stays far below the store's event size limit.
 */
const MAX_REQUESTS_PER_RECORD = 500;

/**
 * The events a batch is written as: records that differ in nothing but their request and instant
 * become one record listing the requests (`otherRequestIds`), at the instant of the first (the others
 * are at most one group commit later: milliseconds) — feed deliveries (the same event to many
 * subscriptions of one principal under the same grants and operation), and records written again
 * (`recordedAgain`: one answer served to many requests of one caller at once, by the gateway's shared
 * calls or response cache). Every other record is written as it is. Each request is still recorded as
 * it was served (`requestRecordsOf` gives back one record per request); a broadcast costs one row per
 * event and grant group, not one per subscriber.
 */
function mergeDeliveries(batch: readonly Pending[]): NewEvent<'DataAccessed', AccessRecord>[] {
  const events: NewEvent<'DataAccessed', AccessRecord>[] = [];
  const byDelivery = new Map<string, AccessRecord>();
  for (const { event } of batch) {
    if (event.data.eventIds === undefined && !(event.data as KeyedRecord)[WRITTEN_AGAIN]) {
      events.push(event);
      continue;
    }
    const key = (event.data as KeyedRecord)[DELIVERY_KEY] ?? fullDeliveryKey(event);
    const merged = byDelivery.get(key);
    if (merged && (merged.otherRequestIds?.length ?? 0) < MAX_REQUESTS_PER_RECORD - 1) {
      (merged.otherRequestIds ??= []).push(event.data.requestId);
      continue;
    }
    const data = { ...event.data };
    byDelivery.set(key, data);
    events.push({ ...event, data });
  }
  return events;
}

/** What two deliveries must share to be merged: everything but the request, its instant and its correlation. */
function fullDeliveryKey(event: NewEvent<'DataAccessed', AccessRecord>): string {
  const { requestId: _requestId, at: _at, ...delivery } = event.data;
  const {
    correlationId: _correlationId,
    provenance: { collectedAt: _collectedAt, ...provenance },
    ...metadata
  } = event.metadata;
  return JSON.stringify([delivery, provenance, metadata]);
}

/**
 * The merge key of a record `accessRecordOf` built, made there from what it built the record of (so
 * it covers every field but the request's own): serialising each record whole took ~4 us of a
 * delivery, and the deliveries of one shared execution all hold the same lists. A symbol-keyed
 * property, which JSON (what the store writes) leaves out; a WeakMap entry per delivery cost more.
 */
const DELIVERY_KEY = Symbol('deliveryKey');
/** Marks a record written again for another request (`recordedAgain`), which may be merged with others like it. */
const WRITTEN_AGAIN = Symbol('writtenAgain');
type KeyedRecord = AccessRecord & { [DELIVERY_KEY]?: string; [WRITTEN_AGAIN]?: true };

/** A record's lists of what was served, and their JSON for the merge key. */
interface ServedLists {
  grantIds: string[];
  resources: string[];
  subjectIds: string[];
  eventIds: string[] | undefined;
  purpose: string;
  json: string;
}

/**
 * Per `served` object, its lists, derived once: the subscriptions that reuse one execution of a
 * shared event all hold that execution's `served` (`sharedEvents.ts`), and no mark is added to a
 * `served` once its record is taken (the server's `reset()` replaces it for the next event).
 */
const listsByServed = new WeakMap<ServedData, ServedLists>();

function servedLists(served: ServedData): ServedLists {
  let lists = listsByServed.get(served);
  if (lists) return lists;
  const grantIds = [...served.grantIds].sort();
  const resources = [...served.resources].sort();
  const subjectIds = [...served.subjectIds].sort();
  const eventIds = served.eventIds.size ? [...served.eventIds] : undefined;
  const purpose = served.purposes.size ? [...served.purposes].sort().join('; ') : 'public data';
  lists = { grantIds, resources, subjectIds, eventIds, purpose, json: JSON.stringify([grantIds, resources, subjectIds, eventIds, purpose]) };
  listsByServed.set(served, lists);
  return lists;
}

/** Per caller (a subscription keeps one for all its events): its actor and the actor's JSON, while its jurisdiction stays the same. */
const actors = new WeakMap<Caller, { jurisdiction: RequestAccess['knownJurisdiction']; actor: Actor; json: string }>();

function actorOfCaller(caller: Caller, access: RequestAccess): { actor: Actor; json: string } {
  const known = actors.get(caller);
  if (known && known.jurisdiction === access.knownJurisdiction) return known;
  const actor = actorOf({ caller, access });
  const entry = { jurisdiction: access.knownJurisdiction, actor, json: JSON.stringify(actor) };
  actors.set(caller, entry);
  return entry;
}

/** The access record of one served request (or subscription event); `undefined` when it served no mapped field. */
export function accessRecordOf(input: {
  access: RequestAccess;
  caller: Caller;
  requestId: string;
  subgraph: string;
  operation: OperationInfo;
  at: Date;
}): { data: AccessRecord; metadata: EventMetadata } | undefined {
  const { access, caller, requestId, subgraph, operation, at } = input;
  if (!access.servedAnything) return undefined;
  const lists = servedLists(access.served);
  const atIso = at.toISOString();
  const provenance = { department: 'city-brain', system: `city-brain/${subgraph}`, channel: 'access-audit' };
  const { actor, json: actorJson } = actorOfCaller(caller, access);
  const data: KeyedRecord = {
    consumerId: caller.consumerId,
    grantIds: lists.grantIds,
    operationName: operation.name,
    operationHash: operation.hash,
    resources: lists.resources,
    subjectIds: lists.subjectIds,
    ...(lists.eventIds && { eventIds: lists.eventIds }),
    purpose: lists.purpose,
    requestId,
    subgraph,
    at: atIso,
    // The provenance is made of the subgraph's name alone.
    [DELIVERY_KEY]: `${lists.json}\0${caller.consumerId}\0${operation.name ?? '\u0001'}\0${operation.hash}\0${subgraph}\0${actorJson}`,
  };
  return { data, metadata: { provenance: { ...provenance, collectedAt: atIso }, actor, correlationId: requestId } };
}

/**
 * `kept` as the record of another request served the same answer: the same consumer, grants,
 * operation and data (the cache's key holds them), under that request's id, at `at`.
 */
export function recordedAgain(kept: KeptAccessRecord, requestId: string, at: Date): KeptAccessRecord {
  const atIso = at.toISOString();
  const data: KeyedRecord = { ...kept.data, requestId, at: atIso, [WRITTEN_AGAIN]: true };
  return {
    data,
    metadata: { ...kept.metadata, correlationId: requestId, provenance: { ...kept.metadata.provenance, collectedAt: atIso } },
  };
}
