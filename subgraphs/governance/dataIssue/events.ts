/**
 * Data-quality feedback (§(三)): a consumer reports a wrong or missing value of one field of an
 * entity; the providing department answerable for the field's resource resolves it with the
 * correction it made. One stream per issue: `governance.data-issue-<issueId>`.
 */
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';

const { text, instant } = eventFields;

const dataIssueReported = eventType('DataIssueReported', {
  issueId: text,
  /** The GraphQL type of the entity, e.g. `Person`. */
  entityType: text,
  entityId: text,
  field: text,
  description: text,
  /** The catalog resource the field belongs to, and the department answerable for it. */
  resource: text,
  department: text,
  /** The consumer that reported it. */
  reportedBy: text,
  reportedAt: instant,
});
export type DataIssueReported = EventOf<typeof dataIssueReported>;

/** `correction`: what the department corrected (or why the value stands). */
const dataIssueResolved = eventType('DataIssueResolved', { issueId: text, correction: text, resolvedBy: text, resolvedAt: instant });
export type DataIssueResolved = EventOf<typeof dataIssueResolved>;

export const dataIssueStreamId = (issueId: string): string => `governance.data-issue-${issueId}`;

export const dataIssueEventDefinitions = [dataIssueReported, dataIssueResolved] as const satisfies readonly EventTypeDefinition[];
export type DataIssueEvent = EventsOf<typeof dataIssueEventDefinitions>;
