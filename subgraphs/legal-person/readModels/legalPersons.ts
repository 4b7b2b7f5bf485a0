/**
 * `legal-person.legalPersons`: one document per legal person as queries read it, placed at every
 * division level of its registered address and indexed by status, industry and representative, so
 * `legalPersons(filter)` and `Person.representedLegalPersons` are single indexed queries.
 */
import { assertNever } from '../../../events/decider.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import type { DocumentStore, Projection } from '../../../projections/types.ts';
import { divisionFields } from '../../kit/divisions/division.ts';
import type { IndustrySection } from '../legalPerson/industry.ts';
import type { AnnualReportFiled, LegalPersonEvent, LegalPersonRegistered } from '../legalPerson/events.ts';

export const LEGAL_PERSONS_PROJECTION = 'legal-person.legalPersons';
export const LEGAL_PERSONS = 'legalPersons';

export type AnnualReportEntry = Omit<AnnualReportFiled['data'], 'legalPersonId'>;

/** Where a legal person stands now, as the read model and the views both carry it. */
export interface LegalPersonLifecycle {
  status: 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';
  revokedOn: string | null;
  revocationReason: string | null;
  deregisteredOn: string | null;
  annualReports: AnnualReportEntry[];
  revision: number;
}

export interface LegalPersonDoc extends Omit<LegalPersonRegistered['data'], 'industry'>, LegalPersonLifecycle, Record<string, unknown> {
  cityCode: string;
  districtCode: string;
  streetCode: string | null;
  communityCode: string | null;
  industrySection: IndustrySection;
  industryName: string;
}

export const legalPersonsProjection: Projection = {
  name: LEGAL_PERSONS_PROJECTION,
  version: 1,
  eventTypes: ['LegalPersonRegistered', 'LegalRepresentativeChanged', 'RegisteredAddressChanged', 'AnnualReportFiled', 'LegalPersonRevoked', 'LegalPersonDeregistered'],
  indexes: [
    { collection: LEGAL_PERSONS, fields: ['creditCode'], unique: true },
    { collection: LEGAL_PERSONS, fields: ['legalRepresentativeId'] },
    { collection: LEGAL_PERSONS, fields: ['districtCode'] },
    { collection: LEGAL_PERSONS, fields: ['streetCode'] },
    { collection: LEGAL_PERSONS, fields: ['communityCode'] },
    { collection: LEGAL_PERSONS, fields: ['industrySection'] },
    { collection: LEGAL_PERSONS, fields: ['status'] },
  ],
  async apply(event: RecordedEvent, store: DocumentStore): Promise<void> {
    const legalPersons = store.collection<LegalPersonDoc>(LEGAL_PERSONS);
    const source = { position: event.position, eventId: event.eventId };
    const domain = { type: event.type, data: event.data } as LegalPersonEvent;
    const revision = event.revision;
    switch (domain.type) {
      case 'LegalPersonRegistered': {
        const d = domain.data;
        await legalPersons.upsert(
          d.legalPersonId,
          {
            legalPersonId: d.legalPersonId,
            creditCode: d.creditCode,
            name: d.name,
            type: d.type,
            legalRepresentativeId: d.legalRepresentativeId,
            registeredAddress: d.registeredAddress,
            ...divisionFields(d.registeredAddress.divisionCode),
            registeredCapitalFen: d.registeredCapitalFen,
            industrySection: d.industry.section,
            industryName: d.industry.name,
            establishedOn: d.establishedOn,
            status: 'ACTIVE',
            revokedOn: null,
            revocationReason: null,
            deregisteredOn: null,
            annualReports: [],
            revision,
          },
          source,
        );
        return;
      }
      case 'LegalRepresentativeChanged':
        await legalPersons.patch(domain.data.legalPersonId, { legalRepresentativeId: domain.data.legalRepresentativeId, revision }, source);
        return;
      case 'RegisteredAddressChanged': {
        const { legalPersonId, registeredAddress } = domain.data;
        await legalPersons.patch(legalPersonId, { registeredAddress, ...divisionFields(registeredAddress.divisionCode), revision }, source);
        return;
      }
      case 'AnnualReportFiled': {
        const { legalPersonId, year, employees, revenueFen } = domain.data;
        const current = await legalPersons.get(legalPersonId);
        if (!current) throw new Error(`${LEGAL_PERSONS_PROJECTION}: ${event.type} at ${event.position} refers to ${legalPersonId}, which has no document`);
        const annualReports = [...current.doc.annualReports, { year, employees, revenueFen }].sort((a, b) => a.year - b.year);
        await legalPersons.patch(legalPersonId, { annualReports, revision }, source);
        return;
      }
      case 'LegalPersonRevoked':
        await legalPersons.patch(domain.data.legalPersonId, { status: 'REVOKED', revokedOn: domain.data.revokedOn, revocationReason: domain.data.reason, revision }, source);
        return;
      case 'LegalPersonDeregistered':
        await legalPersons.patch(domain.data.legalPersonId, { status: 'DEREGISTERED', deregisteredOn: domain.data.deregisteredOn, revision }, source);
        return;
      default:
        return assertNever(domain);
    }
  },
};
