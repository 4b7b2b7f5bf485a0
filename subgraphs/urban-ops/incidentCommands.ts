/**
 * The incident write path shared by the resolvers and the demo data: every step goes through
 * `executeCommand` with the pure decider. Two steps need more than one stream:
 * - registration draws a case serial from the centre's register (caseSerials.ts), after a dry run
 *   of the decision so that a refused registration consumes no serial;
 * - a report repeating an open case nearby (duplicates.ts) is rejected as its duplicate right after
 *   it is recorded. The candidates come from the read model, so a case reported within the
 *   projection's lag (well under a second) may escape the check.
 */
import { fold } from '../../events/decider.ts';
import { deterministicEventId } from '../../events/sql/sqlEventStore.ts';
import { ConcurrencyError, NotFoundError } from '../../events/errors.ts';
import type { EventMetadata, EventStore } from '../../events/types.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import { executeCommand, type CommandResult } from '../kit/command.ts';
import { allocateCaseSerial } from './caseSerials.ts';
import { findDuplicate, type DuplicateOptions } from './duplicates.ts';
import type { Actor, IncidentCommand, ReportIncident } from './incident/commands.ts';
import { incidentDecider, type IncidentState } from './incident/decider.ts';
import { incidentStreamId, type IncidentEvent } from './incident/events.ts';
import { levelOfCode, parentCode } from './levels.ts';
import { INCIDENTS, INCIDENTS_PROJECTION } from './readModels/incidentsProjection.ts';
import type { IncidentDoc } from './readModels/incidentView.ts';

export interface CommandOptions {
  idempotencyKey?: string;
  expectedRevision?: number;
}

export type IncidentResult = CommandResult<IncidentState>;

/** Any step but registration (see {@link registerIncident}). */
export function runIncidentCommand(
  store: EventStore,
  command: Exclude<IncidentCommand, { type: 'registerIncident' }>,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<IncidentResult> {
  return executeCommand({
    store,
    streamId: incidentStreamId(command.data.incidentId),
    decider: incidentDecider,
    command,
    metadata,
    ...options,
  });
}

/** 立案: decides on a dry run first, then draws the serial and registers. */
export async function registerIncident(
  store: EventStore,
  data: { incidentId: string; actor: Actor },
  now: string,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<IncidentResult> {
  const streamId = incidentStreamId(data.incidentId);
  const history = await store.readStream(streamId);
  const replay = options.idempotencyKey !== undefined && history.some((e) => e.eventId === deterministicEventId(options.idempotencyKey!, 0));
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
  return executeCommand({
    store,
    streamId,
    decider: incidentDecider,
    command: { type: 'registerIncident', data: { ...data, serial }, metadata: { now } },
    metadata,
    ...options,
  });
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
