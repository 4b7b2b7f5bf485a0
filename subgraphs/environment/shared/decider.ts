/**
 * A decider whose streams continue another stream: the per-day observation streams of a station (or
 * readings of a permit) are decided on the state the station's (permit's) own stream leaves, so the
 * same `decide` and `evolve` apply while each day's stream stays short.
 */
import { fold, type Decider, type DomainEvent } from '../../../events/decider.ts';

export function startingFrom<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  prior: readonly Event[],
): Decider<Command, Event, State> {
  return { ...decider, initialState: () => fold(decider, prior) };
}
