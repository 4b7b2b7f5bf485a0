import { deciderOf } from '../../../events/decider.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import type { CommandMetadata, Reference } from '../../kit/command.ts';
import { emissionAlarmStreamId, emissionPermitStreamId } from '../../environment/emission/events.ts';
import { stationStreamId } from '../../environment/station/events.ts';
import { claimStreamId } from '../../healthcare/claim/events.ts';
import { legalPersonStreamId } from '../../legal-person/legalPerson/events.ts';
import { householdStreamId } from '../../population/household/events.ts';
import { personStreamId } from '../../population/person/events.ts';
import { propertyTransactionStreamId } from '../../tax/propertyTransaction/events.ts';
import { taxpayerStreamId } from '../../tax/taxpayer/events.ts';
import { incidentStreamId } from '../../urban-ops/incident/events.ts';
import type { Role } from '../../../platform/auth.ts';
import { catalogResource, DEPARTMENTS, type Department } from '../catalog.ts';
import type { DataIssueEvent, DataIssueReported } from './events.ts';

/**
 * The entity types an issue may be reported on, each with the catalog resource of its fields, the
 * fields that belong to another one (as their `@resource` directives say), and the stream whose
 * existence says the entity exists (an issue names an entity that is there).
 */
export const ISSUE_ENTITIES: Readonly<Record<string, { resource: string; fields?: Readonly<Record<string, string>>; streamOf: (id: string) => string }>> = {
  Person: {
    resource: 'population.basic',
    fields: { idNumber: 'population.identity', household: 'population.household', relationToHead: 'population.household' },
    streamOf: personStreamId,
  },
  Household: { resource: 'population.household', streamOf: householdStreamId },
  LegalPerson: { resource: 'legal-person.basic', fields: { creditCode: 'legal-person.identity' }, streamOf: legalPersonStreamId },
  Incident: { resource: 'urban.incidents', streamOf: incidentStreamId },
  MonitoringStation: { resource: 'environment.air', streamOf: stationStreamId },
  EmissionPermit: { resource: 'environment.emissions', streamOf: emissionPermitStreamId },
  EmissionAlarm: { resource: 'environment.emissions', streamOf: emissionAlarmStreamId },
  Claim: { resource: 'healthcare.claims', streamOf: claimStreamId },
  Taxpayer: { resource: 'tax.declarations', streamOf: taxpayerStreamId },
  PropertyTransaction: { resource: 'tax.declarations', streamOf: propertyTransactionStreamId },
  // A deed-tax risk (`deed-tax-<transaction id>`) lives in its transaction's stream.
  TaxRisk: { resource: 'tax.risks', streamOf: (id) => propertyTransactionStreamId(id.replace(/^deed-tax-/, '')) },
};

/** The entity an issue names, as a reference `handle` checks; none for an entity type issues are not kept for (the decider refuses it). */
export function issueEntityReferences(command: DataIssueCommand): Reference[] {
  if (command.type !== 'reportDataIssue') return [];
  const { entityType, entityId } = command.data;
  const entity = Object.hasOwn(ISSUE_ENTITIES, entityType) ? ISSUE_ENTITIES[entityType] : undefined;
  return entity ? [{ field: 'entityId', label: entityType, id: entityId, streamId: entity.streamOf(entityId) }] : [];
}

export type ReportDataIssue = {
  type: 'reportDataIssue';
  data: { issueId: string; entityType: string; entityId: string; field: string; description: string; reportedBy: string };
  metadata: CommandMetadata;
};

export type ResolveDataIssue = {
  type: 'resolveDataIssue';
  data: {
    issueId: string;
    correction: string;
    resolvedBy: string;
    /** The resolver's role, and its registered department (a short name or the full name). */
    resolverRole: Role;
    resolverDepartment: string | null;
  };
  metadata: CommandMetadata;
};

export type DataIssueCommand = ReportDataIssue | ResolveDataIssue;

export type DataIssueState =
  | { status: 'NONE' }
  | { status: 'OPEN'; issue: DataIssueReported['data'] }
  | { status: 'RESOLVED'; issue: DataIssueReported['data']; correction: string; resolvedBy: string; resolvedAt: string };

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

/** The resource of `field` of `entityType`, or a BAD_USER_INPUT naming the entity types issues are kept for. */
export function issueResource(entityType: string, field: string): string {
  const entity = Object.hasOwn(ISSUE_ENTITIES, entityType) ? ISSUE_ENTITIES[entityType] : undefined;
  if (!entity) {
    throw new ValidationError(`entityType "${entityType}" is not one issues are kept for; use one of ${Object.keys(ISSUE_ENTITIES).join(', ')}`, {
      field: 'entityType',
      known: Object.keys(ISSUE_ENTITIES),
    });
  }
  return entity.fields?.[field] ?? entity.resource;
}

/** Whether a registered department (short or full name) is `department`. */
const isDepartment = (registered: string | null, department: string): boolean =>
  registered !== null && (registered === department || registered === DEPARTMENTS[department as Department]);

export const dataIssueDecider = deciderOf<DataIssueCommand, DataIssueEvent, DataIssueState>({
  initialState: () => ({ status: 'NONE' }),
  decide: {
    reportDataIssue: (command, state) => {
      const { issueId, entityType, entityId, field, description, reportedBy } = command.data;
      if (state.status !== 'NONE') throw new ConflictError(`data issue ${issueId} already exists; use a new issue id`, { issueId });
      const fieldName = requiredText(field, 'field');
      const resource = issueResource(entityType, fieldName);
      // Every resource of ISSUE_ENTITIES is cataloged (decider.unit.spec checks it).
      const department = catalogResource(resource)!.department;
      return [
        {
          type: 'DataIssueReported',
          data: {
            issueId,
            entityType,
            entityId: requiredText(entityId, 'entityId'),
            field: fieldName,
            description: requiredText(description, 'description'),
            resource,
            department,
            reportedBy,
            reportedAt: command.metadata.now,
          },
        },
      ];
    },
    resolveDataIssue: (command, state) => {
      const { issueId, correction, resolvedBy, resolverRole, resolverDepartment } = command.data;
      if (state.status === 'NONE') throw new NotFoundError(`there is no data issue ${issueId}`, { issueId });
      if (state.status === 'RESOLVED') {
        throw new ConflictError(`data issue ${issueId} was already resolved by ${state.resolvedBy} at ${state.resolvedAt}`, { issueId });
      }
      const { department } = state.issue;
      if (resolverRole !== 'admin' && !(resolverRole === 'department' && isDepartment(resolverDepartment, department))) {
        throw new ForbiddenError(
          `data issue ${issueId} concerns ${state.issue.resource}, provided by ${department}: only that department (or an administrator) resolves it; ${resolvedBy} is a ${resolverRole} of ${resolverDepartment ?? 'no registered department'}`,
          { issueId, department },
        );
      }
      return [{ type: 'DataIssueResolved', data: { issueId, correction: requiredText(correction, 'correction'), resolvedBy, resolvedAt: command.metadata.now } }];
    },
  },
  evolve: {
    DataIssueReported: (event) => ({ status: 'OPEN', issue: event.data }),
    DataIssueResolved: (event, state) =>
      state.status === 'NONE'
        ? state
        : { status: 'RESOLVED', issue: state.issue, correction: event.data.correction, resolvedBy: event.data.resolvedBy, resolvedAt: event.data.resolvedAt },
  },
});
