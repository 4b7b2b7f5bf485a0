/**
 * `legal-person.legalPersons`: one document per legal person as queries read it, placed at every
 * division level of its registered address and indexed by status, industry and representative, so
 * `legalPersons(filter)` and `Person.representedLegalPersons` are single indexed queries.
 */
import { assertNever } from '../../../events/decider.ts';
import { singleFieldIndexes, sourceOf, type Projection } from '../../../projections/types.ts';
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

export const legalPersonsProjection: Projection<LegalPersonEvent> = {
  name: LEGAL_PERSONS_PROJECTION,
  version: 1,
  eventTypes: ['LegalPersonRegistered', 'LegalRepresentativeChanged', 'RegisteredAddressChanged', 'AnnualReportFiled', 'LegalPersonRevoked', 'LegalPersonDeregistered'],
  indexes: [
    { collection: LEGAL_PERSONS, fields: ['creditCode'], unique: true },
    ...singleFieldIndexes(LEGAL_PERSONS, 'legalRepresentativeId', 'districtCode', 'streetCode', 'communityCode', 'industrySection', 'status'),
  ],
  async apply(event, store) {
    const legalPersons = store.collection<LegalPersonDoc>(LEGAL_PERSONS);
    const source = sourceOf(event);
    const revision = event.revision;
    switch (event.type) {
      case 'LegalPersonRegistered': {
        const d = event.data;
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
        await legalPersons.patch(event.data.legalPersonId, { legalRepresentativeId: event.data.legalRepresentativeId, revision }, source);
        return;
      case 'RegisteredAddressChanged': {
        const { legalPersonId, registeredAddress } = event.data;
        await legalPersons.patch(legalPersonId, { registeredAddress, ...divisionFields(registeredAddress.divisionCode), revision }, source);
        return;
      }
      case 'AnnualReportFiled': {
        const { legalPersonId, year, employees, revenueFen } = event.data;
        const current = await legalPersons.get(legalPersonId);
        if (!current) throw new Error(`${LEGAL_PERSONS_PROJECTION}: ${event.type} at ${event.position} refers to ${legalPersonId}, which has no document`);
        const annualReports = [...current.doc.annualReports, { year, employees, revenueFen }].sort((a, b) => a.year - b.year);
        await legalPersons.patch(legalPersonId, { annualReports, revision }, source);
        return;
      }
      case 'LegalPersonRevoked':
        await legalPersons.patch(event.data.legalPersonId, { status: 'REVOKED', revokedOn: event.data.revokedOn, revocationReason: event.data.reason, revision }, source);
        return;
      case 'LegalPersonDeregistered':
        await legalPersons.patch(event.data.legalPersonId, { status: 'DEREGISTERED', deregisteredOn: event.data.deregisteredOn, revision }, source);
        return;
      default:
        return assertNever(event);
    }
  },
};
