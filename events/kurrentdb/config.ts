/**
 * What `EVENT_STORE=kurrentdb` is configured by, apart from the client: every process validates its
 * configuration at start, and one on the SQL store should not load the KurrentDB client to do it.
 */
import { z } from 'zod';

export const kurrentConfigSchema = z.object({
  KURRENTDB_URL: z
    .string()
    .regex(
      /^(kurrentdb|kurrent|kdb|esdb)(\+discover)?:\/\/[^\s]+$/,
      'must be a KurrentDB connection string: kurrentdb://host:2113?tls=false, kurrentdb+discover://… for a cluster (esdb:// is accepted, deprecated)',
    ),
  /**
   * Namespace inside a shared server: stream `population.person-1` is stored as
   * `<prefix>population.person-1`, and every reader sees only its own namespace.
   */
  KURRENTDB_STREAM_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*\/$/, 'must be lowercase letters, digits, "-" or "_", ending in "/", e.g. "jinan/"')
    .optional(),
});

export type KurrentConfig = z.infer<typeof kurrentConfigSchema>;
