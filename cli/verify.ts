/**
 * `verify`: brings the hash chain up to date, then recomputes it over the whole log. Exit code 2
 * and the first position that does not match when the history was altered.
 */
import type { SqlDatabase } from '../events/sql/database.ts';
import { HashChainer, verifyChain, type ChainSigner } from '../events/sql/hashChain.ts';
import type { Progress } from './progress.ts';

export async function verifyLog(
  db: SqlDatabase,
  createProgress: (label: string, total: number) => Progress,
  options: { expectedHead?: string; signer?: ChainSigner } = {},
): Promise<{ ok: boolean; lines: string[] }> {
  const { expectedHead, signer } = options;
  // Chaining first means a fresh store (or one whose projector was down) is verified in full.
  await new HashChainer(db, signer ? { signer } : {}).catchUp().catch(() => undefined);
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events');
  const bar = createProgress('verify', Number(rows[0]?.n ?? 0));
  let seen = 0;
  const result = await verifyChain(db, {
    ...(signer && { signer }),
    onProgress: (checked) => {
      bar.increment(checked - seen);
      seen = checked;
    },
  });
  bar.stop();
  const lines = [
    `chain head: ${result.head.link} at position ${result.head.position ?? '(empty log)'} over ${result.head.events} events`,
    `verified ${result.verified} events${result.unchained ? `; ${result.unchained} appended since are not chained yet` : ''}`,
    signer ? `block seals checked against key ${signer.keyId}` : 'no seal key configured: block seals not checked',
  ];
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
      lines.push(`TAMPERED: the published head ${expectedHead} is not in the chain: the chain was recomputed over a rewritten history`);
    } else {
      lines.push(`the published head ${expectedHead} is in the chain; events were appended after it`);
    }
  }
  if (ok) lines.push('OK: the log matches its hash chain');
  return { ok, lines };
}
