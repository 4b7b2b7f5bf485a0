/**
 * Facts a healthcare decision rests on that other streams hold (the population register, other
 * claims, visits). The command path looks them up in healthcare's read models and passes them in,
 * so `decide` and the screening rules stay pure and every verdict can name the events behind it.
 */
import type { RecordedEvent } from '../../events/types.ts';

/** An event a fact or a flag came from: look it up by id, or in the log at its position. */
export interface EventRef {
  type: string;
  eventId: string;
  streamId: string;
  position: string;
}

export const eventRefOf = (event: RecordedEvent): EventRef => ({
  type: event.type,
  eventId: event.eventId,
  streamId: event.streamId,
  position: event.position,
});

/** A registered death, with the PersonDeceased event that recorded it. */
export interface DeathFact {
  /** `YYYY-MM-DD`. */
  dateOfDeath: string;
  evidence: EventRef;
}

/** What the population register says of a person; `null` in a command means "not registered". */
export interface PersonFacts {
  personId: string;
  /** `YYYY-MM-DD`. */
  birthDate: string;
  death: DeathFact | null;
}
