/**
 * The domains of the generic feed and their streams. Which resource an event and each of its fields
 * belong to is classified per event type (`payloadPolicy.ts`); streams of no listed domain are never sent.
 */
import { ValidationError } from '../../../events/errors.ts';

/** The domains a feed filter may name, and the stream-id prefixes of each. */
export const FEED_DOMAINS: Readonly<Record<string, readonly string[]>> = {
  population: ['population.'],
  'legal-person': ['legal-person.'],
  // Incident streams are `urban.incident-…` (the urban-ops domain's short stream prefix).
  'urban-ops': ['urban-ops.', 'urban.'],
  environment: ['environment.'],
  healthcare: ['healthcare.'],
  tax: ['tax.'],
  governance: ['governance.'],
};

/** True when `streamId` belongs to a feed domain; streams of no listed domain are never sent. */
export function isFeedStream(streamId: string): boolean {
  return Object.values(FEED_DOMAINS).some((prefixes) => prefixes.some((prefix) => streamId.startsWith(prefix)));
}

/** The stream prefixes of `domains`; throws BAD_USER_INPUT naming an unknown domain. */
export function streamPrefixesOf(domains: readonly string[]): string[] {
  return domains.flatMap((domain) => {
    const prefixes = FEED_DOMAINS[domain];
    if (!prefixes) {
      throw new ValidationError(`unknown domain "${domain}" in the event filter: use one of ${Object.keys(FEED_DOMAINS).join(', ')}`, {
        field: 'filter.domains',
        domain,
      });
    }
    return prefixes;
  });
}
