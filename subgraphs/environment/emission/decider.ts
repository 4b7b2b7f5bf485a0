import { byType, createOnce, deciderOf, type Decider, type HandlersByType } from '../../../events/decider.ts';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { assertCalendarDate, canonicalInstant, chinaDateOf, parseInstantWithOffset } from '../../kit/calendar.ts';
import type {
  EmissionAlarmCommand,
  EmissionPermitCommand,
  Exceedance,
  IssueEmissionPermit,
  RaiseEmissionAlarm,
  RecordEmissionObservation,
} from './commands.ts';
import {
  EMISSION_ID_PATTERN,
  EMISSION_POLLUTANTS,
  UNIT_OF,
  type EmissionAlarmEvent,
  type EmissionAlarmRaised,
  type EmissionObserved,
  type EmissionPermitEvent,
  type EmissionPermitIssued,
  type EmissionPollutant,
  type EmissionUnit,
  type Outlet,
  type PermittedPollutant,
} from './events.ts';

export type EmissionPermit = EmissionPermitIssued['data'];

/**
 * How long a discharge unit has to acknowledge an alarm before it is escalated. A local operating
 * rule, not a figure from a national standard.
 */
export const ALARM_ACKNOWLEDGEMENT_MINUTES = 60;

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

/** A permit or alarm id: part of a stream id. */
function checkedId(value: string, field: string): string {
  const id = requiredText(value, field);
  if (!EMISSION_ID_PATTERN.test(id)) {
    throw new ValidationError(`${field} "${id}" may hold only letters, digits, "_" and "-" (a UUID will do)`, { field });
  }
  return id;
}

/** `prefix` locates the fields in the command, e.g. `outlets[0].pollutants[1].`. */
function checkedPollutant(
  pollutant: string,
  unit: string,
  prefix: string,
): { pollutant: EmissionPollutant; unit: EmissionUnit } {
  const known = EMISSION_POLLUTANTS.find((p) => p === pollutant);
  if (!known) {
    throw new ValidationError(`${prefix}pollutant ${pollutant} is not monitored here; use one of ${EMISSION_POLLUTANTS.join(', ')}`, {
      field: `${prefix}pollutant`,
    });
  }
  const expected = UNIT_OF[known];
  if (unit !== expected) {
    throw new ValidationError(`${prefix}unit must be ${expected} for ${known}, got ${unit}`, { field: `${prefix}unit` });
  }
  return { pollutant: known, unit: expected };
}

function checkedConcentration(value: number, field: string, unit: EmissionUnit): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ValidationError(`${field} must be a concentration in ${unit}, 0 or more, got ${value}`, { field });
  }
  return value;
}

/** An instant in the past (or now), canonical. */
function pastInstant(value: string, field: string, now: string): string {
  const ms = parseInstantWithOffset(value, field);
  const nowMs = parseInstantWithOffset(now, 'now');
  if (ms > nowMs) {
    throw new ValidationError(`${field} ${value} is in the future (now is ${canonicalInstant(nowMs)})`, { field });
  }
  return canonicalInstant(ms);
}

function issue(command: IssueEmissionPermit): EmissionPermitIssued {
  const { data } = command;
  assertCalendarDate(data.validFrom, 'validFrom');
  assertCalendarDate(data.validUntil, 'validUntil');
  if (data.validUntil < data.validFrom) {
    throw new ValidationError(`validUntil ${data.validUntil} is before validFrom ${data.validFrom}`, { field: 'validUntil' });
  }
  if (data.outlets.length === 0) {
    throw new ValidationError('a permit lists at least one outlet with its permitted pollutants', { field: 'outlets' });
  }
  const outletIds = new Set<string>();
  const outlets = data.outlets.map((outlet, i): Outlet => {
    const field = `outlets[${i}]`;
    const outletId = requiredText(outlet.outletId, `${field}.outletId`);
    if (outletIds.has(outletId)) {
      throw new ValidationError(`outlet ${outletId} is listed twice; give each outlet once with all its pollutants`, {
        field: `${field}.outletId`,
      });
    }
    outletIds.add(outletId);
    if (outlet.pollutants.length === 0) {
      throw new ValidationError(`outlet ${outletId} has no permitted pollutants; list each with its limit`, {
        field: `${field}.pollutants`,
      });
    }
    const seen = new Set<EmissionPollutant>();
    const pollutants = outlet.pollutants.map((p, j): PermittedPollutant => {
      const pField = `${field}.pollutants[${j}]`;
      const { pollutant, unit } = checkedPollutant(p.pollutant, p.unit, `${pField}.`);
      if (seen.has(pollutant)) {
        throw new ValidationError(`outlet ${outletId} lists ${pollutant} twice; give one limit per pollutant`, { field: pField });
      }
      seen.add(pollutant);
      if (!Number.isFinite(p.limit) || p.limit <= 0) {
        throw new ValidationError(`${pField}.limit must be a concentration in ${unit} above 0, got ${p.limit}`, {
          field: `${pField}.limit`,
        });
      }
      return { pollutant, limit: p.limit, unit };
    });
    return { outletId, name: requiredText(outlet.name, `${field}.name`), pollutants };
  });
  return {
    type: 'EmissionPermitIssued',
    data: {
      permitId: checkedId(data.permitId, 'permitId'),
      legalPersonId: requiredText(data.legalPersonId, 'legalPersonId'),
      permitNo: requiredText(data.permitNo, 'permitNo'),
      outlets,
      validFrom: data.validFrom,
      validUntil: data.validUntil,
    },
  };
}

/** The permit's entry for a pollutant at an outlet; a ValidationError listing what the permit has otherwise. */
export function permittedPollutant(permit: EmissionPermit, outletId: string, pollutant: string): PermittedPollutant {
  const outlet = permit.outlets.find((o) => o.outletId === outletId);
  if (!outlet) {
    throw new ValidationError(
      `outlet ${outletId} is not in permit ${permit.permitNo}; its outlets are ${permit.outlets.map((o) => o.outletId).join(', ')}`,
      { field: 'outletId' },
    );
  }
  const entry = outlet.pollutants.find((p) => p.pollutant === pollutant);
  if (!entry) {
    throw new ValidationError(
      `pollutant ${pollutant} is not permitted at outlet ${outletId} (${outlet.name}); it is permitted ${outlet.pollutants.map((p) => p.pollutant).join(', ')}`,
      { field: 'pollutant' },
    );
  }
  return entry;
}

function observation(command: RecordEmissionObservation, permit: EmissionPermit): EmissionObserved {
  const { data } = command;
  const entry = permittedPollutant(permit, data.outletId, data.pollutant);
  if (data.unit !== entry.unit) {
    throw new ValidationError(`unit must be ${entry.unit} for ${entry.pollutant}, as the permit's limit is, got ${data.unit}`, {
      field: 'unit',
    });
  }
  const observedAt = pastInstant(data.observedAt, 'observedAt', command.metadata.now);
  const day = chinaDateOf(Date.parse(observedAt));
  if (day < permit.validFrom || day > permit.validUntil) {
    throw new ValidationError(
      `observedAt ${data.observedAt} is outside permit ${permit.permitNo}'s validity (${permit.validFrom} to ${permit.validUntil}); record it under the permit valid on ${day}`,
      { field: 'observedAt' },
    );
  }
  return {
    type: 'EmissionObserved',
    data: {
      permitId: permit.permitId,
      outletId: data.outletId,
      pollutant: entry.pollutant,
      value: checkedConcentration(data.value, 'value', entry.unit),
      unit: entry.unit,
      observedAt,
    },
  };
}

/**
 * Whether a reading exceeds its permitted limit (strictly above it: a reading at the limit
 * complies). The process manager calls this for each `EmissionObserved` and raises an alarm for
 * what it returns.
 */
export function exceedance(permit: EmissionPermit, observed: EmissionObserved['data']): Exceedance | undefined {
  const { limit, unit } = permittedPollutant(permit, observed.outletId, observed.pollutant);
  if (observed.unit !== unit) {
    throw new ValidationError(`the reading is in ${observed.unit} but the limit in ${unit}; they cannot be compared`, {
      field: 'unit',
    });
  }
  if (observed.value <= limit) return undefined;
  return {
    permitId: permit.permitId,
    legalPersonId: permit.legalPersonId,
    outletId: observed.outletId,
    pollutant: observed.pollutant,
    value: observed.value,
    limit,
    unit,
    observedAt: observed.observedAt,
  };
}

export type EmissionPermitState = { status: 'NOT_ISSUED' } | { status: 'ISSUED'; permit: EmissionPermit };

export const emissionPermitDecider = deciderOf<EmissionPermitCommand, EmissionPermitEvent, EmissionPermitState>({
  initialState: () => ({ status: 'NOT_ISSUED' }),
  decide: {
    issueEmissionPermit: (command, state) =>
      createOnce(state.status === 'ISSUED', `emission permit ${command.data.permitId} has already been issued`, { permitId: command.data.permitId }, () => issue(command)),
    recordEmissionObservation: (command, state) => {
      if (state.status === 'NOT_ISSUED') {
        // The permit is what a reading names, not what it changes: the caller's input is wrong.
        throw new ValidationError(
          `permitId ${command.data.permitId} is not an issued emission permit; issue it with issueEmissionPermit before recording readings`,
          { field: 'permitId', permitId: command.data.permitId },
        );
      }
      return [observation(command, state.permit)];
    },
  },
  evolve: {
    EmissionPermitIssued: (event) => ({ status: 'ISSUED', permit: event.data }),
    // Readings leave the permit as it was: the permit stream's state is the permit.
    EmissionObserved: (_event, state) => state,
  },
});

export type EmissionAlarmStatus = 'RAISED' | 'ESCALATED' | 'ACKNOWLEDGED' | 'RESOLVED';

export type EmissionAlarmState =
  | { status: 'NOT_RAISED' }
  | {
      status: EmissionAlarmStatus;
      alarmId: string;
      acknowledgeBy: string;
      /** The instant of the latest step, so no step is recorded before the one it follows. */
      lastStepAt: string;
    };

type AlarmStep = Exclude<EmissionAlarmCommand, RaiseEmissionAlarm>;

/** RAISED → ACKNOWLEDGED → RESOLVED, or RAISED → ESCALATED → ACKNOWLEDGED → RESOLVED. */
const NEXT_STEPS: Record<EmissionAlarmStatus, readonly AlarmStep['type'][]> = {
  RAISED: ['acknowledgeEmissionAlarm', 'escalateEmissionAlarm'],
  ESCALATED: ['acknowledgeEmissionAlarm'],
  ACKNOWLEDGED: ['resolveEmissionAlarm'],
  RESOLVED: [],
};

function raise(command: RaiseEmissionAlarm): EmissionAlarmRaised {
  const { data, metadata } = command;
  const { pollutant, unit } = checkedPollutant(data.pollutant, data.unit, '');
  if (!Number.isFinite(data.limit) || data.limit <= 0) {
    throw new ValidationError(`limit must be a concentration in ${unit} above 0, got ${data.limit}`, { field: 'limit' });
  }
  const value = checkedConcentration(data.value, 'value', unit);
  if (value <= data.limit) {
    throw new ValidationError(
      `value ${value} ${unit} does not exceed the limit ${data.limit} ${unit}; only an exceedance raises an alarm`,
      { field: 'value' },
    );
  }
  const minutes = data.acknowledgeWithinMinutes ?? ALARM_ACKNOWLEDGEMENT_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 1) {
    throw new ValidationError(`acknowledgeWithinMinutes must be a whole number of minutes, 1 or more, got ${minutes}`, {
      field: 'acknowledgeWithinMinutes',
    });
  }
  const nowMs = parseInstantWithOffset(metadata.now, 'now');
  return {
    type: 'EmissionAlarmRaised',
    data: {
      alarmId: checkedId(data.alarmId, 'alarmId'),
      permitId: requiredText(data.permitId, 'permitId'),
      legalPersonId: requiredText(data.legalPersonId, 'legalPersonId'),
      outletId: requiredText(data.outletId, 'outletId'),
      pollutant,
      value,
      limit: data.limit,
      unit,
      observedAt: pastInstant(data.observedAt, 'observedAt', metadata.now),
      raisedAt: canonicalInstant(nowMs),
      acknowledgeBy: canonicalInstant(nowMs + minutes * 60_000),
    },
  };
}

export function decideAlarm(command: EmissionAlarmCommand, state: EmissionAlarmState): EmissionAlarmEvent[] {
  if (command.type === 'raiseEmissionAlarm') {
    if (state.status !== 'NOT_RAISED') {
      throw new ConflictError(`emission alarm ${command.data.alarmId} has already been raised (status ${state.status})`, {
        alarmId: command.data.alarmId,
        status: state.status,
      });
    }
    return [raise(command)];
  }

  if (state.status === 'NOT_RAISED') {
    throw new NotFoundError(`emission alarm ${command.data.alarmId} has not been raised`, { alarmId: command.data.alarmId });
  }
  const allowed = NEXT_STEPS[state.status];
  if (!allowed.includes(command.type)) throw new InvalidTransitionError(command.type, state.status, allowed);
  const nowMs = parseInstantWithOffset(command.metadata.now, 'now');
  const at = canonicalInstant(nowMs);
  if (nowMs < Date.parse(state.lastStepAt)) {
    throw new ValidationError(`now ${at} is before the alarm's last step at ${state.lastStepAt}; check the clock`, {
      field: 'now',
    });
  }
  return byType(ALARM_STEPS, command, { ...state, nowMs, at });
}

type AlarmStepContext = Exclude<EmissionAlarmState, { status: 'NOT_RAISED' }> & { nowMs: number; at: string };

const ALARM_STEPS: HandlersByType<AlarmStep, [context: AlarmStepContext], EmissionAlarmEvent[]> = {
  acknowledgeEmissionAlarm: (command, { alarmId, at }) => [
    { type: 'EmissionAlarmAcknowledged', data: { alarmId, by: requiredText(command.data.by, 'by'), at } },
  ],
  resolveEmissionAlarm: (command, { alarmId, at }) => {
    const evidence = command.data.evidence.map((ref, i) => requiredText(ref, `evidence[${i}]`));
    if (evidence.length === 0) {
      throw new ValidationError('resolving an alarm needs at least one evidence reference (document, photo, record)', {
        field: 'evidence',
      });
    }
    if (new Set(evidence).size !== evidence.length) {
      throw new ValidationError('evidence lists the same reference twice; give each once', { field: 'evidence' });
    }
    return [
      { type: 'EmissionAlarmResolved', data: { alarmId, evidence, note: requiredText(command.data.note, 'note'), at } },
    ];
  },
  escalateEmissionAlarm: (_command, { alarmId, at, nowMs, acknowledgeBy }) => {
    if (nowMs <= Date.parse(acknowledgeBy)) {
      throw new ValidationError(
        `emission alarm ${alarmId} is not overdue: it may be acknowledged until ${acknowledgeBy}`,
        { field: 'now' },
      );
    }
    return [{ type: 'EmissionAlarmEscalated', data: { alarmId, reason: 'NOT_ACKNOWLEDGED_IN_TIME', at } }];
  },
};

export function evolveAlarm(state: EmissionAlarmState, event: EmissionAlarmEvent): EmissionAlarmState {
  if (event.type === 'EmissionAlarmRaised') {
    const { alarmId, acknowledgeBy, raisedAt } = event.data;
    return { status: 'RAISED', alarmId, acknowledgeBy, lastStepAt: raisedAt };
  }
  if (state.status === 'NOT_RAISED') return state;
  return { ...state, status: STATUS_AFTER[event.type], lastStepAt: event.data.at };
}

const STATUS_AFTER: Record<Exclude<EmissionAlarmEvent, EmissionAlarmRaised>['type'], EmissionAlarmStatus> = {
  EmissionAlarmAcknowledged: 'ACKNOWLEDGED',
  EmissionAlarmEscalated: 'ESCALATED',
  EmissionAlarmResolved: 'RESOLVED',
};

export const emissionAlarmDecider: Decider<EmissionAlarmCommand, EmissionAlarmEvent, EmissionAlarmState> = {
  initialState: () => ({ status: 'NOT_RAISED' }),
  decide: decideAlarm,
  evolve: evolveAlarm,
};
