/**
 * Tamper evidence (DESIGN §2 governance): a hash chain over the whole log in global order. Each
 * event's link is SHA-256(previous link ‖ the event as stored), kept in `es_chain` beside the log.
 * The chainer extends it in the background, never past an in-flight transaction, so the chain order
 * is the position order readers see. `verifyChain` recomputes every link from the stored events and
 * names the first position that does not match; rewriting history also means rewriting every later
 * link, which the published head hash (`verify` prints it) then exposes.
 *
 * Links hash the stored bytes (jsonb's canonical text), not upcast data: an upcaster added later
 * must not look like tampering.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { Logger } from 'pino';
import type { AdvisoryLock, SqlDatabase, SqlExecutor } from './database.ts';
import { encodePosition } from '../position.ts';
import type { Position } from '../types.ts';

export const HASH_CHAIN_SCHEMA = /* sql */ `
CREATE TABLE IF NOT EXISTS es_chain (
  global_position bigint PRIMARY KEY,
  ordinal         bigint NOT NULL UNIQUE,
  link            text NOT NULL
);
CREATE TABLE IF NOT EXISTS es_chain_seals (
  global_position bigint PRIMARY KEY,
  ordinal         bigint NOT NULL UNIQUE,
  link            text NOT NULL,
  key_id          text NOT NULL,
  signature       text NOT NULL,
  sealed_at       timestamptz NOT NULL DEFAULT now()
);`;

/**
 * Signs the link closing each block of events (Ed25519), so a digest copied out of the system can
 * later be shown to come from it. Auditors keep the public key and the seals elsewhere.
 */
export interface ChainSigner {
  keyId: string;
  /** SPKI PEM: what auditors keep to check seals without trusting the service. */
  publicKeyPem: string;
  sign(message: string): string;
  verify(message: string, signature: string): boolean;
}

export function ed25519Signer(privateKeyPem: string): ChainSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const keyId = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  return {
    keyId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => sign(null, Buffer.from(message), privateKey).toString('base64'),
    verify: (message, signature) => verify(null, Buffer.from(message), publicKey, Buffer.from(signature, 'base64')),
  };
}

/** What a seal signs: the block's last ordinal, its position and its link. */
export const sealMessage = (ordinal: string, globalPosition: string, link: string): string => `city-brain-seal:${ordinal}:${globalPosition}:${link}`;

/** The link before the first event: a constant, so two empty logs agree. */
export const GENESIS = createHash('sha256').update('city-brain event log').digest('hex');
const LOCK_KEY = BigInt.asIntN(64, 0x6362_6368_6169_6e00n);

interface StoredRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_revision: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: string;
  link: string | null;
}

const STORED_COLUMNS = `e.global_position::text AS global_position, e.transaction_id::text AS transaction_id, e.stream_id,
  e.stream_revision, e.event_id::text AS event_id, e.type, e.schema_version, e.data::text AS data, e.metadata::text AS metadata,
  to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at`;

export function link(previous: string, row: Omit<StoredRow, 'link'>): string {
  const fields = [
    row.global_position,
    row.transaction_id,
    row.stream_id,
    String(row.stream_revision),
    row.event_id,
    row.type,
    String(row.schema_version),
    row.data,
    row.metadata,
    row.recorded_at,
  ];
  // Length-prefixed fields: no two different events serialise to the same bytes.
  const hash = createHash('sha256').update(previous);
  for (const field of fields) hash.update(`${Buffer.byteLength(field)}:${field}`);
  return hash.digest('hex');
}

async function lastLink(db: SqlExecutor): Promise<{ link: string; tx: string; seq: string; ordinal: number } | undefined> {
  const { rows } = await db.query<{ link: string; transaction_id: string; global_position: string; ordinal: string }>(
    // Chain order is position order, so the last link has the highest ordinal: found by its index,
    // not by walking the log back from its head to the chained part (which grew with the backlog).
    `SELECT c.link, c.ordinal::text AS ordinal, e.transaction_id::text AS transaction_id, e.global_position::text AS global_position
     FROM (SELECT * FROM es_chain ORDER BY ordinal DESC LIMIT 1) c JOIN es_events e ON e.global_position = c.global_position`,
  );
  const row = rows[0];
  return row && { link: row.link, tx: row.transaction_id, seq: row.global_position, ordinal: Number(row.ordinal) };
}

export interface ChainHead {
  position: Position | null;
  link: string;
  events: number;
}

export class HashChainer {
  private lock: AdvisoryLock | undefined;
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: { batchSize?: number; logger?: Logger; signer?: ChainSigner; blockSize?: number } = {},
  ) {}

  /** Chains everything committed so far, in this call; a one-off call gives the lock back. */
  async catchUp(): Promise<ChainHead> {
    await this.db.exec(HASH_CHAIN_SCHEMA);
    if (!(await this.acquire())) throw new Error('the hash chain is being extended by another process');
    try {
      while ((await this.step()) > 0);
      return await chainHead(this.db);
    } finally {
      if (!this.loop) {
        await this.lock?.release();
        this.lock = undefined;
      }
    }
  }

  /** Extends the chain as events are appended, in one process at a time (advisory lock). */
  async start(): Promise<void> {
    await this.db.exec(HASH_CHAIN_SCHEMA);
    this.unlisten = await this.db.listen('es_events', () => this.wake?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.wake?.();
    await this.loop;
    await this.unlisten?.();
    await this.lock?.release().catch(() => undefined);
    this.lock = undefined;
  }

  private async acquire(): Promise<boolean> {
    this.lock ??= await this.db.tryAdvisoryLock(LOCK_KEY);
    return this.lock !== undefined;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let idleMs = 5;
    while (!signal.aborted) {
      try {
        const chained = (await this.acquire()) ? await this.step() : 0;
        if (chained > 0) {
          idleMs = 5;
          continue;
        }
      } catch (err) {
        if (signal.aborted) return;
        this.options.logger?.error({ err }, 'extending the hash chain failed; retrying');
        await this.lock?.release().catch(() => undefined);
        this.lock = undefined;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idleMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      idleMs = Math.min(idleMs * 2, 1000);
    }
  }

  /**
   * Chains one batch; returns how many events it chained. The events are read and hashed outside
   * the transaction, which only writes the links: the embedded store has one session, and queries
   * must not wait for the hashing. The advisory lock makes this process the only writer of the
   * chain, and the links' unique ordinals refuse a batch that raced another writer anyway.
   */
  private async step(): Promise<number> {
    const batchSize = this.options.batchSize ?? 1000;
    const last = await lastLink(this.db);
    const { rows } = await this.db.query<Omit<StoredRow, 'link'>>(
      `SELECT ${STORED_COLUMNS} FROM es_events e
       WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ${last ? 'AND (e.transaction_id, e.global_position) > ($2::xid8, $3::bigint)' : ''}
       ORDER BY e.transaction_id, e.global_position LIMIT $1`,
      last ? [batchSize, last.tx, last.seq] : [batchSize],
    );
    if (rows.length === 0) return 0;
    let previous = last?.link ?? GENESIS;
    let ordinal = last?.ordinal ?? 0;
    const blockSize = this.options.blockSize ?? 1000;
    const signer = this.options.signer;
    const positions: string[] = [];
    const ordinals: number[] = [];
    const links: string[] = [];
    const seals: string[][] = [];
    for (const row of rows) {
      previous = link(previous, row);
      ordinal++;
      positions.push(row.global_position);
      ordinals.push(ordinal);
      links.push(previous);
      if (signer && ordinal % blockSize === 0) {
        seals.push([row.global_position, String(ordinal), previous, signer.keyId, signer.sign(sealMessage(String(ordinal), row.global_position, previous))]);
      }
    }
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO es_chain (global_position, ordinal, link) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])', [positions, ordinals, links]);
      for (const seal of seals) {
        await tx.query('INSERT INTO es_chain_seals (global_position, ordinal, link, key_id, signature) VALUES ($1, $2, $3, $4, $5)', seal);
      }
    });
    return rows.length;
  }
}

export async function chainHead(db: SqlExecutor): Promise<ChainHead> {
  const last = await lastLink(db);
  return { position: last ? encodePosition(last.tx, last.seq) : null, link: last?.link ?? GENESIS, events: last?.ordinal ?? 0 };
}

export interface Seal {
  position: Position;
  ordinal: number;
  link: string;
  keyId: string;
  signature: string;
  sealedAt: string;
}

/** The signed block digests, newest first: what auditors copy out of the system. */
export async function listSeals(db: SqlExecutor, limit = 100): Promise<Seal[]> {
  const { rows } = await db.query<{ transaction_id: string; global_position: string; ordinal: string; link: string; key_id: string; signature: string; sealed_at: string }>(
    `SELECT e.transaction_id::text AS transaction_id, s.global_position::text AS global_position, s.ordinal::text AS ordinal, s.link, s.key_id,
            s.signature, to_char(s.sealed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS sealed_at
     FROM es_chain_seals s JOIN es_events e ON e.global_position = s.global_position ORDER BY s.ordinal DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    position: encodePosition(r.transaction_id, r.global_position),
    ordinal: Number(r.ordinal),
    link: r.link,
    keyId: r.key_id,
    signature: r.signature,
    sealedAt: r.sealed_at,
  }));
}

export interface ChainVerification {
  ok: boolean;
  /** Events whose link was recomputed and matched, in order, before any mismatch. */
  verified: number;
  /** Committed events not chained yet (the chainer lags a little behind appends). */
  unchained: number;
  head: ChainHead;
  /** The first place where the stored log and the chain disagree. */
  firstMismatch?: { position: Position | null; globalPosition: string; reason: string };
}

/** Recomputes every link from the stored events, in order; names the first that does not match. */
export async function verifyChain(
  db: SqlDatabase,
  options: { pageSize?: number; onProgress?: (checked: number) => void; signer?: Pick<ChainSigner, 'keyId' | 'verify'> } = {},
): Promise<ChainVerification> {
  await db.exec(HASH_CHAIN_SCHEMA);
  const pageSize = options.pageSize ?? 5000;
  const head = await chainHead(db);
  // A chained event that is gone from the log: the deletion itself is the first mismatch.
  const orphans = await db.query<{ global_position: string }>(
    `SELECT c.global_position::text AS global_position FROM es_chain c
     LEFT JOIN es_events e ON e.global_position = c.global_position WHERE e.global_position IS NULL
     ORDER BY c.global_position LIMIT 1`,
  );
  let previous = GENESIS;
  let verified = 0;
  let unchained = 0;
  let after: { tx: string; seq: string } | undefined;
  let mismatch: ChainVerification['firstMismatch'];
  for (;;) {
    const { rows } = await db.query<StoredRow>(
      `SELECT ${STORED_COLUMNS}, c.link FROM es_events e LEFT JOIN es_chain c ON c.global_position = e.global_position
       ${after ? 'WHERE (e.transaction_id, e.global_position) > ($2::xid8, $3::bigint)' : ''}
       ORDER BY e.transaction_id, e.global_position LIMIT $1`,
      after ? [pageSize, after.tx, after.seq] : [pageSize],
    );
    for (const row of rows) {
      const position = encodePosition(row.transaction_id, row.global_position);
      if (row.link === null) {
        unchained++;
        continue;
      }
      if (unchained > 0) {
        mismatch ??= { position, globalPosition: row.global_position, reason: 'an earlier event is missing from the chain: events were inserted into the history' };
        break;
      }
      const expected = link(previous, row);
      if (expected !== row.link) {
        mismatch = { position, globalPosition: row.global_position, reason: 'the stored event does not match its link: it was altered, or an event before it was removed or inserted' };
        break;
      }
      previous = expected;
      verified++;
    }
    options.onProgress?.(verified + unchained);
    if (mismatch || rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    after = { tx: last.transaction_id, seq: last.global_position };
  }
  // A seal must sign the link the chain holds at its position, with a key we know.
  if (!mismatch && options.signer) {
    const { rows: seals } = await db.query<{ global_position: string; ordinal: string; link: string; key_id: string; signature: string; chain_link: string | null }>(
      `SELECT s.global_position::text AS global_position, s.ordinal::text AS ordinal, s.link, s.key_id, s.signature, c.link AS chain_link
       FROM es_chain_seals s LEFT JOIN es_chain c ON c.global_position = s.global_position ORDER BY s.ordinal`,
    );
    for (const seal of seals) {
      const valid =
        seal.chain_link === seal.link &&
        seal.key_id === options.signer.keyId &&
        options.signer.verify(sealMessage(seal.ordinal, seal.global_position, seal.link), seal.signature);
      if (!valid) {
        mismatch = { position: null, globalPosition: seal.global_position, reason: `the seal of block ${seal.ordinal} does not match the chain or its signature is invalid` };
        break;
      }
    }
  }
  const orphan = orphans.rows[0];
  if (orphan && (!mismatch || BigInt(orphan.global_position) <= BigInt(mismatch.globalPosition))) {
    mismatch = { position: null, globalPosition: orphan.global_position, reason: 'a chained event is missing from the log: it was deleted' };
  }
  return { ok: mismatch === undefined, verified, unchained, head, ...(mismatch && { firstMismatch: mismatch }) };
}
