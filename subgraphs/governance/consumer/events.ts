/**
 * Consumers of the graph (departments, partner apps, auditors) and the grants they hold, as events
 * of one stream per consumer (`governance.consumer-<consumerId>`): reading that one stream answers
 * "what may this consumer do now", which the subgraphs do on every request.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { ACCESS_ACTIONS, type AccessAction, type Jurisdiction } from '../../kit/access.ts';

export type { Jurisdiction };

export const CONSUMER_KINDS = ['DEPARTMENT', 'PARTNER_APP', 'AUDITOR'] as const;
export type ConsumerKind = (typeof CONSUMER_KINDS)[number];

/**
 * Consumer ids are the `sub` of their tokens and part of a stream id: lowercase letters, digits and
 * hyphens, starting with a letter or digit.
 */
export const CONSUMER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type ConsumerRegistered = DomainEvent<
  'ConsumerRegistered',
  { consumerId: string; name: string; kind: ConsumerKind; department: string }
>;

/** What a grant allows, to whom and for how long, as granted. */
export interface GrantTerms {
  grantId: string;
  consumerId: string;
  /** Catalog resource names. */
  resources: string[];
  actions: AccessAction[];
  /** Why the consumer needs the data; copied into every access record made under the grant. */
  purpose: string;
  /** ISO 8601 instants (UTC); the grant counts from `validFrom` inclusive to `validUntil` exclusive. */
  validFrom: string;
  validUntil: string;
  /** Identity fields (`@masked`) of these resources are served masked. */
  masked: boolean;
  /** The official who approved the grant. */
  approver: string;
}

export type AccessGranted = DomainEvent<'AccessGranted', GrantTerms>;

export type AccessRevoked = DomainEvent<
  'AccessRevoked',
  {
    grantId: string;
    reason: string;
    /** The consumer (an administrator) who revoked it. */
    revokedBy: string;
  }
>;

/** What a consumer is set to act for, and by whom. */
export type JurisdictionAssignment = Jurisdiction & {
  consumerId: string;
  /** The administrator who assigned it. */
  assignedBy: string;
};

/** Replaces any earlier jurisdiction of the consumer. */
export type JurisdictionAssigned = DomainEvent<'JurisdictionAssigned', JurisdictionAssignment>;

export type ConsumerEvent = ConsumerRegistered | AccessGranted | AccessRevoked | JurisdictionAssigned;

export const consumerStreamId = (consumerId: string): string => `governance.consumer-${consumerId}`;

const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });

const consumerRegistered: EventTypeDefinition<ConsumerRegistered['data']> = {
  type: 'ConsumerRegistered',
  schemaVersion: 1,
  schema: z.object({ consumerId: z.string().regex(CONSUMER_ID), name: text, kind: z.enum(CONSUMER_KINDS), department: text }),
};

const accessGranted: EventTypeDefinition<AccessGranted['data']> = {
  type: 'AccessGranted',
  schemaVersion: 1,
  schema: z.object({
    grantId: text,
    consumerId: z.string().regex(CONSUMER_ID),
    resources: z.array(text).min(1),
    actions: z.array(z.enum(ACCESS_ACTIONS)).min(1),
    purpose: text,
    validFrom: instant,
    validUntil: instant,
    masked: z.boolean(),
    approver: text,
  }),
};

const accessRevoked: EventTypeDefinition<AccessRevoked['data']> = {
  type: 'AccessRevoked',
  schemaVersion: 1,
  schema: z.object({ grantId: text, reason: text, revokedBy: text }),
};

/** Unit ids name handling units in dispatches and tokens' jurisdictions: like consumer ids. */
export const UNIT_ID = CONSUMER_ID;

const jurisdictionAssigned: EventTypeDefinition<JurisdictionAssigned['data']> = {
  type: 'JurisdictionAssigned',
  schemaVersion: 1,
  schema: z
    .object({
      consumerId: z.string().regex(CONSUMER_ID),
      divisionCode: z.string().regex(/^\d{6}(\d{3}(\d{3})?)?$/),
      unitId: z.string().regex(UNIT_ID).optional(),
      unitName: text.optional(),
      assignedBy: text,
    })
    .refine((d) => (d.unitId === undefined) === (d.unitName === undefined), { message: 'unitId and unitName go together' }),
};

/**
 * A handling unit's register entry (consumer/unit.ts), one stream per unit: written when a consumer
 * is first assigned to act as the unit, so a dispatch can check that the unit exists and where.
 */
export type UnitRegistered = DomainEvent<'UnitRegistered', { unitId: string; unitName: string; divisionCode: string; registeredBy: string }>;

export const unitStreamId = (unitId: string): string => `governance.unit-${unitId}`;

const unitRegistered: EventTypeDefinition<UnitRegistered['data']> = {
  type: 'UnitRegistered',
  schemaVersion: 1,
  schema: z.object({ unitId: z.string().regex(UNIT_ID), unitName: text, divisionCode: z.string().regex(/^\d{6}(\d{3}(\d{3})?)?$/), registeredBy: text }),
};

/** What every subgraph process folds to authorise a request: consumers, their grants and jurisdictions, and the units. */
export const consumerEventDefinitions: readonly EventTypeDefinition[] = [consumerRegistered, accessGranted, accessRevoked, jurisdictionAssigned, unitRegistered];
