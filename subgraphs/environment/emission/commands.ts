import type { Command } from '../../kit/command.ts';
import type { EmissionAlarmRaised, EmissionObserved, EmissionPermitIssued } from './events.ts';

export type IssueEmissionPermit = Command<'issueEmissionPermit', EmissionPermitIssued['data']>;

/** An online-monitoring reading; `observedAt` is an instant with an offset, not after `metadata.now`. */
export type RecordEmissionObservation = Command<'recordEmissionObservation', EmissionObserved['data']>;

export type EmissionPermitCommand = IssueEmissionPermit | RecordEmissionObservation;

/** A reading above its permitted limit, as `exceedance()` reports it. */
export type Exceedance = Omit<EmissionAlarmRaised['data'], 'alarmId' | 'raisedAt' | 'acknowledgeBy'>;

/**
 * Sent by the process manager for an exceedance `exceedance()` found; the alarm id is its choice.
 * `acknowledgeWithinMinutes` is the deployment's rule (default `ALARM_ACKNOWLEDGEMENT_MINUTES`).
 */
export type RaiseEmissionAlarm = Command<
  'raiseEmissionAlarm',
  Exceedance & { alarmId: string; acknowledgeWithinMinutes?: number }
>;

export type AcknowledgeEmissionAlarm = Command<'acknowledgeEmissionAlarm', { alarmId: string; by: string }>;

export type ResolveEmissionAlarm = Command<
  'resolveEmissionAlarm',
  { alarmId: string; evidence: string[]; note: string }
>;

/** Sent by the deadline process manager once `acknowledgeBy` has passed. */
export type EscalateEmissionAlarm = Command<'escalateEmissionAlarm', { alarmId: string }>;

export type EmissionAlarmCommand =
  | RaiseEmissionAlarm
  | AcknowledgeEmissionAlarm
  | ResolveEmissionAlarm
  | EscalateEmissionAlarm;
