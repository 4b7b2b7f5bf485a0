/** What the registration authorities record about a legal person (法人) over its life. */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { validateCreditCode } from '../identity/creditCode.ts';
import { INDUSTRY_SECTION_LETTERS, type IndustrySection } from './industry.ts';

export const LEGAL_PERSON_TYPES = ['ENTERPRISE', 'INDIVIDUAL_BUSINESS', 'SOCIAL_ORGANIZATION', 'PUBLIC_INSTITUTION'] as const;
export type LegalPersonType = (typeof LEGAL_PERSON_TYPES)[number];

export interface RegisteredAddress {
  address: string;
  /** A division of the catalog below the city (district, street or community). */
  divisionCode: string;
}

export interface Industry {
  section: IndustrySection;
  /** The line of business as registered, e.g. 软件开发. */
  name: string;
}

export type LegalPersonRegistered = DomainEvent<
  'LegalPersonRegistered',
  {
    legalPersonId: string;
    creditCode: string;
    name: string;
    type: LegalPersonType;
    /** A Person id. */
    legalRepresentativeId: string;
    registeredAddress: RegisteredAddress;
    /** Registered capital in fen (0.01 yuan), an integer: money is never a float. */
    registeredCapitalFen: number;
    industry: Industry;
    /** `YYYY-MM-DD`. */
    establishedOn: string;
  }
>;

export type LegalRepresentativeChanged = DomainEvent<
  'LegalRepresentativeChanged',
  { legalPersonId: string; legalRepresentativeId: string; previousLegalRepresentativeId: string; changedOn: string }
>;

export type RegisteredAddressChanged = DomainEvent<
  'RegisteredAddressChanged',
  {
    legalPersonId: string;
    registeredAddress: RegisteredAddress;
    /** Carried so address-sharing statistics can move the entity without a lookup. */
    previousRegisteredAddress: RegisteredAddress;
    changedOn: string;
  }
>;

/** The annual report (年度报告) for a finished calendar year. */
export type AnnualReportFiled = DomainEvent<
  'AnnualReportFiled',
  { legalPersonId: string; year: number; employees: number; /** In fen. */ revenueFen: number }
>;

/** Business licence revoked (吊销) as a sanction; the entity still exists until deregistered. */
export type LegalPersonRevoked = DomainEvent<
  'LegalPersonRevoked',
  { legalPersonId: string; reason: string; revokedOn: string }
>;

/** Deregistered (注销): the legal person no longer exists. */
export type LegalPersonDeregistered = DomainEvent<
  'LegalPersonDeregistered',
  { legalPersonId: string; deregisteredOn: string }
>;

export type LegalPersonEvent =
  | LegalPersonRegistered
  | LegalRepresentativeChanged
  | RegisteredAddressChanged
  | AnnualReportFiled
  | LegalPersonRevoked
  | LegalPersonDeregistered;

export const legalPersonStreamId = (legalPersonId: string): string => `legal-person.legal-person-${legalPersonId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const date = z.iso.date();
const fen = z.int().nonnegative();
const registeredAddress = z.object({ address: text, divisionCode: z.string().regex(/^\d{6}(\d{3}){0,2}$/) });

const legalPersonRegistered: EventTypeDefinition<LegalPersonRegistered['data']> = {
  type: 'LegalPersonRegistered',
  schemaVersion: 1,
  schema: z.object({
    legalPersonId: id,
    creditCode: z.string().refine((v) => {
      const result = validateCreditCode(v);
      return result.ok && result.creditCode === v;
    }, 'a valid, normalised credit code'),
    name: text,
    type: z.enum(LEGAL_PERSON_TYPES),
    legalRepresentativeId: id,
    registeredAddress,
    registeredCapitalFen: fen,
    industry: z.object({ section: z.enum(INDUSTRY_SECTION_LETTERS), name: text }),
    establishedOn: date,
  }),
};

const legalRepresentativeChanged: EventTypeDefinition<LegalRepresentativeChanged['data']> = {
  type: 'LegalRepresentativeChanged',
  schemaVersion: 1,
  schema: z.object({ legalPersonId: id, legalRepresentativeId: id, previousLegalRepresentativeId: id, changedOn: date }),
};

const registeredAddressChanged: EventTypeDefinition<RegisteredAddressChanged['data']> = {
  type: 'RegisteredAddressChanged',
  schemaVersion: 1,
  schema: z.object({ legalPersonId: id, registeredAddress, previousRegisteredAddress: registeredAddress, changedOn: date }),
};

const annualReportFiled: EventTypeDefinition<AnnualReportFiled['data']> = {
  type: 'AnnualReportFiled',
  schemaVersion: 1,
  schema: z.object({ legalPersonId: id, year: z.int().min(1900), employees: z.int().nonnegative(), revenueFen: fen }),
};

const legalPersonRevoked: EventTypeDefinition<LegalPersonRevoked['data']> = {
  type: 'LegalPersonRevoked',
  schemaVersion: 1,
  schema: z.object({ legalPersonId: id, reason: text, revokedOn: date }),
};

const legalPersonDeregistered: EventTypeDefinition<LegalPersonDeregistered['data']> = {
  type: 'LegalPersonDeregistered',
  schemaVersion: 1,
  schema: z.object({ legalPersonId: id, deregisteredOn: date }),
};

export const legalPersonEventDefinitions: readonly EventTypeDefinition[] = [
  legalPersonRegistered,
  legalRepresentativeChanged,
  registeredAddressChanged,
  annualReportFiled,
  legalPersonRevoked,
  legalPersonDeregistered,
];
