/**
 * The facts the shell-company assessment reads, as its projection keeps them: per legal person its
 * registration, address, representative, annual reports and tax declarations; per address and per
 * representative the legal persons sharing it; per representative their registered death. Every
 * fact carries the event it came from (`EvidenceRef`), so each signal can cite its sources.
 */
import type { RecordedEvent } from '../../../events/types.ts';
import type { DivisionFields } from '../../kit/divisions/division.ts';

export interface EvidenceRef extends Record<string, unknown> {
  type: string;
  eventId: string;
  position: string;
  streamId: string;
  recordedAt: string;
}

export const evidenceOf = (event: RecordedEvent): EvidenceRef => ({
  type: event.type,
  eventId: event.eventId,
  position: event.position,
  streamId: event.streamId,
  recordedAt: event.recordedAt,
});

export interface CompanyFacts extends Record<string, unknown>, DivisionFields {
  legalPersonId: string;
  name: string;
  status: 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';
  establishedOn: string;
  registration: EvidenceRef;
  address: { key: string; address: string; divisionCode: string; source: EvidenceRef };
  representative: { personId: string; source: EvidenceRef };
  annualReports: { year: number; employees: number; revenueFen: number; source: EvidenceRef }[];
  /** The TaxpayerRegistered event, once the legal person is a taxpayer. */
  taxpayer: EvidenceRef | null;
  /** Current amounts (after amendments); `source` is the event that last set them. */
  declarations: { declarationId: string; taxType: string; period: string; taxableAmountFen: number; source: EvidenceRef }[];
}

/** The legal persons sharing an address or a representative, each with the event that put it there. */
export interface GroupFacts extends Record<string, unknown> {
  id: string;
  members: { legalPersonId: string; source: EvidenceRef }[];
}

export interface RepresentativeFacts extends Record<string, unknown> {
  personId: string;
  group: GroupFacts;
  death: { dateOfDeath: string; source: EvidenceRef } | null;
}
