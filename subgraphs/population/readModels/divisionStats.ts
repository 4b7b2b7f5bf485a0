/**
 * `population.divisionStats`: running counts per division, at every level a person or household
 * rolls up to (community → street → district → city), so a division's figures are one document
 * read however many people live there. Figures that depend on today's date (age bands, the elderly,
 * minors) are counted from the register instead, where birth dates are indexed.
 */
import { assertNever } from '../../../events/decider.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import { collectionName, sourceOf, type Collection, type DocumentStore, type FieldSource, type Projection } from '../../../projections/types.ts';
import { divisionFields } from '../../kit/divisions/division.ts';
import type { HouseholdEvent } from '../household/events.ts';
import type { PersonEvent } from '../person/events.ts';

export const DIVISION_STATS_PROJECTION = 'population.divisionStats';

export interface DivisionStatsDoc extends Record<string, unknown> {
  code: string;
  /** Registered persons whose death has not been registered. */
  residents: number;
  deceased: number;
  /** Registered by birth here. */
  births: number;
  /** Households with at least one member. */
  households: number;
}

export const DIVISION_STATS = collectionName<DivisionStatsDoc>('divisions');

type Counter = 'residents' | 'deceased' | 'births' | 'households';

/** Where each person and household is counted, so a move or a death can be taken off the right divisions. */
interface PlaceDoc extends Record<string, unknown> {
  divisionCode: string;
  /** Households only: current number of members. */
  size?: number;
}

type StatsEvent = Extract<PersonEvent | HouseholdEvent, { type: (typeof EVENT_TYPES)[number] }>;

const EVENT_TYPES = ['PersonRegistered', 'ResidenceChanged', 'PersonDeceased', 'HouseholdEstablished', 'HouseholdMemberJoined', 'HouseholdMemberLeft'] as const;

/** The division and every division enclosing it. */
function chain(divisionCode: string): string[] {
  const { communityCode, streetCode, districtCode, cityCode } = divisionFields(divisionCode);
  return [communityCode, streetCode, districtCode, cityCode].filter((c): c is string => c !== null);
}

async function add(stats: Collection<DivisionStatsDoc>, divisionCode: string, changes: Partial<Record<Counter, number>>, source: FieldSource): Promise<void> {
  const codes = chain(divisionCode);
  const current = await stats.getMany(codes);
  for (const [i, code] of codes.entries()) {
    const doc = current[i]?.doc ?? { code, residents: 0, deceased: 0, births: 0, households: 0 };
    const fields: Partial<DivisionStatsDoc> = { code };
    for (const [counter, delta] of Object.entries(changes) as [Counter, number][]) fields[counter] = doc[counter] + delta;
    await stats.patch(code, current[i] ? fields : { ...doc, ...fields }, source);
  }
}

async function place(places: Collection<PlaceDoc>, id: string, event: RecordedEvent): Promise<PlaceDoc> {
  const found = await places.get(id);
  if (!found) throw new Error(`${DIVISION_STATS_PROJECTION}: ${event.type} at ${event.position} refers to ${id}, which was never placed`);
  return found.doc;
}

export const divisionStatsProjection: Projection = {
  name: DIVISION_STATS_PROJECTION,
  version: 1,
  eventTypes: EVENT_TYPES,
  async apply(event: RecordedEvent, store: DocumentStore): Promise<void> {
    const stats = store.collection(DIVISION_STATS);
    const persons = store.collection<PlaceDoc>('personPlaces');
    const households = store.collection<PlaceDoc>('householdPlaces');
    const source = sourceOf(event);
    const domain = { type: event.type, data: event.data } as StatsEvent;
    switch (domain.type) {
      case 'PersonRegistered': {
        const { personId, residence, reason } = domain.data;
        await persons.upsert(personId, { divisionCode: residence.divisionCode }, source);
        await add(stats, residence.divisionCode, { residents: 1, ...(reason === 'BIRTH' && { births: 1 }) }, source);
        return;
      }
      case 'ResidenceChanged': {
        const { personId, residence } = domain.data;
        const before = await place(persons, personId, event);
        await add(stats, before.divisionCode, { residents: -1 }, source);
        await add(stats, residence.divisionCode, { residents: 1 }, source);
        await persons.upsert(personId, { divisionCode: residence.divisionCode }, source);
        return;
      }
      case 'PersonDeceased': {
        const { divisionCode } = await place(persons, domain.data.personId, event);
        await add(stats, divisionCode, { residents: -1, deceased: 1 }, source);
        return;
      }
      case 'HouseholdEstablished': {
        await households.upsert(domain.data.householdId, { divisionCode: domain.data.divisionCode, size: 0 }, source);
        await add(stats, domain.data.divisionCode, { households: 1 }, source);
        return;
      }
      case 'HouseholdMemberJoined': {
        const household = await place(households, domain.data.householdId, event);
        await households.patch(domain.data.householdId, { size: (household.size ?? 0) + 1 }, source);
        return;
      }
      case 'HouseholdMemberLeft': {
        const household = await place(households, domain.data.householdId, event);
        const size = (household.size ?? 1) - 1;
        await households.patch(domain.data.householdId, { size }, source);
        if (size === 0) await add(stats, household.divisionCode, { households: -1 }, source);
        return;
      }
      default:
        return assertNever(domain);
    }
  },
};
