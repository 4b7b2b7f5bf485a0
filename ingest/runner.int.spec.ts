/**
 * The aggregation channel's runner on PGlite and PostgreSQL with a real kind (`test-notes`): counts,
 * rejects and provenance; idempotent re-delivery; a batch resumed after a crash in the middle ends
 * as one clean run; a chunk planned again after a concurrent writer; every refusal before anything
 * is written.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { CityBrainError } from '../events/errors.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { BACKENDS, freshStorePerTest, type TestBackend } from '../test/helpers/databases.ts';
import { testGrants } from '../test/helpers/grants.ts';
import { ingestTestRegistry, noteStreamId, testNotesKind } from '../test/helpers/ingestKinds.ts';
import { ingestBatchDecider } from '../subgraphs/governance/ingest/decider.ts';
import { ingestBatchStreamId } from '../subgraphs/governance/ingest/events.ts';
import type { IngestKind } from '../subgraphs/kit/ingest.ts';
import { runIngestBatch } from './runner.ts';
import type { IngestDeps, IngestRequest, RawRecord } from './types.ts';

const NOW = new Date('2026-03-01T08:00:00.000Z');
const FEEDS = 'eco-feeds';

async function* fromArray(records: readonly RawRecord[]): AsyncIterable<RawRecord> {
  for (const r of records) yield r;
}

const note = (line: number, fields: Record<string, unknown>): RawRecord => ({ line, fields });

/** Five good notes, then one of each kind of reject. */
const DELIVERY: RawRecord[] = [
  note(1, { sourceRecordId: 'r1', noteId: 'n1', text: 'one' }),
  note(2, { sourceRecordId: 'r2', noteId: 'n2', text: 'two', collectedAt: '2026-02-28T10:00:00+08:00' }),
  note(3, { sourceRecordId: 'r3', noteId: 'n3', text: 'three' }),
  { line: 4, malformed: 'line 4 is not valid JSON: Unexpected end of JSON input' },
  note(5, { sourceRecordId: 'r5', noteId: 'n5', text: 'forbidden words' }),
  note(6, { noteId: 'n6', text: 'no source id' }),
  note(7, { sourceRecordId: 'r7', noteId: 'bad id!', text: 'seven' }),
  note(8, { sourceRecordId: 'r8', noteId: 'n8', text: 'x'.repeat(400) }),
  note(9, { sourceRecordId: 'r9', noteId: 'n1', text: 'one, corrected later in the same delivery' }),
];

function suite(openBackend: () => Promise<TestBackend>): void {
  let db: SqlDatabase;
  let store: SqlEventStore;
  freshStorePerTest(openBackend, ingestTestRegistry, (fresh) => ({ db, store } = fresh));

  const deps = (kinds: readonly IngestKind[] = [testNotesKind], chunkSize = 3): IngestDeps => ({ store, kinds, now: () => NOW, limits: { chunkSize, maxRecordBytes: 300 } });
  const request = (overrides: Partial<IngestRequest> = {}): IngestRequest => ({
    kind: 'test-notes',
    department: 'ecology-environment',
    channel: 'import',
    actor: { consumerId: FEEDS, role: 'department' },
    sourceFingerprint: 'f'.repeat(64),
    ...overrides,
  });
  const eventCount = async () => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events')).rows[0]!.n);
  const noteTexts = async (ids: string[]) => (await store.readStreams<{ type: 'NoteWritten'; data: { text: string } }>(ids.map(noteStreamId))).map((h) => h.map((e) => e.data.text));

  beforeEach(async () => {
    const grants = testGrants(store, () => NOW);
    await grants.register(FEEDS, 'DEPARTMENT', '市生态环境局');
    await grants.grant(FEEDS, ['environment.write'], { actions: ['WRITE'] });
    await grants.register('eco-reader', 'DEPARTMENT', 'ecology-environment');
    await grants.grant('eco-reader', ['environment.write', 'environment.air'], { actions: ['READ'] });
    await grants.register('tax-feeds', 'DEPARTMENT', '市税务局');
    await grants.grant('tax-feeds', ['environment.write'], { actions: ['WRITE'] });
  });

  it('counts, rejects with line, field and rule, and writes each accepted record with its provenance', async () => {
    const report = await runIngestBatch(deps(), request({ batchId: 'eco-1', system: 'online-monitoring' }), fromArray(DELIVERY));
    assert.deepEqual(
      { ...report, rejects: undefined },
      { batchId: 'eco-1', kind: 'test-notes', department: 'ecology-environment', status: 'completed', chunks: 3, resumedChunks: 0, received: 9, created: 3, changed: 1, unchanged: 0, alreadyPresent: 0, rejected: 5, rejects: undefined },
    );
    assert.deepEqual(
      report.rejects.map(({ line, sourceRecordId, code, field }) => ({ line, sourceRecordId, code, field })),
      [
        { line: 4, sourceRecordId: null, code: 'BAD_USER_INPUT', field: null },
        { line: 5, sourceRecordId: 'r5', code: 'BAD_USER_INPUT', field: 'text' },
        { line: 6, sourceRecordId: null, code: 'BAD_USER_INPUT', field: 'sourceRecordId' },
        { line: 7, sourceRecordId: 'r7', code: 'BAD_USER_INPUT', field: 'noteId' },
        { line: 8, sourceRecordId: 'r8', code: 'RECORD_TOO_LARGE', field: null },
      ],
    );
    assert.deepEqual(report.rejects.map((r) => r.message), [
      'line 4 is not valid JSON: Unexpected end of JSON input',
      'text must not start with "forbidden"',
      "sourceRecordId is required: the department's own id of the record, the key of re-delivery",
      'noteId: noteId must be letters, digits and dashes',
      'the record is 447 bytes; the channel takes records of at most 300 bytes',
    ]);
    assert.deepEqual(report.rejects[1]!.fields, (DELIVERY[4] as { fields: unknown }).fields, 'the rejected record comes back as delivered');
    assert.deepEqual(await noteTexts(['n1', 'n2', 'n3', 'n5', 'n8']), [['one', 'one, corrected later in the same delivery'], ['two'], ['three'], [], []]);

    const [written] = await store.readStreams([noteStreamId('n2')]);
    assert.deepEqual(written![0]!.metadata, {
      provenance: { department: 'ecology-environment', system: 'online-monitoring', channel: 'import', collectedAt: '2026-02-28T02:00:00.000Z', batchId: 'eco-1', sourceRecordId: 'r2' },
      actor: { consumerId: FEEDS, role: 'department' },
      grantId: written![0]!.metadata.grantId,
      correlationId: 'eco-1',
    });
    assert.ok(written![0]!.metadata.grantId);
    const batch = await store.readStream(ingestBatchStreamId('eco-1'));
    assert.deepEqual(batch.map((e) => e.type), ['IngestBatchStarted', 'IngestBatchProgressed', 'IngestBatchProgressed', 'IngestBatchProgressed', 'IngestBatchCompleted']);
  });

  it('appends nothing for the same file delivered again, and takes a corrected reject and a changed record', async () => {
    await runIngestBatch(deps(), request({ batchId: 'eco-1' }), fromArray(DELIVERY));
    const before = await eventCount();
    const again = await runIngestBatch(deps(), request({ batchId: 'eco-2' }), fromArray(DELIVERY));
    assert.deepEqual([again.created, again.changed, again.alreadyPresent, again.rejected], [0, 0, 4, 5]);
    // Only the new batch's own stream grew: start, three chunks, completion.
    assert.equal(await eventCount(), before + 5);

    const corrected = await runIngestBatch(
      deps(),
      request({ batchId: 'eco-3', sourceFingerprint: 'c'.repeat(64) }),
      fromArray([
        note(1, { sourceRecordId: 'r5', noteId: 'n5', text: 'fair words', _rejection: 'line 5: text must not start with "forbidden"' }),
        note(2, { sourceRecordId: 'r2', noteId: 'n2', text: 'two, amended' }),
        note(3, { sourceRecordId: 'r3b', noteId: 'n3', text: 'three' }),
      ]),
    );
    assert.deepEqual([corrected.created, corrected.changed, corrected.unchanged, corrected.rejected], [1, 1, 1, 0]);
    assert.deepEqual(await noteTexts(['n5', 'n2']), [['fair words'], ['two', 'two, amended']]);
  });

  it('resumes a batch cut off in the middle: the final state and counts equal one clean run', async () => {
    // A run that dies after its second chunk (the transport's stream breaks).
    async function* dying(): AsyncIterable<RawRecord> {
      for (const [i, r] of DELIVERY.entries()) {
        if (i === 6) throw new Error('killed');
        yield r;
      }
    }
    await assert.rejects(runIngestBatch(deps(), request({ batchId: 'eco-1' }), dying()), /killed/);
    const chunks: boolean[] = [];
    const resumed = await runIngestBatch(deps(), request({ batchId: 'eco-1', onChunk: (c) => chunks.push(c.alreadyCounted) }), fromArray(DELIVERY));
    assert.deepEqual(chunks, [true, true, false]);
    assert.equal(resumed.resumedChunks, 2);
    // What one clean run gives (the first test pins it): the same counts, rejects and notes.
    assert.deepEqual([resumed.received, resumed.created, resumed.changed, resumed.unchanged, resumed.alreadyPresent, resumed.rejected], [9, 3, 1, 0, 0, 5]);
    assert.deepEqual(resumed.rejects.map((r) => r.line), [4, 5, 6, 7, 8]);
    assert.deepEqual(await noteTexts(['n1', 'n2', 'n3', 'n5', 'n8']), [['one', 'one, corrected later in the same delivery'], ['two'], ['three'], [], []]);
    const { state } = await store.aggregate(ingestBatchDecider, ingestBatchStreamId('eco-1'));
    assert.ok(state.status === 'COMPLETED');
    assert.deepEqual(state.totals, { received: 9, created: 3, changed: 1, unchanged: 0, alreadyPresent: 0, rejected: 5 });
    assert.deepEqual((await store.readStream(ingestBatchStreamId('eco-1'))).filter((e) => e.type === 'IngestBatchProgressed').map((e) => (e.data as { chunk: number }).chunk), [0, 1, 2]);

    // Completed: run again, it is answered from the batch and nothing is written.
    const count = await eventCount();
    const replay = await runIngestBatch(deps(), request({ batchId: 'eco-1' }), fromArray(DELIVERY));
    assert.equal(replay.resumedChunks, 3);
    assert.equal(await eventCount(), count);
  });

  it('plans a chunk again when another writer moved a stream it read', async () => {
    let interfered = false;
    const racing: IngestKind = {
      ...testNotesKind,
      async plan(s, records, now) {
        const planned = await testNotesKind.plan(s, records as never, now);
        if (!interfered) {
          interfered = true;
          await s.append(noteStreamId('n1'), [{ type: 'NoteWritten', data: { text: 'by someone else' }, metadata: records[0]!.metadata }]);
        }
        return planned;
      },
    };
    const report = await runIngestBatch(deps([racing]), request({ batchId: 'eco-race' }), fromArray(DELIVERY.slice(0, 3)));
    assert.deepEqual([report.created, report.changed], [2, 1]);
    assert.deepEqual(await noteTexts(['n1']), [['by someone else', 'one']]);
  });

  describe('refusals, with nothing written', () => {
    const refused = async (run: () => Promise<unknown>, code: string, message: RegExp) => {
      const before = await eventCount();
      await assert.rejects(run(), (error: unknown) => {
        assert.ok(error instanceof CityBrainError, String(error));
        assert.equal(error.code, code);
        assert.match(error.message, message);
        return true;
      });
      assert.equal(await eventCount(), before);
    };

    it('an unknown kind, naming the kinds there are', async () => {
      await refused(() => runIngestBatch(deps(), request({ kind: 'spaceships' }), fromArray(DELIVERY)), 'BAD_USER_INPUT', /kind "spaceships" is not one the channel accepts; use one of test-notes/);
    });

    it('a department without a WRITE grant, another department, an unregistered consumer, an unknown department', async () => {
      await refused(() => runIngestBatch(deps(), request({ actor: { consumerId: 'eco-reader', role: 'department' } }), fromArray(DELIVERY)), 'FORBIDDEN', /has no grant valid now with WRITE on environment.write/);
      await refused(() => runIngestBatch(deps(), request({ actor: { consumerId: 'tax-feeds', role: 'department' } }), fromArray(DELIVERY)), 'FORBIDDEN', /registered for 市税务局: it cannot deliver as ecology-environment/);
      await refused(() => runIngestBatch(deps(), request({ actor: { consumerId: 'nobody', role: 'department' } }), fromArray(DELIVERY)), 'FORBIDDEN', /consumer nobody is not registered/);
      await refused(() => runIngestBatch(deps(), request({ department: 'moon-base' }), fromArray(DELIVERY)), 'BAD_USER_INPUT', /department "moon-base" is not in the data catalog/);
    });

    it('a batch id reused for another file, or with a malformed id', async () => {
      await runIngestBatch(deps(), request({ batchId: 'eco-1' }), fromArray(DELIVERY.slice(0, 2)));
      await refused(() => runIngestBatch(deps(), request({ batchId: 'eco-1', sourceFingerprint: 'e'.repeat(64) }), fromArray(DELIVERY)), 'CONFLICT', /batch eco-1 was started .* for another file .* use a new batch id/);
      await refused(() => runIngestBatch(deps(), request({ batchId: 'a/b' }), fromArray(DELIVERY)), 'BAD_USER_INPUT', /batch id "a\/b" must be/);
    });
  });
}

for (const openBackend of BACKENDS) describe(`ingest runner on ${openBackend.name.replace('Backend', '')}`, () => suite(openBackend));
