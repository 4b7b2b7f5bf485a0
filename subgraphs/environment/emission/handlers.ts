/**
 * The emission commands at the I/O edge. A permit's readings go to one stream per day
 * (`emissionReadingsStreamId`), decided on top of the permit; each alarm has its own stream.
 */
import { NotFoundError } from '../../../events/errors.ts';
import { legalPersonStreamId } from '../../legal-person/legalPerson/events.ts';
import { executeCommand } from '../../kit/command.ts';
import { startingFrom } from '../shared/decider.ts';
import { chinaDateOf, parseInstantWithOffset } from '../../kit/calendar.ts';
import type { CommandPorts, HandlerResult } from '../station/handlers.ts';
import type {
  AcknowledgeEmissionAlarm,
  Exceedance,
  IssueEmissionPermit,
  RecordEmissionObservation,
  ResolveEmissionAlarm,
} from './commands.ts';
import { emissionAlarmDecider, emissionPermitDecider } from './decider.ts';
import {
  emissionAlarmStreamId,
  emissionPermitStreamId,
  emissionReadingsStreamId,
  type EmissionPermitEvent,
} from './events.ts';

const withKey = (idempotencyKey: string | undefined) => (idempotencyKey !== undefined ? { idempotencyKey } : {});

/** Issues a permit to a legal person the registry knows (its stream exists in the shared log). */
export async function issueEmissionPermit(
  ports: CommandPorts,
  data: IssueEmissionPermit['data'],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  if ((await ports.store.streamRevision(legalPersonStreamId(data.legalPersonId))) === undefined) {
    throw new NotFoundError(
      `legal person ${data.legalPersonId} is not registered; a discharge permit is issued to a registered legal person`,
      { field: 'legalPersonId', legalPersonId: data.legalPersonId },
    );
  }
  const result = await executeCommand({
    store: ports.store,
    streamId: emissionPermitStreamId(data.permitId),
    decider: emissionPermitDecider,
    command: { type: 'issueEmissionPermit', data, metadata: { now: ports.now } },
    metadata: ports.metadata,
    ...withKey(idempotencyKey),
  });
  return { events: result.events, replayed: result.replayed };
}

export async function recordEmissionObservation(
  ports: CommandPorts,
  data: RecordEmissionObservation['data'],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  const permit = await ports.store.readStream(emissionPermitStreamId(data.permitId));
  const date = chinaDateOf(parseInstantWithOffset(data.observedAt, 'observedAt'));
  const result = await executeCommand({
    store: ports.store,
    streamId: emissionReadingsStreamId(data.permitId, date),
    decider: startingFrom(emissionPermitDecider, permit as unknown as EmissionPermitEvent[]),
    command: { type: 'recordEmissionObservation', data, metadata: { now: ports.now } },
    metadata: ports.metadata,
    ...withKey(idempotencyKey),
  });
  return { events: result.events, replayed: result.replayed };
}

/**
 * The alarm an observation raises: its id and idempotency key derive from the observation's event,
 * so however often it is raised (a process restarted, the seed and the process manager both
 * raising it) the alarm exists once.
 */
export const alarmIdFor = (observationEventId: string): string => observationEventId;
export const alarmIdempotencyKey = (observationEventId: string): string => `environment.emission-alarm:${observationEventId}`;

export async function raiseEmissionAlarm(
  ports: CommandPorts,
  alarm: Exceedance & { alarmId: string; acknowledgeWithinMinutes: number },
  idempotencyKey: string,
): Promise<HandlerResult> {
  const result = await executeCommand({
    store: ports.store,
    streamId: emissionAlarmStreamId(alarm.alarmId),
    decider: emissionAlarmDecider,
    command: { type: 'raiseEmissionAlarm', data: alarm, metadata: { now: ports.now } },
    metadata: ports.metadata,
    idempotencyKey,
  });
  return { events: result.events, replayed: result.replayed };
}

export async function acknowledgeEmissionAlarm(
  ports: CommandPorts,
  data: AcknowledgeEmissionAlarm['data'],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  const result = await executeCommand({
    store: ports.store,
    streamId: emissionAlarmStreamId(data.alarmId),
    decider: emissionAlarmDecider,
    command: { type: 'acknowledgeEmissionAlarm', data, metadata: { now: ports.now } },
    metadata: ports.metadata,
    ...withKey(idempotencyKey),
  });
  return { events: result.events, replayed: result.replayed };
}

export async function resolveEmissionAlarm(
  ports: CommandPorts,
  data: ResolveEmissionAlarm['data'],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  const result = await executeCommand({
    store: ports.store,
    streamId: emissionAlarmStreamId(data.alarmId),
    decider: emissionAlarmDecider,
    command: { type: 'resolveEmissionAlarm', data, metadata: { now: ports.now } },
    metadata: ports.metadata,
    ...withKey(idempotencyKey),
  });
  return { events: result.events, replayed: result.replayed };
}

/** The escalation process manager's key: one escalation per alarm. */
export const escalationIdempotencyKey = (alarmId: string): string => `environment.emission-alarm-escalation:${alarmId}`;

export async function escalateEmissionAlarm(ports: CommandPorts, alarmId: string): Promise<HandlerResult> {
  const result = await executeCommand({
    store: ports.store,
    streamId: emissionAlarmStreamId(alarmId),
    decider: emissionAlarmDecider,
    command: { type: 'escalateEmissionAlarm', data: { alarmId }, metadata: { now: ports.now } },
    metadata: ports.metadata,
    idempotencyKey: escalationIdempotencyKey(alarmId),
  });
  return { events: result.events, replayed: result.replayed };
}
