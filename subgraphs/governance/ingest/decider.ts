/**
 * A delivery through the aggregation channel as an aggregate: started once per batch id (a re-run
 * of the same delivery resumes it; another delivery under the id is refused), each chunk counted
 * once, completed when every chunk is counted. The runner (`ingest/runner.ts`) appends a chunk's
 * count in the same `appendMany` as the chunk's domain events, so "counted" means "written".
 */
import { assertNever, type Decider } from '../../../events/decider.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import type { CommandMetadata } from '../../kit/command.ts';
import { BATCH_ID, MAX_REJECT_TEXT, REJECTS_PER_EVENT, type IngestBatchEvent, type IngestBatchStarted, type IngestCounts, type IngestReject } from './events.ts';

export type StartIngestBatch = {
  type: 'startIngestBatch';
  data: Omit<IngestBatchStarted['data'], 'startedAt'>;
  metadata: CommandMetadata;
};

export type RecordIngestChunk = {
  type: 'recordIngestChunk';
  data: { batchId: string; chunk: number; counts: IngestCounts; rejects: IngestReject[] };
  metadata: CommandMetadata;
};

export type CompleteIngestBatch = {
  type: 'completeIngestBatch';
  /** `chunks`: how many chunks the delivery was cut into; every one must have been counted. */
  data: { batchId: string; chunks: number };
  metadata: CommandMetadata;
};

export type IngestBatchCommand = StartIngestBatch | RecordIngestChunk | CompleteIngestBatch;

export type IngestBatchState =
  | { status: 'NONE' }
  | {
      status: 'RUNNING' | 'COMPLETED';
      started: IngestBatchStarted['data'];
      /** The chunks counted so far. */
      counted: ReadonlySet<number>;
      totals: IngestCounts;
      completedAt: string | null;
    };

export const ZERO_COUNTS: IngestCounts = { received: 0, created: 0, changed: 0, unchanged: 0, alreadyPresent: 0, rejected: 0 };

export const addCounts = (a: IngestCounts, b: IngestCounts): IngestCounts => ({
  received: a.received + b.received,
  created: a.created + b.created,
  changed: a.changed + b.changed,
  unchanged: a.unchanged + b.unchanged,
  alreadyPresent: a.alreadyPresent + b.alreadyPresent,
  rejected: a.rejected + b.rejected,
});

/** What differs between a batch as started and a delivery that names its id again; empty when it is the same delivery. */
function differences(started: IngestBatchStarted['data'], asked: StartIngestBatch['data']): string[] {
  const found: string[] = [];
  if (started.kind !== asked.kind) found.push(`kind ${started.kind}, not ${asked.kind}`);
  if (started.department !== asked.department) found.push(`department ${started.department}, not ${asked.department}`);
  if (started.fingerprint === null || asked.fingerprint === null) found.push('a delivery without a fingerprint (it cannot be matched)');
  else if (started.fingerprint !== asked.fingerprint) found.push(`another file (fingerprint ${started.fingerprint.slice(0, 12)}…, this one ${asked.fingerprint.slice(0, 12)}…)`);
  return found;
}

const cap = (text: string): string => (text.length > MAX_REJECT_TEXT ? `${text.slice(0, MAX_REJECT_TEXT - 1)}…` : text);
const capped = (r: IngestReject): IngestReject => ({ ...r, message: cap(r.message), sourceRecordId: r.sourceRecordId === null ? null : cap(r.sourceRecordId), field: r.field === null ? null : cap(r.field) });

function existing(batchId: string, state: IngestBatchState): Exclude<IngestBatchState, { status: 'NONE' }> {
  if (state.status === 'NONE') throw new NotFoundError(`there is no ingest batch ${batchId}`, { batchId });
  return state;
}

export function decide(command: IngestBatchCommand, state: IngestBatchState): IngestBatchEvent[] {
  switch (command.type) {
    case 'startIngestBatch': {
      const { data } = command;
      if (!BATCH_ID.test(data.batchId)) {
        throw new ValidationError(`batch id "${data.batchId}" must be 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`, { field: 'batchId' });
      }
      if (state.status === 'NONE') return [{ type: 'IngestBatchStarted', data: { ...data, startedAt: command.metadata.now } }];
      const found = differences(state.started, data);
      if (found.length > 0) {
        throw new ConflictError(`batch ${data.batchId} was started by ${state.started.department} at ${state.started.startedAt} for ${found.join('; ')}: a batch id names one delivery; use a new batch id`, {
          batchId: data.batchId,
          field: 'batchId',
        });
      }
      // The same delivery again: resumed (or, once completed, answered from the batch).
      return [];
    }
    case 'recordIngestChunk': {
      const { batchId, chunk, counts, rejects } = command.data;
      const batch = existing(batchId, state);
      if (batch.status === 'COMPLETED') throw new ConflictError(`ingest batch ${batchId} is already completed; chunk ${chunk} cannot be counted`, { batchId });
      if (batch.counted.has(chunk)) throw new ConflictError(`chunk ${chunk} of ingest batch ${batchId} is already counted`, { batchId, chunk });
      const outcomes = counts.created + counts.changed + counts.unchanged + counts.alreadyPresent + counts.rejected;
      if (outcomes !== counts.received || rejects.length !== counts.rejected) {
        throw new ValidationError(`chunk ${chunk} counts ${counts.received} records but ${outcomes} outcomes and ${rejects.length} rejects for ${counts.rejected} rejected`, { field: 'counts' });
      }
      const byCode = new Map<string, number>();
      for (const r of rejects) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
      const rejectedByCode = [...byCode].sort(([a], [b]) => (a < b ? -1 : 1)).map(([code, n]) => ({ code, count: n }));
      const kept = rejects.map(capped);
      const more: IngestBatchEvent[] = [];
      for (let i = REJECTS_PER_EVENT; i < kept.length; i += REJECTS_PER_EVENT) {
        more.push({ type: 'IngestBatchRejectsRecorded', data: { batchId, chunk, rejects: kept.slice(i, i + REJECTS_PER_EVENT) } });
      }
      return [{ type: 'IngestBatchProgressed', data: { batchId, chunk, counts, rejects: kept.slice(0, REJECTS_PER_EVENT), rejectedByCode, at: command.metadata.now } }, ...more];
    }
    case 'completeIngestBatch': {
      const { batchId, chunks } = command.data;
      const batch = existing(batchId, state);
      if (batch.status === 'COMPLETED') return [];
      const missing = Array.from({ length: chunks }, (_, i) => i).filter((i) => !batch.counted.has(i));
      if (missing.length > 0 || batch.counted.size !== chunks) {
        throw new ConflictError(`ingest batch ${batchId} cannot complete: of its ${chunks} chunks, ${missing.length ? `chunk ${missing.slice(0, 5).join(', ')} is not counted` : `${batch.counted.size} are counted`}`, { batchId });
      }
      return [{ type: 'IngestBatchCompleted', data: { batchId, chunks, totals: batch.totals, completedAt: command.metadata.now } }];
    }
    default:
      return assertNever(command);
  }
}

export function evolve(state: IngestBatchState, event: IngestBatchEvent): IngestBatchState {
  switch (event.type) {
    case 'IngestBatchStarted':
      return { status: 'RUNNING', started: event.data, counted: new Set(), totals: ZERO_COUNTS, completedAt: null };
    case 'IngestBatchProgressed':
      if (state.status === 'NONE') return state;
      return { ...state, counted: new Set(state.counted).add(event.data.chunk), totals: addCounts(state.totals, event.data.counts) };
    case 'IngestBatchRejectsRecorded':
      return state;
    case 'IngestBatchCompleted':
      if (state.status === 'NONE') return state;
      return { ...state, status: 'COMPLETED', completedAt: event.data.completedAt };
    default:
      return assertNever(event);
  }
}

export const ingestBatchDecider: Decider<IngestBatchCommand, IngestBatchEvent, IngestBatchState> = { initialState: () => ({ status: 'NONE' }), decide, evolve };
