/**
 * The auditor-facing queries of the governance subgraph:
 * whether an access was authorised, usage reports, tamper evidence and data-quality feedback.
 * Merged into the governance resolvers by `withAuditQueries`.
 */
import { NotFoundError, ValidationError } from '../../../events/errors.ts';
import { listSeals } from '../../../events/sql/hashChain.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import { findAll } from '../../../projections/findAll.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import type { SubgraphRuntime } from '../../kit/module.ts';
import type { SubgraphResolvers } from '../../kit/server.ts';
import { parseRequestRecordId, requestRecordsOf, type DataAccessed, type RequestRecord } from '../../kit/dataAccessed.ts';
import { DEPARTMENTS } from '../catalog.ts';
import { consumerStreamId, type ConsumerEvent } from '../consumer/events.ts';
import { authorizeAccess } from './authorization.ts';
import { dataIssueResolvers } from '../dataIssue/resolvers.ts';
import { createIntegrityCheck } from './integrity.ts';
import { DAILY_USAGE, summariseUsage, USAGE_PROJECTION, type DailyUsageDoc } from './usage.ts';

type Resolvers = SubgraphResolvers<SubgraphContext>;

/** Most seals one `integrity` query lists. */
const MAX_SEALS = 100;

/** Daily counters read per round trip while summing a report's period. */
const USAGE_PAGE = 1000;

function assertDepartment(department: string): keyof typeof DEPARTMENTS {
  if (!Object.hasOwn(DEPARTMENTS, department)) {
    throw new ValidationError(`department "${department}" is not a providing department; use one of ${Object.keys(DEPARTMENTS).join(', ')}`, {
      field: 'department',
      known: Object.keys(DEPARTMENTS),
    });
  }
  return department as keyof typeof DEPARTMENTS;
}

export function auditQueryResolvers(runtime: SubgraphRuntime): Resolvers {
  const { store, db } = runtime;
  const dataIssues = dataIssueResolvers(runtime);
  const integrity = db && createIntegrityCheck(db, { now: runtime.now });

  function chainDatabase() {
    if (!db || !integrity) {
      throw new NotFoundError('this deployment keeps no hash chain beside its store; run the `verify` command where the SQL event store is', { field: 'integrity' });
    }
    return { db, integrity };
  }

  /**
   * The record of one request, by the id the access log gives it (`requestRecordId`). Like every
   * lookup of the graph, an id that names no access record (or nothing at all) answers null.
   */
  async function accessRecord(recordId: string): Promise<{ id: string; position: string; record: RequestRecord } | null> {
    const named = parseRequestRecordId(recordId);
    if (!named) return null;
    const [event] = await store.readEventsById([named.eventId]);
    if (event?.type !== 'DataAccessed') return null;
    const request = requestRecordsOf(event.eventId, (event as RecordedEvent<'DataAccessed', DataAccessed['data']>).data)[named.index];
    return request ? { id: request.id, position: event.position, record: request.record } : null;
  }

  async function dailyUsage(department: string, from: string, to: string): Promise<DailyUsageDoc[]> {
    const daily = runtime.readModels.of(USAGE_PROJECTION).collection(DAILY_USAGE);
    return findAll(daily, { where: { department, day: { gte: from, lte: to } }, first: USAGE_PAGE });
  }

  return {
    Query: {
      ...dataIssues.Query,
      integrity: () => chainDatabase().integrity(),
      async usageReport(_: unknown, { department, from, to }: { department: string; from: string; to: string }) {
        const known = assertDepartment(department);
        if (from > to) throw new ValidationError(`from ${from} is after to ${to}`, { field: 'from' });
        return { department, departmentName: DEPARTMENTS[known], from, to, ...summariseUsage(await dailyUsage(department, from, to)) };
      },
      async accessAuthorization(_: unknown, { accessEventId }: { accessEventId: string }) {
        const access = await accessRecord(accessEventId);
        if (!access) return null;
        const consumerStream = await store.readStream<ConsumerEvent>(consumerStreamId(access.record.consumerId));
        return {
          access: { ...access.record, id: access.id, position: access.position },
          ...authorizeAccess(access.record, consumerStream),
        };
      },
    },
    Mutation: dataIssues.Mutation,
    Integrity: {
      seals(_: unknown, { limit }: { limit: number }) {
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEALS) {
          throw new ValidationError(`limit must be between 1 and ${MAX_SEALS}, got ${limit}`, { field: 'limit' });
        }
        return listSeals(chainDatabase().db, limit);
      },
    },
  };
}

/** The governance resolvers with the audit queries' root fields and types added. */
export function withAuditQueries(base: Resolvers, runtime: SubgraphRuntime): Resolvers {
  const audit = auditQueryResolvers(runtime);
  const merged: Resolvers = { ...base, ...audit };
  for (const root of ['Query', 'Mutation'] as const) {
    // Root types are field maps (never scalars or enums), so spreading them merges their fields.
    if (base[root] || audit[root]) merged[root] = { ...(base[root] as object), ...(audit[root] as object) } as Resolvers[string];
  }
  return merged;
}
