/**
 * What other domains may know of a legal person from the register (a taxpayer's subject), read from
 * its stream at the moment a command is decided. The register's own decider folds the stream here,
 * so its rules stay inside legal-person: a consumer sees the few facts below, never the aggregate.
 */
import type { EventStore } from '../../events/types.ts';
import { legalPersonDecider } from './legalPerson/decider.ts';
import { legalPersonStreamId } from './legalPerson/events.ts';

export interface RegisteredLegalPersonFacts {
  legalPersonId: string;
  name: string;
  /** The unified social credit code (GB 32100). */
  creditCode: string;
  /** The division code of the registered address. */
  divisionCode: string;
  status: 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';
}

/** The register's facts about a legal person now; null when none is registered under the id. */
export async function readLegalPersonFacts(store: EventStore, legalPersonId: string): Promise<RegisteredLegalPersonFacts | null> {
  const { state } = await store.aggregate(legalPersonDecider, legalPersonStreamId(legalPersonId));
  if (state.status === 'UNREGISTERED') return null;
  const { name, creditCode, registeredAddress } = state.legalPerson;
  return { legalPersonId, name, creditCode, divisionCode: registeredAddress.divisionCode, status: state.status };
}
