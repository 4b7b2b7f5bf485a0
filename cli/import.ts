/**
 * `city-brain import <file>`: a department's file delivered through the aggregation channel
 * (`runIngestBatch`, channel `import`). Reads NDJSON or CSV (header row), UTF-8; GB 18030 is
 * recognised (bytes that are not UTF-8 but decode as GB 18030) and converted; anything else is
 * refused before anything is written. Writes the rejected records next to the input, in its format,
 * each with a `_rejection` explaining it, so the file can be corrected and delivered again as is.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
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
  records: RawRecord[];
  /** CSV rows with the wrong number of cells, by line, so their rejects can be written back as delivered. */
  cells: Map<number, string[]>;
}

export function formatOf(file: string, given?: string): DeliveryFormat {
  const format = (given ?? extname(file).slice(1)).toLowerCase();
  if (format === 'ndjson' || format === 'jsonl') return 'ndjson';
  if (format === 'csv') return 'csv';
  throw new ValidationError(`${given ? `--format "${given}"` : `${basename(file)}: the extension "${extname(file)}"`} is not a delivery format; use ndjson (or .jsonl) or csv, or say --format`, { field: 'format' });
}

/** The file's text: UTF-8 (a BOM dropped), or GB 18030 converted; refused when it is neither. */
export function decodeDelivery(bytes: Uint8Array, file: string): { text: string; encoding: DeliveryEncoding } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), encoding: 'utf-8' };
  } catch {
    try {
      return { text: new TextDecoder('gb18030', { fatal: true }).decode(bytes), encoding: 'gb18030' };
    } catch {
      const at = firstInvalidUtf8(bytes);
      throw new ValidationError(`${basename(file)} is neither UTF-8 nor GB 18030 (the first byte that is not UTF-8 is at offset ${at}); convert it to UTF-8 and deliver it again`, { field: 'encoding', offset: at });
    }
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

export function readNdjson(text: string): Pick<Delivery, 'records' | 'total'> {
  const records: RawRecord[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const bytes = Buffer.byteLength(line);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      const cutOff = i === lines.length - 1 ? ' (the file ends in the middle of this record: cut off?)' : '';
      records.push({ line: i + 1, malformed: `line ${i + 1} is not valid JSON: ${(error as Error).message}${cutOff}`, bytes, text: line });
      continue;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) records.push({ line: i + 1, malformed: `line ${i + 1} is not a JSON object`, bytes, text: line });
    else records.push({ line: i + 1, fields: parsed as Record<string, unknown>, bytes, text: line });
  }
  return { records, total: records.length };
}

interface CsvRow {
  record: string[];
  raw: string;
  info: { lines: number };
}

export async function readCsv(text: string): Promise<Pick<Delivery, 'records' | 'total' | 'header' | 'cells'>> {
  const parser = parse({ relax_column_count: true, info: true, raw: true, skip_empty_lines: true, bom: true });
  const rows: CsvRow[] = [];
  parser.on('data', (row: CsvRow) => rows.push(row));
  const ended = new Promise<Error | null>((resolve) => {
    parser.on('error', resolve);
    parser.on('end', () => resolve(null));
  });
  parser.end(text);
  const failure = await ended;
  const [head, ...body] = rows;
  if (!head) throw new ValidationError('the CSV file has no header row: its first row names the fields', { field: 'header' });
  const header = head.record.map((h) => h.trim());
  const records: RawRecord[] = [];
  const cells = new Map<number, string[]>();
  for (const { record, raw, info } of body) {
    const line = info.lines;
    const bytes = Buffer.byteLength(raw);
    if (record.length !== header.length) {
      cells.set(line, record);
      records.push({ line, malformed: `line ${line} has ${record.length} columns; the header has ${header.length}${record.length < header.length ? ' (a row cut off?)' : ''}`, bytes, text: raw });
      continue;
    }
    // An empty cell is a field left out, as in NDJSON.
    const fields = Object.fromEntries(header.map((h, i) => [h, record[i]!]).filter(([, v]) => v !== ''));
    records.push({ line, fields, bytes, text: raw });
  }
  if (failure) {
    const line = (body.at(-1) ?? head).info.lines + 1;
    records.push({ line, malformed: `line ${line}: ${failure.message} (the file ends in the middle of this record: cut off?)` });
  }
  return { records, total: records.length, header, cells };
}

export async function readDelivery(file: string, format?: string): Promise<Delivery> {
  const kind = formatOf(file, format);
  const bytes = readFileSync(file);
  const { text, encoding } = decodeDelivery(bytes, file);
  const fingerprint = createHash('sha256').update(bytes).digest('hex');
  if (kind === 'ndjson') return { format: kind, encoding, fingerprint, header: null, cells: new Map(), ...readNdjson(text) };
  return { format: kind, encoding, fingerprint, ...(await readCsv(text)) };
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
  const { file, format, onDelivery, onChunk, ...request } = options;
  findKind(deps.kinds, request.kind);
  const delivery = await readDelivery(file, format);
  onDelivery?.(delivery);
  async function* records(): AsyncIterable<RawRecord> {
    yield* delivery.records;
  }
  const report = await runIngestBatch(deps, { ...request, channel: 'import', sourceFingerprint: delivery.fingerprint, ...(onChunk && { onChunk }) }, records());
  const target = rejectsFileOf(file);
  let rejectsFile: string | null = null;
  if (report.rejects.length > 0) {
    writeFileSync(target, rejectsFileText(delivery, report.rejects));
    rejectsFile = target;
  } else if (existsSync(target)) rmSync(target);
  const { records: _records, cells: _cells, ...described } = delivery;
  return { report, delivery: described, rejectsFile };
}
