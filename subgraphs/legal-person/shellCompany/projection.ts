/**
 * The projection behind the shell-company assessment (`legal-person.shell-company-facts`): it reads
 * legal-person events (registrations, addresses, representatives, annual reports, deregistrations),
 * tax events (a legal person's taxpayer registration and its declarations) and population events
 * (a representative's death), and keeps the facts of facts.ts. A deregistered legal person leaves
 * its address and representative groups; a revoked one stays in them (its licence is gone, the
 * entity is not).
 */
import { createHash } from 'node:crypto';
import { isEventOf } from '../../../events/typedReads.ts';
import type { Recorded } from '../../../events/types.ts';
import { singleFieldIndexes, sourceOf, type Collection, type DocumentStore, type FieldSource, type Projection } from '../../../projections/types.ts';
import { divisionFields } from '../../kit/divisions/division.ts';
import type { PersonDeceased } from '../../population/person/events.ts';
import type { TaxpayerEvent } from '../../tax/taxpayer/events.ts';
import type { LegalPersonEvent, RegisteredAddress } from '../legalPerson/events.ts';
import { evidenceOf, type CompanyFacts, type EvidenceRef, type GroupFacts, type RepresentativeFacts } from './facts.ts';

export const SHELL_COMPANY_FACTS = 'legal-person.shell-company-facts';
export const COMPANIES = 'companies';
export const ADDRESSES = 'addresses';
export const REPRESENTATIVES = 'representatives';
/** taxpayer id → legal person id, to route declarations. */
const TAXPAYERS = 'taxpayers';

/**
 * Addresses compare after Unicode compatibility folding (full-width digits and letters) with
 * whitespace removed and letters upper-cased: `B座 1808室` and `Ｂ座1808室` are one address.
 */
export function addressKey(address: string): string {
  const normalized = address.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
  return createHash('sha1').update(normalized).digest('hex');
}

async function join(groups: Collection<GroupFacts>, id: string, legalPersonId: string, source: EvidenceRef, at: FieldSource): Promise<void> {
  const members = ((await groups.get(id))?.doc.members ?? []).filter((m) => m.legalPersonId !== legalPersonId);
  await groups.upsert(id, { id, members: [...members, { legalPersonId, source }] }, at);
}

async function leave(groups: Collection<GroupFacts>, id: string, legalPersonId: string, at: FieldSource): Promise<void> {
  const current = (await groups.get(id))?.doc;
  if (!current) return;
  await groups.upsert(id, { id, members: current.members.filter((m) => m.legalPersonId !== legalPersonId) }, at);
}

async function joinRepresentative(store: DocumentStore, personId: string, legalPersonId: string, source: EvidenceRef, at: FieldSource): Promise<void> {
  const representatives = store.collection<RepresentativeFacts>(REPRESENTATIVES);
  const current = (await representatives.get(personId))?.doc;
  const members = (current?.group.members ?? []).filter((m) => m.legalPersonId !== legalPersonId);
  await representatives.upsert(personId, { personId, group: { id: personId, members: [...members, { legalPersonId, source }] }, death: current?.death ?? null }, at);
}

async function leaveRepresentative(store: DocumentStore, personId: string, legalPersonId: string, at: FieldSource): Promise<void> {
  const representatives = store.collection<RepresentativeFacts>(REPRESENTATIVES);
  const current = (await representatives.get(personId))?.doc;
  if (!current) return;
  await representatives.patch(personId, { group: { id: personId, members: current.group.members.filter((m) => m.legalPersonId !== legalPersonId) } }, at);
}

const addressOf = (address: RegisteredAddress, source: EvidenceRef) => ({ key: addressKey(address.address), address: address.address, divisionCode: address.divisionCode, source });

async function applyLegalPersonEvent(recorded: Recorded<LegalPersonEvent>, store: DocumentStore): Promise<void> {
  const event = recorded;
  const at = sourceOf(recorded);
  const evidence = evidenceOf(recorded);
  const companies = store.collection<CompanyFacts>(COMPANIES);
  const addresses = store.collection<GroupFacts>(ADDRESSES);
  const { legalPersonId } = event.data;
  if (event.type === 'LegalPersonRegistered') {
    const { data } = event;
    const address = addressOf(data.registeredAddress, evidence);
    await companies.upsert(
      legalPersonId,
      {
        legalPersonId,
        name: data.name,
        status: 'ACTIVE',
        establishedOn: data.establishedOn,
        ...divisionFields(data.registeredAddress.divisionCode),
        registration: evidence,
        address,
        representative: { personId: data.legalRepresentativeId, source: evidence },
        annualReports: [],
        taxpayer: null,
        declarations: [],
      },
      at,
    );
    await join(addresses, address.key, legalPersonId, evidence, at);
    await joinRepresentative(store, data.legalRepresentativeId, legalPersonId, evidence, at);
    return;
  }
  const company = (await companies.get(legalPersonId))?.doc;
  if (!company) return;
  switch (event.type) {
    case 'RegisteredAddressChanged': {
      const address = addressOf(event.data.registeredAddress, evidence);
      await companies.patch(legalPersonId, { address, ...divisionFields(address.divisionCode) }, at);
      if (company.status === 'DEREGISTERED') return;
      await leave(addresses, company.address.key, legalPersonId, at);
      await join(addresses, address.key, legalPersonId, evidence, at);
      return;
    }
    case 'LegalRepresentativeChanged': {
      const personId = event.data.legalRepresentativeId;
      await companies.patch(legalPersonId, { representative: { personId, source: evidence } }, at);
      if (company.status === 'DEREGISTERED') return;
      await leaveRepresentative(store, company.representative.personId, legalPersonId, at);
      await joinRepresentative(store, personId, legalPersonId, evidence, at);
      return;
    }
    case 'AnnualReportFiled': {
      const { year, employees, revenueFen } = event.data;
      await companies.patch(legalPersonId, { annualReports: [...company.annualReports, { year, employees, revenueFen, source: evidence }] }, at);
      return;
    }
    case 'LegalPersonRevoked':
      await companies.patch(legalPersonId, { status: 'REVOKED' }, at);
      return;
    case 'LegalPersonDeregistered':
      await companies.patch(legalPersonId, { status: 'DEREGISTERED' }, at);
      await leave(addresses, company.address.key, legalPersonId, at);
      await leaveRepresentative(store, company.representative.personId, legalPersonId, at);
      return;
  }
}

async function applyTaxEvent(recorded: Recorded<TaxpayerEvent>, store: DocumentStore): Promise<void> {
  const event = recorded;
  const at = sourceOf(recorded);
  const companies = store.collection<CompanyFacts>(COMPANIES);
  const taxpayers = store.collection<{ legalPersonId: string }>(TAXPAYERS);
  if (event.type === 'TaxpayerRegistered') {
    if (event.data.subject.kind !== 'LEGAL_PERSON') return;
    const legalPersonId = event.data.subject.id;
    await taxpayers.upsert(event.data.taxpayerId, { legalPersonId }, at);
    if (await companies.get(legalPersonId)) await companies.patch(legalPersonId, { taxpayer: evidenceOf(recorded) }, at);
    return;
  }
  const legalPersonId = (await taxpayers.get(event.data.taxpayerId))?.doc.legalPersonId;
  const company = legalPersonId === undefined ? undefined : (await companies.get(legalPersonId))?.doc;
  if (!company || legalPersonId === undefined) return;
  switch (event.type) {
    case 'TaxDeclared': {
      const { declarationId, taxType, period, taxableAmountFen } = event.data;
      await companies.patch(legalPersonId, { declarations: [...company.declarations, { declarationId, taxType, period, taxableAmountFen, source: evidenceOf(recorded) }] }, at);
      return;
    }
    case 'TaxDeclarationAmended': {
      const { declarationId, taxableAmountFen } = event.data;
      const declarations = company.declarations.map((d) => (d.declarationId === declarationId ? { ...d, taxableAmountFen, source: evidenceOf(recorded) } : d));
      await companies.patch(legalPersonId, { declarations }, at);
      return;
    }
    case 'TaxPaid':
      return;
  }
}

async function applyDeath(recorded: Recorded<PersonDeceased>, store: DocumentStore): Promise<void> {
  const { personId, dateOfDeath } = recorded.data;
  const representatives = store.collection<RepresentativeFacts>(REPRESENTATIVES);
  const current = (await representatives.get(personId))?.doc;
  await representatives.upsert(
    personId,
    { personId, group: current?.group ?? { id: personId, members: [] }, death: { dateOfDeath, source: evidenceOf(recorded) } },
    sourceOf(recorded),
  );
}

const LEGAL_PERSON_TYPES = new Set<LegalPersonEvent['type']>([
  'LegalPersonRegistered',
  'RegisteredAddressChanged',
  'LegalRepresentativeChanged',
  'AnnualReportFiled',
  'LegalPersonRevoked',
  'LegalPersonDeregistered',
]);
const TAX_TYPES = new Set<TaxpayerEvent['type']>(['TaxpayerRegistered', 'TaxDeclared', 'TaxDeclarationAmended']);

export const shellCompanyFactsProjection: Projection = {
  name: SHELL_COMPANY_FACTS,
  version: 1,
  eventTypes: [...LEGAL_PERSON_TYPES, ...TAX_TYPES, 'PersonDeceased'],
  indexes: singleFieldIndexes(COMPANIES, 'districtCode', 'streetCode'),
  async apply(event, store) {
    if (isEventOf<LegalPersonEvent>(LEGAL_PERSON_TYPES, event)) await applyLegalPersonEvent(event, store);
    else if (isEventOf<TaxpayerEvent>(TAX_TYPES, event)) await applyTaxEvent(event, store);
    else if (isEventOf<PersonDeceased>(['PersonDeceased'], event)) await applyDeath(event, store);
  },
};
