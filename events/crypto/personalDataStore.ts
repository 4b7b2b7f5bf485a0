/**
 * The event store with personal data encrypted per data subject and scope (crypto-shredding): a
 * decorator over a store that was opened with `storeOptions()`. An append, single or a batch, seals
 * new subjects' events (`subject#scope`) with fresh keys its own write statement stores, so a refused
 * append leaves no key (`withWriteKeys`); a known subject's key is kept in memory. The inner store encrypts each checked event through the encoder, and
 * decrypts every read through the decoder: the wrapped key of each event is read by the read's own
 * statement (no round trip of its own, in the events' snapshot), and a key is used only when that
 * statement returned it, so a read after an erasure never sees a key from before it. Events written before personal data was
 * encrypted hold no `$personal` part and are returned as stored.
 */
import type { CheckedEvent, EventEncoder } from '../append.ts';
import { ConflictError } from '../errors.ts';
import type { EventRegistry } from '../registry.ts';
import type { SqlDatabase } from '../sql/database.ts';
import { CompanionRowsUnwritten, SqlEventStore, type Companion, type EventDecoder, type SqlEventStoreOptions } from '../sql/sqlEventStore.ts';
import type { DomainEvent } from '../decider.ts';
import type {
  Aggregate,
  AppendOptions,
  AppendResult,
  EventStore,
  EventSubscription,
  Evolver,
  NewEvent,
  Position,
  Pseudonyms,
  ReadAllOptions,
  ReadStreamOptions,
  Recorded,
  RecordedEvent,
  StreamAppend,
  SubscribeOptions,
} from '../types.ts';
import {
  keyIdOf,
  openPersonal,
  personalValues,
  scopesOf,
  sealedKeyIdOf,
  sealedKeyIdSql,
  sealPersonal,
  subjectOf,
  type PersonalFieldRule,
  type PersonalFieldRules,
  type PersonalValues,
} from './personalFields.ts';
import { keyedPseudonyms } from './pseudonyms.ts';
import { OFFERED_KEY_TAKEN, SqlSubjectKeyStore, SubjectKeys, type OfferedKeys, type SubjectKey } from './subjectKeys.ts';

/** What an append's encoding needs and leaves: the keys of its subjects, and the clear data of each event it sealed. */
interface WriteContext {
  keys: ReadonlyMap<string, SubjectKey>;
  clear: Map<string, unknown>;
  /** Keys made for this append's new subjects, stored by its own statement or transaction (`storeOptions`). */
  offered?: OfferedKeys;
}

/** The encryption side of the store: the keys and which fields are personal. */
export class PersonalDataCodec {
  /**
   * The append being handed to the inner store: set only while its `appendMany` is called, which asks
   * `encoder` and `companion` synchronously then (`withContext`).
   */
  private writing: WriteContext | undefined;

  /** The scopes personal data is sealed under (the resources a retention rule may name). */
  readonly scopes: readonly string[];
  /** Whether a store took `storeOptions`: only that one encrypts, decrypts and stores a batch's new keys. */
  private inStore = false;

  constructor(
    readonly keys: SubjectKeys,
    readonly rules: PersonalFieldRules,
  ) {
    this.scopes = scopesOf(rules);
  }

  /** The id of the key an event's personal values are sealed under; none when it holds none. */
  private keyIdOf(event: { type: string; data: unknown }): string | undefined {
    const rule = this.rules.get(event.type);
    const subject = rule && subjectOf(rule, event.data);
    return subject && keyIdOf(subject, rule.scope);
  }

  /** The rule of an event, its personal values and the id of the key they are sealed under; none when it holds none. */
  private sealing(event: { type: string; data: unknown }): { rule: PersonalFieldRule; values: PersonalValues; keyId: string } | undefined {
    const keyId = this.keyIdOf(event);
    if (!keyId) return undefined;
    const rule = this.rules.get(event.type)!;
    return { rule, values: personalValues(rule, event.data), keyId };
  }

  /** The options of the inner store: how it encodes events and decodes reads, and (a batch's) new keys it stores with them. */
  storeOptions(): { encoder: () => EventEncoder; companion: () => Companion | undefined; decoder: EventDecoder } {
    this.inStore = true;
    const column = this.keys.store.readWithin?.(sealedKeyIdSql('e.data'));
    return { encoder: () => this.encoder(this.writing), companion: () => this.companion(), decoder: { ...(column && { column }), decode: (events, stored) => this.decode(events, stored) } };
  }

  /** Refuses a store that did not take `storeOptions`: it would write personal data in clear. */
  assertInStore(): void {
    if (!this.inStore) throw new Error('the personal-data store wraps a store opened with its codec\'s storeOptions() (which encrypts and decrypts)');
  }

  /**
   * For the append being handed over: the offered keys that seal the events it writes, stored with them
   * and refused unless every one is stored; those of its replayed appends only are checked, not stored.
   */
  private companion(): Companion | undefined {
    const offered = this.writing?.offered;
    return offered && ((written) => this.keys.within(offered, keyIdsSealing(written)));
  }

  /**
   * The encoder of the append `context` (the one being handed over as the inner store asks), which the
   * inner store may call later (a batch: while its first statement is at the server). A new subject's
   * key is wrapped as the first event sealed with it is, so that too is done then.
   */
  private encoder(context: WriteContext | undefined): EventEncoder {
    return (_streamId: string, event: CheckedEvent): CheckedEvent => {
      const sealing = this.sealing(event);
      if (!sealing) return event;
      const { rule, values, keyId } = sealing;
      if (!context?.keys.has(keyId)) throw new Error(`${event.type} holds personal data: append it through the PersonalDataEventStore, which provides the key ${keyId}`);
      const key = context.keys.get(keyId)!;
      if (context.offered) this.keys.wrapOffered(context.offered, keyId);
      const data = sealPersonal(event.data, rule, keyId, key, event.eventId, values);
      // What a reader of this event will see: the clear values, unless the subject was erased.
      if (key) context.clear.set(event.eventId, event.data);
      return { ...event, data };
    };
  }

  /**
   * Runs an append (one or a batch: the inner store's transaction of several) with the keys of its
   * events' subjects at hand for `encoder()`. New subjects' events are sealed with fresh keys that the
   * append's own statement stores: no round trip of their own, and no key without its events, so a
   * refused append (a stale expected revision, an oversize event) leaves no key behind. Should an
   * offered key meet a stored one (kept by another process, or erased), the append rolls back, the
   * keys met are read, and it is redone with them and fresh keys for the subjects still new: each
   * redo knows at least one more key, so it ends. A replay stores no key: redone the same way with the
   * keys its events were sealed with, or refused as other content when it met none. A key store that cannot store keys within the
   * append creates them in a round trip of their own first.
   */
  async withWriteKeys<T>(events: readonly NewEvent[], append: (context: WriteContext) => Promise<T>): Promise<T> {
    const keyIds = new Set<string>();
    for (const event of events) {
      const keyId = this.keyIdOf(event);
      if (keyId) keyIds.add(keyId);
    }
    const met = new Map<string, SubjectKey>();
    // `offer` is undefined only for a key store that cannot store keys within the append.
    for (let offered = this.keys.offer([...keyIds], met); offered; offered = this.keys.offer([...keyIds], met)) {
      const context: WriteContext = { keys: offered.keys, clear: new Map(), offered };
      try {
        const result = await this.withContext(context, append);
        this.keys.stored(offered);
        return result;
      } catch (err) {
        // The append rolled back (an offered key met a stored one, or an erasure's tombstone), or it was a
        // replay, which stores no key: redone with the keys met.
        const replayed = err instanceof CompanionRowsUnwritten;
        if (!replayed && !(err instanceof Error && err.message.includes(OFFERED_KEY_TAKEN))) throw err;
        const found = await this.keys.met([...offered.offered.keys()]);
        // A replay whose offered keys met no stored one names subjects no stored event of it was sealed for.
        if (replayed && found.size === 0) throw new ConflictError('an event id of this append is already stored with other content (another data subject): an idempotency key or event id was reused for a different command');
        for (const [id, key] of found) met.set(id, key);
      }
    }
    const context: WriteContext = { keys: keyIds.size ? await this.keys.forWriting([...keyIds]) : new Map(), clear: new Map() };
    return this.withContext(context, append);
  }

  /**
   * Calls `append` with `context` as the append being handed to the inner store, which asks for it
   * synchronously as its `appendMany` is called. No async context is kept: AsyncLocalStorage's
   * promise hooks, once on, cost every promise of the process (~40-70 µs of Node CPU per single append).
   */
  private withContext<T>(context: WriteContext, append: (context: WriteContext) => Promise<T>): Promise<T> {
    this.writing = context;
    try {
      return append(context);
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * The events an append wrote, as readers see them: those it sealed hold the clear data they were
   * sealed from (no decrypting what was just encrypted); a replay's are the stored ones, which the
   * inner store decoded as it read them.
   */
  appended(result: AppendResult, context: WriteContext): AppendResult {
    if (result.replayed) return result;
    return { ...result, events: result.events.map((event) => (context.clear.has(event.eventId) ? { ...event, data: context.clear.get(event.eventId) } : event)) };
  }

  /**
   * Events of one read as readers see them, each opened with the key its read returned (unwrapped once,
   * or found unwrapped from the same bytes: `SubjectKeys.opened`).
   * `stored`: each event's stored key as its read's statement gave it (`readWithin`); without it (a key
   * store that cannot join the read), the keys are fetched in one round trip after the read.
   */
  private async decode(events: RecordedEvent[], stored?: readonly unknown[]): Promise<RecordedEvent[]> {
    const keyIds = events.map((event) => sealedKeyIdOf(event.data));
    const keys = stored ? new Map<string, SubjectKey>() : await this.keys.forReading([...new Set(keyIds.filter((id) => id !== undefined))]);
    return events.map((event, i) => {
      const keyId = keyIds[i];
      if (keyId === undefined) return event;
      let key = keys.get(keyId);
      if (key === undefined) keys.set(keyId, (key = stored ? this.keys.opened(keyId, stored[i] as Uint8Array | null) : null));
      return { ...event, data: openPersonal(event.data, key, event.eventId) };
    });
  }
}

/** The ids of the keys these (stored) events are sealed under. */
function keyIdsSealing(events: readonly CheckedEvent[]): Set<string> {
  const keyIds = new Set<string>();
  for (const event of events) {
    const keyId = sealedKeyIdOf(event.data);
    if (keyId !== undefined) keyIds.add(keyId);
  }
  return keyIds;
}

export class PersonalDataEventStore implements EventStore {
  readonly backend: EventStore['backend'];
  readonly atomicAppendMany: boolean;

  constructor(
    private readonly inner: EventStore,
    readonly codec: PersonalDataCodec,
    readonly pseudonyms: Pseudonyms,
  ) {
    codec.assertInStore();
    this.backend = inner.backend;
    this.atomicAppendMany = inner.atomicAppendMany;
  }

  async append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, ...(options && { options }) }]);
    return result!;
  }

  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    return this.codec.withWriteKeys(appends.flatMap((a) => a.events), async (context) => {
      // Called synchronously, first: the inner store asks the codec for this append's keys as it is called.
      const results = await this.inner.appendMany(appends);
      return results.map((result) => this.codec.appended(result, context));
    });
  }

  // Reads: the inner store decodes them (`PersonalDataCodec.storeOptions`), keys read by their own statements.

  readStream<E extends DomainEvent = DomainEvent>(streamId: string, options?: ReadStreamOptions): Promise<Recorded<E>[]> {
    return this.inner.readStream<E>(streamId, options);
  }

  aggregate<E extends DomainEvent, State>(decider: Evolver<E, State>, streamId: string, options?: ReadStreamOptions): Promise<Aggregate<E, State>> {
    return this.inner.aggregate(decider, streamId, options);
  }

  readStreams<E extends DomainEvent = DomainEvent>(streamIds: readonly string[]): Promise<Recorded<E>[][]> {
    return this.inner.readStreams<E>(streamIds);
  }

  readEventsById(eventIds: readonly string[]): Promise<(RecordedEvent | undefined)[]> {
    return this.inner.readEventsById(eventIds);
  }

  streamRevision(streamId: string): Promise<number | undefined> {
    return this.inner.streamRevision(streamId);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  readAllWithHead(options?: ReadAllOptions): Promise<{ events: RecordedEvent[]; scannedThrough: Position }> {
    return this.inner.readAllWithHead(options);
  }

  /**
   * The inner subscription: each page of `batchSize` events is decoded with the keys its own statement
   * read, so an erasure shows from the next page on (an event read before it is handed out as read,
   * as a response already sent), whichever process erased.
   */
  subscribe(options: SubscribeOptions = {}): EventSubscription {
    return this.inner.subscribe(options);
  }

  assertPositionExists(position: Position): Promise<string | null> {
    return this.inner.assertPositionExists(position);
  }

  headPosition(): Promise<Position> {
    return this.inner.headPosition();
  }

  committedHead(): Promise<Position> {
    return this.inner.committedHead();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What erasing personal data needs: the keys, the scopes they are kept per, and the subjects under a legal hold. */
export interface PersonalDataPort {
  keys: SubjectKeys;
  /** The scopes of the personal field rules (`PersonalDataCodec.scopes`). */
  scopes: readonly string[];
  legalHolds: ReadonlySet<string>;
}

/** The erasure port of `store` when it encrypts personal data; none otherwise. */
export function personalDataPortOf(store: EventStore, legalHolds: Iterable<string> = []): PersonalDataPort | undefined {
  return store instanceof PersonalDataEventStore ? { keys: store.codec.keys, scopes: store.codec.scopes, legalHolds: new Set(legalHolds) } : undefined;
}

/** The SQL event store with personal fields encrypted under `masterKey`, its keys in the same database, and its pseudonyms keyed by it. */
export async function openPersonalDataStore(
  db: SqlDatabase,
  registry: EventRegistry,
  masterKey: Buffer,
  rules: PersonalFieldRules,
  options: SqlEventStoreOptions = {},
): Promise<PersonalDataEventStore> {
  const codec = new PersonalDataCodec(new SubjectKeys(await SqlSubjectKeyStore.open(db), masterKey), rules);
  return new PersonalDataEventStore(await SqlEventStore.open(db, registry, { ...options, ...codec.storeOptions() }), codec, keyedPseudonyms(masterKey));
}
