/**
 * What other domains may use of the legal-person domain besides its event types: its command
 * handlers with the provenance of their sources, and its credit codes, so another domain's seed
 * registers the legal persons it needs through the same checks real registrations pass.
 */
export { createLegalPersonHandlers, registrationSource, SUPERVISION_SOURCE, type LegalPersonHandlers } from './handlers.ts';
export { makeCreditCode } from './identity/creditCode.ts';
export type { RegisterLegalPerson } from './legalPerson/commands.ts';
