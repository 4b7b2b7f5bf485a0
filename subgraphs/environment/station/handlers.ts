/**
 * The station commands at the I/O edge: which stream each one goes to and what it is decided on.
 * Registration lives in the station's stream; observations in one stream per reporting day
 * (`airQualityStreamId`), decided on top of the registration, so recording an hour reads at most a
 * day of events however long the station has been reporting.
 */
import { fold } from '../../../events/decider.ts';
import { CityBrainError, ConcurrencyError, ValidationError } from '../../../events/errors.ts';
import type { EventMetadata, EventStore, RecordedEvent, StreamAppend } from '../../../events/types.ts';
import { appendedWithKey, handle, newEvents, type CommandOptions } from '../../kit/command.ts';
import type { Concentrations } from '../aqi/hj633.ts';
import { startingFrom } from '../shared/decider.ts';
import { parseWholeHour } from '../../kit/calendar.ts';
import { reportingDate } from '../aqi/hj663.ts';
import type { CorrectAirQualityObservation, RegisterMonitoringStation, StationCommand } from './commands.ts';
import { locatedAt, stationDecider, type StationState } from './decider.ts';
import { airQualityStreamId, stationStreamId, type StationEvent } from './events.ts';

/** What every command needs besides its data and `CommandOptions`: the store, the events' metadata, and the instant it is decided at. */
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

/** The station's own stream: its registration. */
const handleStation = handle(stationDecider, (command: StationCommand) => stationStreamId(command.data.stationId));

export async function registerMonitoringStation(ports: CommandPorts, data: RegisterMonitoringStation['data'], options: CommandOptions = {}): Promise<HandlerResult> {
  const result = await handleStation(ports.store, { type: 'registerMonitoringStation', data, metadata: { now: ports.now } }, ports.metadata, options);
  return { events: result.events, replayed: result.replayed };
}

/** The decider for a station's observation streams, starting from its registration (unregistered when it has none). */
async function observationDecider(store: EventStore, stationId: string) {
  return startingFrom(stationDecider, await store.readStream<StationEvent>(stationStreamId(stationId)));
}

/** A station-day's observation stream, decided on top of the registration. */
const handleObservations = (decider: Awaited<ReturnType<typeof observationDecider>>, streamId: string) => handle(decider, () => streamId);

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
  { idempotencyKey }: CommandOptions = {},
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
      for (const event of await ports.store.readStream<StationEvent>(airQualityStreamId(stationId, date))) state = decider.evolve(state, event);
    }
    decider.decide(commandFor([...observations]), state);
  }
  const results: HandlerResult[] = [];
  for (const [date, group] of days) {
    const result = await handleObservations(decider, airQualityStreamId(stationId, date))(ports.store, commandFor(group), ports.metadata, {
      ...(idempotencyKey !== undefined && { idempotencyKey: `${idempotencyKey}:${date}` }),
    });
    results.push({ events: result.events, replayed: result.replayed });
  }
  return { events: results.flatMap((r) => r.events), replayed: results.every((r) => r.replayed) };
}

export async function correctAirQualityObservation(
  ports: CommandPorts,
  data: CorrectAirQualityObservation['data'],
  options: CommandOptions = {},
): Promise<HandlerResult> {
  const decider = await observationDecider(ports.store, data.stationId);
  const date = reportingDate(parseWholeHour(data.hour, 'hour'));
  const command: StationCommand = { type: 'correctAirQualityObservation', data, metadata: { now: ports.now } };
  const result = await handleObservations(decider, airQualityStreamId(data.stationId, date))(ports.store, command, ports.metadata, options);
  return { events: result.events, replayed: result.replayed };
}

/** One station's hours in a batch of many stations. */
export interface StationObservations {
  stationId: string;
  observations: readonly ObservationInput[];
}

/** One station-day of a batch: its observations with their places in the batch. */
interface StationDay {
  stationId: string;
  date: string;
  streamId: string;
  /** Where the batch first names the station (`stations[2]`). */
  stationPath: string;
  items: { observation: ObservationInput; path: string }[];
}

/** The batch's observations by station-day, in the order each station-day first appears. */
function stationDaysOf(batch: readonly StationObservations[]): StationDay[] {
  if (batch.length === 0) throw new ValidationError('stations is empty; send at least one station with its hours', { field: 'stations' });
  const days = new Map<string, StationDay>();
  for (const [i, { stationId, observations }] of batch.entries()) {
    if (observations.length === 0) {
      throw new ValidationError(`stations[${i}].observations is empty; send at least one hour of station ${stationId}`, {
        field: `stations[${i}].observations`,
      });
    }
    for (const [j, observation] of observations.entries()) {
      const path = `stations[${i}].observations[${j}]`;
      const date = reportingDate(parseWholeHour(observation.hour, `${path}.hour`));
      const key = `${stationId}\u0000${date}`;
      let day = days.get(key);
      if (!day) {
        day = { stationId, date, streamId: airQualityStreamId(stationId, date), stationPath: `stations[${i}]`, items: [] };
        days.set(key, day);
      }
      day.items.push({ observation, path });
    }
  }
  return [...days.values()];
}

/**
 * Records the hourly observations of many stations as one batch (a network's feed, an import, the
 * demo seed, the bench): every registration and every station-day stream involved is read in one
 * round trip, each station-day is decided by the station decider exactly as a single command would
 * be, and all of them are appended in one transaction, each with the revision it was decided on.
 *
 * All or nothing, as every import here: an invalid value, an hour outside the day it claims, an
 * unregistered station or an hour already observed (in the store or earlier in the batch) refuses
 * the whole batch, naming the observation (`stations[2].observations[5]…`), and nothing is written.
 * A concurrent writer that appends to one of the station-days between the read and the append is
 * caught by the expected revisions; the batch is then read and decided once more (an hour it took
 * is refused with CONFLICT), and a second collision is reported as CONFLICT. Nothing is overwritten.
 *
 * With an idempotency key, each station-day is appended with `<key>:<stationId>:<date>`; a re-sent
 * batch appends nothing and returns the events first appended.
 *
 * The one transaction is the SQL stores' (PGlite, PostgreSQL). On KurrentDB `appendMany` writes the
 * station-days in turn (events/kurrentdb/README.md): a refusal is still decided before anything is
 * written, but a concurrent writer caught on a later station-day leaves the earlier ones written.
 */
export async function ingestAirQualityObservations(
  ports: CommandPorts,
  batch: readonly StationObservations[],
  { idempotencyKey }: CommandOptions = {},
): Promise<HandlerResult> {
  const days = stationDaysOf(batch);
  for (let attempt = 1; ; attempt++) {
    try {
      return await ingestOnce(ports, days, idempotencyKey);
    } catch (error) {
      if (error instanceof ConcurrencyError && attempt === 1) continue;
      throw error;
    }
  }
}

async function ingestOnce(ports: CommandPorts, days: readonly StationDay[], idempotencyKey: string | undefined): Promise<HandlerResult> {
  const stationIds = [...new Set(days.map((d) => d.stationId))];
  const streams = await ports.store.readStreams<StationEvent>([...stationIds.map(stationStreamId), ...days.map((d) => d.streamId)]);
  const registered = new Map<string, StationState>(stationIds.map((id, k) => [id, fold(stationDecider, streams[k] ?? [])]));
  const metadata = { now: ports.now };
  const appends: StreamAppend[] = [];
  // Per station-day, in batch order: the events a replay found, or the index of its append.
  const outcomes: (RecordedEvent[] | number)[] = [];
  for (const [d, day] of days.entries()) {
    const history = streams[stationIds.length + d] ?? [];
    const key = idempotencyKey === undefined ? undefined : `${idempotencyKey}:${day.stationId}:${day.date}`;
    // A re-sent batch: this station-day was appended with the key; answer it from the stream.
    const replayed = key === undefined ? null : appendedWithKey(history, key);
    if (replayed) {
      outcomes.push(replayed);
      continue;
    }
    let state = registered.get(day.stationId) ?? stationDecider.initialState();
    if (state.status === 'UNREGISTERED') {
      throw new ValidationError(`${day.stationPath}.stationId ${day.stationId} is not a registered monitoring station; register it with registerMonitoringStation first`, {
        field: `${day.stationPath}.stationId`,
        stationId: day.stationId,
      });
    }
    for (const event of history) state = stationDecider.evolve(state, event);
    const decided: StationEvent[] = [];
    for (const { observation, path } of day.items) {
      let events: StationEvent[];
      try {
        events = stationDecider.decide({ type: 'recordAirQualityObservation', data: { ...observation, stationId: day.stationId }, metadata }, state);
      } catch (error) {
        throw error instanceof CityBrainError ? locatedAt(error, path) : error;
      }
      for (const event of events) state = stationDecider.evolve(state, event);
      decided.push(...events);
    }
    outcomes.push(appends.length);
    appends.push({
      streamId: day.streamId,
      events: newEvents(decided, ports.metadata),
      options: { expectedRevision: history.at(-1)?.revision ?? 'no_stream', ...(key !== undefined && { idempotencyKey: key }) },
    });
  }
  const results = appends.length > 0 ? await ports.store.appendMany(appends) : [];
  return {
    events: outcomes.flatMap((o) => (typeof o === 'number' ? (results[o]?.events ?? []) : o)),
    replayed: results.every((r) => r.replayed),
  };
}
