/**
 * The folds urban-ops' commands keep per store (kit/knownStreams.ts): incidents, and the case-serial
 * registers.
 */
import type { EventStore } from '../../events/types.ts';
import { KnownStreams } from '../kit/knownStreams.ts';
import { onePer } from '../kit/onePer.ts';
import type { IncidentState } from './incident/decider.ts';

/** The incident streams and case-serial registers one store's commands know in this process. */
export interface KnownIncidentStreams {
  incidents: KnownStreams<IncidentState>;
  /** Case-serial registers (caseSerials.ts): the last serial handed out, and which reading of the register it follows from. */
  serials: KnownStreams<{ last: number; reading: number }>;
}

/** Incident states kept per store; at ~2 KB each, 10,000 cases are ~20 MB. */
export const KNOWN_INCIDENTS = 10_000;
const KNOWN_REGISTERS = 1_000;

const byStore = new WeakMap<EventStore, KnownIncidentStreams>();

/** One set per store object: another store (another database) never sees this one's folds. */
export function knownStreamsOf(store: EventStore): KnownIncidentStreams {
  return onePer(byStore, store, () => ({ incidents: new KnownStreams(KNOWN_INCIDENTS), serials: new KnownStreams(KNOWN_REGISTERS) }));
}
