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
import { divisionCatalog, getDivision, type Division } from './divisions/catalog.ts';
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

/** A handling unit of the demo city: the one each division dispatches its cases to. */
export interface DemoUnit {
  unitId: string;
  unitName: string;
  divisionCode: string;
}

/** The demo city's handling unit of a division: a district's 市政工程处, a street's 城管办, a community's 网格站; the city has none. */
export function demoUnitOf(division: Division): DemoUnit | null {
  switch (division.level) {
    case 'DISTRICT':
      return { unitId: `${division.code}-szgc`, unitName: `${division.name}市政工程处`, divisionCode: division.code };
    case 'STREET':
      return { unitId: `${division.code}-cgb`, unitName: `${division.name}城管办`, divisionCode: division.code };
    case 'COMMUNITY':
      return { unitId: `${division.code}-wgz`, unitName: `${division.name}网格站`, divisionCode: division.code };
    default:
      return null;
  }
}

/** The consumer id of a division's command centre in the demo city (`centre-370102`); a unit's consumer id is its unit id. */
export const demoCentreId = (divisionCode: string): string => `centre-${divisionCode}`;

/** The district whose communities also get consumers (the others stop at their streets, to keep the register small). */
export const DEMO_OPS_DISTRICT = '370102';

/** A command centre or handling unit of the demo city's closed loop, registered as a consumer with its jurisdiction. */
export interface DemoOpsConsumer {
  consumerId: string;
  name: string;
  divisionCode: string;
  unit?: { unitId: string; unitName: string };
}

/**
 * The closed loop's actors the demo city registers: the city centre; every district and street
 * centre with its unit; the community centres of 历下区 (370102) with their 网格站.
 */
export function demoOpsConsumers(): DemoOpsConsumer[] {
  const inScope = (d: Division) => d.level !== 'COMMUNITY' || getDivision(d.parentCode!)?.parentCode === DEMO_OPS_DISTRICT;
  return divisionCatalog.filter(inScope).flatMap((division) => {
    const centre: DemoOpsConsumer = { consumerId: demoCentreId(division.code), name: `${division.name}城市运行管理服务中心`, divisionCode: division.code };
    const unit = demoUnitOf(division);
    return unit ? [centre, { consumerId: unit.unitId, name: unit.unitName, divisionCode: division.code, unit: { unitId: unit.unitId, unitName: unit.unitName } }] : [centre];
  });
}
