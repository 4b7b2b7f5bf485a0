/**
 * Which catalog resource an event of the generic feed belongs to, by its stream (directives.md):
 * a consumer receives an event only under a SUBSCRIBE grant for that resource. Streams of no listed
 * domain map to nothing and are never sent.
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

/** The resource an event of `streamId` is delivered under; `null` for a stream of no feed domain. */
export function resourceOfStream(streamId: string): string | null {
  const dot = streamId.indexOf('.');
  if (dot < 0) return null;
  const domain = streamId.slice(0, dot);
  const aggregate = streamId.slice(dot + 1);
  switch (domain) {
    case 'population':
      return 'population.basic';
    case 'legal-person':
      return 'legal-person.basic';
    case 'urban':
    case 'urban-ops':
      return 'urban.incidents';
    case 'environment':
      return aggregate.startsWith('emission-') ? 'environment.emissions' : 'environment.air';
    case 'healthcare':
      return aggregate.startsWith('claim-') ? 'healthcare.claims' : 'healthcare.records';
    case 'tax':
      return 'tax.declarations';
    case 'governance':
      return 'audit.log';
    default:
      return null;
  }
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
