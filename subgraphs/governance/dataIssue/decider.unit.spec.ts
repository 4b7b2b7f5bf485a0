import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { given } from '../../../test/helpers/decider.ts';
import { catalogResource } from '../catalog.ts';
import { dataIssueDecider, ISSUE_ENTITIES, type ReportDataIssue, type ResolveDataIssue } from './decider.ts';
import type { DataIssueReported } from './events.ts';

const REPORTED_AT = '2026-03-01T08:00:00.000Z';
const RESOLVED_AT = '2026-03-02T10:00:00.000Z';

const report = (data: Partial<ReportDataIssue['data']> = {}): ReportDataIssue => ({
  type: 'reportDataIssue',
  data: { issueId: 'issue-1', entityType: 'Person', entityId: 'p-1', field: 'name', description: 'the name is misspelt', reportedBy: 'partner-app', ...data },
  metadata: { now: REPORTED_AT },
});

const reported: DataIssueReported = {
  type: 'DataIssueReported',
  data: { issueId: 'issue-1', entityType: 'Person', entityId: 'p-1', field: 'name', description: 'the name is misspelt', resource: 'population.basic', department: 'public-security', reportedBy: 'partner-app', reportedAt: REPORTED_AT },
};

const resolve = (data: Partial<ResolveDataIssue['data']> = {}): ResolveDataIssue => ({
  type: 'resolveDataIssue',
  data: { issueId: 'issue-1', correction: 'name corrected from the paper register', resolvedBy: 'police-registry', resolverRole: 'department', resolverDepartment: '市公安局', ...data },
  metadata: { now: RESOLVED_AT },
});

describe('data issue decider', () => {
  it('records a report with the resource and providing department of the field', () => {
    given(dataIssueDecider).when(report()).then([reported]);
    given(dataIssueDecider)
      .when(report({ field: 'idNumber' }))
      .then([{ type: 'DataIssueReported', data: { ...reported.data, field: 'idNumber', resource: 'population.identity' } }]);
    given(dataIssueDecider)
      .when(report({ entityType: 'LegalPerson', field: 'name' }))
      .then([{ type: 'DataIssueReported', data: { ...reported.data, entityType: 'LegalPerson', resource: 'legal-person.basic', department: 'market-regulation' } }]);
  });

  it('refuses an unknown entity type naming the known ones, empty text, and a reused issue id', () => {
    given(dataIssueDecider).when(report({ entityType: 'Spaceship' })).thenThrows(ValidationError, /"Spaceship" is not one issues are kept for; use one of Person, Household, LegalPerson/);
    given(dataIssueDecider).when(report({ description: '  ' })).thenThrows(ValidationError, /description must not be empty/);
    given(dataIssueDecider).when(report({ field: '' })).thenThrows(ValidationError, /field must not be empty/);
    given(dataIssueDecider, [reported]).when(report()).thenThrows(ConflictError, /already exists/);
  });

  it('lets the providing department (by short or full name) or an administrator resolve it, once', () => {
    const resolved = { type: 'DataIssueResolved' as const, data: { issueId: 'issue-1', correction: 'name corrected from the paper register', resolvedBy: 'police-registry', resolvedAt: RESOLVED_AT } };
    given(dataIssueDecider, [reported]).when(resolve()).then([resolved]);
    given(dataIssueDecider, [reported]).when(resolve({ resolverDepartment: 'public-security' })).then([resolved]);
    given(dataIssueDecider, [reported])
      .when(resolve({ resolverRole: 'admin', resolverDepartment: null, resolvedBy: 'admin' }))
      .then([{ ...resolved, data: { ...resolved.data, resolvedBy: 'admin' } }]);
    given(dataIssueDecider, [reported, resolved]).when(resolve()).thenThrows(ConflictError, /already resolved by police-registry/);
    const state = given(dataIssueDecider, [reported, resolved]).state;
    assert.equal(state.status, 'RESOLVED');
  });

  it('refuses another department, a partner, an unknown issue and an empty correction', () => {
    given(dataIssueDecider, [reported]).when(resolve({ resolverDepartment: '市税务局' })).thenThrows(ForbiddenError, /provided by public-security: only that department/);
    given(dataIssueDecider, [reported]).when(resolve({ resolverRole: 'partner' })).thenThrows(ForbiddenError, /only that department/);
    given(dataIssueDecider).when(resolve()).thenThrows(NotFoundError, /there is no data issue issue-1/);
    given(dataIssueDecider, [reported]).when(resolve({ correction: ' ' })).thenThrows(ValidationError, /correction must not be empty/);
  });

  it('maps every entity type and field override to a cataloged resource', () => {
    for (const [type, { resource, fields }] of Object.entries(ISSUE_ENTITIES)) {
      for (const name of [resource, ...Object.values(fields ?? {})]) assert.ok(catalogResource(name), `${type}: ${name} is cataloged`);
    }
  });
});
