/**
 * Data-quality feedback resolvers: any consumer holding READ on the field's resource reports an
 * issue; the providing department (or an administrator) resolves it; auditors list the issues and
 * each department's statistics from the `governance.data-issues` projection.
 */
import { ForbiddenError } from '../../../events/errors.ts';
import type { EventMetadata } from '../../../events/types.ts';
import type { Where } from '../../../projections/types.ts';
import { commandOptionsOf, handle, newEntityId, type CommandOptions } from '../../kit/command.ts';
import { collectionConnection, type ConnectionArgs } from '../../kit/connections.ts';
import { actorOf } from '../../kit/provenance.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import type { SubgraphRuntime } from '../../kit/module.ts';
import { consumerDecider } from '../consumer/decider.ts';
import { consumerStreamId } from '../consumer/events.ts';
import { dataIssueDecider, issueEntityReferences, issueResource, type DataIssueCommand, type DataIssueState } from './decider.ts';
import { dataIssueStreamId } from './events.ts';
import { DATA_ISSUES_PROJECTION, DEPARTMENT_STATS, ISSUES, type DataIssueDoc, type DataIssueStatus, type DepartmentIssueStatsDoc } from './projection.ts';

interface ReportDataIssueInput {
  entityType: string;
  entityId: string;
  field: string;
  description: string;
  idempotencyKey?: string | null;
}

const issueView = (state: DataIssueState) => {
  if (state.status === 'NONE') throw new Error('a data issue command left no issue behind');
  const resolution = state.status === 'RESOLVED' ? { correction: state.correction, resolvedBy: state.resolvedBy, resolvedAt: state.resolvedAt } : { correction: null, resolvedBy: null, resolvedAt: null };
  return { ...state.issue, id: state.issue.issueId, status: state.status, ...resolution };
};

const statisticsView = ({ department, open, resolved, hoursToResolve }: DepartmentIssueStatsDoc) => ({
  department,
  open,
  resolved,
  meanHoursToResolve: resolved === 0 ? null : hoursToResolve / resolved,
});

const handleDataIssue = handle(dataIssueDecider, (command: DataIssueCommand) => dataIssueStreamId(command.data.issueId), { references: issueEntityReferences });

export function dataIssueResolvers(runtime: SubgraphRuntime) {
  const { store } = runtime;
  const readModel = () => runtime.readModels.of(DATA_ISSUES_PROJECTION);

  async function run(ctx: SubgraphContext, issueId: string, command: (now: string) => DataIssueCommand, department: string, options: CommandOptions = {}) {
    const now = runtime.now().toISOString();
    const metadata: EventMetadata = {
      provenance: { department, system: 'city-brain/governance', channel: 'graphql', collectedAt: now },
      actor: actorOf(ctx),
      correlationId: ctx.requestId,
    };
    const result = await handleDataIssue(store, command(now), metadata, options);
    return { issue: issueView(result.state), positions: result.events.map((e) => e.position) };
  }

  return {
    Query: {
      dataIssues: (_: unknown, args: ConnectionArgs & { status?: DataIssueStatus | null; department?: string | null }) => {
        const where: Where = {};
        if (args.status) where.status = args.status;
        if (args.department) where.department = args.department;
        return collectionConnection({
          ...args,
          list: 'governance.data-issues',
          collection: readModel().collection<DataIssueDoc>(ISSUES),
          where,
          sortBy: 'reportedAt',
          direction: 'desc',
          node: ({ doc }) => ({ ...doc, id: doc.issueId }),
        });
      },
      async dataIssueStatistics(_: unknown, { department }: { department?: string | null }) {
        const stats = readModel().collection<DepartmentIssueStatsDoc>(DEPARTMENT_STATS);
        if (department) {
          const found = await stats.get(department);
          return found ? [statisticsView(found.doc)] : [];
        }
        // One document per providing department: a handful, read in one page.
        const page = await stats.find({ first: 100 });
        return page.items.map((i) => statisticsView(i.node.doc));
      },
    },
    Mutation: {
      async reportDataIssue(_: unknown, { input }: { input: ReportDataIssueInput }, ctx: SubgraphContext) {
        const resource = issueResource(input.entityType, input.field.trim());
        if ((await ctx.access.cover(resource, ['READ'], `${resource}\u0000READ`)) === null) {
          throw new ForbiddenError(
            `consumer ${ctx.caller.consumerId} has no grant valid now to READ ${resource}, which ${input.entityType}.${input.field} belongs to; only its readers report issues on it`,
            { resource, action: 'READ' },
          );
        }
        const issueId = newEntityId(null, input, ctx.caller, 'reportDataIssue');
        const { entityType, entityId, field, description } = input;
        const data = { issueId, entityType, entityId, field, description, reportedBy: ctx.caller.consumerId };
        return run(ctx, issueId, (now) => ({ type: 'reportDataIssue', data, metadata: { now } }), 'big-data-bureau', commandOptionsOf(input, ctx.caller));
      },
      async resolveDataIssue(_: unknown, { input }: { input: { issueId: string; correction: string } }, ctx: SubgraphContext) {
        const consumer = (await store.aggregate(consumerDecider, consumerStreamId(ctx.caller.consumerId))).state;
        const resolverDepartment = consumer.status === 'REGISTERED' ? consumer.consumer.department : null;
        return run(
          ctx,
          input.issueId,
          (now) => ({ type: 'resolveDataIssue', data: { ...input, resolvedBy: ctx.caller.consumerId, resolverRole: ctx.caller.role, resolverDepartment }, metadata: { now } }),
          resolverDepartment ?? 'big-data-bureau',
        );
      },
    },
  };
}
