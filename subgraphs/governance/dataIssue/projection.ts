/**
 * `governance.data-issues`: every data issue as it stands (for `dataIssues`), and per providing
 * department the open and resolved counts and the total time to resolve (for the statistics, whose
 * mean is total ÷ resolved), kept as the issues' events arrive.
 */
import { singleFieldIndexes, sourceOf, type Projection } from '../../../projections/types.ts';
import type { DataIssueEvent, DataIssueReported } from './events.ts';

export const DATA_ISSUES_PROJECTION = 'governance.data-issues';
export const ISSUES = 'issues';
export const DEPARTMENT_STATS = 'departments';

export type DataIssueStatus = 'OPEN' | 'RESOLVED';

export type DataIssueDoc = DataIssueReported['data'] & {
  status: DataIssueStatus;
  correction: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
} & Record<string, unknown>;

export interface DepartmentIssueStatsDoc extends Record<string, unknown> {
  department: string;
  open: number;
  resolved: number;
  /** Sum over resolved issues of (resolvedAt − reportedAt), in hours. */
  hoursToResolve: number;
}

const HOUR_MS = 3_600_000;

export const dataIssuesProjection: Projection<DataIssueEvent> = {
  name: DATA_ISSUES_PROJECTION,
  version: 1,
  eventTypes: ['DataIssueReported', 'DataIssueResolved'] satisfies DataIssueEvent['type'][],
  indexes: singleFieldIndexes(ISSUES, 'status', 'department'),
  async apply(event, store) {
    const issues = store.collection<DataIssueDoc>(ISSUES);
    const stats = store.collection<DepartmentIssueStatsDoc>(DEPARTMENT_STATS);
    const source = sourceOf(event);
    if (event.type === 'DataIssueReported') {
      const { department } = event.data;
      await issues.upsert(event.data.issueId, { ...event.data, status: 'OPEN', correction: null, resolvedBy: null, resolvedAt: null }, source);
      const current = (await stats.get(department))?.doc ?? { department, open: 0, resolved: 0, hoursToResolve: 0 };
      await stats.upsert(department, { ...current, open: current.open + 1 }, source);
      return;
    }
    const { issueId, correction, resolvedBy, resolvedAt } = event.data;
    const issue = (await issues.get(issueId))?.doc;
    // The decider resolves only a reported issue, whose report this projection applied first.
    if (!issue) throw new Error(`${DATA_ISSUES_PROJECTION}: DataIssueResolved at ${event.position} for ${issueId}, which has no document`);
    await issues.patch(issueId, { status: 'RESOLVED', correction, resolvedBy, resolvedAt }, source);
    const current = (await stats.get(issue.department))?.doc ?? { department: issue.department, open: 0, resolved: 0, hoursToResolve: 0 };
    const hours = (Date.parse(resolvedAt) - Date.parse(issue.reportedAt)) / HOUR_MS;
    await stats.upsert(issue.department, { ...current, open: current.open - 1, resolved: current.resolved + 1, hoursToResolve: current.hoursToResolve + hours }, source);
  },
};
