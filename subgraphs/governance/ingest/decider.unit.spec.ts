import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { given } from '../../../test/helpers/decider.ts';
import { ingestBatchDecider, ZERO_COUNTS, type RecordIngestChunk, type StartIngestBatch } from './decider.ts';
import type { IngestBatchCompleted, IngestBatchProgressed, IngestBatchStarted } from './events.ts';

const AT = '2026-03-01T08:00:00.000Z';

const start = (data: Partial<StartIngestBatch['data']> = {}): StartIngestBatch => ({
  type: 'startIngestBatch',
  data: {
    batchId: 'ps-2026-03-01',
    kind: 'persons',
    resource: 'population.write',
    department: 'public-security',
    system: 'hukou',
    channel: 'import',
    fingerprint: 'a'.repeat(64),
    chunkSize: 1000,
    consumerId: 'public-security',
    grantId: 'ps-write',
    ...data,
  },
  metadata: { now: AT },
});

const started: IngestBatchStarted = { type: 'IngestBatchStarted', data: { ...start().data, startedAt: AT } };

const reject = { line: 3, sourceRecordId: 'r-3', code: 'BAD_USER_INPUT', field: 'birthDate', message: 'birthDate must be a date' };
const chunk = (n: number, data: Partial<RecordIngestChunk['data']> = {}): RecordIngestChunk => ({
  type: 'recordIngestChunk',
  data: { batchId: 'ps-2026-03-01', chunk: n, counts: { ...ZERO_COUNTS, received: 3, created: 2, rejected: 1 }, rejects: [reject], ...data },
  metadata: { now: AT },
});
const progressed = (n: number): IngestBatchProgressed => ({
  type: 'IngestBatchProgressed',
  data: { batchId: 'ps-2026-03-01', chunk: n, counts: { ...ZERO_COUNTS, received: 3, created: 2, rejected: 1 }, rejects: [reject], rejectedByCode: [{ code: 'BAD_USER_INPUT', count: 1 }], at: AT },
});
const complete = (chunks: number) => ({ type: 'completeIngestBatch' as const, data: { batchId: 'ps-2026-03-01', chunks }, metadata: { now: AT } });

describe('ingest batch decider', () => {
  it('starts a batch once; the same delivery again resumes it without an event', () => {
    given(ingestBatchDecider).when(start()).then([started]);
    given(ingestBatchDecider, [started]).when(start()).then([]);
    given(ingestBatchDecider, [started, progressed(0)]).when(start({ chunkSize: 10 })).then([]);
  });

  it('refuses a batch id reused for another file, kind or department, or without a fingerprint, and a malformed id', () => {
    given(ingestBatchDecider, [started]).when(start({ fingerprint: 'b'.repeat(64) })).thenThrows(ConflictError, /another file \(fingerprint aaaaaaaaaaaa…, this one bbbbbbbbbbbb…\).*use a new batch id/);
    given(ingestBatchDecider, [started]).when(start({ kind: 'households' })).thenThrows(ConflictError, /kind persons, not households/);
    given(ingestBatchDecider, [started]).when(start({ department: 'taxation' })).thenThrows(ConflictError, /department public-security, not taxation/);
    given(ingestBatchDecider, [started]).when(start({ fingerprint: null })).thenThrows(ConflictError, /without a fingerprint/);
    given(ingestBatchDecider).when(start({ batchId: '../etc' })).thenThrows(ValidationError, /batch id "..\/etc" must be/);
  });

  it('counts each chunk once, with its rejects per rule code', () => {
    given(ingestBatchDecider, [started]).when(chunk(0)).then([progressed(0)]);
    given(ingestBatchDecider, [started, progressed(0)]).when(chunk(0)).thenThrows(ConflictError, /chunk 0 of ingest batch ps-2026-03-01 is already counted/);
    given(ingestBatchDecider).when(chunk(0)).thenThrows(NotFoundError, /there is no ingest batch/);
    given(ingestBatchDecider, [started]).when(chunk(1, { rejects: [] })).thenThrows(ValidationError, /0 rejects for 1 rejected/);
    const state = given(ingestBatchDecider, [started, progressed(0), progressed(1)]).state;
    assert.equal(state.status, 'RUNNING');
    assert.deepEqual(state.status === 'RUNNING' && state.totals, { ...ZERO_COUNTS, received: 6, created: 4, rejected: 2 });
  });

  it('keeps a chunk with many rejects in several events below the size limit, with long texts capped', () => {
    const many = Array.from({ length: 450 }, (_, i) => ({ ...reject, line: i + 1, message: 'x'.repeat(1000) }));
    const events = ingestBatchDecider.decide(chunk(0, { counts: { ...ZERO_COUNTS, received: 450, rejected: 450 }, rejects: many }), given(ingestBatchDecider, [started]).state);
    assert.deepEqual(events.map((e) => e.type), ['IngestBatchProgressed', 'IngestBatchRejectsRecorded', 'IngestBatchRejectsRecorded']);
    assert.deepEqual(events.map((e) => (e.type === 'IngestBatchCompleted' || e.type === 'IngestBatchStarted' ? 0 : e.data.rejects.length)), [200, 200, 50]);
    for (const e of events) assert.ok(JSON.stringify(e.data).length < 256 * 1024);
    const first = events[0]!;
    assert.equal(first.type === 'IngestBatchProgressed' && first.data.rejects[0]?.message.length, 400);
  });

  it('completes when every chunk is counted, once, and then counts nothing more', () => {
    const completed: IngestBatchCompleted = { type: 'IngestBatchCompleted', data: { batchId: 'ps-2026-03-01', chunks: 2, totals: { ...ZERO_COUNTS, received: 6, created: 4, rejected: 2 }, completedAt: AT } };
    given(ingestBatchDecider, [started, progressed(0), progressed(1)]).when(complete(2)).then([completed]);
    given(ingestBatchDecider, [started, progressed(1)]).when(complete(2)).thenThrows(ConflictError, /chunk 0 is not counted/);
    given(ingestBatchDecider, [started, progressed(0), progressed(1), completed]).when(complete(2)).then([]);
    given(ingestBatchDecider, [started, progressed(0), progressed(1), completed]).when(chunk(2)).thenThrows(ConflictError, /already completed/);
    given(ingestBatchDecider, [started]).when(complete(0)).then([{ type: 'IngestBatchCompleted', data: { batchId: 'ps-2026-03-01', chunks: 0, totals: ZERO_COUNTS, completedAt: AT } }]);
  });
});
