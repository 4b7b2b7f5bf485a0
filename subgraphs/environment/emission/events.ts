/**
 * Pollutant-discharge units (排污单位) under a discharge permit (排污许可证), their online monitoring
 * (在线监测), and the alarms an exceedance raises. Two streams: the permit (its limits and the
 * observations checked against them) and each alarm (its own closed loop: raised → acknowledged →
 * resolved, or escalated first when nobody acknowledged it in time).
 */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf } from '../../kit/eventTypes.ts';

/** Flue gas: SO2, NOX (氮氧化物), PM (颗粒物); wastewater: COD, NH3_N (氨氮), TP (总磷), TN (总氮). */
export const EMISSION_POLLUTANTS = ['SO2', 'NOX', 'PM', 'COD', 'NH3_N', 'TP', 'TN'] as const;
export type EmissionPollutant = (typeof EMISSION_POLLUTANTS)[number];

/** mg/m³ for flue gas (written `mg/m3`), mg/L for wastewater. */
export const EMISSION_UNITS = ['mg/m3', 'mg/L'] as const;
export type EmissionUnit = (typeof EMISSION_UNITS)[number];

/** The unit each pollutant's limit and readings are given in, fixed by the medium it is discharged in. */
export const UNIT_OF: Readonly<Record<EmissionPollutant, EmissionUnit>> = {
  SO2: 'mg/m3',
  NOX: 'mg/m3',
  PM: 'mg/m3',
  COD: 'mg/L',
  NH3_N: 'mg/L',
  TP: 'mg/L',
  TN: 'mg/L',
};

const { id, text, date, instant } = eventFields;
const pollutant = z.enum(EMISSION_POLLUTANTS);
const unit = z.enum(EMISSION_UNITS);
const concentration = z.number().nonnegative();

const permittedPollutant = z.object({
  pollutant,
  /** The permitted concentration limit; a reading above it is an exceedance. */
  limit: z.number().positive(),
  unit,
});
export type PermittedPollutant = z.infer<typeof permittedPollutant>;

const outlet = z.object({
  outletId: id,
  /** e.g. 1号锅炉排气筒 (DA001), 废水总排口 (DW001). */
  name: text,
  pollutants: z.array(permittedPollutant).min(1),
});
export type Outlet = z.infer<typeof outlet>;

const emissionPermitIssued = eventType(
  'EmissionPermitIssued',
  z
    .object({
      permitId: id,
      /** The discharge unit, a LegalPerson id. */
      legalPersonId: id,
      /** The permit number as printed on it. */
      permitNo: text,
      outlets: z.array(outlet).min(1),
      /** Inclusive, China time. */
      validFrom: date,
      validUntil: date,
    })
    .refine((p) => p.validFrom <= p.validUntil, { message: 'validFrom is not after validUntil', path: ['validUntil'] }),
);
export type EmissionPermitIssued = EventOf<typeof emissionPermitIssued>;

/** One online-monitoring reading at an outlet; `observedAt` is a canonical UTC instant. */
const emissionObserved = eventType('EmissionObserved', { permitId: id, outletId: id, pollutant, value: concentration, unit, observedAt: instant });
export type EmissionObserved = EventOf<typeof emissionObserved>;

export type EmissionPermitEvent = EmissionPermitIssued | EmissionObserved;

const emissionAlarmRaised = eventType(
  'EmissionAlarmRaised',
  z
    .object({
      alarmId: id,
      permitId: id,
      /** Carried so read models can list a discharge unit's alarms without loading its permit. */
      legalPersonId: id,
      outletId: id,
      pollutant,
      value: concentration,
      limit: z.number().positive(),
      unit,
      observedAt: instant,
      raisedAt: instant,
      /** After this instant an unacknowledged alarm may be escalated. */
      acknowledgeBy: instant,
    })
    .refine((a) => a.value > a.limit, { message: 'an alarm is raised only for a value above the limit', path: ['value'] }),
);
export type EmissionAlarmRaised = EventOf<typeof emissionAlarmRaised>;

/** `by`: who acknowledged it for the discharge unit (a user id). */
const emissionAlarmAcknowledged = eventType('EmissionAlarmAcknowledged', { alarmId: id, by: text, at: instant });
export type EmissionAlarmAcknowledged = EventOf<typeof emissionAlarmAcknowledged>;

const emissionAlarmResolved = eventType('EmissionAlarmResolved', {
  alarmId: id,
  /** References to the evidence of the fix (documents, photos, monitoring records). */
  evidence: z.array(text).min(1),
  note: text,
  at: instant,
});
export type EmissionAlarmResolved = EventOf<typeof emissionAlarmResolved>;

export const ESCALATION_REASONS = ['NOT_ACKNOWLEDGED_IN_TIME'] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

const emissionAlarmEscalated = eventType('EmissionAlarmEscalated', { alarmId: id, reason: z.enum(ESCALATION_REASONS), at: instant });
export type EmissionAlarmEscalated = EventOf<typeof emissionAlarmEscalated>;

export type EmissionAlarmEvent =
  | EmissionAlarmRaised
  | EmissionAlarmAcknowledged
  | EmissionAlarmResolved
  | EmissionAlarmEscalated;

/** Letters, digits, `_` and `-`: permit and alarm ids are part of stream ids. */
export const EMISSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** The permit's own stream: its issue. */
export const emissionPermitStreamId = (permitId: string): string => `environment.emission-permit-${permitId}`;

/**
 * One day's (China date of `observedAt`) online-monitoring readings under a permit, decided on top of
 * the permit: online monitors report every few minutes, and a reading only has to agree with the
 * permit, never with earlier readings, so the permit's stream stays one event long.
 */
export const emissionReadingsStreamId = (permitId: string, date: string): string =>
  `environment.emission-readings-${permitId}:${date}`;

export const emissionAlarmStreamId = (alarmId: string): string => `environment.emission-alarm-${alarmId}`;

export const emissionEventDefinitions: readonly EventTypeDefinition[] = [
  emissionPermitIssued,
  emissionObserved,
  emissionAlarmRaised,
  emissionAlarmAcknowledged,
  emissionAlarmResolved,
  emissionAlarmEscalated,
];
