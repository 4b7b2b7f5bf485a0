/**
 * `verify`: brings the hash chain up to date, then recomputes it over the whole log, checks every
 * full block's seal against a public key and, given an auditor's export (`seals --export`), every
 * exported seal and the exported head. Exit code 2 and the first event that does not match when the
 * history was altered.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../events/errors.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import { ed25519Verifier, HashChainer, verifyChain, type ChainSigner, type SealExport, type SealVerifier } from '../events/sql/hashChain.ts';
import type { Progress } from './progress.ts';

export interface VerifyLogOptions {
  /** A chain link published earlier (`--expect-head`). */
  expectedHead?: string;
  /** The service's own key: chains what is not chained yet, sealing its blocks. */
  signer?: ChainSigner;
  /** The key seals are checked with (`--public-key`); defaults to the export's, then the signer's. */
  sealKey?: SealVerifier;
  /** An auditor's export (`--seals`). */
  published?: SealExport;
}

const positionSchema = z.string().regex(/^\d+:\d+$/);
const sealExportSchema = z.object({
  format: z.literal('city-brain-seals/1'),
  exportedAt: z.string(),
  publicKeyPem: z.string().nullable(),
  keyId: z.string().nullable(),
  blockSize: z.number().int().positive(),
  head: z.object({ position: positionSchema.nullable(), link: z.string(), events: z.number().int().min(0) }),
  headSignature: z.string().nullable(),
  seals: z.array(
    z.object({
      position: positionSchema,
      ordinal: z.number().int().positive(),
      link: z.string(),
      keyId: z.string(),
      signature: z.string(),
      sealedAt: z.string(),
      blockLinks: z.string().nullable(),
      blockSignature: z.string().nullable(),
    }),
  ),
});

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** An export as `seals --export` writes it, or a ValidationError naming `source` and what is wrong. */
export function parseSealExport(json: unknown, source: string): SealExport {
  const parsed = sealExportSchema.safeParse(json);
  if (!parsed.success) throw new ValidationError(`${source}: not an export written by \`seals --export\` (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data as SealExport;
}

/** The export in `file`, or a ValidationError saying why the file is not one. */
export function readSealExport(file: string): SealExport {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(`--seals ${file}: not a readable JSON file (${reason(error)})`);
  }
  return parseSealExport(json, `--seals ${file}`);
}

/** An Ed25519 public key in SPKI PEM (as `seals` prints it), or a ValidationError naming `source`. */
export function parsePublicKey(pem: string, source: string): SealVerifier {
  try {
    return ed25519Verifier(pem);
  } catch (error) {
    throw new ValidationError(`${source}: not an Ed25519 public key in PEM (${reason(error)})`);
  }
}

/** The public key in `file`, or a ValidationError. */
export function readPublicKey(file: string): SealVerifier {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(`--public-key ${file}: not readable (${reason(error)})`);
  }
  return parsePublicKey(pem, `--public-key ${file}`);
}

export async function verifyLog(db: SqlDatabase, createProgress: (label: string, total: number) => Progress, options: VerifyLogOptions = {}): Promise<{ ok: boolean; lines: string[] }> {
  const { expectedHead, signer, published } = options;
  const sealKey = options.sealKey ?? (published?.publicKeyPem ? ed25519Verifier(published.publicKeyPem) : signer);
  // Chaining first means a fresh store (or one whose projector was down) is verified in full.
  await new HashChainer(db, signer ? { signer } : {}).catchUp().catch(() => undefined);
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events');
  const bar = createProgress('verify', Number(rows[0]?.n ?? 0));
  let seen = 0;
  const result = await verifyChain(db, {
    ...(sealKey && { sealKey }),
    ...(published && { published, blockSize: published.blockSize }),
    onProgress: (checked) => {
      bar.increment(checked - seen);
      seen = checked;
    },
  });
  bar.stop();
  const lines = [
    `chain head: ${result.head.link} at position ${result.head.position ?? '(empty log)'} over ${result.head.events} events`,
    `verified ${result.verified} events${result.unchained ? `; ${result.unchained} appended since are not chained yet` : ''}`,
  ];
  if (!sealKey) lines.push('no seal key (--public-key): block seals not checked');
  else if (result.sealsChecked > 0) lines.push(`${result.sealsChecked} block seals checked against key ${sealKey.keyId}`);
  else lines.push(`no block seal checked against key ${sealKey.keyId}: ${result.firstMismatch ? 'verification stopped before the first full block' : 'no full block yet'}`);
  if (published) {
    lines.push(`compared with the export of ${published.exportedAt} (${published.seals.length} seals, head at ${published.head.events} events): ${result.publishedChecked} of its links found in the chain`);
  }
  let ok = result.ok;
  if (result.firstMismatch) {
    const where = result.firstMismatch.position ?? `global position ${result.firstMismatch.globalPosition}`;
    lines.push(`TAMPERED: first mismatch at ${where}: ${result.firstMismatch.reason}`);
  }
  if (expectedHead !== undefined && !result.head.events) lines.push('the log is empty: there is no head to compare');
  if (expectedHead !== undefined && result.head.events && result.head.link !== expectedHead) {
    // The published head must be a link somewhere in the chain: otherwise the chain was rebuilt.
    const found = await db.query('SELECT 1 FROM es_chain WHERE link = $1', [expectedHead]);
    if (found.rows.length === 0) {
      ok = false;
      lines.push(`TAMPERED: the published head ${expectedHead} is not in the chain: the chain was recomputed over a rewritten history, or its newest events were removed`);
    } else {
      lines.push(`the published head ${expectedHead} is in the chain; events were appended after it`);
    }
  }
  if (ok) lines.push('OK: the log matches its hash chain');
  return { ok, lines };
}
