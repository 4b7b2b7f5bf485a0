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
import type { EventRowIdentity } from './schema.ts';
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
);
-- The transaction of each chained event, so a deleted event is still named by its position.
ALTER TABLE es_chain ADD COLUMN IF NOT EXISTS transaction_id text;
-- Each block's links (their first 16 hex digits, in order) and a signature over them: a chain
-- recomputed over a rewritten history is then named at the first event that differs, not at the seal.
ALTER TABLE es_chain_seals ADD COLUMN IF NOT EXISTS block_links text;
ALTER TABLE es_chain_seals ADD COLUMN IF NOT EXISTS block_signature text;`;

/**
 * Checks seals with the public key alone: what an auditor outside the system holds
 * (`verify --public-key <file>`).
 */
export interface SealVerifier {
  keyId: string;
  /** SPKI PEM: what auditors keep to check seals without trusting the service. */
  publicKeyPem: string;
  verify(message: string, signature: string): boolean;
}

/**
 * Signs the link closing each block of events (Ed25519), so a digest copied out of the system can
 * later be shown to come from it. Auditors keep the public key and the seals elsewhere.
 */
export interface ChainSigner extends SealVerifier {
  sign(message: string): string;
}

export function ed25519Verifier(publicKeyPem: string): SealVerifier {
  const publicKey = createPublicKey(publicKeyPem);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 public key, got ${publicKey.asymmetricKeyType ?? 'an unknown key type'}`);
  return {
    keyId: createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    verify: (message, signature) => verify(null, Buffer.from(message), publicKey, Buffer.from(signature, 'base64')),
  };
}

export function ed25519Signer(privateKeyPem: string): ChainSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  const verifier = ed25519Verifier(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
  return { ...verifier, sign: (message) => sign(null, Buffer.from(message), privateKey).toString('base64') };
}

/** What a seal signs: the block's last ordinal, its position and its link. */
export const sealMessage = (ordinal: string, globalPosition: string, link: string): string => `city-brain-seal:${ordinal}:${globalPosition}:${link}`;

/** What a seal's block signature signs: the digest of the block's link prefixes, in order. */
export const blockMessage = (ordinal: string, globalPosition: string, blockLinks: string): string =>
  `city-brain-block:${ordinal}:${globalPosition}:${createHash('sha256').update(blockLinks).digest('hex')}`;

/** Events per sealed block: the chainer seals every `SEAL_BLOCK_SIZE`-th link, and verification expects each. */
export const SEAL_BLOCK_SIZE = 1000;
/** Hex digits of each link kept in a seal's block: enough to tell which event differs. */
const BLOCK_LINK_PREFIX = 16;

/** The link before the first event: a constant, so two empty logs agree. */
export const GENESIS = createHash('sha256').update('city-brain event log').digest('hex');
const LOCK_KEY = BigInt.asIntN(64, 0x6362_6368_6169_6e00n);

interface StoredRow extends EventRowIdentity {
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

/**
 * Events chained per batch. On the embedded store each of a batch's statements holds the one session
 * the graph's queries share, and a query's statements each wait behind one: a fresh city's chain in
 * batches of 1,000 added ~0.3 s to a restart's first answer, in batches of 200 ~0.1 s.
 */
const DEFAULT_BATCH = { pglite: 200, postgres: 1000 } as const;

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
    const batchSize = this.options.batchSize ?? DEFAULT_BATCH[this.db.backend];
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
    const blockSize = this.options.blockSize ?? SEAL_BLOCK_SIZE;
    const signer = this.options.signer;
    const firstOrdinal = ordinal + 1;
    const positions: string[] = [];
    const transactions: string[] = [];
    const ordinals: number[] = [];
    const links: string[] = [];
    const sealed: { globalPosition: string; ordinal: number; link: string }[] = [];
    for (const row of rows) {
      previous = link(previous, row);
      ordinal++;
      positions.push(row.global_position);
      transactions.push(row.transaction_id);
      ordinals.push(ordinal);
      links.push(previous);
      if (signer && ordinal % blockSize === 0) sealed.push({ globalPosition: row.global_position, ordinal, link: previous });
    }
    const seals: string[][] = [];
    for (const seal of sealed) {
      const blockLinks = await this.blockLinks(seal.ordinal - blockSize + 1, firstOrdinal, links.slice(0, seal.ordinal - firstOrdinal + 1));
      const ordinalText = String(seal.ordinal);
      seals.push([
        seal.globalPosition,
        ordinalText,
        seal.link,
        signer!.keyId,
        signer!.sign(sealMessage(ordinalText, seal.globalPosition, seal.link)),
        blockLinks,
        signer!.sign(blockMessage(ordinalText, seal.globalPosition, blockLinks)),
      ]);
    }
    await this.db.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO es_chain (global_position, ordinal, link, transaction_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])',
        [positions, ordinals, links, transactions],
      );
      for (const seal of seals) {
        await tx.query('INSERT INTO es_chain_seals (global_position, ordinal, link, key_id, signature, block_links, block_signature) VALUES ($1, $2, $3, $4, $5, $6, $7)', seal);
      }
    });
    return rows.length;
  }

  /** The link prefixes of ordinals `from` on: those before this batch from the chain, then the batch's. */
  private async blockLinks(from: number, batchStart: number, batchLinks: string[]): Promise<string> {
    const earlier =
      from < batchStart
        ? (await this.db.query<{ link: string }>('SELECT link FROM es_chain WHERE ordinal >= $1 AND ordinal < $2 ORDER BY ordinal', [from, batchStart])).rows.map((r) => r.link)
        : [];
    return [...earlier, ...batchLinks.slice(Math.max(0, from - batchStart))].map((l) => l.slice(0, BLOCK_LINK_PREFIX)).join('');
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

/**
 * What an auditor keeps outside the system (`seals --export <file>`): the public key, every seal with
 * its block's link prefixes, and the chain head at the time of the export. `verify --seals <file>`
 * checks the log against it, which also finds the newest events removed with their chain rows.
 */
export interface SealExport {
  format: 'city-brain-seals/1';
  exportedAt: string;
  publicKeyPem: string | null;
  keyId: string | null;
  blockSize: number;
  head: ChainHead;
  /** The service's signature over the head (`headMessage`), when it has a seal key. */
  headSignature: string | null;
  seals: (Seal & { blockLinks: string | null; blockSignature: string | null })[];
}

/** What the head signature of an export signs. */
export const headMessage = (head: ChainHead, exportedAt: string): string => `city-brain-head:${head.events}:${head.position ?? ''}:${head.link}:${exportedAt}`;

export async function exportSeals(
  db: SqlExecutor,
  options: { signer?: ChainSigner | undefined; blockSize?: number; now?: Date } = {},
): Promise<SealExport> {
  const { signer } = options;
  const head = await chainHead(db);
  const { rows } = await db.query<{ ordinal: string; block_links: string | null; block_signature: string | null }>(
    'SELECT ordinal::text AS ordinal, block_links, block_signature FROM es_chain_seals',
  );
  const blocks = new Map(rows.map((r) => [Number(r.ordinal), r]));
  const seals = (await listSeals(db, Number.MAX_SAFE_INTEGER)).reverse();
  const exportedAt = (options.now ?? new Date()).toISOString();
  return {
    format: 'city-brain-seals/1',
    exportedAt,
    publicKeyPem: signer?.publicKeyPem ?? null,
    keyId: signer?.keyId ?? null,
    blockSize: options.blockSize ?? SEAL_BLOCK_SIZE,
    head,
    headSignature: signer ? signer.sign(headMessage(head, exportedAt)) : null,
    seals: seals.map((seal) => ({ ...seal, blockLinks: blocks.get(seal.ordinal)?.block_links ?? null, blockSignature: blocks.get(seal.ordinal)?.block_signature ?? null })),
  };
}

export interface ChainMismatch {
  /** `tx:seq`; null only for an event chained before the chain kept transactions, then named by `globalPosition`. */
  position: Position | null;
  globalPosition: string;
  reason: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Events whose link was recomputed and matched, in order, before any mismatch. */
  verified: number;
  /** Committed events not chained yet (the chainer lags a little behind appends). */
  unchained: number;
  head: ChainHead;
  /** Block seals whose signature and link were checked against the key (0 without a key, or when the walk stopped before any). */
  sealsChecked: number;
  /** Seals and head of a published export compared with the recomputed chain. */
  publishedChecked: number;
  /** The first place where the stored log and the chain (or its seals, or the export) disagree. */
  firstMismatch?: ChainMismatch;
}

export interface VerifyChainOptions {
  pageSize?: number;
  onProgress?: (checked: number) => void;
  /** Every full block must carry a seal signed by this key; a missing seal is tampering. */
  sealKey?: Pick<SealVerifier, 'keyId' | 'verify'>;
  /** @default SEAL_BLOCK_SIZE */
  blockSize?: number;
  /** An export kept outside the system: its seals and head must be links of the recomputed chain. */
  published?: Pick<SealExport, 'head' | 'seals'>;
}

interface StoredSeal {
  global_position: string;
  ordinal: string;
  link: string;
  key_id: string;
  signature: string;
  block_links: string | null;
  block_signature: string | null;
}

/** A link of the recomputed chain, by ordinal within its block. */
interface BlockEntry {
  position: Position;
  globalPosition: string;
  link: string;
}

/**
 * The first event of `block` whose link differs from the sealed prefixes: where a history that was
 * rewritten, and its chain recomputed, first departs from what was sealed.
 */
function firstDeparture(block: readonly BlockEntry[], blockLinks: string | null | undefined): BlockEntry | undefined {
  if (!blockLinks) return undefined;
  return block.find((entry, i) => entry.link.slice(0, BLOCK_LINK_PREFIX) !== blockLinks.slice(i * BLOCK_LINK_PREFIX, (i + 1) * BLOCK_LINK_PREFIX));
}

const REWRITTEN = 'the chain was recomputed over a rewritten history: this is the first event that differs from what was sealed (it, or an event just before it, was altered, deleted or inserted)';

/**
 * Recomputes every link from the stored events, in order, and checks each full block's seal (with
 * `sealKey`) and an auditor's export (`published`); names the first event that does not match.
 */
export async function verifyChain(db: SqlDatabase, options: VerifyChainOptions = {}): Promise<ChainVerification> {
  await db.exec(HASH_CHAIN_SCHEMA);
  const pageSize = options.pageSize ?? 5000;
  const blockSize = options.blockSize ?? SEAL_BLOCK_SIZE;
  const { sealKey, published } = options;
  const head = await chainHead(db);
  // A chained event that is gone from the log: the deletion itself is the first mismatch.
  const orphans = await db.query<{ global_position: string; ordinal: string; transaction_id: string | null }>(
    `SELECT c.global_position::text AS global_position, c.ordinal::text AS ordinal, c.transaction_id FROM es_chain c
     LEFT JOIN es_events e ON e.global_position = c.global_position WHERE e.global_position IS NULL
     ORDER BY c.ordinal LIMIT 1`,
  );
  const { rows: sealRows } = await db.query<StoredSeal>(
    `SELECT global_position::text AS global_position, ordinal::text AS ordinal, link, key_id, signature, block_links, block_signature FROM es_chain_seals ORDER BY ordinal`,
  );
  const seals = new Map(sealRows.map((seal) => [Number(seal.ordinal), seal]));
  const checkpoints = new Map<number, { link: string; position: Position | null; blockLinks?: string | null; what: string }>();
  for (const seal of published?.seals ?? []) checkpoints.set(seal.ordinal, { link: seal.link, position: seal.position, blockLinks: seal.blockLinks, what: `the exported seal of block ${seal.ordinal}` });
  if (published && published.head.events > 0) checkpoints.set(published.head.events, { link: published.head.link, position: published.head.position, what: 'the exported head' });

  let previous = GENESIS;
  let verified = 0;
  let unchained = 0;
  let sealsChecked = 0;
  let publishedChecked = 0;
  let block: BlockEntry[] = [];
  let after: { tx: string; seq: string } | undefined;
  let mismatch: ChainMismatch | undefined;
  const departure = (blockLinks: string | null | undefined, fallback: ChainMismatch): ChainMismatch => {
    const first = firstDeparture(block, blockLinks);
    return first ? { position: first.position, globalPosition: first.globalPosition, reason: REWRITTEN } : fallback;
  };
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
        mismatch = { position, globalPosition: row.global_position, reason: 'an earlier event is missing from the chain: events were inserted into the history' };
        break;
      }
      const expected = link(previous, row);
      if (expected !== row.link) {
        mismatch = { position, globalPosition: row.global_position, reason: 'the stored event does not match its link: it was altered, or an event before it was removed or inserted' };
        break;
      }
      const ordinal = verified + 1;
      block.push({ position, globalPosition: row.global_position, link: expected });
      const checkpoint = checkpoints.get(ordinal);
      if (checkpoint) {
        publishedChecked++;
        if (checkpoint.link !== expected) {
          mismatch = departure(checkpoint.blockLinks, { position, globalPosition: row.global_position, reason: `${checkpoint.what} (event ${ordinal}) does not match the chain: the history up to it was rewritten and the chain recomputed` });
          break;
        }
      }
      if (sealKey && ordinal % blockSize === 0) {
        const seal = seals.get(ordinal);
        const range = `events ${ordinal - blockSize + 1}–${ordinal}, ${block[0]!.position} to ${position}`;
        if (!seal) {
          mismatch = { position, globalPosition: row.global_position, reason: `block ${ordinal} (${range}) has no seal: seals were deleted, and the history of that block may have been rewritten` };
          break;
        }
        const ordinalText = String(ordinal);
        const signed = seal.key_id === sealKey.keyId && sealKey.verify(sealMessage(ordinalText, seal.global_position, seal.link), seal.signature);
        if (!signed) {
          mismatch = { position, globalPosition: row.global_position, reason: `the seal of block ${ordinal} is not signed by key ${sealKey.keyId}: it was forged or re-signed` };
          break;
        }
        sealsChecked++;
        if (seal.global_position !== row.global_position || seal.link !== expected) {
          const blockSigned = seal.block_links !== null && seal.block_signature !== null && sealKey.verify(blockMessage(ordinalText, seal.global_position, seal.block_links), seal.block_signature);
          mismatch = departure(blockSigned ? seal.block_links : undefined, {
            position,
            globalPosition: row.global_position,
            reason: `the seal of block ${ordinal} does not match the chain: the history of ${range} was rewritten and the chain recomputed`,
          });
          break;
        }
      }
      if (ordinal % blockSize === 0) block = [];
      previous = expected;
      verified++;
    }
    options.onProgress?.(verified + unchained);
    if (mismatch || rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    after = { tx: last.transaction_id, seq: last.global_position };
  }
  if (!mismatch) {
    // A seal or an exported link beyond the chain's end: the newest events went with their chain rows.
    const beyond = [...checkpoints.entries(), ...[...seals.entries()].map(([ordinal, seal]) => [ordinal, { position: null, globalPosition: seal.global_position, what: `the seal of block ${ordinal}` }] as const)]
      .filter(([ordinal]) => ordinal > verified)
      .sort(([a], [b]) => a - b)[0];
    if (beyond) {
      const [ordinal, at] = beyond;
      const globalPosition = 'globalPosition' in at ? at.globalPosition : (at.position?.split(':')[1] ?? '');
      mismatch = {
        position: at.position,
        globalPosition,
        reason: `${at.what} names event ${ordinal}${at.position ? ` (${at.position})` : ''}, but the chain ends at event ${verified}: the newest events were removed with their chain rows`,
      };
    }
  }
  const orphan = orphans.rows[0];
  if (orphan && (!mismatch || Number(orphan.ordinal) <= verified + 1)) {
    mismatch = {
      position: orphan.transaction_id ? encodePosition(orphan.transaction_id, orphan.global_position) : null,
      globalPosition: orphan.global_position,
      reason: `a chained event (event ${orphan.ordinal}) is missing from the log: it was deleted`,
    };
  }
  return { ok: mismatch === undefined, verified, unchained, head, sealsChecked, publishedChecked, ...(mismatch && { firstMismatch: mismatch }) };
}
