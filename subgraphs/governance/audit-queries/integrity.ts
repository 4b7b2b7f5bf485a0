/**
 * `integrity`: the hash chain recomputed from the stored events
 * (`verifyChain`), its head, and the signed block seals auditors copy out of the system.
 *
 * Verification reads the whole log, so one query must not start one each time: a result is reused
 * for `maxAgeMs` (one minute by default) and concurrent queries share the verification in flight.
 * The answer says when it was checked; the `verify` CLI recomputes on demand.
 */
import type { SqlDatabase } from '../../../events/sql/database.ts';
import { verifyChain, type ChainVerification } from '../../../events/sql/hashChain.ts';

export interface IntegrityReport {
  /** The last event whose link was recomputed and matched, when the whole chain did; null otherwise. */
  verifiedThrough: string | null;
  verifiedEvents: number;
  unchainedEvents: number;
  firstMismatch: { position: string | null; sequence: string; reason: string } | null;
  chainHead: ChainVerification['head'];
  checkedAt: string;
}

export interface IntegrityCheckOptions {
  /** How long a verification is reused. @default 60_000 */
  maxAgeMs?: number;
  now?: () => Date;
}

export function toIntegrityReport(result: ChainVerification, checkedAt: Date): IntegrityReport {
  const mismatch = result.firstMismatch;
  return {
    // Without a mismatch every chained event matched, through the head; events after it are unchained yet.
    verifiedThrough: mismatch ? null : result.head.position,
    verifiedEvents: result.verified,
    unchainedEvents: result.unchained,
    firstMismatch: mismatch ? { position: mismatch.position, sequence: mismatch.globalPosition, reason: mismatch.reason } : null,
    chainHead: result.head,
    checkedAt: checkedAt.toISOString(),
  };
}

/** A verification of `db`'s chain at most `maxAgeMs` old, shared by concurrent callers. */
export function createIntegrityCheck(db: SqlDatabase, options: IntegrityCheckOptions = {}): () => Promise<IntegrityReport> {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  let latest: { startedAt: number; report: Promise<IntegrityReport> } | undefined;
  return () => {
    const startedAt = now().getTime();
    if (!latest || startedAt - latest.startedAt >= maxAgeMs) {
      const report = verifyChain(db).then((result) => toIntegrityReport(result, now()));
      latest = { startedAt, report };
      // A failed verification (e.g. the database was unreachable) is not kept: the next query retries.
      report.catch(() => {
        if (latest?.report === report) latest = undefined;
      });
    }
    return latest.report;
  };
}
