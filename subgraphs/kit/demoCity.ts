/**
 * The size of the demo city `npm start` seeds on an empty store, from the environment (validated
 * before anything is written, every mistake reported at once). The defaults are the city the demo
 * and the startup figure are about: Jinan's twelve districts with 20,000 residents in households and
 * 2,000 legal persons. Also what every domain's seed shares: the demo provenance, stable demo ids and
 * a fixed reference date, so every start seeds the same city.
 */
import { z } from 'zod';
import { deterministicEventId } from '../../events/append.ts';
import { parseConfig } from '../../events/config.ts';
import type { EventMetadata } from '../../events/types.ts';
import { provenanceOf, type ProvenanceDefaults } from './provenance.ts';

export interface DemoCityConfig {
  /** Residents seeded, in households (`DEMO_PEOPLE`). @default 20000 */
  people: number;
  /** Legal persons seeded, represented by adult residents (`DEMO_LEGAL_PERSONS`). @default 2000 */
  legalPersons: number;
}

export const DEFAULT_DEMO_CITY: DemoCityConfig = { people: 20_000, legalPersons: 2_000 };

const count = (what: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ message: `must be a whole number of ${what}` })
    .int(`must be a whole number of ${what}`)
    .min(min, `must be at least ${min} ${what}`)
    .max(max, `must be at most ${max} ${what}`)
    .default(fallback);

const schema = z.object({
  DEMO_PEOPLE: count('residents', 50, 1_000_000, DEFAULT_DEMO_CITY.people),
  DEMO_LEGAL_PERSONS: count('legal persons', 0, 200_000, DEFAULT_DEMO_CITY.legalPersons),
});

export function demoCityConfig(env: Record<string, string | undefined> = process.env): DemoCityConfig {
  const parsed = parseConfig(schema, env);
  return { people: parsed.DEMO_PEOPLE, legalPersons: parsed.DEMO_LEGAL_PERSONS };
}

/** The provenance channel of everything the demo seed writes. */
export const DEMO_CHANNEL = 'demo-seed';
/** Birth and death dates are drawn relative to this date, so the same people are born whenever the city is seeded. */
export const DEMO_REFERENCE_DATE = '2025-12-31';

/** Stable UUIDs for demo entities, so other domains' seeds can refer to them. */
export const demoId = (kind: string, index: number): string => deterministicEventId(`city-brain:demo:${kind}`, index);

/** Runs `work` over `items`, `parallel` at a time. */
export async function inParallel<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/** Metadata of a demo-seed event: the department that would have recorded it, collected `daysAgo` before `now`. */
export function demoMetadata(source: ProvenanceDefaults, now: Date, daysAgo: number, correlationId: string): EventMetadata {
  const collectedAt = new Date(now.getTime() - daysAgo * 86_400_000).toISOString();
  return {
    provenance: provenanceOf(source, DEMO_CHANNEL, { collectedAt, batchId: 'demo-city' }, now.toISOString()),
    actor: { consumerId: 'demo-seed', role: 'admin' },
    correlationId,
  };
}
