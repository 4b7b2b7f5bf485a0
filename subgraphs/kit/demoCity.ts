/**
 * The size of the demo city `npm start` seeds on an empty store, from the environment (validated
 * before anything is written, every mistake reported at once). The defaults are the city the demo
 * and the startup figure are about: Jinan's twelve districts with 20,000 residents in households and
 * 2,000 legal persons.
 */
import { z } from 'zod';
import { parseConfig } from '../../events/config.ts';

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
