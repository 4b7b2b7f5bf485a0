/**
 * The emission commands at the I/O edge. A permit's readings go to one stream per day
 * (`emissionReadingsStreamId`), decided on top of the permit; each alarm has its own stream.
 */
import { legalPersonStreamId } from '../../legal-person/legalPerson/events.ts';
import { handle, type CommandOptions } from '../../kit/command.ts';
import { startingFrom } from '../shared/decider.ts';
import { chinaDateOf, parseInstantWithOffset } from '../../kit/calendar.ts';
import type { CommandPorts, HandlerResult } from '../station/handlers.ts';
import type {
  AcknowledgeEmissionAlarm,
  EmissionAlarmCommand,
  EmissionPermitCommand,
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

/** A permit is issued to a legal person the registry knows (its stream exists in the shared log). */
const handlePermit = handle(emissionPermitDecider, (command: EmissionPermitCommand) => emissionPermitStreamId(command.data.permitId), {
  references: (command) =>
    command.type === 'issueEmissionPermit'
      ? [{ field: 'legalPersonId', label: 'legal person', id: command.data.legalPersonId, streamId: legalPersonStreamId(command.data.legalPersonId) }]
      : [],
});
const handleAlarm = handle(emissionAlarmDecider, (command: EmissionAlarmCommand) => emissionAlarmStreamId(command.data.alarmId));

export async function issueEmissionPermit(ports: CommandPorts, data: IssueEmissionPermit['data'], options: CommandOptions = {}): Promise<HandlerResult> {
  const result = await handlePermit(ports.store, { type: 'issueEmissionPermit', data, metadata: { now: ports.now } }, ports.metadata, options);
  return { events: result.events, replayed: result.replayed };
}

export async function recordEmissionObservation(ports: CommandPorts, data: RecordEmissionObservation['data'], options: CommandOptions = {}): Promise<HandlerResult> {
  const permit = await ports.store.readStream<EmissionPermitEvent>(emissionPermitStreamId(data.permitId));
  const date = chinaDateOf(parseInstantWithOffset(data.observedAt, 'observedAt'));
  // A day's readings are decided on top of the permit's own stream.
  const result = await handle(startingFrom(emissionPermitDecider, permit), () => emissionReadingsStreamId(data.permitId, date))(
    ports.store,
    { type: 'recordEmissionObservation', data, metadata: { now: ports.now } },
    ports.metadata,
    options,
  );
  return { events: result.events, replayed: result.replayed };
}

/**
 * The alarm an observation raises: its id and idempotency key derive from the observation's event,
 * so however often it is raised (a process restarted, the seed and the process manager both
 * raising it) the alarm exists once.
 */
export const alarmIdFor = (observationEventId: string): string => observationEventId;
export const alarmIdempotencyKey = (observationEventId: string): string => `environment.emission-alarm:${observationEventId}`;

async function runAlarmCommand(ports: CommandPorts, command: EmissionAlarmCommand, options: CommandOptions): Promise<HandlerResult> {
  const result = await handleAlarm(ports.store, command, ports.metadata, options);
  return { events: result.events, replayed: result.replayed };
}

export function raiseEmissionAlarm(
  ports: CommandPorts,
  alarm: Exceedance & { alarmId: string; acknowledgeWithinMinutes: number },
  idempotencyKey: string,
): Promise<HandlerResult> {
  return runAlarmCommand(ports, { type: 'raiseEmissionAlarm', data: alarm, metadata: { now: ports.now } }, { idempotencyKey });
}

export function acknowledgeEmissionAlarm(ports: CommandPorts, data: AcknowledgeEmissionAlarm['data'], options: CommandOptions = {}): Promise<HandlerResult> {
  return runAlarmCommand(ports, { type: 'acknowledgeEmissionAlarm', data, metadata: { now: ports.now } }, options);
}

export function resolveEmissionAlarm(ports: CommandPorts, data: ResolveEmissionAlarm['data'], options: CommandOptions = {}): Promise<HandlerResult> {
  return runAlarmCommand(ports, { type: 'resolveEmissionAlarm', data, metadata: { now: ports.now } }, options);
}

/** The escalation process manager's key: one escalation per alarm. */
export const escalationIdempotencyKey = (alarmId: string): string => `environment.emission-alarm-escalation:${alarmId}`;

export function escalateEmissionAlarm(ports: CommandPorts, alarmId: string): Promise<HandlerResult> {
  return runAlarmCommand(ports, { type: 'escalateEmissionAlarm', data: { alarmId }, metadata: { now: ports.now } }, { idempotencyKey: escalationIdempotencyKey(alarmId) });
}
