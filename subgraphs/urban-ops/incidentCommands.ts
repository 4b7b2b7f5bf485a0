/**
 * The incident write path shared by the resolvers and the demo data: every step is decided by the
 * pure decider on the incident's fold and appended with the revision of that fold as the expected
 * revision.
 *
 * - A command on an incident this process has read or written before is decided on the fold it
 *   kept (the seam's `keepFolds`, kit/knownStreams.ts) and appended through the group commit
 *   (kit/groupCommit.ts): one append, no read, and a transaction shared with the commands written at
 *   the same moment. A report of a new incident is appended as the stream's first event the same
 *   way. When the store refuses the expected revision (another writer was first), or the kept fold
 *   refuses the command, the command is decided again on the stream itself, so every refusal a
 *   caller sees, and everything written, was decided on the stream as it is.
 * - A command with an idempotency key is always decided on the stream, which answers a re-send.
 *
 * Two steps need more than one stream:
 * - registration draws a case serial from the centre's register (caseSerials.ts) after a dry run of
 *   the decision, so a refused registration consumes no serial; without an idempotency key the
 *   serial and the registration are appended in one transaction;
 * - a report repeating an open case nearby (duplicates.ts) is rejected as its duplicate right after
 *   it is recorded. The candidates come from the read model, so a case reported within the
 *   projection's lag (well under a second) may escape the check.
 */
import { ConcurrencyError, NotFoundError } from '../../events/errors.ts';
import type { EventMetadata, EventStore } from '../../events/types.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import { appendedWithKey, expectedRevisionOf, handle, newEvents, resultAfter, type CommandHandler, type CommandOptions, type CommandResult } from '../kit/command.ts';
import { groupCommitOf } from '../kit/groupCommit.ts';
import { assertDivision } from '../kit/divisions/catalog.ts';
import type { Known } from '../kit/knownStreams.ts';
import { allocateCaseSerial, reserveCaseSerial } from './caseSerials.ts';
import { findDuplicate, type DuplicateOptions } from './duplicates.ts';
import type { Actor, IncidentCommand, RegisterIncident, ReportIncident } from './incident/commands.ts';
import { incidentDecider, type IncidentState } from './incident/decider.ts';
import { incidentStreamId, type IncidentEvent } from './incident/events.ts';
import { knownStreamsOf } from './knownStreams.ts';
import { levelOfCode, parentCode, tryLevelOfCode } from './levels.ts';
import { INCIDENTS, INCIDENTS_PROJECTION } from './readModels/incidentsProjection.ts';
import type { IncidentDoc } from './readModels/incidentView.ts';

export type IncidentResult = CommandResult<IncidentState, IncidentEvent>;

/** Times a registration draws a serial when other writers keep taking the one it drew first. */
const SERIAL_ATTEMPTS = 10;

/** Every incident command on the seam: decided on the kept fold when there is one, appended through the group commit. */
const handleIncident = handle(incidentDecider, (command: IncidentCommand) => incidentStreamId(command.data.incidentId), {
  keepFolds: { of: (store) => knownStreamsOf(store).incidents, startsStream: (command) => command.type === 'reportIncident' },
  groupCommit: true,
});

/**
 * The divisions a command names must be in the catalog, checked before anything is decided or
 * appended. A malformed code is left to the decider, which says what shape a code takes.
 */
export function assertCatalogDivisions(command: IncidentCommand): void {
  const named: [field: string, code: string][] = 'actor' in command.data ? [['actor.divisionCode', command.data.actor.divisionCode]] : [];
  if (command.type === 'reportIncident') named.push(['divisionCode', command.data.divisionCode]);
  if (command.type === 'dispatchIncident') named.push(['unit.divisionCode', command.data.unit.divisionCode]);
  for (const [field, code] of named) if (tryLevelOfCode(code) !== null) assertDivision(code, undefined, field);
}

/** Any step but registration (see {@link registerIncident}). */
export const runIncidentCommand: CommandHandler<Exclude<IncidentCommand, { type: 'registerIncident' }>, IncidentState, IncidentEvent> = async (store, command, metadata, options) => {
  assertCatalogDivisions(command);
  return handleIncident(store, command, metadata, options);
};

/** The fold of the incident's stream, read now, and remembered. */
async function readIncident(store: EventStore, streamId: string): Promise<Known<IncidentState>> {
  const { state, revision } = await store.aggregate(incidentDecider, streamId);
  const known = { state, revision: revision ?? -1 };
  knownStreamsOf(store).incidents.set(streamId, known);
  return known;
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
        options: { expectedRevision: expectedRevisionOf(known.revision) },
      };
      const [, written] = await groupCommitOf(store).write([reserved.append, registration]);
      const result = resultAfter(incidentDecider, known.state, written!);
      knownStreamsOf(store).incidents.set(streamId, { state: result.state, revision: written!.nextExpectedRevision });
      return result;
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
      // after reading it (as the seam does).
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
  const { state, revision, events: history } = await store.aggregate(incidentDecider, streamId);
  const replay = appendedWithKey(history, options.idempotencyKey) !== null;
  if (!replay) {
    if (options.expectedRevision !== undefined && options.expectedRevision !== (revision ?? -1)) {
      throw new ConcurrencyError(streamId, String(options.expectedRevision), revision);
    }
    incidentDecider.decide({ type: 'registerIncident', data: { ...data, serial: 1 }, metadata: { now } }, state);
  }
  const serial = replay
    ? 0 // never decided: the replay returns the first registration
    : await allocateCaseSerial(store, { centreDivisionCode: data.actor.divisionCode, incidentId: data.incidentId, now, metadata });
  return handleIncident(store, { type: 'registerIncident', data: { ...data, serial }, metadata: { now } }, metadata, options);
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
