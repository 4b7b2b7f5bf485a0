/**
 * The station commands at the I/O edge: which stream each one goes to and what it is decided on.
 * Registration lives in the station's stream; observations in one stream per reporting day
 * (`airQualityStreamId`), decided on top of the registration, so recording an hour reads at most a
 * day of events however long the station has been reporting.
 */
import type { EventMetadata, EventStore, RecordedEvent } from '../../../events/types.ts';
import { executeCommand } from '../../kit/command.ts';
import type { Concentrations } from '../aqi/hj633.ts';
import { startingFrom } from '../shared/decider.ts';
import { parseWholeHour, reportingDate } from '../shared/time.ts';
import type { CorrectAirQualityObservation, RegisterMonitoringStation, StationCommand } from './commands.ts';
import { stationDecider } from './decider.ts';
import { airQualityStreamId, stationStreamId, type StationEvent } from './events.ts';

/** What every command needs besides its data: the store, the events' metadata, and the instant it is decided at. */
export interface CommandPorts {
  store: EventStore;
  metadata: EventMetadata;
  /** ISO 8601 instant. */
  now: string;
}

export interface HandlerResult {
  /** The events appended (or, for a replay, first appended) by the command. */
  events: RecordedEvent[];
  /** True when every stream's idempotency key had already been used: nothing new was written. */
  replayed: boolean;
}

export type ObservationInput = { hour: string } & Concentrations;

export async function registerMonitoringStation(
  ports: CommandPorts,
  data: RegisterMonitoringStation['data'],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  const result = await executeCommand({
    store: ports.store,
    streamId: stationStreamId(data.stationId),
    decider: stationDecider,
    command: { type: 'registerMonitoringStation', data, metadata: { now: ports.now } },
    metadata: ports.metadata,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
  });
  return { events: result.events, replayed: result.replayed };
}

/** The decider for a station's observation streams, starting from its registration (unregistered when it has none). */
async function observationDecider(store: EventStore, stationId: string) {
  const registration = await store.readStream(stationStreamId(stationId));
  return startingFrom(stationDecider, registration as unknown as StationEvent[]);
}

/**
 * Records hourly observations of one station. One reporting day is appended atomically; a batch
 * spanning days is first decided day by day against what is stored, so an invalid hour anywhere
 * refuses the whole batch before anything is written. (A concurrent writer taking one of its hours
 * between that check and the append is still refused with CONFLICT, after the earlier days.)
 * With an idempotency key, each day's append uses `<key>:<date>`.
 */
export async function recordAirQualityObservations(
  ports: CommandPorts,
  stationId: string,
  observations: readonly ObservationInput[],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  const decider = await observationDecider(ports.store, stationId);
  const single = observations.length === 1;
  const byDate = new Map<string, ObservationInput[]>();
  for (const [i, observation] of observations.entries()) {
    const date = reportingDate(parseWholeHour(observation.hour, single ? 'hour' : `observations[${i}].hour`));
    byDate.set(date, [...(byDate.get(date) ?? []), observation]);
  }
  const commandFor = (group: ObservationInput[]): StationCommand =>
    single && group[0]
      ? { type: 'recordAirQualityObservation', data: { ...group[0], stationId }, metadata: { now: ports.now } }
      : { type: 'recordAirQualityObservations', data: { stationId, observations: group }, metadata: { now: ports.now } };
  // Deciding on an empty batch (or an unregistered station) throws the decider's own error.
  if (byDate.size === 0) decider.decide(commandFor([]), decider.initialState());
  const days = [...byDate].sort(([a], [b]) => a.localeCompare(b));
  if (days.length > 1) {
    // The rules are per hour, so the union of the days' streams decides the whole batch exactly,
    // and an error names the observation by its place in the batch.
    let state = decider.initialState();
    for (const [date] of days) {
      for (const event of await ports.store.readStream(airQualityStreamId(stationId, date))) {
        state = decider.evolve(state, event as unknown as StationEvent);
      }
    }
    decider.decide(commandFor([...observations]), state);
  }
  const results: HandlerResult[] = [];
  for (const [date, group] of days) {
    const result = await executeCommand({
      store: ports.store,
      streamId: airQualityStreamId(stationId, date),
      decider,
      command: commandFor(group),
      metadata: ports.metadata,
      ...(idempotencyKey !== undefined && { idempotencyKey: `${idempotencyKey}:${date}` }),
    });
    results.push({ events: result.events, replayed: result.replayed });
  }
  return { events: results.flatMap((r) => r.events), replayed: results.every((r) => r.replayed) };
}

export async function correctAirQualityObservation(
  ports: CommandPorts,
  data: CorrectAirQualityObservation['data'],
  idempotencyKey?: string,
): Promise<HandlerResult> {
  const decider = await observationDecider(ports.store, data.stationId);
  const date = reportingDate(parseWholeHour(data.hour, 'hour'));
  const result = await executeCommand({
    store: ports.store,
    streamId: airQualityStreamId(data.stationId, date),
    decider,
    command: { type: 'correctAirQualityObservation', data, metadata: { now: ports.now } },
    metadata: ports.metadata,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
  });
  return { events: result.events, replayed: result.replayed };
}
