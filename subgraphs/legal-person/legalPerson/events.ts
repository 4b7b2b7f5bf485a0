/** What the registration authorities record about a legal person (法人) over its life. */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import { normalisedIdentifier } from '../../kit/validation.ts';
import { validateCreditCode } from '../identity/creditCode.ts';
import { INDUSTRY_SECTION_LETTERS } from './industry.ts';

export const LEGAL_PERSON_TYPES = ['ENTERPRISE', 'INDIVIDUAL_BUSINESS', 'SOCIAL_ORGANIZATION', 'PUBLIC_INSTITUTION'] as const;
export type LegalPersonType = (typeof LEGAL_PERSON_TYPES)[number];

const { id, text, date, fen, divisionCode } = eventFields;
/** `divisionCode`: a division of the catalog below the city (district, street or community). */
const registeredAddress = z.object({ address: text, divisionCode });
export type RegisteredAddress = z.infer<typeof registeredAddress>;

/** `name`: the line of business as registered, e.g. 软件开发. */
const industry = z.object({ section: z.enum(INDUSTRY_SECTION_LETTERS), name: text });
export type Industry = z.infer<typeof industry>;

const legalPersonRegistered = eventType('LegalPersonRegistered', {
  legalPersonId: id,
  creditCode: normalisedIdentifier(validateCreditCode, 'creditCode', 'credit code'),
  name: text,
  type: z.enum(LEGAL_PERSON_TYPES),
  /** A Person id. */
  legalRepresentativeId: id,
  registeredAddress,
  registeredCapitalFen: fen,
  industry,
  establishedOn: date,
});
export type LegalPersonRegistered = EventOf<typeof legalPersonRegistered>;

const legalRepresentativeChanged = eventType('LegalRepresentativeChanged', { legalPersonId: id, legalRepresentativeId: id, previousLegalRepresentativeId: id, changedOn: date });
export type LegalRepresentativeChanged = EventOf<typeof legalRepresentativeChanged>;

/** `previousRegisteredAddress` is carried so address-sharing statistics can move the entity without a lookup. */
const registeredAddressChanged = eventType('RegisteredAddressChanged', { legalPersonId: id, registeredAddress, previousRegisteredAddress: registeredAddress, changedOn: date });
export type RegisteredAddressChanged = EventOf<typeof registeredAddressChanged>;

/** The annual report (年度报告) for a finished calendar year. */
const annualReportFiled = eventType('AnnualReportFiled', { legalPersonId: id, year: z.int().min(1900), employees: z.int().nonnegative(), revenueFen: fen });
export type AnnualReportFiled = EventOf<typeof annualReportFiled>;

/** Business licence revoked (吊销) as a sanction; the entity still exists until deregistered. */
const legalPersonRevoked = eventType('LegalPersonRevoked', { legalPersonId: id, reason: text, revokedOn: date });
export type LegalPersonRevoked = EventOf<typeof legalPersonRevoked>;

/** Deregistered (注销): the legal person no longer exists. */
const legalPersonDeregistered = eventType('LegalPersonDeregistered', { legalPersonId: id, deregisteredOn: date });
export type LegalPersonDeregistered = EventOf<typeof legalPersonDeregistered>;

export const legalPersonStreamId = (legalPersonId: string): string => `legal-person.legal-person-${legalPersonId}`;

export const legalPersonEventDefinitions = [legalPersonRegistered, legalRepresentativeChanged, registeredAddressChanged, annualReportFiled, legalPersonRevoked, legalPersonDeregistered] as const satisfies readonly EventTypeDefinition[];
export type LegalPersonEvent = EventsOf<typeof legalPersonEventDefinitions>;
