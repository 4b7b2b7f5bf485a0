/**
 * The incident write path shared by the resolvers and the demo data: every step is decided by the
 * pure decider on the incident's fold and appended with the revision of that fold as the expected
 * revision.
 *
 * - A command on an incident this process has read or written before is decided on the fold it
 *   kept (knownStreams.ts) and appended through the group commit (groupCommit.ts): one append, no
 *   read, and a transaction shared with the commands written at the same moment. A report of a new
 *   incident is appended as the stream's first event the same way. When the store refuses the
 *   expected revision (another writer was first), or the kept fold refuses the command, the command
 *   is decided again on the stream itself (`executeCommand`), so every refusal a caller sees, and
 *   everything written, was decided on the stream as it is.
 * - A command with an idempotency key always goes through `executeCommand`, which answers a re-send
 *   from the stream.
 *
 * Two steps need more than one stream:
 * - registration draws a case serial from the centre's register (caseSerials.ts) after a dry run of
 *   the decision, so a refused registration consumes no serial; without an idempotency key the
 *   serial and the registration are appended in one transaction;
 * - a report repeating an open case nearby (duplicates.ts) is rejected as its duplicate right after
 *   it is recorded. The candidates come from the read model, so a case reported within the
 *   projection's lag (well under a second) may escape the check.
 */
import { fold } from '../../events/decider.ts';
import { deterministicEventId } from '../../events/append.ts';
import { ConcurrencyError, NotFoundError } from '../../events/errors.ts';
import type { AppendResult, EventMetadata, EventStore, NewEvent, RecordedEvent } from '../../events/types.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import { executeCommand, type CommandResult } from '../kit/command.ts';
import { allocateCaseSerial, reserveCaseSerial } from './caseSerials.ts';
import { findDuplicate, type DuplicateOptions } from './duplicates.ts';
import { groupCommitOf, provesRollback, type AppendUnit } from './groupCommit.ts';
import type { Actor, IncidentCommand, RegisterIncident, ReportIncident } from './incident/commands.ts';
import { incidentDecider, type IncidentState } from './incident/decider.ts';
import { incidentStreamId, type IncidentEvent } from './incident/events.ts';
import { knownStreamsOf, type Known } from './knownStreams.ts';
import { levelOfCode, parentCode } from './levels.ts';
import { INCIDENTS, INCIDENTS_PROJECTION } from './readModels/incidentsProjection.ts';
import type { IncidentDoc } from './readModels/incidentView.ts';

export interface CommandOptions {
  idempotencyKey?: string;
  expectedRevision?: number;
}

export type IncidentResult = CommandResult<IncidentState>;

/** Times a registration draws a serial when other writers keep taking the one it drew first. */
const SERIAL_ATTEMPTS = 10;

const UNREPORTED: Known<IncidentState> = { state: incidentDecider.initialState(), revision: -1 };

const expectedOf = (revision: number) => (revision < 0 ? ('no_stream' as const) : revision);

const newEvents = (events: readonly IncidentEvent[], metadata: EventMetadata): NewEvent[] =>
  events.map((e) => ({ type: e.type, data: e.data, metadata }));

function evolveAll(state: IncidentState, events: readonly RecordedEvent[]): IncidentState {
  for (const event of events) state = incidentDecider.evolve(state, event as unknown as IncidentEvent);
  return state;
}

/** The fold of the incident's stream, read now, and remembered. */
async function readIncident(store: EventStore, streamId: string): Promise<Known<IncidentState>> {
  const history = await store.readStream(streamId);
  const known = { state: fold(incidentDecider, history as unknown as IncidentEvent[]), revision: history.at(-1)?.revision ?? -1 };
  knownStreamsOf(store).incidents.set(streamId, known);
  return known;
}

function remember(store: EventStore, streamId: string, result: IncidentResult): IncidentResult {
  if (result.revision !== undefined) knownStreamsOf(store).incidents.set(streamId, { state: result.state, revision: result.revision });
  return result;
}

/** `executeCommand` on the stream itself; what it leaves is remembered, what it refuses forgotten. */
async function onTheStream(
  store: EventStore,
  streamId: string,
  command: IncidentCommand,
  metadata: EventMetadata,
  options: CommandOptions,
): Promise<IncidentResult> {
  try {
    return remember(store, streamId, await executeCommand({ store, streamId, decider: incidentDecider, command, metadata, ...options }));
  } catch (error) {
    knownStreamsOf(store).incidents.delete(streamId);
    throw error;
  }
}

/** Any step but registration (see {@link registerIncident}). */
export async function runIncidentCommand(
  store: EventStore,
  command: Exclude<IncidentCommand, { type: 'registerIncident' }>,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<IncidentResult> {
  const streamId = incidentStreamId(command.data.incidentId);
  if (options.idempotencyKey !== undefined) return onTheStream(store, streamId, command, metadata, options);
  const known = knownStreamsOf(store).incidents.get(streamId) ?? (command.type === 'reportIncident' ? UNREPORTED : undefined);
  if (known && (options.expectedRevision === undefined || options.expectedRevision === known.revision)) {
    const decided = decideOrNull(command, known.state);
    if (decided !== null && decided.length > 0) {
      const [written] = await writeOrNull(store, [{ streamId, events: newEvents(decided, metadata), options: { expectedRevision: expectedOf(known.revision) } }]);
      if (written) return remember(store, streamId, resultOf(known.state, written));
    }
  }
  return onTheStream(store, streamId, command, metadata, options);
}

/** The kept fold's decision; null when it refuses (the stream itself decides then). */
function decideOrNull(command: IncidentCommand, state: IncidentState): IncidentEvent[] | null {
  try {
    return incidentDecider.decide(command, state);
  } catch {
    return null;
  }
}

/**
 * Writes the unit through the group commit; `[]` when the store refused it without writing anything
 * (a stale expected revision above all), so that the stream itself decides again; the kept folds
 * are forgotten then. Any other failure (the commit may have happened) is the command's.
 */
async function writeOrNull(store: EventStore, unit: AppendUnit): Promise<(AppendResult | undefined)[]> {
  try {
    return await groupCommitOf(store).write(unit);
  } catch (error) {
    for (const append of unit) knownStreamsOf(store).incidents.delete(append.streamId);
    if (provesRollback(error)) return [];
    throw error;
  }
}

function resultOf(before: IncidentState, written: AppendResult): IncidentResult {
  return { state: evolveAll(before, written.events), events: written.events, revision: written.nextExpectedRevision, replayed: false };
}

/** 立案: decides on a dry run first, then draws the serial and registers. */
export async function registerIncident(
  store: EventStore,
  data: { incidentId: string; actor: Actor },
  now: string,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<IncidentResult> {
  const { idempotencyKey, expectedRevision } = options;
  if (idempotencyKey !== undefined) return registerIdempotently(store, data, now, metadata, { ...options, idempotencyKey });
  const streamId = incidentStreamId(data.incidentId);
  const command = (serial: number): RegisterIncident => ({ type: 'registerIncident', data: { ...data, serial }, metadata: { now } });
  let known = knownStreamsOf(store).incidents.get(streamId);
  /** Whether `known` was read from the stream for this command (rather than kept from earlier ones). */
  let onStream = known === undefined;
  let readConflicts = 0;
  let serialConflicts = 0;
  for (;;) {
    known ??= await readIncident(store, streamId);
    let refusal: unknown;
    if (expectedRevision !== undefined && expectedRevision !== known.revision) {
      refusal = new ConcurrencyError(streamId, String(expectedRevision), known.revision < 0 ? undefined : known.revision);
    } else {
      try {
        incidentDecider.decide(command(1), known.state);
      } catch (error) {
        refusal = error;
      }
    }
    if (refusal !== undefined) {
      // A kept fold may be behind the stream: only the stream itself refuses.
      if (onStream) throw refusal;
      known = undefined;
      onStream = true;
      continue;
    }
    const reserved = await reserveCaseSerial(store, { centreDivisionCode: data.actor.divisionCode, incidentId: data.incidentId, now, metadata });
    try {
      const registration = {
        streamId,
        events: newEvents(incidentDecider.decide(command(reserved.serial), known.state), metadata),
        options: { expectedRevision: expectedOf(known.revision) },
      };
      const [, written] = await groupCommitOf(store).write([reserved.append, registration]);
      return remember(store, streamId, resultOf(known.state, written!));
    } catch (error) {
      reserved.release();
      if (error instanceof ConcurrencyError && error.streamId !== streamId) {
        // Another writer took the serial: draw the next one, after a short random pause that lets
        // another process's run of registrations at this centre through.
        if (++serialConflicts >= SERIAL_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * serialConflicts));
        continue;
      }
      knownStreamsOf(store).incidents.delete(streamId);
      if (!(error instanceof ConcurrencyError)) throw error;
      // The incident moved: the client's revision is stale, or decide again on the stream, once
      // after reading it (as executeCommand does).
      if (expectedRevision !== undefined || (onStream && ++readConflicts >= 2)) throw error;
      known = undefined;
      onStream = true;
    }
  }
}

/** The idempotent registration: answered from the stream when re-sent, its serial drawn by a command of its own. */
async function registerIdempotently(
  store: EventStore,
  data: { incidentId: string; actor: Actor },
  now: string,
  metadata: EventMetadata,
  options: CommandOptions & { idempotencyKey: string },
): Promise<IncidentResult> {
  const streamId = incidentStreamId(data.incidentId);
  const history = await store.readStream(streamId);
  const replay = history.some((e) => e.eventId === deterministicEventId(options.idempotencyKey, 0));
  if (!replay) {
    const revision = history.at(-1)?.revision;
    if (options.expectedRevision !== undefined && options.expectedRevision !== (revision ?? -1)) {
      throw new ConcurrencyError(streamId, String(options.expectedRevision), revision);
    }
    const state = fold(incidentDecider, history as unknown as IncidentEvent[]);
    incidentDecider.decide({ type: 'registerIncident', data: { ...data, serial: 1 }, metadata: { now } }, state);
  }
  const serial = replay
    ? 0 // never decided: the replay returns the first registration
    : await allocateCaseSerial(store, { centreDivisionCode: data.actor.divisionCode, incidentId: data.incidentId, now, metadata });
  return onTheStream(store, streamId, { type: 'registerIncident', data: { ...data, serial }, metadata: { now } }, metadata, options);
}

const OPEN_STATUSES = ['REGISTERED', 'DISPATCHED', 'HANDLING', 'HANDLED'];

/** The open case a report repeats, looked up in the read model; null when none. */
async function duplicateOf(readModels: ReadModels, report: ReportIncident['data'], options: DuplicateOptions): Promise<string | null> {
  const at = Date.parse(report.reportedAt);
  const window = options.windowMinutes * 60_000;
  const { items } = await readModels
    .of(INCIDENTS_PROJECTION)
    .collection<IncidentDoc>(INCIDENTS)
    .find({
      where: {
        category: report.category,
        subcategory: report.subcategory,
        status: { in: OPEN_STATUSES },
        reportedAt: { gte: new Date(at - window).toISOString(), lte: new Date(at + window).toISOString() },
      },
      first: 200,
    });
  const candidates = items.map(({ node }) => ({ ...node.doc.view.state.report }));
  return findDuplicate(report, candidates, options)?.incidentId ?? null;
}

export interface ReportOutcome {
  result: IncidentResult;
  /** The open case the report was linked to as its duplicate. */
  duplicateOfId: string | null;
}

/**
 * 信息收集, then, when `duplicates` is set and an open case matches, 不予立案 as its duplicate by the
 * district centre of the incident's community (the level that registers cases).
 */
export async function reportIncident(
  ports: { store: EventStore; readModels: ReadModels },
  command: ReportIncident,
  metadata: EventMetadata,
  options: CommandOptions & { duplicates: DuplicateOptions | null },
): Promise<ReportOutcome> {
  const { duplicates, ...commandOptions } = options;
  const reported = await runIncidentCommand(ports.store, command, metadata, commandOptions);
  if (duplicates === null || reported.state.status !== 'REPORTED') return { result: reported, duplicateOfId: null };
  const original = await duplicateOf(ports.readModels, reported.state.report, duplicates).catch((error: unknown) => {
    // Before the projector has built the read model there is no case to compare with.
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  if (original === null) return { result: reported, duplicateOfId: null };
  const street = parentCode(reported.state.report.divisionCode)!;
  const district = parentCode(street)!;
  const rejected = await runIncidentCommand(
    ports.store,
    {
      type: 'rejectIncident',
      data: {
        incidentId: command.data.incidentId,
        reason: 'DUPLICATE',
        duplicateOfId: original,
        note: `repeats open incident ${original}: same subcategory within ${duplicates.radiusMeters} m and ${duplicates.windowMinutes} min`,
        actor: { level: levelOfCode(district), divisionCode: district },
      },
      metadata: command.metadata,
    },
    metadata,
    { idempotencyKey: `urban-ops.duplicate:${command.data.incidentId}` },
  );
  return {
    result: { ...rejected, events: [...reported.events, ...rejected.events] },
    duplicateOfId: original,
  };
}
