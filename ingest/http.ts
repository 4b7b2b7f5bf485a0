/**
 * `POST /ingest/<kind>?department=<code>[&batch=<id>][&system=<name>]` at the gateway: NDJSON streamed
 * into the aggregation channel (`runIngestBatch`, channel `http`). The caller is authenticated with
 * its client token exactly as at `/graphql` and is the batch's actor; the kind, the department and
 * the WRITE grant are checked before anything is answered, so a refusal writes nothing. Then the
 * service answers 202 with the batch id and reads the body in the background, line by line (never
 * the whole body at once); `ingestBatch(id)` shows the progress and the rejects.
 *
 * Resuming: a delivery that names its batch id and a fingerprint (`x-batch-fingerprint`, or an RFC
 * 9530 `content-digest`) resumes that batch when sent again with the same fingerprint: the chunks
 * already counted are skipped. A client that disconnects mid-body completes the batch with what
 * arrived (its last, partial line rejected as cut off).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CityBrainError, ConflictError, ForbiddenError, UnauthenticatedError, ValidationError } from '../events/errors.ts';
import { authenticateClient } from '../gateway/credentials.ts';
import { GRAPHQL_PATH, unauthenticatedError } from '../gateway/server.ts';
import type { ClientTokenConfig } from '../platform/auth.ts';
import { ingestBatchDecider } from '../subgraphs/governance/ingest/decider.ts';
import { ingestBatchStreamId } from '../subgraphs/governance/ingest/events.ts';
import { IngestMetrics, UNKNOWN_KIND } from './metrics.ts';
import { authorizeDelivery, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_RECORD_BYTES, findKind, newBatchId, runIngestBatch } from './runner.ts';
import type { IngestDeps, IngestRequest, RawRecord } from './types.ts';

export const INGEST_PATH = '/ingest/';
/** @default 1 GiB */
export const DEFAULT_MAX_INGEST_BODY_BYTES = 1024 ** 3;

export interface IngestRouteOptions {
  ingest: IngestDeps;
  client: ClientTokenConfig;
  /** A body larger than this: refused up front by its content-length, else cut at the limit (the rest is not read). */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface IngestRoute {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Batches still running in the background (tests and shutdown wait on them). */
  running(): Promise<void>;
  /** Deliveries and records counted; `metrics.registerIn` the gateway's registry to serve them at `/metrics`. */
  metrics: IngestMetrics;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const STATUS_OF: Record<string, number> = { BAD_USER_INPUT: 400, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409 };

/** The fingerprint the client gives the delivery: `x-batch-fingerprint`, else the digest in `content-digest`. */
export function fingerprintOf(headers: IncomingMessage['headers']): string | undefined {
  const given = headers['x-batch-fingerprint'];
  if (typeof given === 'string' && given.trim() !== '') return given.trim();
  const digest = headers['content-digest'];
  if (typeof digest !== 'string') return undefined;
  const sha = /sha-(256|512)=:([A-Za-z0-9+/=]+):/.exec(digest);
  return sha ? `sha-${sha[1]}:${sha[2]}` : undefined;
}

/**
 * The body's lines as raw records, read as they arrive. A line longer than `maxRecordBytes` is not
 * kept: it comes out as an oversized record (the runner rejects it by its size). The body past
 * `maxBodyBytes`, and a last line the client never finished (it disconnected), come out as malformed.
 */
export async function* ndjsonLines(body: AsyncIterable<Buffer>, limits: { maxRecordBytes: number; maxBodyBytes: number }): AsyncIterable<RawRecord> {
  let line = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let oversized = false;
  let total = 0;
  const record = (bytes: Buffer): RawRecord | undefined => {
    line++;
    const text = bytes.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { line, malformed: `line ${line} is not valid JSON: ${(error as Error).message}`, bytes: bytes.length, text };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { line, malformed: `line ${line} is not a JSON object`, bytes: bytes.length, text };
    return { line, fields: parsed as Record<string, unknown>, bytes: bytes.length };
  };
  const endOfLine = (): RawRecord | undefined => {
    const out = oversized ? (line++, { line, fields: {}, bytes: size }) : record(Buffer.concat(parts));
    parts = [];
    size = 0;
    oversized = false;
    return out;
  };
  try {
    for await (const chunk of body) {
      total += chunk.length;
      let view = chunk;
      if (total > limits.maxBodyBytes) view = chunk.subarray(0, chunk.length - (total - limits.maxBodyBytes));
      for (let at = view.indexOf(0x0a); at !== -1; at = view.indexOf(0x0a)) {
        if (!oversized) parts.push(view.subarray(0, at));
        size += at;
        if (size > limits.maxRecordBytes) oversized = true;
        const out = endOfLine();
        if (out) yield out;
        view = view.subarray(at + 1);
      }
      size += view.length;
      if (size > limits.maxRecordBytes) {
        oversized = true;
        parts = [];
      } else parts.push(view);
      if (total > limits.maxBodyBytes) {
        line++;
        yield { line, malformed: `the body is larger than ${limits.maxBodyBytes} bytes: line ${line} and everything after it was not read; deliver the rest in another batch` };
        return;
      }
    }
  } catch (error) {
    // The client went away mid-body: what arrived is counted; an unfinished last line is cut off.
    if (size > 0) {
      line++;
      yield { line, malformed: `line ${line} was cut off: the connection closed in the middle of it (${(error as Error).message})` };
    }
    return;
  }
  if (size > 0) {
    const out = endOfLine();
    if (out) yield out;
  }
}

export function createIngestRoute(options: IngestRouteOptions): IngestRoute {
  const { ingest, client } = options;
  const logger = (options.logger ?? ingest.logger)?.child({ component: 'ingest-http' });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_INGEST_BODY_BYTES;
  const maxRecordBytes = ingest.limits?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const inFlight = new Set<Promise<unknown>>();
  const metrics = new IngestMetrics();
  const kindLabel = (url: URL): string => {
    const named = decodeURIComponent(url.pathname.slice(INGEST_PATH.length));
    return ingest.kinds.some((k) => k.name === named) ? named : UNKNOWN_KIND;
  };

  async function accept(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST with an NDJSON body' }, { allow: 'POST' });
    let actor: IngestRequest['actor'];
    try {
      const { caller } = await authenticateClient(req.headers, client);
      actor = { consumerId: caller.consumerId, role: caller.role };
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      logger?.info({ reason: error.details.reason, remote: req.socket.remoteAddress }, 'refused an unauthenticated delivery');
      return send(res, 401, { errors: [unauthenticatedError(error)] }, { 'www-authenticate': 'Bearer realm="city-brain", error="invalid_token"' });
    }
    const kindName = decodeURIComponent(url.pathname.slice(INGEST_PATH.length));
    const department = url.searchParams.get('department');
    if (!department) throw new ValidationError('the query parameter department is required: the delivering department (catalog short name)', { field: 'department' });
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > maxBodyBytes) return send(res, 413, { error: `the body is ${length} bytes; a delivery takes at most ${maxBodyBytes}: split it into batches`, code: 'PAYLOAD_TOO_LARGE' });
    const kind = findKind(ingest.kinds, kindName);
    const now = ingest.now();
    const request: IngestRequest = {
      kind: kind.name,
      department,
      channel: 'http',
      actor,
      batchId: url.searchParams.get('batch') ?? newBatchId(department, now),
      ...(url.searchParams.get('system') && { system: url.searchParams.get('system')! }),
      ...(fingerprintOf(req.headers) && { sourceFingerprint: fingerprintOf(req.headers)! }),
    };
    const grantId = await authorizeDelivery(ingest, request, kind, now);
    // The batch id against the batch as it stands (pure): a reuse for another delivery is refused before 202.
    const batchId = request.batchId!;
    const { state } = await ingest.store.aggregate(ingestBatchDecider, ingestBatchStreamId(batchId));
    ingestBatchDecider.decide(
      {
        type: 'startIngestBatch',
        data: { batchId, kind: kind.name, resource: kind.resource, department, system: request.system ?? kind.system, channel: 'http', fingerprint: request.sourceFingerprint ?? null, chunkSize: ingest.limits?.chunkSize ?? DEFAULT_CHUNK_SIZE, consumerId: actor.consumerId, grantId },
        metadata: { now: now.toISOString() },
      },
      state,
    );
    const links = {
      graphql: GRAPHQL_PATH,
      query: `query { ingestBatch(id: ${JSON.stringify(batchId)}) { id status received created changed unchanged alreadyPresent rejected } }`,
    };
    if (state.status === 'COMPLETED') return send(res, 200, { batchId, status: 'completed', links });

    // The answer goes out now; the response ends once the body is read (ending it earlier would make
    // Node discard the rest of the body).
    const text = JSON.stringify({ batchId, status: 'running', links });
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', location: links.graphql });
    res.write(text);
    const body = ndjsonLines(req as AsyncIterable<Buffer>, { maxRecordBytes, maxBodyBytes });
    async function* andThenEnd(): AsyncIterable<RawRecord> {
      try {
        yield* body;
      } finally {
        res.end();
        // Past the body limit the rest is not read: drop the connection rather than drain it.
        if (!req.readableEnded) req.destroy();
      }
    }
    const run = runIngestBatch(ingest, { ...request, grantId, onChunk: (chunk) => metrics.countChunk(kind.name, chunk) }, andThenEnd())
      .then((report) => logger?.info({ batchId, kind: kind.name, department, received: report.received, rejected: report.rejected, resumedChunks: report.resumedChunks }, 'http delivery completed'))
      .catch((error: unknown) => logger?.error({ err: error, batchId }, 'http delivery failed: the batch stays running; deliver it again with the same batch id and fingerprint to resume'))
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
  }

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    try {
      await accept(req, res, url);
    } catch (error) {
      if (!(error instanceof CityBrainError)) throw error;
      const status = error instanceof ForbiddenError ? 403 : error instanceof ConflictError ? 409 : (STATUS_OF[error.code] ?? 400);
      // An unknown kind is a path that names nothing: 404, with the kinds there are.
      const unknownKind = error.details.field === 'kind';
      send(res, unknownKind ? 404 : status, { error: error.message, code: error.code, ...error.details });
    } finally {
      // Headers are out by now (202 before the body is read): the status the caller was answered with.
      if (res.headersSent) metrics.countRequest(kindLabel(url), res.statusCode);
    }
  };
  return Object.assign(route, {
    metrics,
    running: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  });
}
