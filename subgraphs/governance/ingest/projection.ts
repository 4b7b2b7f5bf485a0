/**
 * `governance.ingest-batches`: every batch as it stands (for `ingestBatch`, `ingestBatches`), its
 * rejects one document each (paged in line order), and per department, resource and China calendar
 * day the records received, accepted and rejected by rule (the "data responsibility list" view).
 */
import { singleFieldIndexes, sourceOf, type Projection } from '../../../projections/types.ts';
import { chinaDate } from '../../kit/calendar.ts';
import { addCounts, ZERO_COUNTS } from './decider.ts';
import type { IngestBatchEvent, IngestBatchStarted, IngestCounts, IngestReject } from './events.ts';

export const INGEST_BATCHES_PROJECTION = 'governance.ingest-batches';
export const BATCHES = 'batches';
export const REJECTS = 'rejects';
export const QUALITY = 'quality';

export type IngestBatchStatus = 'RUNNING' | 'COMPLETED';

export type IngestBatchDoc = IngestBatchStarted['data'] &
  IngestCounts & { status: IngestBatchStatus; chunks: number; completedAt: string | null; lastProgressAt: string | null } & Record<string, unknown>;

export type IngestRejectDoc = IngestReject & { batchId: string } & Record<string, unknown>;

export interface IngestQualityDoc extends Record<string, unknown> {
  department: string;
  resource: string;
  /** China calendar day the records were counted. */
  day: string;
  received: number;
  accepted: number;
  rejected: number;
  rejectedByRule: { code: string; count: number }[];
}

/** Sorts rejects of a batch by line as their ids sort. */
export const rejectId = (batchId: string, line: number): string => `${batchId}:${String(line).padStart(10, '0')}`;
export const qualityId = (department: string, resource: string, day: string): string => `${department}|${resource}|${day}`;

function mergeRules(into: readonly { code: string; count: number }[], add: readonly { code: string; count: number }[]): { code: string; count: number }[] {
  const merged = new Map(into.map((r) => [r.code, r.count]));
  for (const r of add) merged.set(r.code, (merged.get(r.code) ?? 0) + r.count);
  return [...merged].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, count]) => ({ code, count }));
}

export const ingestBatchesProjection: Projection<IngestBatchEvent> = {
  name: INGEST_BATCHES_PROJECTION,
  version: 1,
  eventTypes: ['IngestBatchStarted', 'IngestBatchProgressed', 'IngestBatchRejectsRecorded', 'IngestBatchCompleted'] satisfies IngestBatchEvent['type'][],
  indexes: [
    ...singleFieldIndexes(BATCHES, 'department', 'kind', 'startedAt'),
    ...singleFieldIndexes(REJECTS, 'batchId'),
    ...singleFieldIndexes(QUALITY, 'department', 'day'),
  ],
  async apply(event, store) {
    const batches = store.collection<IngestBatchDoc>(BATCHES);
    const rejects = store.collection<IngestRejectDoc>(REJECTS);
    const source = sourceOf(event);
    if (event.type === 'IngestBatchStarted') {
      await batches.upsert(event.data.batchId, { ...event.data, ...ZERO_COUNTS, status: 'RUNNING', chunks: 0, completedAt: null, lastProgressAt: null }, source);
      return;
    }
    const { batchId } = event.data;
    const batch = (await batches.get(batchId))?.doc;
    // The decider counts, rejects and completes only a started batch, whose start this projection applied first.
    if (!batch) throw new Error(`${INGEST_BATCHES_PROJECTION}: ${event.type} at ${event.position} for ${batchId}, which has no document`);
    if (event.type === 'IngestBatchCompleted') {
      await batches.patch(batchId, { status: 'COMPLETED', completedAt: event.data.completedAt }, source);
      return;
    }
    for (const r of event.data.rejects) await rejects.upsert(rejectId(batchId, r.line), { ...r, batchId }, source);
    if (event.type === 'IngestBatchRejectsRecorded') return;
    const { counts, rejectedByCode, at } = event.data;
    const totals = addCounts(batch, counts);
    await batches.patch(batchId, { ...totals, chunks: batch.chunks + 1, lastProgressAt: at }, source);
    const quality = store.collection<IngestQualityDoc>(QUALITY);
    const day = chinaDate(at);
    const id = qualityId(batch.department, batch.resource, day);
    const current = (await quality.get(id))?.doc ?? { department: batch.department, resource: batch.resource, day, received: 0, accepted: 0, rejected: 0, rejectedByRule: [] };
    await quality.upsert(
      id,
      {
        ...current,
        received: current.received + counts.received,
        accepted: current.accepted + counts.received - counts.rejected,
        rejected: current.rejected + counts.rejected,
        rejectedByRule: mergeRules(current.rejectedByRule, rejectedByCode),
      },
      source,
    );
  },
};
