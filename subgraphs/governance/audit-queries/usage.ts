/**
 * Usage reports (§(五) 数据调用情况反馈): how often each consumer called each resource, per providing
 * department (the catalog's responsible department of the resource) and China calendar day. The
 * `governance.usage` projection keeps one counter document per (department, day, consumer,
 * resource), so a report over any period is one indexed range read, however many calls it covers.
 */
import { collectionName, sourceOf, type Collection, type Projection } from '../../../projections/types.ts';
import { chinaDate } from '../../kit/calendar.ts';
import type { DataAccessed } from '../../kit/dataAccessed.ts';
import { catalogResource } from '../catalog.ts';

export const USAGE_PROJECTION = 'governance.usage';

export interface DailyUsageDoc extends Record<string, unknown> {
  department: string;
  /** `YYYY-MM-DD`, China time, of the access's `at`. */
  day: string;
  consumerId: string;
  resource: string;
  calls: number;
}

export const DAILY_USAGE = collectionName<DailyUsageDoc>('daily');

export const usageProjection: Projection = {
  name: USAGE_PROJECTION,
  version: 1,
  eventTypes: ['DataAccessed'] satisfies DataAccessed['type'][],
  indexes: [{ collection: DAILY_USAGE, fields: ['department', 'day'] }],
  async apply(event, store) {
    const data = event.data as DataAccessed['data'];
    const daily: Collection<DailyUsageDoc> = store.collection(DAILY_USAGE);
    const day = chinaDate(data.at, 'at');
    const source = sourceOf(event);
    // A record of feed deliveries may stand for several requests: each is a call.
    const calls = 1 + (data.otherRequestIds?.length ?? 0);
    for (const resource of new Set(data.resources)) {
      // Resources come from the schemas' @resource directives, which CI checks against the catalog.
      const department = catalogResource(resource)?.department;
      if (department === undefined) continue;
      const id = [department, day, data.consumerId, resource].join('|');
      const current = await daily.get(id);
      await daily.upsert(id, { department, day, consumerId: data.consumerId, resource, calls: (current?.doc.calls ?? 0) + calls }, source);
    }
  },
};

export interface UsageRow {
  consumer: string;
  resource: string;
  calls: number;
}

export interface UsageTotals {
  calls: number;
  consumers: number;
  resources: number;
}

/** Pure: a period's daily counters summed per consumer and resource, most called first. */
export function summariseUsage(days: readonly DailyUsageDoc[]): { rows: UsageRow[]; totals: UsageTotals } {
  const rows = new Map<string, UsageRow>();
  for (const { consumerId, resource, calls } of days) {
    const key = `${consumerId}|${resource}`;
    const row = rows.get(key) ?? { consumer: consumerId, resource, calls: 0 };
    row.calls += calls;
    rows.set(key, row);
  }
  const sorted = [...rows.values()].sort((a, b) => b.calls - a.calls || a.consumer.localeCompare(b.consumer) || a.resource.localeCompare(b.resource));
  return {
    rows: sorted,
    totals: {
      calls: sorted.reduce((sum, r) => sum + r.calls, 0),
      consumers: new Set(sorted.map((r) => r.consumer)).size,
      resources: new Set(sorted.map((r) => r.resource)).size,
    },
  };
}
