/**
 * `personal-data`: upgrades a store to encrypted personal data and reports where it stands. Opening
 * the platform with a master key creates the key table (`pd_subject_keys`); nothing in the log is
 * rewritten. Events written before hold their personal fields in clear and stay readable as they are
 * (docs/privacy.md says what erasure covers for them).
 */
import type { Platform } from '../bin/platform.ts';
import { PersonalDataEventStore } from '../events/crypto/personalDataStore.ts';

export interface PersonalDataReport {
  encrypted: boolean;
  /** Per event type with personal fields: events stored encrypted, and events stored without (older, or holding no personal value). */
  types: { type: string; encrypted: number; inClear: number }[];
  keys: { live: number; erased: number } | null;
}

export async function personalDataReport(platform: Pick<Platform, 'store' | 'db'>): Promise<PersonalDataReport> {
  const { store, db } = platform;
  // Encryption exists on the SQL log only (bin/platform.ts), so an encrypting store has its database.
  if (!(store instanceof PersonalDataEventStore) || !db) return { encrypted: false, types: [], keys: null };
  const { rows } = await db.query<{ type: string; encrypted: number; in_clear: number }>(
    `SELECT type, count(*) FILTER (WHERE data ? '$personal')::int AS encrypted, count(*) FILTER (WHERE NOT data ? '$personal')::int AS in_clear
     FROM es_events WHERE type = ANY($1::text[]) GROUP BY type ORDER BY type`,
    [[...store.codec.rules.keys()]],
  );
  return { encrypted: true, types: rows.map((r) => ({ type: r.type, encrypted: r.encrypted, inClear: r.in_clear })), keys: await store.codec.keys.store.counts() };
}

export function formatPersonalDataReport(report: PersonalDataReport): string {
  if (!report.encrypted) return 'personal data is stored in clear: set PERSONAL_DATA_KEY_FILE (docs/privacy.md) and run this again';
  const lines = report.types.map((t) => `  ${t.type}: ${t.encrypted} encrypted, ${t.inClear} without encryption (written before the upgrade, or holding no personal value)`);
  return [`personal data encrypted per subject and scope; keys: ${report.keys!.live} live, ${report.keys!.erased} erased`, ...lines].join('\n');
}
