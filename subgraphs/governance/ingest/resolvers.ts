/**
 * The aggregation channel's batches in the graph: `ingestBatch`, `ingestBatches` and `ingestQuality`
 * from the `governance.ingest-batches` projection, and each department's delivery totals beside its
 * data-issue statistics. A department sees its own deliveries; READ on audit.log or governance.admin,
 * or a registration with the big-data bureau (which runs the channel), sees every department's.
 */
import { ForbiddenError, ValidationError } from '../../../events/errors.ts';
import type { Collection, Where } from '../../../projections/types.ts';
import { findAll } from '../../../projections/findAll.ts';
import { arrayConnection, collectionConnection, type ConnectionArgs } from '../../kit/connections.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import type { SubgraphRuntime } from '../../kit/module.ts';
import type { SubgraphResolvers } from '../../kit/server.ts';
import { readConsumerState } from '../access.ts';
import { DEPARTMENTS } from '../catalog.ts';
import { BATCHES, INGEST_BATCHES_PROJECTION, QUALITY, REJECTS, type IngestBatchDoc, type IngestBatchStatus, type IngestQualityDoc, type IngestRejectDoc } from './projection.ts';

type Resolvers = SubgraphResolvers<SubgraphContext>;

/** Every department's batches, or one department's (null: a caller registered for none sees none). */
type Scope = { all: true } | { all: false; department: string | null };

const OVERSEERS = ['audit.log', 'governance.admin'] as const;
const CHANNEL_OPERATOR = 'big-data-bureau';
const QUALITY_PAGE = 100;

/** The short name of a department registered by short or full name; null for anything else. */
function departmentCode(registered: string): string | null {
  const found = Object.entries(DEPARTMENTS).find(([code, name]) => registered === code || registered === name);
  return found ? found[0] : null;
}

function assertKnownDepartment(department: string): void {
  if (!Object.hasOwn(DEPARTMENTS, department)) {
    throw new ValidationError(`department "${department}" is not a providing department; use one of ${Object.keys(DEPARTMENTS).join(', ')}`, { field: 'department' });
  }
}

const totalsOf = (days: readonly IngestQualityDoc[]) => {
  const rules = new Map<string, number>();
  for (const d of days) for (const r of d.rejectedByRule) rules.set(r.code, (rules.get(r.code) ?? 0) + r.count);
  return {
    received: days.reduce((n, d) => n + d.received, 0),
    accepted: days.reduce((n, d) => n + d.accepted, 0),
    rejected: days.reduce((n, d) => n + d.rejected, 0),
    rejectedByRule: [...rules].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, count]) => ({ code, count })),
  };
};

export function ingestBatchResolvers(runtime: SubgraphRuntime): Resolvers {
  const readModel = () => runtime.readModels.of(INGEST_BATCHES_PROJECTION);

  async function scopeOf(ctx: SubgraphContext): Promise<Scope> {
    for (const resource of OVERSEERS) if ((await ctx.access.cover(resource, ['READ'], `${resource}\u0000READ`)) !== null) return { all: true };
    const state = await readConsumerState(runtime.store, ctx.caller.consumerId);
    const department = state.status === 'REGISTERED' ? departmentCode(state.consumer.department) : null;
    return department === CHANNEL_OPERATOR ? { all: true } : { all: false, department };
  }

  /** The department filter a caller may use: its own when it names none, refused when it names another. */
  async function departmentFilter(ctx: SubgraphContext, asked: string | null | undefined): Promise<{ department?: string } | null> {
    if (asked) assertKnownDepartment(asked);
    const scope = await scopeOf(ctx);
    if (scope.all) return asked ? { department: asked } : {};
    if (scope.department === null) return null;
    if (asked && asked !== scope.department) {
      throw new ForbiddenError(`consumer ${ctx.caller.consumerId} delivers for ${scope.department}: it sees that department's batches, not ${asked}'s`, { field: 'department' });
    }
    return { department: scope.department };
  }

  async function qualityDays(where: Where): Promise<IngestQualityDoc[]> {
    return findAll(readModel().collection<IngestQualityDoc>(QUALITY), { where, sortBy: 'day', first: QUALITY_PAGE });
  }

  return {
    Query: {
      async ingestBatch(_: unknown, { id }: { id: string }, ctx: SubgraphContext) {
        const found = (await readModel().collection<IngestBatchDoc>(BATCHES).get(id))?.doc;
        if (!found) return null;
        const scope = await scopeOf(ctx);
        return scope.all || scope.department === found.department ? { ...found, id: found.batchId } : null;
      },
      async ingestBatches(_: unknown, args: ConnectionArgs & { department?: string | null; kind?: string | null; status?: IngestBatchStatus | null }, ctx: SubgraphContext) {
        const list = 'governance.ingest-batches';
        const department = await departmentFilter(ctx, args.department);
        if (department === null) return arrayConnection({ ...args, list, items: [], key: () => '', node: () => null });
        const where: Where = { ...department };
        if (args.kind) where.kind = args.kind;
        if (args.status) where.status = args.status;
        return collectionConnection({
          ...args,
          list,
          collection: readModel().collection<IngestBatchDoc>(BATCHES),
          where,
          sortBy: 'startedAt',
          direction: 'desc',
          node: ({ doc }) => ({ ...doc, id: doc.batchId }),
        });
      },
      async ingestQuality(_: unknown, args: { department?: string | null; resource?: string | null; from?: string | null; to?: string | null }, ctx: SubgraphContext) {
        if (args.from && args.to && args.from > args.to) throw new ValidationError(`from ${args.from} is after to ${args.to}`, { field: 'from' });
        const department = await departmentFilter(ctx, args.department);
        if (department === null) return [];
        const where: Where = { ...department };
        if (args.resource) where.resource = args.resource;
        if (args.from || args.to) where.day = { ...(args.from && { gte: args.from }), ...(args.to && { lte: args.to }) };
        return qualityDays(where);
      },
    },
    IngestBatch: {
      rejects(batch: { batchId: string }, args: ConnectionArgs) {
        return collectionConnection({
          ...args,
          list: `governance.ingest-rejects.${batch.batchId}`,
          collection: readModel().collection<IngestRejectDoc>(REJECTS),
          where: { batchId: batch.batchId },
          node: ({ doc }) => doc,
        });
      },
    },
    DataIssueStatistics: {
      async deliveries({ department }: { department: string }) {
        return totalsOf(await qualityDays({ department }));
      },
    },
  };
}

/** The governance resolvers with the batch queries' root fields and types added. */
export function withIngestBatches(base: Resolvers, runtime: SubgraphRuntime): Resolvers {
  const ingest = ingestBatchResolvers(runtime);
  const baseQuery = base.Query as Record<string, (...args: unknown[]) => unknown>;
  const statistics = baseQuery.dataIssueStatistics!;
  const quality = () => runtime.readModels.of(INGEST_BATCHES_PROJECTION).collection<IngestQualityDoc>(QUALITY);
  return {
    ...base,
    ...ingest,
    Query: {
      ...baseQuery,
      ...(ingest.Query as object),
      /** Departments that delivered data but have no issue yet are on the data responsibility list too. */
      async dataIssueStatistics(parent: unknown, args: { department?: string | null }, ...rest: unknown[]) {
        const withIssues = (await statistics(parent, args, ...rest)) as { department: string }[];
        const delivered = args.department ? ((await quality().count({ department: args.department })) > 0 ? [args.department] : []) : await deliveringDepartments(quality());
        const listed = new Set(withIssues.map((s) => s.department));
        const more = delivered.filter((d) => !listed.has(d)).map((department) => ({ department, open: 0, resolved: 0, meanHoursToResolve: null }));
        return [...withIssues, ...more].sort((a, b) => (a.department < b.department ? -1 : 1));
      },
    } as Resolvers[string],
  };
}

/** The departments with quality figures (one count per catalog department: a handful). */
async function deliveringDepartments(quality: Collection<IngestQualityDoc>): Promise<string[]> {
  const found: string[] = [];
  for (const department of Object.keys(DEPARTMENTS)) if ((await quality.count({ department })) > 0) found.push(department);
  return found;
}
