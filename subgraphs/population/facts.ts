/**
 * What other domains may know of a person from the population register (the representative of a
 * legal person, a taxpayer), read from the person's stream at the moment a command is decided. The
 * register's own decider folds the stream here, so its rules stay inside population: a consumer
 * sees the few facts below, never the aggregate.
 */
import type { EventStore } from '../../events/types.ts';
import { personDecider, type PersonState } from './person/decider.ts';
import { personStreamId } from './person/events.ts';

export interface RegisteredPersonFacts {
  personId: string;
  name: string;
  /** The resident ID number (GB 11643). */
  idNumber: string;
  /** The division code of the person's residence. */
  divisionCode: string;
  status: 'REGISTERED' | 'DECEASED';
  /** `YYYY-MM-DD` when a death has been registered. */
  dateOfDeath: string | null;
}

/** The register's facts about a person now; null when no person is registered under the id. */
export async function readPersonFacts(store: EventStore, personId: string): Promise<RegisteredPersonFacts | null> {
  const { state } = await store.aggregate(personDecider, personStreamId(personId));
  return personFactsOf(personId, state);
}

/** The facts of a person's folded stream (a batch folds the streams it read at once); null when unregistered. */
export function personFactsOf(personId: string, state: PersonState): RegisteredPersonFacts | null {
  if (state.status === 'UNREGISTERED') return null;
  const { person } = state;
  return {
    personId,
    name: person.name,
    idNumber: person.idNumber,
    divisionCode: person.residence.divisionCode,
    status: state.status,
    dateOfDeath: state.status === 'DECEASED' ? state.dateOfDeath : null,
  };
}
