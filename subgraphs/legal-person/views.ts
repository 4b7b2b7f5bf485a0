/**
 * What the resolvers serve for a legal person, from the read model (the hot path) or from a fold of
 * its stream (`asOf`, a mutation's payload, a legal person the projector has not reached yet); and
 * money, which crosses the API as exact decimal strings, never as floating-point numbers.
 */
import { ValidationError } from '../../events/errors.ts';
import type { Recorded } from '../../events/types.ts';
import type { LegalPersonState } from './legalPerson/decider.ts';
import type { LegalPersonEvent, LegalPersonRegistered, LegalPersonRevoked } from './legalPerson/events.ts';
import { INDUSTRY_SECTIONS, type IndustrySection } from './legalPerson/industry.ts';
import type { LegalPersonDoc, LegalPersonLifecycle } from './readModels/legalPersons.ts';

export interface LegalPersonView extends Omit<LegalPersonRegistered['data'], 'legalPersonId'>, LegalPersonLifecycle {
  id: string;
  /** The instant of an `asOf` view; null for the present. */
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

/** Whole fen of a yuan amount written as a decimal string ("1000000", "12.5", "0.05"), exactly. */
export function parseYuan(value: string, field: string): number {
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!match) {
    throw new ValidationError(`${field} must be an amount of yuan such as 1000000 or 1000000.50 (at most two decimals, no sign or separators), got "${value}"`, {
      field,
    });
  }
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

type RegisteredLegalPerson = Exclude<LegalPersonState, { status: 'UNREGISTERED' }>;

export const sectionName = (section: IndustrySection): string => INDUSTRY_SECTIONS[section];

export function legalPersonFromDoc(doc: LegalPersonDoc): LegalPersonView {
  return {
    id: doc.legalPersonId,
    creditCode: doc.creditCode,
    name: doc.name,
    type: doc.type,
    legalRepresentativeId: doc.legalRepresentativeId,
    registeredAddress: doc.registeredAddress,
    registeredCapitalFen: doc.registeredCapitalFen,
    industry: { section: doc.industrySection, name: doc.industryName },
    establishedOn: doc.establishedOn,
    status: doc.status,
    revokedOn: doc.revokedOn,
    revocationReason: doc.revocationReason,
    deregisteredOn: doc.deregisteredOn,
    annualReports: doc.annualReports,
    revision: doc.revision,
    asOf: null,
  };
}

/** The registered legal person as its stream's events say, given their fold. */
export function legalPersonFromState(state: RegisteredLegalPerson, events: readonly Recorded<LegalPersonEvent>[], asOf: string | null): LegalPersonView {
  const { legalPerson } = state;
  const annualReports = events
    .flatMap((e) => (e.type === 'AnnualReportFiled' ? [e.data] : []))
    .map(({ year, employees, revenueFen }) => ({ year, employees, revenueFen }))
    .sort((a, b) => a.year - b.year);
  const revoked = events.find((e): e is Recorded<LegalPersonRevoked> => e.type === 'LegalPersonRevoked');
  return {
    id: legalPerson.legalPersonId,
    creditCode: legalPerson.creditCode,
    name: legalPerson.name,
    type: legalPerson.type,
    legalRepresentativeId: legalPerson.legalRepresentativeId,
    registeredAddress: legalPerson.registeredAddress,
    registeredCapitalFen: legalPerson.registeredCapitalFen,
    industry: legalPerson.industry,
    establishedOn: legalPerson.establishedOn,
    status: state.status,
    // A revoked licence stays revoked on record after deregistration, as in the read model.
    revokedOn: revoked?.data.revokedOn ?? null,
    revocationReason: revoked?.data.reason ?? null,
    deregisteredOn: state.status === 'DEREGISTERED' ? state.deregisteredOn : null,
    annualReports,
    revision: events.at(-1)?.revision ?? 0,
    asOf,
  };
}
