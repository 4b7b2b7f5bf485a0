import { assertNever, type Decider } from '../../../events/decider.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { ACCESS_ACTIONS, type AccessGrant } from '../../kit/access.ts';
import { parseInstant } from '../../kit/calendar.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { assertCataloged } from '../catalog.ts';
import type { AssignJurisdiction, ConsumerCommand, GrantAccess } from './commands.ts';
import {
  CONSUMER_ID,
  CONSUMER_KINDS,
  UNIT_ID,
  type AccessGranted,
  type ConsumerEvent,
  type ConsumerKind,
  type GrantTerms,
  type Jurisdiction,
  type JurisdictionAssigned,
} from './events.ts';

export interface ConsumerRecord {
  consumerId: string;
  name: string;
  kind: ConsumerKind;
  department: string;
}

export interface GrantRecord extends Omit<GrantTerms, 'consumerId'> {
  revocation: { reason: string; revokedBy: string } | null;
}

export type ConsumerState =
  | { status: 'UNREGISTERED' }
  | { status: 'REGISTERED'; consumer: ConsumerRecord; grants: GrantRecord[]; jurisdiction: Jurisdiction | null };

/** A grant's standing at an instant. */
export type GrantStatus = 'ACTIVE' | 'NOT_YET_VALID' | 'EXPIRED' | 'REVOKED';

export function grantStatus(grant: { validFrom: string; validUntil: string; revoked: boolean }, at: Date): GrantStatus {
  if (grant.revoked) return 'REVOKED';
  const now = at.getTime();
  if (now < Date.parse(grant.validFrom)) return 'NOT_YET_VALID';
  if (now >= Date.parse(grant.validUntil)) return 'EXPIRED';
  return 'ACTIVE';
}

/** The grants that count at `at`: not revoked, already valid, not yet expired — as the kit enforces them. */
export function grantsValidAt(state: ConsumerState, at: Date): AccessGrant[] {
  if (state.status !== 'REGISTERED') return [];
  return state.grants
    .filter((g) => grantStatus({ ...g, revoked: g.revocation !== null }, at) === 'ACTIVE')
    .map(({ grantId, resources, actions, masked, purpose }) => ({ grantId, resources, actions, masked, purpose }));
}

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

function registered(consumerId: string, state: ConsumerState): Extract<ConsumerState, { status: 'REGISTERED' }> {
  if (state.status === 'UNREGISTERED') {
    throw new NotFoundError(`consumer ${consumerId} is not registered; register it with registerConsumer first`, { consumerId });
  }
  return state;
}

function grant(command: GrantAccess, state: Extract<ConsumerState, { status: 'REGISTERED' }>): AccessGranted {
  const { data } = command;
  const grantId = requiredText(data.grantId, 'grantId');
  if (state.grants.some((g) => g.grantId === grantId)) {
    throw new ConflictError(`grant ${grantId} already exists for consumer ${data.consumerId}; use a new grant id`, { grantId });
  }
  if (data.resources.length === 0) throw new ValidationError('resources must name at least one catalog resource', { field: 'resources' });
  assertCataloged(data.resources, 'resources');
  if (data.actions.length === 0) throw new ValidationError(`actions must name at least one of ${ACCESS_ACTIONS.join(', ')}`, { field: 'actions' });
  const validFrom = parseInstant(data.validFrom, 'validFrom');
  const validUntil = parseInstant(data.validUntil, 'validUntil');
  if (validUntil <= validFrom) {
    throw new ValidationError(`validUntil ${data.validUntil} must be after validFrom ${data.validFrom}`, { field: 'validUntil' });
  }
  if (validUntil <= parseInstant(command.metadata.now, 'now')) {
    throw new ValidationError(`validUntil ${data.validUntil} is already past; a grant must end in the future`, { field: 'validUntil' });
  }
  return {
    type: 'AccessGranted',
    data: {
      grantId,
      consumerId: state.consumer.consumerId,
      resources: [...new Set(data.resources)],
      actions: ACCESS_ACTIONS.filter((a) => data.actions.includes(a)),
      purpose: requiredText(data.purpose, 'purpose'),
      // Stored in UTC so read models can compare validity windows as strings.
      validFrom: new Date(validFrom).toISOString(),
      validUntil: new Date(validUntil).toISOString(),
      masked: data.masked,
      approver: requiredText(data.approver, 'approver'),
    },
  };
}

/**
 * The division must be in the catalog; a unit needs an id (like a consumer id) and a name, and must
 * belong to that division: a unit id other consumers already act as in another division is refused.
 */
function assign(command: AssignJurisdiction, state: Extract<ConsumerState, { status: 'REGISTERED' }>): JurisdictionAssigned {
  const { data } = command;
  const division = assertDivision(data.divisionCode.trim(), undefined, 'divisionCode');
  const unitId = data.unitId?.trim() || undefined;
  const unitName = data.unitName?.trim() || undefined;
  if (unitId === undefined && unitName !== undefined) {
    throw new ValidationError('unitName names a unit: give its unitId too, or leave both out for a centre', { field: 'unitId' });
  }
  const assigned: JurisdictionAssigned['data'] = {
    consumerId: state.consumer.consumerId,
    divisionCode: division.code,
    assignedBy: requiredText(data.assignedBy, 'assignedBy'),
  };
  if (unitId !== undefined) {
    if (!UNIT_ID.test(unitId)) {
      throw new ValidationError(`unitId "${unitId}" must be 1–63 lowercase letters, digits or hyphens, starting with a letter or digit`, { field: 'unitId' });
    }
    if (unitName === undefined) throw new ValidationError(`unitName must not be empty for unit ${unitId}`, { field: 'unitName' });
    assigned.unitId = unitId;
    assigned.unitName = unitName;
  }
  return { type: 'JurisdictionAssigned', data: assigned };
}

export function decide(command: ConsumerCommand, state: ConsumerState): ConsumerEvent[] {
  switch (command.type) {
    case 'registerConsumer': {
      const { consumerId, name, kind, department } = command.data;
      if (state.status !== 'UNREGISTERED') {
        throw new ConflictError(`consumer ${consumerId} is already registered; use a new consumer id`, { consumerId });
      }
      if (!CONSUMER_ID.test(consumerId)) {
        throw new ValidationError(
          `consumer id "${consumerId}" must be 1–63 lowercase letters, digits or hyphens, starting with a letter or digit`,
          { field: 'consumerId' },
        );
      }
      if (!CONSUMER_KINDS.includes(kind)) {
        throw new ValidationError(`kind must be one of ${CONSUMER_KINDS.join(', ')}, got ${String(kind)}`, { field: 'kind' });
      }
      return [
        {
          type: 'ConsumerRegistered',
          data: { consumerId, name: requiredText(name, 'name'), kind, department: requiredText(department, 'department') },
        },
      ];
    }
    case 'grantAccess':
      return [grant(command, registered(command.data.consumerId, state))];
    case 'revokeAccess': {
      const { consumerId, grantId, reason, revokedBy } = command.data;
      const current = registered(consumerId, state).grants.find((g) => g.grantId === grantId);
      if (!current) throw new NotFoundError(`consumer ${consumerId} has no grant ${grantId}`, { consumerId, grantId });
      if (current.revocation) {
        throw new ConflictError(
          `grant ${grantId} was already revoked by ${current.revocation.revokedBy} (${current.revocation.reason})`,
          { grantId },
        );
      }
      return [
        {
          type: 'AccessRevoked',
          data: { grantId, reason: requiredText(reason, 'reason'), revokedBy: requiredText(revokedBy, 'revokedBy') },
        },
      ];
    }
    case 'assignJurisdiction':
      return [assign(command, registered(command.data.consumerId, state))];
    default:
      return assertNever(command);
  }
}

export function evolve(state: ConsumerState, event: ConsumerEvent): ConsumerState {
  if (event.type === 'ConsumerRegistered') return { status: 'REGISTERED', consumer: event.data, grants: [], jurisdiction: null };
  if (state.status === 'UNREGISTERED') return state;
  switch (event.type) {
    case 'AccessGranted': {
      const { consumerId: _consumerId, ...granted } = event.data;
      return { ...state, grants: [...state.grants, { ...granted, revocation: null }] };
    }
    case 'AccessRevoked': {
      const { grantId, reason, revokedBy } = event.data;
      return { ...state, grants: state.grants.map((g) => (g.grantId === grantId ? { ...g, revocation: { reason, revokedBy } } : g)) };
    }
    case 'JurisdictionAssigned': {
      const { consumerId: _consumerId, assignedBy: _assignedBy, ...jurisdiction } = event.data;
      return { ...state, jurisdiction };
    }
    default:
      return assertNever(event);
  }
}

export const initialState = (): ConsumerState => ({ status: 'UNREGISTERED' });

export const consumerDecider: Decider<ConsumerCommand, ConsumerEvent, ConsumerState> = { initialState, decide, evolve };
