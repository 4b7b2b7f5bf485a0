/**
 * `city-brain import <file>`: a department's file delivered through the aggregation channel
 * (`runIngestBatch`, channel `import`). Reads NDJSON or CSV (header row), UTF-8; GB 18030 is
 * recognised (bytes that are not UTF-8 but decode as GB 18030) and converted; anything else is
 * refused before anything is written. Writes the rejected records next to the input, in its format,
 * each with a `_rejection` explaining it, so the file can be corrected and delivered again as is.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { ValidationError } from '../events/errors.ts';
import { findKind, runIngestBatch } from '../ingest/runner.ts';
import type { BatchReport, ChunkReport, IngestDeps, IngestRequest, RawRecord, RejectedRecord } from '../ingest/types.ts';

export type DeliveryFormat = 'ndjson' | 'csv';
export type DeliveryEncoding = 'utf-8' | 'gb18030';

export interface Delivery {
  format: DeliveryFormat;
  encoding: DeliveryEncoding;
  /** SHA-256 of the file's bytes: a batch id given again resumes only the same file. */
  fingerprint: string;
  /** Records (data lines or rows), for the progress bar. */
  total: number;
  /** CSV: the header row (the rejects file repeats it). */
  header: string[] | null;
  /** Read once, in order, as the runner asks for them: the file is read in chunks, never held whole. */
  records: AsyncIterable<RawRecord>;
  /** CSV rows with the wrong number of cells, by line, so their rejects can be written back as delivered. */
  cells: Map<number, string[]>;
}

/** Bytes read from the file at a time. */
export const READ_CHUNK_BYTES = 64 * 1024;

export function formatOf(file: string, given?: string): DeliveryFormat {
  const format = (given ?? extname(file).slice(1)).toLowerCase();
  if (format === 'ndjson' || format === 'jsonl') return 'ndjson';
  if (format === 'csv') return 'csv';
  throw new ValidationError(`${given ? `--format "${given}"` : `${basename(file)}: the extension "${extname(file)}"`} is not a delivery format; use ndjson (or .jsonl) or csv, or say --format`, { field: 'format' });
}

/** The file's bytes, `readChunkBytes` at a time. */
const byteChunks = (file: string, readChunkBytes: number): AsyncIterable<Buffer> => createReadStream(file, { highWaterMark: readChunkBytes });

/** The file's text as `encoding` decodes it (a UTF-8 BOM dropped), chunk by chunk; a byte it cannot decode throws. */
async function* textChunks(file: string, encoding: DeliveryEncoding, readChunkBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  for await (const bytes of byteChunks(file, readChunkBytes)) yield decoder.decode(bytes, { stream: true });
  yield decoder.decode();
}

/** The offset of the first byte that is not UTF-8, found reading the file in chunks; null when it is UTF-8 throughout. */
async function firstInvalidUtf8Offset(file: string, readChunkBytes: number): Promise<number | null> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let previous: Buffer = Buffer.alloc(0);
  for await (const bytes of byteChunks(file, readChunkBytes)) {
    try {
      decoder.decode(bytes, { stream: true });
    } catch {
      // Every sequence begun before the previous chunk ended well: search from its first lead byte (continuation bytes are 10xxxxxx).
      let lead = 0;
      while (lead < previous.length && lead < 3 && (previous[lead]! & 0xc0) === 0x80) lead++;
      return offset - previous.length + lead + firstInvalidUtf8(Buffer.concat([previous.subarray(lead), bytes]));
    }
    offset += bytes.length;
    previous = bytes;
  }
  try {
    decoder.decode();
    return null;
  } catch {
    // The file ends in the middle of a sequence.
    return offset;
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.length;
  // The shortest prefix that does not decode ends at the first bad byte (give or take a sequence).
  while (low < high) {
    const mid = (low + high) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      low = mid + 1;
    } catch {
      high = mid;
    }
  }
  return low;
}

/** UTF-8, or GB 18030 when the file is not UTF-8 but decodes as it; refused when it is neither. */
async function encodingOf(file: string, readChunkBytes: number): Promise<DeliveryEncoding> {
  const invalidAt = await firstInvalidUtf8Offset(file, readChunkBytes);
  if (invalidAt === null) return 'utf-8';
  try {
    for await (const _text of textChunks(file, 'gb18030', readChunkBytes));
    return 'gb18030';
  } catch {
    throw new ValidationError(`${basename(file)} is neither UTF-8 nor GB 18030 (the first byte that is not UTF-8 is at offset ${invalidAt}); convert it to UTF-8 and deliver it again`, { field: 'encoding', offset: invalidAt });
  }
}

/** The text's lines, split across chunks: each with its number and whether it is the last, unterminated one. */
async function* linesOf(text: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string; last: boolean }> {
  let line = 0;
  let rest = '';
  for await (const chunk of text) {
    rest += chunk;
    let at = 0;
    for (let end = rest.indexOf('\n'); end !== -1; at = end + 1, end = rest.indexOf('\n', at)) {
      line++;
      const raw = rest.slice(at, end);
      yield { line, text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, last: false };
    }
    rest = rest.slice(at);
  }
  if (rest !== '') yield { line: line + 1, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest, last: true };
}

/** The records of an NDJSON text, parsed one by one as the runner asks for them; blank lines skipped. */
async function* ndjsonRecords(text: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  for await (const { line, text: record, last } of linesOf(text)) if (record.trim() !== '') yield ndjsonRecord(line, record, last);
}

function ndjsonRecord(line: number, text: string, last: boolean): RawRecord {
  const bytes = Buffer.byteLength(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const cutOff = last ? ' (the file ends in the middle of this record: cut off?)' : '';
    return { line, malformed: `line ${line} is not valid JSON: ${(error as Error).message}${cutOff}`, bytes, text };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { line, malformed: `line ${line} is not a JSON object`, bytes, text };
  return { line, fields: parsed as Record<string, unknown>, bytes, text };
}

interface CsvRow {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** The CSV text's rows as they are parsed; a text that ends inside a quoted cell ends with `{ cutOff }` naming the line after the last row. */
async function* csvRows(text: AsyncIterable<string>): AsyncGenerator<CsvRow | { cutOff: string; line: number }> {
  // pipeline, not pipe: a text that fails to decode ends the parser with its error instead of leaving it waiting.
  const parser = pipeline(Readable.from(text), parse({ relax_column_count: true, info: true, raw: true, skip_empty_lines: true, bom: true }), () => undefined);
  let lastLine = 0;
  try {
    for await (const row of parser as AsyncIterable<CsvRow>) {
      lastLine = row.info.lines;
      yield row;
    }
  } catch (error) {
    // A decoding error (the file changed since it was checked) is not a cut-off row.
    if (error instanceof TypeError) throw error;
    yield { cutOff: (error as Error).message, line: lastLine + 1 };
  }
}

const NO_HEADER = () => new ValidationError('the CSV file has no header row: its first row names the fields', { field: 'header' });

/** The records of a CSV text (the header row first), row by row; `cells` gets the rows whose cells do not match the header. */
async function* csvRecords(text: AsyncIterable<string>, cells: Map<number, string[]>): AsyncGenerator<RawRecord> {
  let header: string[] | undefined;
  for await (const row of csvRows(text)) {
    if ('cutOff' in row) {
      if (!header) throw NO_HEADER();
      yield { line: row.line, malformed: `line ${row.line}: ${row.cutOff} (the file ends in the middle of this record: cut off?)` };
      return;
    }
    if (!header) {
      header = row.record.map((h) => h.trim());
      continue;
    }
    const { record, raw, info } = row;
    // The line the record starts on: csv-parse counts to its end, and its raw text carries the empty lines skipped before it.
    const own = raw.replace(/\r?\n$/, '').replace(/^(\r?\n)+/, '');
    const line = info.lines - (own.match(/\n/g)?.length ?? 0);
    const bytes = Buffer.byteLength(raw);
    if (record.length !== header.length) {
      cells.set(line, record);
      yield { line, malformed: `line ${line} has ${record.length} columns; the header has ${header.length}${record.length < header.length ? ' (a row cut off?)' : ''}`, bytes, text: raw };
      continue;
    }
    // An empty cell is a field left out, as in NDJSON.
    const fields = Object.fromEntries(header.map((h, i) => [h, record[i]!]).filter(([, v]) => v !== ''));
    yield { line, fields, bytes, text: raw };
  }
  if (!header) throw NO_HEADER();
}

/**
 * The delivery, checked before anything is written: its encoding, fingerprint, record count and
 * (CSV) header, each found reading the file in chunks; its records are read again, in chunks, as
 * the runner asks for them. Memory holds a read chunk and a chunk of records, whatever the file's size.
 */
export async function readDelivery(file: string, format?: string, readChunkBytes = READ_CHUNK_BYTES): Promise<Delivery> {
  const kind = formatOf(file, format);
  const encoding = await encodingOf(file, readChunkBytes);
  const hash = createHash('sha256');
  for await (const bytes of byteChunks(file, readChunkBytes)) hash.update(bytes);
  const text = () => textChunks(file, encoding, readChunkBytes);
  let total = 0;
  let header: string[] | null = null;
  if (kind === 'ndjson') {
    for await (const { text: line } of linesOf(text())) if (line.trim() !== '') total++;
  } else {
    for await (const row of csvRows(text())) {
      if ('cutOff' in row) total++;
      else if (header) total++;
      else header = row.record.map((h) => h.trim());
    }
    if (!header) throw NO_HEADER();
  }
  const cells = new Map<number, string[]>();
  return { format: kind, encoding, fingerprint: hash.digest('hex'), total, header, cells, records: kind === 'ndjson' ? ndjsonRecords(text()) : csvRecords(text(), cells) };
}

/** `<name>.rejects.<ext>` beside the input. */
export function rejectsFileOf(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.rejects${ext || '.ndjson'}`);
}

const rejectionText = (r: RejectedRecord): string => `line ${r.line}${r.field ? `, ${r.field}` : ''}: ${r.message} (${r.code})`;

function csvCell(value: unknown): string {
  const text = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rejects as a file of the input's format: the records as delivered, each with its `_rejection`. */
export function rejectsFileText(delivery: Pick<Delivery, 'format' | 'header' | 'cells'>, rejects: readonly RejectedRecord[]): string {
  if (delivery.format === 'ndjson') {
    return rejects
      .map((r) => {
        const rejection = { line: r.line, field: r.field, code: r.code, message: r.message };
        return JSON.stringify(r.fields ? { ...r.fields, _rejection: rejection } : { _rejection: rejection, _malformed: r.text ?? '' });
      })
      .map((l) => `${l}\n`)
      .join('');
  }
  const header = (delivery.header ?? []).filter((h) => h !== '_rejection');
  const rows = rejects.map((r) => {
    const values = r.fields ? header.map((h) => r.fields![h]) : header.map((_, i) => delivery.cells.get(r.line)?.[i]);
    return [...values, rejectionText(r)].map(csvCell).join(',');
  });
  return [[...header, '_rejection'].map(csvCell).join(','), ...rows].map((l) => `${l}\n`).join('');
}

export interface ImportOptions extends Omit<IngestRequest, 'channel' | 'sourceFingerprint' | 'onChunk'> {
  file: string;
  format?: string;
  /** Bytes read at a time. @default READ_CHUNK_BYTES */
  readChunkBytes?: number;
  onDelivery?: (delivery: Delivery) => void;
  onChunk?: (chunk: ChunkReport) => void;
}

export interface ImportResult {
  report: BatchReport;
  delivery: Omit<Delivery, 'records' | 'cells'>;
  /** Where the rejects were written; null when nothing was rejected (a stale rejects file is removed). */
  rejectsFile: string | null;
}

export async function importFile(deps: IngestDeps, options: ImportOptions): Promise<ImportResult> {
  const { file, format, readChunkBytes, onDelivery, onChunk, ...request } = options;
  findKind(deps.kinds, request.kind);
  const delivery = await readDelivery(file, format, readChunkBytes);
  onDelivery?.(delivery);
  const report = await runIngestBatch(deps, { ...request, channel: 'import', sourceFingerprint: delivery.fingerprint, ...(onChunk && { onChunk }) }, delivery.records);
  const target = rejectsFileOf(file);
  let rejectsFile: string | null = null;
  if (report.rejects.length > 0) {
    writeFileSync(target, rejectsFileText(delivery, report.rejects));
    rejectsFile = target;
  } else if (existsSync(target)) rmSync(target);
  const { records: _records, cells: _cells, ...described } = delivery;
  return { report, delivery: described, rejectsFile };
}
