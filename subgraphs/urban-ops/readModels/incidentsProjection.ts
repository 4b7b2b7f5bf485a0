/**
 * The urban-ops read models, kept by one projection so an incident's document and its metrics move
 * together: `incidents` (one document per incident: its view and the flat fields lists filter on)
 * and `metrics` (counts per division and level; see metricCounters.ts).
 */
import type { Projection } from '../../../projections/types.ts';
import { incidentEventDefinitions } from '../incident/events.ts';
import { evolveView, incidentDoc, type IncidentDoc } from './incidentView.ts';
import { addCounts, bucketsOf, countsOf, emptyCounts, sameCounts, type MetricCounts, type MetricsBucket } from './metricCounters.ts';

export const INCIDENTS_PROJECTION = 'urban-ops.incidents';
export const INCIDENTS = 'incidents';
export const METRICS = 'metrics';

/** The view (every event changes it) and the flat fields (strings or null) that differ. */
function changedFields(before: IncidentDoc, after: IncidentDoc): Partial<IncidentDoc> {
  const changed: Partial<IncidentDoc> = { view: after.view };
  for (const key of Object.keys(after) as (keyof IncidentDoc)[]) {
    if (key !== 'view' && before[key] !== after[key]) (changed as Record<string, unknown>)[key] = after[key];
  }
  return changed;
}

export const incidentsProjection: Projection = {
  name: INCIDENTS_PROJECTION,
  version: 3,
  eventTypes: incidentEventDefinitions.map((d) => d.type),
  indexes: [
    { collection: INCIDENTS, fields: ['reportedAt'] },
    { collection: INCIDENTS, fields: ['districtCode', 'reportedAt'] },
    { collection: INCIDENTS, fields: ['streetCode'] },
    { collection: INCIDENTS, fields: ['communityCode'] },
    { collection: INCIDENTS, fields: ['status'] },
    { collection: INCIDENTS, fields: ['overdueAfter'] },
    { collection: INCIDENTS, fields: ['category', 'subcategory', 'reportedAt'] },
  ],
  async apply(event, store) {
    const incidents = store.collection<IncidentDoc>(INCIDENTS);
    const source = { position: event.position, eventId: event.eventId };
    const incidentId = (event.data as { incidentId: string }).incidentId;
    const before = (await incidents.get(incidentId))?.doc;
    const view = evolveView(before?.view, event);
    if (!view) return;
    const after = incidentDoc(view);
    await incidents.patch(incidentId, before ? changedFields(before, after) : after, source);

    const oldCounts = before ? countsOf(before.view.state) : null;
    const newCounts = countsOf(view.state);
    if (before && oldCounts && before.level === after.level && sameCounts(oldCounts, newCounts)) return;
    const deltas = new Map<string, { divisionCode: string; level: MetricsBucket['level']; counts: MetricCounts }>();
    const add = (buckets: ReturnType<typeof bucketsOf>, counts: MetricCounts, sign: 1 | -1) => {
      for (const bucket of buckets) {
        const delta = deltas.get(bucket.id) ?? { divisionCode: bucket.divisionCode, level: bucket.level, counts: emptyCounts() };
        addCounts(delta.counts, counts, sign);
        deltas.set(bucket.id, delta);
      }
    };
    if (before && oldCounts) add(bucketsOf(before.view, before.level), oldCounts, -1);
    add(bucketsOf(view, after.level), newCounts, 1);

    const metrics = store.collection<MetricsBucket>(METRICS);
    const ids = [...deltas.keys()];
    const current = await metrics.getMany(ids);
    for (const [i, id] of ids.entries()) {
      const delta = deltas.get(id)!;
      const bucket: MetricsBucket = current[i]?.doc ?? { divisionCode: delta.divisionCode, level: delta.level, counts: emptyCounts() };
      addCounts(bucket.counts, delta.counts, 1);
      await metrics.upsert(id, bucket, source);
    }
  },
};
