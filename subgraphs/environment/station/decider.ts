import { createOnce, deciderOf } from '../../../events/decider.ts';
import { CityBrainError, ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { CONCENTRATION_FIELD, POLLUTANTS, UNIT, type Concentrations } from '../aqi/hj633.ts';
import { canonicalInstant, parseInstantWithOffset, parseWholeHour } from '../../kit/calendar.ts';
import type { RecordAirQualityObservations, RegisterMonitoringStation, StationCommand } from './commands.ts';
import {
  PLAUSIBLE_MAXIMUM,
  STATION_ID_PATTERN,
  STATION_KINDS,
  type Location,
  type MonitoringStationRegistered,
  type StationEvent,
} from './events.ts';
import { ObservedHours } from './observedHours.ts';

/** Only what decisions need: whether the station exists and which hours it has reported. */
export type StationState =
  | { status: 'UNREGISTERED' }
  | { status: 'REGISTERED'; stationId: string; observedHours: ObservedHours };

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

function checkedLocation(location: Location): Location {
  const { longitude, latitude } = location;
  if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
    throw new ValidationError(`location.longitude must be between -180 and 180 degrees, got ${longitude}`, {
      field: 'location.longitude',
    });
  }
  if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
    throw new ValidationError(
      `location.latitude must be between -90 and 90 degrees, got ${latitude}; check that longitude and latitude are not swapped`,
      { field: 'location.latitude' },
    );
  }
  return { longitude, latitude };
}

function checkedStationId(value: string): string {
  const stationId = requiredText(value, 'stationId');
  if (!STATION_ID_PATTERN.test(stationId)) {
    throw new ValidationError(`stationId "${stationId}" may hold only letters, digits, "_" and "-" (a UUID will do)`, {
      field: 'stationId',
    });
  }
  return stationId;
}

function registration(command: RegisterMonitoringStation): MonitoringStationRegistered {
  const { data } = command;
  if (!STATION_KINDS.includes(data.kind)) {
    throw new ValidationError(`kind ${String(data.kind)} is not a station kind; use one of ${STATION_KINDS.join(', ')}`, {
      field: 'kind',
    });
  }
  const division = assertDivision(data.divisionCode);
  if (division.level === 'CITY') {
    throw new ValidationError(
      `divisionCode ${division.code} is the whole city; give the district (or street) the station stands in`,
      { field: 'divisionCode' },
    );
  }
  return {
    type: 'MonitoringStationRegistered',
    data: {
      stationId: checkedStationId(data.stationId),
      code: requiredText(data.code, 'code'),
      name: requiredText(data.name, 'name'),
      kind: data.kind,
      location: checkedLocation(data.location),
      divisionCode: division.code,
    },
  };
}

/** The six values in the event's shape, each a plausible number or null, at least one a number. */
function checkedConcentrations(values: Concentrations): Concentrations {
  for (const pollutant of POLLUTANTS) {
    const field = CONCENTRATION_FIELD[pollutant];
    const value = values[field];
    if (value === null) continue;
    const unit = UNIT[pollutant];
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(`${field} must be a concentration in ${unit}, 0 or more, or null when not measured; got ${value}`, {
        field,
      });
    }
    if (value > PLAUSIBLE_MAXIMUM[field]) {
      throw new ValidationError(
        `${field} ${value} ${unit} is above the plausible maximum of ${PLAUSIBLE_MAXIMUM[field]} ${unit}; check the unit and the instrument`,
        { field },
      );
    }
  }
  if (POLLUTANTS.every((pollutant) => values[CONCENTRATION_FIELD[pollutant]] === null)) {
    throw new ValidationError('an observation needs at least one pollutant value; every value is null');
  }
  const { pm2_5, pm10, so2, no2, co, o3 } = values;
  return { pm2_5, pm10, so2, no2, co, o3 };
}

/** The hour in canonical form; it ends an averaged hour, so it cannot lie after `now`. */
function checkedHour(hour: string, now: string): string {
  const hourMs = parseWholeHour(hour, 'hour');
  const nowMs = parseInstantWithOffset(now, 'now');
  if (hourMs > nowMs) {
    throw new ValidationError(
      `hour ${hour} has not ended yet (now is ${canonicalInstant(nowMs)}); an hour is labelled by the instant it ends`,
      { field: 'hour' },
    );
  }
  return canonicalInstant(hourMs);
}

/**
 * Each observation of a batch decided in turn on the state the previous ones left, so a batch that
 * repeats an hour is refused like two single commands would be. An error names the observation.
 */
function decideBatch(command: RecordAirQualityObservations, state: RegisteredStation): StationEvent[] {
  const { stationId, observations } = command.data;
  if (observations.length === 0) {
    throw new ValidationError('observations is empty; send at least one hour', { field: 'observations' });
  }
  const events: StationEvent[] = [];
  let current: StationState = state;
  for (const [i, observation] of observations.entries()) {
    let decided: StationEvent[];
    try {
      decided = stationDecider.decide({ type: 'recordAirQualityObservation', data: { ...observation, stationId }, metadata: command.metadata }, current);
    } catch (error) {
      throw error instanceof CityBrainError ? locatedAt(error, `observations[${i}]`) : error;
    }
    for (const event of decided) current = stationDecider.evolve(current, event);
    events.push(...decided);
  }
  return events;
}

/**
 * The same error with its message and field located at `path` (`observations[3]`, or
 * `stations[2].observations[3]` in a batch of many stations), so the caller can find the item.
 */
export function locatedAt(error: CityBrainError, path: string): CityBrainError {
  const field = typeof error.details.field === 'string' ? `${path}.${error.details.field}` : path;
  const details = { ...error.details, field };
  const message = `${path}: ${error.message}`;
  if (error instanceof ConflictError) return new ConflictError(message, details);
  if (error instanceof NotFoundError) return new NotFoundError(message, details);
  return new ValidationError(message, details);
}

type RegisteredStation = Exclude<StationState, { status: 'UNREGISTERED' }>;

function registered(command: Exclude<StationCommand, RegisterMonitoringStation>, state: StationState): RegisteredStation {
  if (state.status === 'UNREGISTERED') {
    // An observation names its station: an unknown one is the caller's input (the station is not what it changes).
    throw new ValidationError(
      `stationId ${command.data.stationId} is not a registered monitoring station; register it with registerMonitoringStation first`,
      { field: 'stationId', stationId: command.data.stationId },
    );
  }
  return state;
}

export const stationDecider = deciderOf<StationCommand, StationEvent, StationState>({
  initialState: () => ({ status: 'UNREGISTERED' }),
  decide: {
    registerMonitoringStation: (command, state) => {
      const { stationId } = command.data;
      return createOnce(state.status !== 'UNREGISTERED', `monitoring station ${stationId} is already registered`, { stationId }, () => registration(command));
    },
    recordAirQualityObservations: (command, state) => decideBatch(command, registered(command, state)),
    recordAirQualityObservation: (command, state) => {
      const { stationId, observedHours } = registered(command, state);
      const hour = checkedHour(command.data.hour, command.metadata.now);
      if (observedHours.has(hour)) {
        throw new ConflictError(
          `station ${stationId} already has an observation for the hour ending ${hour}; send correctAirQualityObservation to change it`,
          { stationId, hour },
        );
      }
      return [{ type: 'AirQualityObserved', data: { stationId, hour, ...checkedConcentrations(command.data) } }];
    },
    correctAirQualityObservation: (command, state) => {
      const { stationId, observedHours } = registered(command, state);
      const hour = checkedHour(command.data.hour, command.metadata.now);
      if (!observedHours.has(hour)) {
        throw new NotFoundError(
          `station ${stationId} has no observation for the hour ending ${hour} to correct; record it with recordAirQualityObservation`,
          { stationId, hour },
        );
      }
      const values = checkedConcentrations(command.data);
      const reason = requiredText(command.data.reason, 'reason');
      return [{ type: 'AirQualityObservationCorrected', data: { stationId, hour, ...values, reason } }];
    },
  },
  evolve: {
    MonitoringStationRegistered: (event) => ({ status: 'REGISTERED', stationId: event.data.stationId, observedHours: ObservedHours.empty() }),
    AirQualityObserved: (event, state) =>
      state.status === 'UNREGISTERED' ? state : { ...state, observedHours: state.observedHours.with(event.data.hour) },
    AirQualityObservationCorrected: (_event, state) => state,
  },
});
