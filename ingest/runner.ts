/**
 * The aggregation channel's one entry (数据归集): every transport hands its delivery to
 * `runIngestBatch`. Before anything is written it finds the kind, checks the actor's WRITE grant on
 * the kind's resource and starts (or resumes) the batch. Then, chunk by chunk: each record is
 * checked (parsed, size, `sourceRecordId`, the kind's schema), the kind plans the chunk with its
 * deciders, and the plan's appends are committed in ONE `appendMany` together with the batch's
 * `IngestBatchProgressed`, expected at the batch stream's revision. So a chunk is written and counted
 * together or not at all; a re-run of the batch skips the chunks counted and decides the others.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConcurrencyError, ForbiddenError, ValidationError } from '../events/errors.ts';
import type { EventMetadata } from '../events/types.ts';
import { mapInSlices } from '../subgraphs/kit/batchPlan.ts';
import { handle } from '../subgraphs/kit/command.ts';
import { ingestKeyOf, type IngestKind, type IngestPlan, type IngestRecord, type RecordOutcome } from '../subgraphs/kit/ingest.ts';
import type { SubgraphModule } from '../subgraphs/kit/module.ts';
import { readConsumerState } from '../subgraphs/governance/access.ts';
import { DEPARTMENTS } from '../subgraphs/governance/catalog.ts';
import { grantsValidAt } from '../subgraphs/governance/consumer/decider.ts';
import { addCounts, ingestBatchDecider, ZERO_COUNTS, type IngestBatchCommand } from '../subgraphs/governance/ingest/decider.ts';
import { ingestBatchStreamId, type IngestBatchEvent, type IngestCounts, type IngestReject } from '../subgraphs/governance/ingest/events.ts';
import { CHANNEL_FIELDS, type BatchReport, type ChunkReport, type IngestDeps, type IngestRequest, type RawRecord, type RejectedRecord } from './types.ts';

export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;
/** A chunk whose commit keeps meeting concurrent writers is given up after this many plans. */
const MAX_PLANS = 5;

/** The big-data bureau runs the channel: its consumers may relay deliveries for any department. */
const CHANNEL_OPERATOR = 'big-data-bureau';

export function ingestKindsOf(modules: readonly SubgraphModule[]): IngestKind[] {
  return modules.flatMap((m) => m.ingestKinds ?? []);
}

export function findKind(kinds: readonly IngestKind[], name: string): IngestKind {
  const kind = kinds.find((k) => k.name === name);
  if (!kind) {
    const known = kinds.map((k) => k.name);
    throw new ValidationError(`kind "${name}" is not one the channel accepts; use one of ${known.length ? known.join(', ') : '(none: no module publishes an ingest kind)'}`, { field: 'kind', known });
  }
  return kind;
}

/** Whether a consumer registered for `registered` (short or full name) may deliver as `department`. */
const deliversFor = (registered: string, department: string): boolean =>
  [department, CHANNEL_OPERATOR].some((d) => registered === d || registered === DEPARTMENTS[d as keyof typeof DEPARTMENTS]);

/** The grant a delivery is made under: valid now, naming WRITE on the kind's resource; refused (FORBIDDEN) otherwise. */
export async function authorizeDelivery(deps: Pick<IngestDeps, 'store'>, request: IngestRequest, kind: IngestKind, now: Date): Promise<string> {
  if (!Object.hasOwn(DEPARTMENTS, request.department)) {
    throw new ValidationError(`department "${request.department}" is not in the data catalog; use one of ${Object.keys(DEPARTMENTS).join(', ')}`, { field: 'department' });
  }
  const { consumerId } = request.actor;
  const state = await readConsumerState(deps.store, consumerId);
  if (state.status !== 'REGISTERED') throw new ForbiddenError(`consumer ${consumerId} is not registered: it cannot deliver ${kind.name}`, { consumerId });
  if (!deliversFor(state.consumer.department, request.department)) {
    throw new ForbiddenError(`consumer ${consumerId} is registered for ${state.consumer.department}: it cannot deliver as ${request.department}`, { consumerId, department: request.department });
  }
  const grant = grantsValidAt(state, now).find(
    (g) => g.resources.includes(kind.resource) && g.actions.includes('WRITE') && (request.grantId === undefined || g.grantId === request.grantId),
  );
  if (!grant) {
    throw new ForbiddenError(
      `${request.department} (consumer ${consumerId}) has no grant valid now with WRITE on ${kind.resource}${request.grantId ? ` named ${request.grantId}` : ''}: it cannot deliver ${kind.name}; ask the big-data bureau for one`,
      { consumerId, resource: kind.resource, action: 'WRITE' },
    );
  }
  return grant.grantId;
}

/** A fresh batch id for a delivery that names none (transports that answer with the id before running need it first). */
export const newBatchId = (department: string, now: Date): string => `${department}-${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;

const handleBatch = handle(ingestBatchDecider, (command: IngestBatchCommand) => ingestBatchStreamId(command.data.batchId));

const instant = z.iso.datetime({ offset: true });

/** A record's check before the kind sees it: a reject, or the record as the kind takes it. */
type Checked = { line: number; raw: RawRecord; reject: IngestReject } | { line: number; raw: RawRecord; record: IngestRecord<unknown> };

function rejectOf(line: number, sourceRecordId: string | null, field: string | null, message: string, code = 'BAD_USER_INPUT'): IngestReject {
  return { line, sourceRecordId, code, field, message };
}

/** The department's id of a record: a non-empty string, or a number (CSV and JSON ids alike). */
function sourceRecordIdOf(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

const channelFields: ReadonlySet<string> = new Set(CHANNEL_FIELDS);

/**
 * What the kind's schema takes (kit/ingestSchema.ts `recordSchema`): the record's fields but the
 * channel's own, and its sourceRecordId as the channel read it. Copied key by key: an object rest
 * pattern costs about a microsecond a record, a fifteenth of that.
 */
function kindFieldsOf(fields: Record<string, unknown>, sourceRecordId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) if (!channelFields.has(key)) out[key] = fields[key];
  out.sourceRecordId = sourceRecordId;
  return out;
}

export async function runIngestBatch(deps: IngestDeps, request: IngestRequest, records: AsyncIterable<RawRecord>): Promise<BatchReport> {
  const kind = findKind(deps.kinds, request.kind);
  if (!deps.store.atomicAppendMany) {
    // KurrentDB and the seed's write-behind buffer write a chunk's appends in turn: a crash between them leaves the chunk partly written and uncounted.
    deps.logger?.warn({ backend: deps.store.backend, kind: kind.name }, 'this store does not append a chunk and its count atomically: a crash may leave a chunk partly written (a re-run still appends nothing twice)');
  }
  const startedAt = deps.now();
  let grantId = await authorizeDelivery(deps, request, kind, startedAt);
  const batchId = request.batchId ?? newBatchId(request.department, startedAt);
  const streamId = ingestBatchStreamId(batchId);
  const system = request.system ?? kind.system;
  const metadataAt = (collectedAt: string, sourceRecordId?: string): EventMetadata => ({
    provenance: { department: request.department, system, channel: request.channel, collectedAt, batchId, ...(sourceRecordId !== undefined && { sourceRecordId }) },
    actor: request.actor,
    grantId,
    correlationId: batchId,
  });
  const maxRecordBytes = deps.limits?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;

  await handleBatch(
    deps.store,
    {
      type: 'startIngestBatch',
      data: {
        batchId,
        kind: kind.name,
        resource: kind.resource,
        department: request.department,
        system,
        channel: request.channel,
        fingerprint: request.sourceFingerprint ?? null,
        chunkSize: deps.limits?.chunkSize ?? DEFAULT_CHUNK_SIZE,
        consumerId: request.actor.consumerId,
        grantId,
      },
      metadata: { now: startedAt.toISOString() },
    },
    metadataAt(startedAt.toISOString()),
  );
  let batch = await readBatch();
  if (batch.state.status === 'NONE') throw new Error(`ingest batch ${batchId} has no stream after it was started`);
  const { chunkSize } = batch.state.started;

  async function readBatch() {
    const { state, revision, events } = await deps.store.aggregate(ingestBatchDecider, streamId);
    return { state, revision, events };
  }

  /** The chunk as an earlier run counted it, with this run's raw records beside its rejects. */
  function countedChunk(chunk: number, raws: readonly RawRecord[], events: readonly IngestBatchEvent[]): ChunkReport {
    let counts = ZERO_COUNTS;
    const rejects: IngestReject[] = [];
    for (const e of events) {
      if (e.type === 'IngestBatchProgressed' && e.data.chunk === chunk) counts = e.data.counts;
      if ((e.type === 'IngestBatchProgressed' || e.type === 'IngestBatchRejectsRecorded') && e.data.chunk === chunk) rejects.push(...e.data.rejects);
    }
    const byLine = new Map(raws.map((r) => [r.line, r]));
    return { chunk, counts, rejects: rejects.map((r) => withRaw(r, byLine.get(r.line))), alreadyCounted: true };
  }

  function check(raw: RawRecord, now: string): Checked {
    const { line } = raw;
    if ('malformed' in raw) return { line, raw, reject: rejectOf(line, null, null, raw.malformed) };
    const sourceRecordId = sourceRecordIdOf(raw.fields.sourceRecordId);
    const bytes = raw.bytes ?? Buffer.byteLength(JSON.stringify(raw.fields));
    if (bytes > maxRecordBytes) {
      return { line, raw, reject: rejectOf(line, sourceRecordId, null, `the record is ${bytes} bytes; the channel takes records of at most ${maxRecordBytes} bytes`, 'RECORD_TOO_LARGE') };
    }
    if (sourceRecordId === null) {
      return { line, raw, reject: rejectOf(line, null, 'sourceRecordId', "sourceRecordId is required: the department's own id of the record, the key of re-delivery") };
    }
    const given = raw.fields.collectedAt;
    let collectedAt = now;
    if (given !== undefined && given !== null && given !== '') {
      const parsed = instant.safeParse(given);
      if (!parsed.success) return { line, raw, reject: rejectOf(line, sourceRecordId, 'collectedAt', `collectedAt "${String(given)}" must be an ISO 8601 instant with an offset, e.g. 2026-03-01T08:00:00+08:00`) };
      collectedAt = new Date(parsed.data).toISOString();
    }
    const parsed = kind.schema.safeParse(kindFieldsOf(raw.fields, sourceRecordId));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? issue.path.map(String).join('.') : null;
      return { line, raw, reject: rejectOf(line, sourceRecordId, field, `${field ?? 'record'}: ${issue.message}`) };
    }
    return {
      line,
      raw,
      record: { line, sourceRecordId, data: parsed.data, metadata: metadataAt(collectedAt, sourceRecordId), idempotencyKey: ingestKeyOf(request.department, kind.name, sourceRecordId, parsed.data) },
    };
  }

  /** A chunk decided under `grant` at `now`, ready to be committed with its count. */
  interface Decided {
    grant: string;
    now: string;
    plan: IngestPlan;
    counts: IngestCounts;
    rejects: RejectedRecord[];
  }

  /** Checks and plans a chunk (on top of `after`, the previous chunk's plan being committed, when given); writes nothing. */
  async function decide(raws: readonly RawRecord[], after?: IngestPlan): Promise<Decided> {
    const grant = grantId;
    const now = deps.now().toISOString();
    const checked = await mapInSlices(raws, (raw) => check(raw, now));
    const accepted = checked.filter((c): c is Extract<Checked, { record: unknown }> => 'record' in c);
    const plan = accepted.length ? await kind.plan(deps.store, accepted.map((c) => c.record), now, after) : { outcomes: [], appends: [] };
    if (plan.outcomes.length !== accepted.length) throw new Error(`ingest kind ${kind.name} planned ${plan.outcomes.length} outcomes for ${accepted.length} records`);
    const outcomeOf = new Map<Checked, RecordOutcome>(accepted.map((c, i) => [c, plan.outcomes[i]!]));
    const counts: IngestCounts = { ...ZERO_COUNTS, received: raws.length };
    const rejects: RejectedRecord[] = [];
    for (const c of checked) {
      const outcome: RecordOutcome = 'reject' in c ? { status: 'rejected', code: c.reject.code, message: c.reject.message, ...(c.reject.field !== null && { field: c.reject.field }) } : outcomeOf.get(c)!;
      counts[outcome.status === 'rejected' ? 'rejected' : outcome.status]++;
      if (outcome.status === 'rejected') {
        const sourceRecordId = 'reject' in c ? c.reject.sourceRecordId : c.record.sourceRecordId;
        rejects.push(withRaw(rejectOf(c.line, sourceRecordId, outcome.field || null, outcome.message || `rejected by ${kind.name} (${outcome.code})`, outcome.code), c.raw));
      }
    }
    return { grant, now, plan, counts, rejects };
  }

  /** A chunk's work: its report, and the plan it committed (none when an earlier run had counted it). */
  interface Ran {
    report: ChunkReport;
    committed?: IngestPlan;
  }

  /**
   * Commits a chunk with its count: decided `ahead` (while the previous chunk was committed) when
   * that still holds, decided now otherwise. `onPlanned` learns the first plan, before its commit.
   */
  async function runChunk(chunk: number, raws: readonly RawRecord[], ahead: Promise<Decided> | undefined, onPlanned: (plan: IngestPlan | undefined) => void): Promise<Ran> {
    try {
      for (let plan = 1; ; plan++) {
        if (batch.state.status !== 'NONE' && batch.state.counted.has(chunk)) return { report: countedChunk(chunk, raws, batch.events) };
        // Checked again for every chunk: a grant revoked or expired in the middle of a long delivery stops it (resumable under a new one).
        if (chunk > 0 || plan > 1) grantId = await authorizeDelivery(deps, request, kind, deps.now());
        const early = plan === 1 ? await ahead : undefined;
        // Decided ahead under another grant: its events would name the wrong one.
        const decided = early?.grant === grantId ? early : await decide(raws);
        if (plan === 1) onPlanned(decided.plan);
        const command: IngestBatchCommand = { type: 'recordIngestChunk', data: { batchId, chunk, counts: decided.counts, rejects: decided.rejects.map(stripRaw) }, metadata: { now: decided.now } };
        const progress = ingestBatchDecider.decide(command, batch.state);
        try {
          await deps.store.appendMany([
            ...decided.plan.appends,
            { streamId, events: progress.map((e) => ({ type: e.type, data: e.data, metadata: metadataAt(decided.now) })), options: { expectedRevision: batch.revision ?? 'no_stream' } },
          ]);
          batch = { ...batch, state: progress.reduce(ingestBatchDecider.evolve, batch.state), revision: (batch.revision ?? -1) + progress.length };
          if (request.continues) request.continues.plan = decided.plan;
          return { report: { chunk, counts: decided.counts, rejects: decided.rejects, alreadyCounted: false }, committed: decided.plan };
        } catch (error) {
          // Another writer moved a stream the plan read (or another run of this batch counted the chunk): read again, plan again.
          if (!(error instanceof ConcurrencyError) || plan >= MAX_PLANS) throw error;
          deps.logger?.info({ batchId, chunk, plan, stream: error.streamId }, 'ingest chunk met a concurrent writer: planning it again');
          batch = await readBatch();
        }
      }
    } finally {
      onPlanned(undefined);
    }
  }

  let totals: IngestCounts = ZERO_COUNTS;
  const allRejects: RejectedRecord[] = [];
  let chunks = 0;
  let resumedChunks = 0;
  const finish = async (report: ChunkReport) => {
    totals = addCounts(totals, report.counts);
    allRejects.push(...report.rejects);
    if (report.alreadyCounted) resumedChunks++;
    chunks++;
    await request.onChunk?.(report);
  };

  /** The chunk being committed, and its plan once decided (the next chunk is decided on top of it meanwhile). */
  let running: { planned: Promise<IngestPlan | undefined>; ran: Promise<Ran> } | undefined;
  let submitted = 0;
  /**
   * Starts a chunk's commit once the previous one is committed and reported. While the previous
   * commit is written, this chunk is decided on top of its plan; used only if that plan is the one
   * committed (else decided again). Commits stay one at a time, in order, each with its count.
   */
  async function submit(raws: RawRecord[]): Promise<void> {
    const chunk = submitted++;
    const previous = running;
    running = undefined;
    let ahead: { after: IngestPlan; decided: Promise<Decided> } | undefined;
    // The first chunk continues from the previous delivery's last commit, when the transport hands one on.
    const after = chunk === 0 ? request.continues?.plan : await previous?.planned;
    if (after && !(batch.state.status !== 'NONE' && batch.state.counted.has(chunk))) {
      ahead = { after, decided: decide(raws, after) };
      // Awaited or dropped below; a failure meanwhile must not count as unhandled.
      ahead.decided.catch(() => undefined);
    }
    if (previous) {
      const { report, committed } = await previous.ran;
      await finish(report);
      if (ahead && committed !== ahead.after) ahead = undefined;
    }
    let onPlanned!: (plan: IngestPlan | undefined) => void;
    const planned = new Promise<IngestPlan | undefined>((resolve) => (onPlanned = resolve));
    const ran = runChunk(chunk, raws, ahead?.decided, onPlanned);
    ran.catch(() => undefined);
    running = { planned, ran };
  }

  try {
    let pending: RawRecord[] = [];
    for await (const raw of records) {
      pending.push(raw);
      if (pending.length === chunkSize) {
        await submit(pending);
        pending = [];
      }
    }
    if (pending.length > 0) await submit(pending);
    if (running) await finish((await running.ran).report);
  } finally {
    // A failure with a commit in flight: it is settled (written and counted, or not at all) before the failure is thrown on.
    await running?.ran.catch(() => undefined);
  }

  await handleBatch(deps.store, { type: 'completeIngestBatch', data: { batchId, chunks }, metadata: { now: deps.now().toISOString() } }, metadataAt(deps.now().toISOString()));
  return { batchId, kind: kind.name, department: request.department, status: 'completed', chunks, resumedChunks, ...totals, rejects: allRejects };
}

function withRaw(reject: IngestReject, raw: RawRecord | undefined): RejectedRecord {
  return { ...reject, ...(raw && 'fields' in raw && { fields: raw.fields }), ...(raw?.text !== undefined && { text: raw.text }) };
}

const stripRaw = ({ line, sourceRecordId, code, field, message }: RejectedRecord): IngestReject => ({ line, sourceRecordId, code, field, message });
