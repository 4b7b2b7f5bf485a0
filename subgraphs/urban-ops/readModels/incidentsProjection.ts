/**
 * The urban-ops read models, kept by one projection so an incident's document and its metrics move
 * together: `incidents` (one document per incident: its view and the flat fields lists filter on)
 * and, per division, `metrics` (counts level by level) and `closeTimes` (time-to-close histograms level
 * by level; see metricCounters.ts), and per division and report day `funnelDays` (how far that day's
 * incidents got through the loop; see funnel.ts), and per division the open cases by deadline (see
 * openDeadlines.ts).
 */
import { ERASED } from '../../../events/crypto/personalFields.ts';
import { findAll } from '../../../projections/findAll.ts';
import { sourceOf, type Collection, type FieldSource, type Projection } from '../../../projections/types.ts';
import { ERASURE_EVENT_TYPES, erasesScope, PERSONAL_DATA_ERASED, PERSONAL_DATA_EXPIRED, type ErasureEvent } from '../../governance/erasure/events.ts';
import { applyTieredDelta, tieredDelta } from '../../kit/tieredCounts.ts';
import { incidentEventDefinitions, type IncidentEvent } from '../incident/events.ts';
import { addFunnel, emptyFunnel, funnelDayKey, funnelDelta, funnelStagesOf, reportDayOf, type FunnelDay } from './funnel.ts';
import { evolveView, incidentDoc, type IncidentDoc } from './incidentView.ts';
import {
  addCounts,
  addHistogram,
  addLevelCounts,
  changesCounts,
  changesHistogram,
  countsOf,
  divisionsOf,
  emptyCounts,
  levelCountsOf,
  levelKey,
  sameCounts,
  type DivisionCloseTimes,
  type DivisionCounts,
  type LevelKey,
  type MetricCounts,
} from './metricCounters.ts';
import { deadlineEntries, OPEN_DEADLINES } from './openDeadlines.ts';

export const INCIDENTS_PROJECTION = 'urban-ops.incidents';
export const INCIDENTS = 'incidents';
export const METRICS = 'metrics';
export const CLOSE_TIMES = 'closeTimes';
export const FUNNEL_DAYS = 'funnelDays';

/** The view (every event changes it) and the flat fields (strings or null) that differ. */
function changedFields(before: IncidentDoc, after: IncidentDoc): Partial<IncidentDoc> {
  const changed: Partial<IncidentDoc> = { view: after.view };
  for (const key of Object.keys(after) as (keyof IncidentDoc)[]) {
    if (key !== 'view' && before[key] !== after[key]) (changed as Record<string, unknown>)[key] = after[key];
  }
  return changed;
}

/**
 * A reporter's personal data was erased (all of it, or the reports' scope `urban.incidents` by a
 * retention rule), or an anonymous report's (the subject is its incident): the reports show the
 * reporter's name and the description as a rebuild would (ERASED). A device's report holds neither
 * (kit/personalData.ts).
 */
async function eraseReporter(event: ErasureEvent, incidents: Collection<IncidentDoc>, source: FieldSource): Promise<void> {
  if (!erasesScope(event, 'urban.incidents')) return;
  const { subjectId } = event.data;
  const anonymous = await incidents.get(subjectId);
  const docs = [...(anonymous ? [anonymous.doc] : []), ...(await findAll(incidents, { where: { reporterId: subjectId }, first: 500 }))];
  for (const doc of docs) {
    const { report } = doc.view.state;
    if (report.reporter.kind === 'DEVICE') continue;
    const reporter = report.reporter.name === undefined ? report.reporter : { ...report.reporter, name: ERASED };
    const state = { ...doc.view.state, report: { ...report, description: ERASED, reporter } };
    await incidents.patch(doc.view.incidentId, { view: { ...doc.view, state } }, source);
  }
}

export const incidentsProjection: Projection<IncidentEvent | ErasureEvent> = {
  name: INCIDENTS_PROJECTION,
  // 6: `reporterId`, for erasing reporters' names; 7: open cases by deadline (openDeadlines.ts).
  version: 7,
  eventTypes: [...incidentEventDefinitions.map((d) => d.type), ...ERASURE_EVENT_TYPES],
  indexes: [
    { collection: INCIDENTS, fields: ['reportedAt'] },
    { collection: INCIDENTS, fields: ['districtCode', 'reportedAt'] },
    { collection: INCIDENTS, fields: ['streetCode'] },
    { collection: INCIDENTS, fields: ['communityCode'] },
    { collection: INCIDENTS, fields: ['status'] },
    { collection: INCIDENTS, fields: ['overdueAfter'] },
    { collection: INCIDENTS, fields: ['category', 'subcategory', 'reportedAt'] },
    { collection: INCIDENTS, fields: ['reporterId'] },
  ],
  async apply(event, store) {
    const incidents = store.collection<IncidentDoc>(INCIDENTS);
    const source = sourceOf(event);
    if (event.type === PERSONAL_DATA_ERASED || event.type === PERSONAL_DATA_EXPIRED) return eraseReporter(event, incidents, source);
    const { incidentId } = event.data;
    // The first event of an incident's stream finds no document: nothing is read for it (a new
    // incident would otherwise cost a round trip inside the batch's transaction).
    const before = event.revision === 0 ? undefined : (await incidents.get(incidentId))?.doc;
    const view = evolveView(before?.view, event);
    if (!view) return;
    const after = incidentDoc(view);
    if (before) await incidents.patch(incidentId, changedFields(before, after), source);
    else await incidents.upsert(incidentId, after, source);
    await applyTieredDelta(store, OPEN_DEADLINES, tieredDelta(deadlineEntries(before), deadlineEntries(after)), source);

    const stages = funnelDelta(before ? funnelStagesOf(before.view.state) : null, funnelStagesOf(view.state));
    if (stages) {
      const funnelDays = store.collection<FunnelDay>(FUNNEL_DAYS);
      const date = reportDayOf(view);
      const divisions = divisionsOf(view);
      const keys = divisions.map((divisionCode) => funnelDayKey(divisionCode, date));
      const docs = await funnelDays.getMany(keys);
      for (const [i, divisionCode] of divisions.entries()) {
        const doc: FunnelDay = docs[i]?.doc ?? { divisionCode, date, counts: emptyFunnel() };
        addFunnel(doc.counts, stages);
        await funnelDays.upsert(keys[i]!, doc, source);
      }
    }

    const oldCounts = before ? countsOf(before.view.state) : null;
    const newCounts = countsOf(view.state);
    if (before && oldCounts && before.level === after.level && sameCounts(oldCounts, newCounts)) return;
    // How the incident's contribution changes, level by level: the same in every division containing it.
    const delta = new Map<LevelKey, MetricCounts>();
    const add = (level: IncidentDoc['level'], counts: MetricCounts, sign: 1 | -1) => {
      const key = levelKey(level);
      const change = delta.get(key) ?? emptyCounts();
      addCounts(change, counts, sign);
      delta.set(key, change);
    };
    if (before && oldCounts) add(before.level, oldCounts, -1);
    add(after.level, newCounts, 1);
    const countChanges = [...delta].filter(([, change]) => changesCounts(change));
    const histogramChanges = [...delta].filter(([, change]) => changesHistogram(change));
    const divisions = divisionsOf(view);

    await addToDivisions(store.collection<DivisionCounts>(METRICS), divisions, countChanges, source, (counts = levelCountsOf(emptyCounts()), change) => {
      addLevelCounts(counts, change, 1);
      return counts;
    });
    await addToDivisions(store.collection<DivisionCloseTimes>(CLOSE_TIMES), divisions, histogramChanges, source, (histogram = {}, change) => {
      addHistogram(histogram, change.closeMinutes, 1);
      return histogram;
    });
  },
};

/** Adds each level's change to every division's document of `collection` (`add` answers the level's new entry). */
async function addToDivisions<Entry>(
  collection: Collection<{ divisionCode: string; levels: Partial<Record<LevelKey, Entry>> }>,
  divisions: readonly string[],
  changes: readonly (readonly [LevelKey, MetricCounts])[],
  source: FieldSource,
  add: (entry: Entry | undefined, change: MetricCounts) => Entry,
): Promise<void> {
  if (changes.length === 0) return;
  const docs = await collection.getMany(divisions);
  for (const [i, divisionCode] of divisions.entries()) {
    const doc = docs[i]?.doc ?? { divisionCode, levels: {} };
    for (const [key, change] of changes) doc.levels[key] = add(doc.levels[key], change);
    await collection.upsert(divisionCode, doc, source);
  }
}
