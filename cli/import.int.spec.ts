/**
 * `import`'s file handling on both stores: NDJSON and CSV, GB 18030 converted, other encodings
 * refused with nothing written, a file cut off in the middle (its last record rejected, the rest
 * counted), and the rejects file, which corrected is delivered again as is. Files many reads and
 * many chunks long, with characters and quoted CSV cells split between reads, keep their line numbers
 * and rejects; the file is read as the batch goes, never held whole.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { CityBrainError } from '../events/errors.ts';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { BACKENDS, freshStorePerTest, type TestBackend } from '../test/helpers/databases.ts';
import { testGrants } from '../test/helpers/grants.ts';
import { ingestTestRegistry, noteStreamId, testNotesKind } from '../test/helpers/ingestKinds.ts';
import { importFile, rejectsFileOf } from './import.ts';

const NOW = new Date('2026-03-01T08:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'cb-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function suite(openBackend: () => Promise<TestBackend>): void {
  let db: SqlDatabase;
  let store: SqlEventStore;
  freshStorePerTest(openBackend, ingestTestRegistry, (fresh) => ({ db, store } = fresh));
  beforeEach(async () => {
    const grants = testGrants(store, () => NOW);
    await grants.register('eco-feeds', 'DEPARTMENT', 'ecology-environment');
    await grants.grant('eco-feeds', ['environment.write'], { actions: ['WRITE'] });
  });

  const run = (file: string, batchId?: string, more: Partial<Parameters<typeof importFile>[1]> = {}) =>
    importFile(
      { store, kinds: [testNotesKind], now: () => NOW, limits: { chunkSize: 2 } },
      { file, kind: 'test-notes', department: 'ecology-environment', actor: { consumerId: 'eco-feeds', role: 'department' }, ...(batchId && { batchId }), ...more },
    );
  const eventCount = async () => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events')).rows[0]!.n);
  const text = async (noteId: string) => (await store.readStream<{ type: 'NoteWritten'; data: { text: string } }>(noteStreamId(noteId))).map((e) => e.data.text);

  it('takes a CSV file, writes its rejects as CSV with _rejection, and takes the corrected rejects file as is', async () => {
    const file = join(dir, `notes-${Date.now()}.csv`);
    writeFileSync(file, 'sourceRecordId,noteId,text\nr1,n1,"one, with a comma"\nr2,n2,forbidden two\nr3,n3,three\nr4,n4\n');
    const { report, rejectsFile } = await run(file);
    assert.deepEqual([report.received, report.created, report.rejected], [4, 2, 2]);
    assert.equal(rejectsFile, rejectsFileOf(file));
    const rejects = readFileSync(rejectsFile!, 'utf8');
    assert.equal(rejects, 'sourceRecordId,noteId,text,_rejection\nr2,n2,forbidden two,"line 3, text: text must not start with ""forbidden"" (BAD_USER_INPUT)"\nr4,n4,,line 5: line 5 has 2 columns; the header has 3 (a row cut off?) (BAD_USER_INPUT)\n');
    assert.deepEqual(await text('n1'), ['one, with a comma']);

    writeFileSync(rejectsFile!, rejects.replace('forbidden two', 'two').replace('r4,n4,,', 'r4,n4,four,'));
    const again = await run(rejectsFile!);
    assert.deepEqual([again.report.created, again.report.rejected, again.rejectsFile], [2, 0, null]);
    assert.deepEqual([await text('n2'), await text('n4')], [['two'], ['four']]);
  });

  it('converts GB 18030 and says so', async () => {
    const file = join(dir, `gb-${Date.now()}.ndjson`);
    // {"sourceRecordId":"g1","noteId":"g1","text":"你好"} in GB 18030: 你 = C4 E3, 好 = BA C3.
    const json = Buffer.from('{"sourceRecordId":"g1","noteId":"g1","text":"XX"}\n');
    const at = json.indexOf('XX');
    writeFileSync(file, Buffer.concat([json.subarray(0, at), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), json.subarray(at + 2)]));
    const { delivery, report } = await run(file);
    assert.equal(delivery.encoding, 'gb18030');
    assert.equal(report.created, 1);
    assert.deepEqual(await text('g1'), ['你好']);
  });

  const refused = async (file: string, code: string, message: RegExp, batchId?: string) => {
    const before = await eventCount();
    await assert.rejects(run(file, batchId), (error: unknown) => {
      assert.ok(error instanceof CityBrainError, String(error));
      assert.equal(error.code, code);
      assert.match(error.message, message);
      return true;
    });
    assert.equal(await eventCount(), before, 'nothing written');
  };

  it('refuses a file that is neither UTF-8 nor GB 18030, an unknown format and a reused batch id, writing nothing', async () => {
    const file = join(dir, `latin-${Date.now()}.ndjson`);
    writeFileSync(file, Buffer.concat([Buffer.from('{"sourceRecordId":"x","noteId":"x","text":"'), Buffer.from([0xff, 0xfe, 0xff]), Buffer.from('"}\n')]));
    await refused(file, 'BAD_USER_INPUT', /is neither UTF-8 nor GB 18030 \(the first byte that is not UTF-8 is at offset 43\)/);
    const xml = join(dir, 'notes.xml');
    writeFileSync(xml, '<notes/>');
    await refused(xml, 'BAD_USER_INPUT', /the extension ".xml" is not a delivery format; use ndjson/);
    const one = join(dir, `one-${Date.now()}.ndjson`);
    writeFileSync(one, '{"sourceRecordId":"a","noteId":"a","text":"a"}\n');
    await run(one, 'batch-x');
    const other = join(dir, `other-${Date.now()}.ndjson`);
    writeFileSync(other, '{"sourceRecordId":"b","noteId":"b","text":"b"}\n');
    await refused(other, 'CONFLICT', /batch batch-x was started .* for another file/, 'batch-x');
  });

  // 50 bytes a read: every line, many 3-byte characters and the quoted cells below are split between reads.
  const small = { readChunkBytes: 50 };
  const note = (i: number) => (i % 7 === 3 ? `forbidden 第${i}条` : i % 11 === 5 ? '' : `第${i}条记录，济南市历下区`);
  const refusedText = (t: string) => t === '' || t.startsWith('forbidden');

  it('reads an NDJSON file of many reads and chunks with the right line numbers and rejects', async () => {
    const file = join(dir, `long-${Date.now()}.ndjson`);
    const lines = Array.from({ length: 60 }, (_, i) => (i === 20 ? '' : i === 41 ? '{"sourceRecordId": broken' : JSON.stringify({ sourceRecordId: `L${i}`, noteId: `L${i}`, text: note(i) })));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { report, rejectsFile, delivery } = await run(file, undefined, small);
    const rejectedLines = lines.flatMap((l, i) => (l !== '' && (i === 41 || refusedText(note(i))) ? [i + 1] : []));
    assert.equal(delivery.total, 59);
    assert.deepEqual([report.received, report.rejected, report.created], [59, rejectedLines.length, 59 - rejectedLines.length]);
    assert.deepEqual(report.rejects.map((r) => r.line), rejectedLines);
    assert.match(report.rejects.find((r) => r.line === 42)!.message, /^line 42 is not valid JSON/);
    assert.deepEqual(await text('L58'), [note(58)]);
    const rejects = readFileSync(rejectsFile!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sourceRecordId?: string; text?: string; _rejection: { line: number }; _malformed?: string });
    assert.deepEqual(rejects.map((r) => r._rejection.line), rejectedLines);
    assert.equal(rejects.find((r) => r._rejection.line === 42)!._malformed, '{"sourceRecordId": broken');
    assert.equal(rejects.find((r) => r.sourceRecordId === 'L3')!.text, 'forbidden 第3条');
  });

  it('reads a CSV file of many reads and chunks, quoted cells with newlines split between reads, with the right line numbers and rejects', async () => {
    const file = join(dir, `long-${Date.now()}.csv`);
    // Every 4th record's text is quoted with a newline inside: it takes two lines.
    const quoted = (i: number) => i % 4 === 0 && i !== 30;
    const rows = Array.from({ length: 40 }, (_, i) => (i === 30 ? `C${i},C${i}` : `C${i},C${i},${quoted(i) ? `"${note(i)}\n第二行, ""引号"""` : note(i)}`));
    writeFileSync(file, `sourceRecordId,noteId,text\n${rows.join('\n')}\n`);
    const { report, rejectsFile } = await run(file, undefined, small);
    const lineOf: number[] = [];
    rows.forEach((_, i) => lineOf.push(i === 0 ? 2 : lineOf[i - 1]! + (quoted(i - 1) ? 2 : 1)));
    const rejected = rows.flatMap((_, i) => (i === 30 || (!quoted(i) && refusedText(note(i))) || (quoted(i) && note(i).startsWith('forbidden')) ? [lineOf[i]!] : []));
    assert.deepEqual([report.received, report.rejected], [40, rejected.length]);
    assert.deepEqual(report.rejects.map((r) => r.line), rejected);
    assert.match(report.rejects.find((r) => r.line === lineOf[30])!.message, new RegExp(`^line ${lineOf[30]} has 2 columns`));
    assert.deepEqual(await text('C8'), [`${note(8)}\n第二行, "引号"`]);
    const written = readFileSync(rejectsFile!, 'utf8');
    assert.ok(written.startsWith('sourceRecordId,noteId,text,_rejection\n'));
    assert.match(written, new RegExp(`\nC30,C30,,line ${lineOf[30]}: line ${lineOf[30]} has 2 columns`));
    assert.match(written, new RegExp(`\nC3,C3,forbidden 第3条,"line ${lineOf[3]}, text: text must not start`));
  });

  it('converts GB 18030 split between reads, and names the offset of a bad byte many reads into the file', async () => {
    const gb = join(dir, `gb-long-${Date.now()}.ndjson`);
    // 你好 in GB 18030 (C4 E3 BA C3), in records long enough for some to straddle a read.
    const record = (i: number) => Buffer.concat([Buffer.from(`{"sourceRecordId":"g${i}","noteId":"g${i}","text":"`), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from(`${i}"}\n`)]);
    writeFileSync(gb, Buffer.concat(Array.from({ length: 30 }, (_, i) => record(i))));
    const { delivery, report } = await run(gb, undefined, small);
    assert.deepEqual([delivery.encoding, report.created], ['gb18030', 30]);
    assert.deepEqual(await text('g29'), ['你好29']);

    const bad = join(dir, `bad-long-${Date.now()}.ndjson`);
    const good = Buffer.from(Array.from({ length: 10 }, (_, i) => JSON.stringify({ sourceRecordId: `b${i}`, noteId: `b${i}`, text: '济南' })).join('\n'));
    writeFileSync(bad, Buffer.concat([good, Buffer.from([0x0a, 0xff, 0xfe, 0xff])]));
    await refused(bad, 'BAD_USER_INPUT', new RegExp(`\\(the first byte that is not UTF-8 is at offset ${good.length + 1}\\)`));
  });

  it('reads the file as the batch goes: truncated once the first chunk is committed, the rest is never read', async () => {
    const file = join(dir, `streamed-${Date.now()}.ndjson`);
    writeFileSync(file, Array.from({ length: 200 }, (_, i) => `${JSON.stringify({ sourceRecordId: `s${i}`, noteId: `s${i}`, text: `note ${i}` })}\n`).join(''));
    const { report, delivery } = await run(file, undefined, { ...small, onChunk: (chunk) => void (chunk.chunk === 0 && truncateSync(file, 0)) });
    assert.equal(delivery.total, 200);
    assert.ok(report.received < 20, `${report.received} records received: the file was held whole, not read as the batch went`);
  });

  it('rejects the last record of a file cut off in the middle, and a malformed line, and counts the rest', async () => {
    const file = join(dir, `cut-${Date.now()}.ndjson`);
    writeFileSync(file, '{"sourceRecordId":"c1","noteId":"c1","text":"one"}\n{"sourceRecordId": c2}\n\n{"sourceRecordId":"c3","noteId":"c3","text":"three"}\n{"sourceRecordId":"c4","noteId":"c4","te');
    const { report, rejectsFile } = await run(file);
    assert.deepEqual([report.received, report.created, report.rejected], [4, 2, 2]);
    assert.deepEqual(report.rejects.map((r) => [r.line, r.message.replace(/: .*? \(/, ': … (')]), [
      [2, report.rejects[0]!.message],
      [5, 'line 5 is not valid JSON: … (the file ends in the middle of this record: cut off?)'],
    ]);
    assert.match(report.rejects[0]!.message, /^line 2 is not valid JSON/);
    const lines = readFileSync(rejectsFile!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _rejection: { line: number }; _malformed: string });
    assert.deepEqual(lines.map((l) => [l._rejection.line, l._malformed]), [[2, '{"sourceRecordId": c2}'], [5, '{"sourceRecordId":"c4","noteId":"c4","te']]);
  });
}

for (const openBackend of BACKENDS) describe(`import files on ${openBackend.name.replace('Backend', '')}`, () => suite(openBackend));
