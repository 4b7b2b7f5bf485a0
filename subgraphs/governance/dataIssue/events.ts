/**
 * Data-quality feedback (§(三)): a consumer reports a wrong or missing value of one field of an
 * entity; the providing department answerable for the field's resource resolves it with the
 * correction it made. One stream per issue: `governance.data-issue-<issueId>`.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';

export type DataIssueReported = DomainEvent<
  'DataIssueReported',
  {
    issueId: string;
    /** The GraphQL type of the entity, e.g. `Person`. */
    entityType: string;
    entityId: string;
    field: string;
    description: string;
    /** The catalog resource the field belongs to, and the department answerable for it. */
    resource: string;
    department: string;
    /** The consumer that reported it. */
    reportedBy: string;
    reportedAt: string;
  }
>;

export type DataIssueResolved = DomainEvent<
  'DataIssueResolved',
  {
    issueId: string;
    /** What the department corrected (or why the value stands). */
    correction: string;
    resolvedBy: string;
    resolvedAt: string;
  }
>;

export type DataIssueEvent = DataIssueReported | DataIssueResolved;

export const dataIssueStreamId = (issueId: string): string => `governance.data-issue-${issueId}`;

const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });

export const dataIssueEventDefinitions: readonly EventTypeDefinition[] = [
  {
    type: 'DataIssueReported',
    schemaVersion: 1,
    schema: z.object({ issueId: text, entityType: text, entityId: text, field: text, description: text, resource: text, department: text, reportedBy: text, reportedAt: instant }),
  } satisfies EventTypeDefinition<DataIssueReported['data']>,
  {
    type: 'DataIssueResolved',
    schemaVersion: 1,
    schema: z.object({ issueId: text, correction: text, resolvedBy: text, resolvedAt: instant }),
  } satisfies EventTypeDefinition<DataIssueResolved['data']>,
];
