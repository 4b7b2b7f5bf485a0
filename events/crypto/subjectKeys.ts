/**
 * Data keys per data subject (crypto-shredding, DESIGN §2 governance): each subject whose personal
 * data the log holds has one random AES-256 key per scope (key id `subject#scope`, or `subject` for
 * data sealed before scopes), stored wrapped by the master key in a table of its own
 * (`pd_subject_keys`), apart from the events, so a backup of the log alone reveals nothing personal.
 * Erasing destroys the wrapped keys and keeps a tombstone per key id (and when), also for a key id
 * that had no key yet, so an erasure cannot be repeated and an erased key id never gets a new key.
 *
 * `SubjectKeyStore` is the port (a KMS or an HSM-backed store can replace the SQL table);
 * `SubjectKeys` wraps and unwraps with the master key and keeps the write path's keys in memory.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SqlDatabase } from '../sql/database.ts';

/** A subject's key as the port stores it: wrapped, or `null` once erased. */
export type StoredKey = Buffer | null;

export interface SubjectKeyStore {
  /** The stored keys of these subjects (absent: the subject never had one). One round trip. */
  get(subjectIds: readonly string[]): Promise<Map<string, StoredKey>>;
  /** Stores the key given for every subject that has no row yet; returns every subject's stored key (an existing or a concurrent writer's wins). */
  create(keys: ReadonlyMap<string, Buffer>): Promise<Map<string, StoredKey>>;
  /**
   * Stores these keys within the append that writes the events they seal (a key table in the events'
   * database): an SQL expression of its statement, its parameters numbered from `$first`, that fails
   * with `OFFERED_KEY_TAKEN` in its message unless it stored every key (one met a stored key or an
   * erasure's tombstone), so keys and events commit or roll back together. `unstored`: key ids offered
   * for events the append does not write (a replayed append's): none is stored, but one that has a
   * stored key fails the same way, so the append is redone with it. Absent: `create` first.
   */
  createWithin?(keys: ReadonlyMap<string, Buffer>, unstored?: readonly string[]): { sql(first: number): string; params: unknown[] };
  /**
   * An SQL expression giving the stored key (wrapped, or NULL: erased or never keyed) of the key id
   * `keyId` (an SQL expression), for the statement that reads the events it opens (a key table in the
   * events' database): keys come with the events, in their snapshot. Absent: `get` after the read.
   */
  readWithin?(keyId: string): string;
  /** Destroys the keys of these key ids and leaves a tombstone for each, keyed or not; returns how many live keys it destroyed. */
  erase(keyIds: readonly string[]): Promise<number>;
  /** How many key ids hold a key, and how many were erased (tombstones). */
  counts(): Promise<{ live: number; erased: number }>;
}

/** What the failure of `createWithin`'s query says: an offered key met a stored one, and the append rolled back. */
export const OFFERED_KEY_TAKEN = 'PD_OFFERED_KEY_TAKEN';

export const SUBJECT_KEYS_SCHEMA = `
-- Key ids in byte order (COLLATE "C"): every new subject's key is a row and an index entry, and
-- comparing them under the database's collation (e.g. C.UTF-8, strcoll) cost ~30 % of a key row's
-- PostgreSQL CPU. Nothing reads the keys in a collation's order; the lock order below is byte order too.
CREATE TABLE IF NOT EXISTS pd_subject_keys (
  subject_id  text COLLATE "C" PRIMARY KEY,
  wrapped_key bytea,
  created_at  timestamptz NOT NULL DEFAULT now(),
  erased_at   timestamptz,
  CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);
-- A key table made before: its key ids to byte order (the table and its index rewritten, not the log).
DO $$ BEGIN
  IF (SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
      WHERE a.attrelid = 'pd_subject_keys'::regclass AND a.attname = 'subject_id') <> 'C' THEN
    ALTER TABLE pd_subject_keys ALTER COLUMN subject_id TYPE text COLLATE "C";
  END IF;
END $$;
-- Stores the keys of subjects that have none; returns the subjects it stored. Its commit does not wait
-- for the disk: keys are stored before the events they encrypt are appended, and that append's commit
-- flushes the log up to itself, these keys included; a key lost in a crash before then encrypted
-- nothing that was stored. One round trip, no fsync of its own.
CREATE OR REPLACE FUNCTION pd_create_keys(p_ids text[], p_keys text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN QUERY INSERT INTO pd_subject_keys AS k (subject_id, wrapped_key)
    SELECT x.s, decode(x.w, 'base64') FROM unnest(p_ids, p_keys) AS x(s, w) ORDER BY x.s COLLATE "C"
    ON CONFLICT (subject_id) DO NOTHING RETURNING k.subject_id;
END $$;
-- Stores the keys an append offers for its new subjects, in its own statement or transaction and after
-- its events (the appends' lock order: streams, events, then keys in key-id order), and fails unless it
-- stored every one, which rolls the append back: no key without its events, no event without its key.
-- A NULL key is one offered for events the append does not write (a replayed append's): not stored, but
-- a stored key or tombstone of its id fails the same way. A plain INSERT, its unique violation caught:
-- ON CONFLICT's speculative insertion cost ~40 % more per key row (PostgreSQL and PGlite alike).
CREATE OR REPLACE FUNCTION pd_store_offered_keys(p_ids text[], p_keys text[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_stored integer;
BEGIN
  BEGIN
    INSERT INTO pd_subject_keys (subject_id, wrapped_key)
      SELECT x.s, decode(x.w, 'base64') FROM unnest(p_ids, p_keys) AS x(s, w) WHERE x.w IS NOT NULL ORDER BY x.s COLLATE "C";
    GET DIAGNOSTICS v_stored = ROW_COUNT;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION '${OFFERED_KEY_TAKEN}: an offered key met a stored key or tombstone (of % offered)', cardinality(p_ids);
  END;
  IF v_stored < cardinality(p_ids) AND EXISTS (SELECT FROM unnest(p_ids, p_keys) AS x(s, w) JOIN pd_subject_keys k ON k.subject_id = x.s WHERE x.w IS NULL) THEN
    RAISE EXCEPTION '${OFFERED_KEY_TAKEN}: a replayed append''s offered key met a stored key or tombstone (% of % stored)', v_stored, cardinality(p_ids);
  END IF;
  RETURN v_stored;
END $$;`;

export class SqlSubjectKeyStore implements SubjectKeyStore {
  private constructor(private readonly db: SqlDatabase) {}

  static async open(db: SqlDatabase): Promise<SqlSubjectKeyStore> {
    await db.exec(SUBJECT_KEYS_SCHEMA);
    return new SqlSubjectKeyStore(db);
  }

  async get(subjectIds: readonly string[]): Promise<Map<string, StoredKey>> {
    if (subjectIds.length === 0) return new Map();
    const { rows } = await this.db.query<{ subject_id: string; wrapped_key: Uint8Array | null }>(
      'SELECT subject_id, wrapped_key FROM pd_subject_keys WHERE subject_id = ANY($1::text[])',
      [[...new Set(subjectIds)]],
    );
    return new Map(rows.map((r) => [r.subject_id, r.wrapped_key && Buffer.from(r.wrapped_key)]));
  }

  async create(keys: ReadonlyMap<string, Buffer>): Promise<Map<string, StoredKey>> {
    if (keys.size === 0) return new Map();
    const ids = [...keys.keys()];
    const { rows } = await this.db.query<{ subject_id: string }>('SELECT subject_id FROM pd_create_keys($1::text[], $2::text[]) AS subject_id', [
      ids,
      ids.map((id) => keys.get(id)!.toString('base64')),
    ]);
    // New subjects (the usual case: one round trip) hold the keys given; the others what is stored.
    const created = new Set(rows.map((r) => r.subject_id));
    const existing = await this.get(ids.filter((id) => !created.has(id)));
    return new Map(ids.map((id) => [id, created.has(id) ? keys.get(id)! : (existing.get(id) ?? null)]));
  }

  createWithin(keys: ReadonlyMap<string, Buffer>, unstored: readonly string[] = []): { sql(first: number): string; params: unknown[] } {
    const ids = [...keys.keys()];
    return {
      sql: (first) => `pd_store_offered_keys($${first}::text[], $${first + 1}::text[])`,
      params: [[...ids, ...unstored], [...ids.map((id) => keys.get(id)!.toString('base64')), ...unstored.map(() => null)]],
    };
  }

  readWithin(keyId: string): string {
    return `(SELECT k.wrapped_key FROM pd_subject_keys k WHERE k.subject_id = ${keyId})`;
  }

  async erase(keyIds: readonly string[]): Promise<number> {
    if (keyIds.length === 0) return 0;
    // In key-id order, so concurrent erasures of overlapping ids lock their rows in the same order.
    const { rows } = await this.db.query<{ destroyed: boolean }>(
      `INSERT INTO pd_subject_keys AS k (subject_id, wrapped_key, erased_at)
         SELECT id, NULL, now() FROM unnest($1::text[]) AS id GROUP BY id ORDER BY id COLLATE "C"
       ON CONFLICT (subject_id) DO UPDATE SET wrapped_key = NULL, erased_at = now() WHERE k.wrapped_key IS NOT NULL
       RETURNING (k.xmax <> 0) AS destroyed`,
      [[...keyIds]],
    );
    return rows.filter((r) => r.destroyed).length;
  }

  async counts(): Promise<{ live: number; erased: number }> {
    const { rows } = await this.db.query<{ live: number; erased: number }>(
      'SELECT count(wrapped_key)::int AS live, (count(*) - count(wrapped_key))::int AS erased FROM pd_subject_keys',
    );
    return rows[0]!;
  }
}

/** A subject's key as readers see it: the raw key, or `null` once erased. */
export type SubjectKey = Buffer | null;

const WRAP = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The random bytes of a new key: the key and its wrap's IV. */
const PER_KEY = KEY_BYTES + IV_BYTES;
const RANDOM_POOL_KEYS = 64;

/** Refuses a master key that is not 32 bytes (AES-256), naming what it got. */
export function assertMasterKey(key: Buffer): Buffer {
  if (key.length !== 32) throw new Error(`the personal-data master key must be 32 bytes (AES-256); it is ${key.length}`);
  return key;
}

/** A new subject's key, the IV of its wrap, and once wrapped by the master key, its wrapped bytes. */
export interface NewKey {
  key: Buffer;
  iv: Buffer;
  wrapped?: Buffer;
}

/** A write's keys: those already stored, and fresh ones to store with its events. */
export interface OfferedKeys {
  /** The key of every subject of the write: kept, met or offered. */
  keys: Map<string, SubjectKey>;
  /** Each new subject's key (wrapped when first needed: `SubjectKeys.wrapOffered`). */
  offered: Map<string, NewKey>;
  /** The offered keys the append's statement stores (`SubjectKeys.within`): those of the events it writes. */
  storing: ReadonlySet<string>;
  /** `SubjectKeys.epoch` when offered. */
  epoch: number;
}

/**
 * Up to `size` entries by key id in two generations of up to half the size each: when the young one is
 * full it becomes the old one and the old one is dropped (dropping the oldest entry of one large Map
 * one at a time made each eviction scan the holes earlier ones left: tens of µs per key once a process
 * had used more subjects than it keeps).
 */
class GenerationalMap<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly size: number) {}

  get(id: string): V | undefined {
    return this.young.get(id) ?? this.old.get(id);
  }

  set(id: string, value: V): void {
    if (this.young.size >= this.size / 2) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(id, value);
  }

  delete(id: string): void {
    this.young.delete(id);
    this.old.delete(id);
  }
}

/** Keys per subject over a key store: wrapped with the master key, bound to their subject id. */
export class SubjectKeys {
  /** Unwrapped keys the write path encrypts with. Dropped on erasure (see `erase`). */
  private readonly writeCache: GenerationalMap<Buffer>;
  /**
   * Unwrapped keys of reads, each beside the wrapped bytes it was unwrapped from: a read uses one only
   * when its own statement returned those very bytes for that key id, so it is never used across an
   * erasure, whichever process erased (an erased key id reads as NULL and decrypts nothing, and never
   * gets a key again; no key is ever re-wrapped, and were one, its new bytes would be unwrapped afresh).
   * It saves the master-key decrypt of every event of every read. Dropped on erasure here, so this
   * process keeps no erased key in memory; another process's copy is never used and ages out.
   */
  private readonly readCache: GenerationalMap<{ wrapped: Buffer; key: Buffer }>;
  private erasures = 0;
  /** Random bytes drawn ahead for new keys and their IVs (`draw`), each byte used once. */
  private random = Buffer.alloc(0);
  private randomAt = 0;

  constructor(
    readonly store: SubjectKeyStore,
    private readonly masterKey: Buffer,
    cacheSize = 100_000,
  ) {
    assertMasterKey(masterKey);
    this.writeCache = new GenerationalMap(cacheSize);
    this.readCache = new GenerationalMap(cacheSize);
  }

  /** Counts erasures made through this instance: a reader's cache made before a change is stale. */
  get epoch(): number {
    return this.erasures;
  }

  /** The keys of these subjects for reading: one round trip. */
  async forReading(subjectIds: readonly string[]): Promise<Map<string, SubjectKey>> {
    const stored = await this.store.get(subjectIds);
    return new Map([...stored].map(([id, wrapped]) => [id, this.opened(id, wrapped)]));
  }

  /** A key as stored (wrapped, as the store or `readWithin` gives it; `null` or none: erased or never keyed) as readers use it. */
  opened(subjectId: string, stored: Uint8Array | null | undefined): SubjectKey {
    if (!stored) return null;
    const cached = this.readCache.get(subjectId);
    if (cached?.wrapped.equals(stored)) return cached.key;
    // A copy: PGlite's bytes are a view of the whole result's buffer, which keeping them would keep.
    const wrapped = Buffer.from(stored);
    const key = this.unwrap(subjectId, wrapped);
    this.readCache.set(subjectId, { wrapped, key });
    return key;
  }

  /**
   * The keys to encrypt these subjects' new events with, created for subjects that have none yet
   * (`null` for an erased subject: its new personal values are not kept). A created key is stored
   * before the events it encrypts are appended, so no stored ciphertext ever lacks its key.
   */
  async forWriting(subjectIds: readonly string[]): Promise<Map<string, SubjectKey>> {
    const { known: result, missing } = this.kept(subjectIds);
    if (missing.length === 0) return result;
    const epoch = this.erasures;
    // One round trip: new subjects get the key offered, known ones keep theirs.
    const offered = this.newKeys(missing);
    for (const [id, wrapped] of await this.store.create(new Map([...offered].map(([id, o]) => [id, this.wrapped(id, o)])))) {
      // The store hands back the very buffer offered when it stored it: its key is known, no unwrap.
      const key = wrapped && (wrapped === offered.get(id)!.wrapped ? offered.get(id)!.key : this.unwrap(id, wrapped));
      result.set(id, key);
      // A key read while an erasure ran here is used once and not kept.
      if (key && epoch === this.erasures) this.writeCache.set(id, key);
    }
    return result;
  }

  /** Destroys the keys of these key ids (see `SubjectKeyStore.erase`) and forgets them here. */
  async erase(keyIds: readonly string[]): Promise<number> {
    this.erasures++;
    this.forget(keyIds);
    const erased = await this.store.erase(keyIds);
    this.erasures++;
    this.forget(keyIds);
    return erased;
  }

  /**
   * The keys to encrypt these subjects' new events with when the append stores new keys itself
   * (`SubjectKeyStore.createWithin`): the keys kept here or `met` (read after an earlier offer met
   * them), and for every other subject a fresh key offered, not yet stored. An offered key may meet a
   * stored one (or an erasure): the append must then be refused and redone with the keys met (`met()`).
   * A key is wrapped when first needed (`wrapOffered`): an SQL batch seals and wraps while its first
   * statement is at the server. Undefined when the store cannot.
   */
  offer(subjectIds: readonly string[], met: ReadonlyMap<string, SubjectKey> = new Map()): OfferedKeys | undefined {
    if (!this.store.createWithin) return undefined;
    const { known: keys, missing } = this.kept(subjectIds.filter((id) => !met.has(id)));
    for (const [id, key] of met) keys.set(id, key);
    const offered = this.newKeys(missing);
    for (const [id, { key }] of offered) keys.set(id, key);
    return { keys, offered, storing: new Set(), epoch: this.erasures };
  }

  /** Wraps the key `id` offered in `keys` by the master key, unless it is wrapped already or is not one offered there (kept, met). */
  wrapOffered(keys: OfferedKeys, id: string): void {
    const offered = keys.offered.get(id);
    if (offered) this.wrapped(id, offered);
  }

  /**
   * The statement that stores the offered keys of the key ids `written` (those of the events the append
   * writes), and checks that the others (a replayed append's, not stored: no key without its events)
   * have no stored key; none when none was offered.
   */
  within(keys: OfferedKeys, written: ReadonlySet<string>): { sql(first: number): string; params: unknown[] } | undefined {
    if (keys.offered.size === 0) return undefined;
    const storing = new Map<string, Buffer>();
    const unstored: string[] = [];
    for (const id of keys.offered.keys()) {
      if (written.has(id)) storing.set(id, this.wrapped(id, keys.offered.get(id)!));
      else unstored.push(id);
    }
    keys.storing = new Set(storing.keys());
    return this.store.createWithin!(storing, unstored);
  }

  /** The stored keys of subjects an offer met (absent: still unkeyed), the live ones kept here as created ones are (unless an erasure ran meanwhile). */
  async met(subjectIds: readonly string[]): Promise<Map<string, SubjectKey>> {
    const epoch = this.erasures;
    const keys = await this.forReading(subjectIds);
    if (epoch === this.erasures) for (const [id, key] of keys) if (key) this.writeCache.set(id, key);
    return keys;
  }

  /** Keeps the offered keys an append stored with its events (unless an erasure ran here meanwhile: those are used once). */
  stored(keys: OfferedKeys): void {
    if (keys.epoch !== this.erasures) return;
    for (const id of keys.storing) this.writeCache.set(id, keys.offered.get(id)!.key);
  }

  /** The write keys of these subjects kept here, and the subjects whose key is not. */
  private kept(subjectIds: readonly string[]): { known: Map<string, SubjectKey>; missing: string[] } {
    const known = new Map<string, SubjectKey>();
    const missing: string[] = [];
    for (const id of new Set(subjectIds)) {
      const cached = this.writeCache.get(id);
      if (cached) known.set(id, cached);
      else missing.push(id);
    }
    return { known, missing };
  }

  private forget(keyIds: readonly string[]): void {
    for (const id of keyIds) {
      this.writeCache.delete(id);
      this.readCache.delete(id);
    }
  }

  /** A fresh key for each subject and the IV of its wrap (wrapped when first needed: `wrapped`). */
  private newKeys(subjectIds: readonly string[]): Map<string, NewKey> {
    const random = this.draw(subjectIds.length * PER_KEY);
    return new Map(subjectIds.map((id, i) => [id, { key: random.subarray(i * PER_KEY, i * PER_KEY + KEY_BYTES), iv: random.subarray(i * PER_KEY + KEY_BYTES, (i + 1) * PER_KEY) }]));
  }

  /** A new key's wrapped bytes, wrapped by the master key the first time they are asked for. */
  private wrapped(subjectId: string, key: NewKey): Buffer {
    return (key.wrapped ??= this.wrap(subjectId, key.key, key.iv));
  }

  /**
   * `bytes` random bytes, from randomness drawn for `RANDOM_POOL_KEYS` keys at once: one call per append
   * of a single new subject cost more than its wrap (~28 µs of Node CPU against ~0.5 per key in a batch's call).
   */
  private draw(bytes: number): Buffer {
    if (this.random.length - this.randomAt < bytes) {
      this.random = randomBytes(Math.max(bytes, RANDOM_POOL_KEYS * PER_KEY));
      this.randomAt = 0;
    }
    this.randomAt += bytes;
    return this.random.subarray(this.randomAt - bytes, this.randomAt);
  }

  private wrap(subjectId: string, key: Buffer, iv: Buffer): Buffer {
    const cipher = createCipheriv(WRAP, this.masterKey, iv).setAAD(Buffer.from(subjectId));
    const body = cipher.update(key);
    cipher.final(); // GCM: no bytes held back; computes the tag
    return Buffer.concat([iv, cipher.getAuthTag(), body], IV_BYTES + TAG_BYTES + KEY_BYTES);
  }

  private unwrap(subjectId: string, wrapped: Buffer): Buffer {
    const decipher = createDecipheriv(WRAP, this.masterKey, wrapped.subarray(0, IV_BYTES)).setAAD(Buffer.from(subjectId));
    decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`the data key of subject ${subjectId} does not open with the configured master key (PERSONAL_DATA_KEY_FILE of another deployment?)`);
    }
  }
}
