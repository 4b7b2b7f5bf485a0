/**
 * The HTTP transport's pure parts: the body's lines as they arrive in arbitrary pieces (a line split
 * across pieces, CRLF, blank lines, an oversized line never kept, the body limit, a last line without
 * a newline) and the delivery's fingerprint from its headers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprintOf, ndjsonLines } from './http.ts';
import type { RawRecord } from './types.ts';

async function linesOf(pieces: readonly string[], limits = { maxRecordBytes: 40, maxBodyBytes: 10_000 }): Promise<RawRecord[]> {
  async function* body() {
    for (const p of pieces) yield Buffer.from(p);
  }
  const out: RawRecord[] = [];
  for await (const r of ndjsonLines(body(), limits)) out.push(r);
  return out;
}

const shape = (r: RawRecord) => ('malformed' in r ? { line: r.line, malformed: true } : { line: r.line, fields: r.fields, bytes: r.bytes });

describe('ndjsonLines', () => {
  it('joins a line split across pieces, drops CR and blank lines, keeps line numbers', async () => {
    const records = await linesOf(['{"a":', '1}\r\n\n{"b"', ':2}\n{"c":3}']);
    assert.deepEqual(records.map(shape), [
      { line: 1, fields: { a: 1 }, bytes: 8 },
      { line: 3, fields: { b: 2 }, bytes: 7 },
      { line: 4, fields: { c: 3 }, bytes: 7 },
    ]);
  });

  it('never keeps an oversized line: it comes out with its size (the runner rejects it), the next line intact', async () => {
    const long = `{"x":"${'y'.repeat(60)}"}`;
    const records = await linesOf([long.slice(0, 30), long.slice(30), '\n{"ok":1}\n']);
    assert.deepEqual(records.map(shape), [
      { line: 1, fields: {}, bytes: long.length },
      { line: 2, fields: { ok: 1 }, bytes: 8 },
    ]);
  });

  it('a line that is not a JSON object, and the body past its limit (20 bytes: three whole lines), come out malformed', async () => {
    const records = await linesOf(['[1]\n{"a":1}\n{"b":2}\n{"c":3}\n'], { maxRecordBytes: 40, maxBodyBytes: 20 });
    assert.deepEqual(records.map(shape), [
      { line: 1, malformed: true },
      { line: 2, fields: { a: 1 }, bytes: 7 },
      { line: 3, fields: { b: 2 }, bytes: 7 },
      { line: 4, malformed: true },
    ]);
    assert.match((records[3] as { malformed: string }).malformed, /larger than 20 bytes: line 4 and everything after it was not read/);
  });
});

describe('fingerprintOf', () => {
  it('takes x-batch-fingerprint, else the SHA digest of content-digest, else none', () => {
    assert.equal(fingerprintOf({ 'x-batch-fingerprint': ' abc ' }), 'abc');
    assert.equal(fingerprintOf({ 'content-digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' }), 'sha-256:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=');
    assert.equal(fingerprintOf({ 'content-digest': 'md5=:abc=:' }), undefined);
    assert.equal(fingerprintOf({}), undefined);
  });
});
