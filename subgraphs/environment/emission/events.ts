/**
 * Pollutant-discharge units (排污单位) under a discharge permit (排污许可证), their online monitoring
 * (在线监测), and the alarms an exceedance raises. Two streams: the permit (its limits and the
 * observations checked against them) and each alarm (its own closed loop: raised → acknowledged →
 * resolved, or escalated first when nobody acknowledged it in time).
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';

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

export interface PermittedPollutant {
  pollutant: EmissionPollutant;
  /** The permitted concentration limit; a reading above it is an exceedance. */
  limit: number;
  unit: EmissionUnit;
}

export interface Outlet {
  outletId: string;
  /** e.g. 1号锅炉排气筒 (DA001), 废水总排口 (DW001). */
  name: string;
  pollutants: PermittedPollutant[];
}

export type EmissionPermitIssued = DomainEvent<
  'EmissionPermitIssued',
  {
    permitId: string;
    /** The discharge unit, a LegalPerson id. */
    legalPersonId: string;
    /** The permit number as printed on it. */
    permitNo: string;
    outlets: Outlet[];
    /** `YYYY-MM-DD`, inclusive, China time. */
    validFrom: string;
    validUntil: string;
  }
>;

/** One online-monitoring reading at an outlet; `observedAt` is a canonical UTC instant. */
export type EmissionObserved = DomainEvent<
  'EmissionObserved',
  {
    permitId: string;
    outletId: string;
    pollutant: EmissionPollutant;
    value: number;
    unit: EmissionUnit;
    observedAt: string;
  }
>;

export type EmissionPermitEvent = EmissionPermitIssued | EmissionObserved;

export type EmissionAlarmRaised = DomainEvent<
  'EmissionAlarmRaised',
  {
    alarmId: string;
    permitId: string;
    /** Carried so read models can list a discharge unit's alarms without loading its permit. */
    legalPersonId: string;
    outletId: string;
    pollutant: EmissionPollutant;
    value: number;
    limit: number;
    unit: EmissionUnit;
    observedAt: string;
    raisedAt: string;
    /** After this instant an unacknowledged alarm may be escalated. */
    acknowledgeBy: string;
  }
>;

export type EmissionAlarmAcknowledged = DomainEvent<
  'EmissionAlarmAcknowledged',
  { alarmId: string; /** Who acknowledged it for the discharge unit (a user id). */ by: string; at: string }
>;

export type EmissionAlarmResolved = DomainEvent<
  'EmissionAlarmResolved',
  {
    alarmId: string;
    /** References to the evidence of the fix (documents, photos, monitoring records). */
    evidence: string[];
    note: string;
    at: string;
  }
>;

export const ESCALATION_REASONS = ['NOT_ACKNOWLEDGED_IN_TIME'] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

export type EmissionAlarmEscalated = DomainEvent<
  'EmissionAlarmEscalated',
  { alarmId: string; reason: EscalationReason; at: string }
>;

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

const id = z.string().min(1);
const text = z.string().trim().min(1);
const date = z.iso.date();
const instant = z.iso.datetime({ offset: true });
const pollutant = z.enum(EMISSION_POLLUTANTS);
const unit = z.enum(EMISSION_UNITS);
const concentration = z.number().nonnegative();

const emissionPermitIssued: EventTypeDefinition<EmissionPermitIssued['data']> = {
  type: 'EmissionPermitIssued',
  schemaVersion: 1,
  schema: z
    .object({
      permitId: id,
      legalPersonId: id,
      permitNo: text,
      outlets: z
        .array(
          z.object({
            outletId: id,
            name: text,
            pollutants: z.array(z.object({ pollutant, limit: z.number().positive(), unit })).min(1),
          }),
        )
        .min(1),
      validFrom: date,
      validUntil: date,
    })
    .refine((p) => p.validFrom <= p.validUntil, { message: 'validFrom is not after validUntil', path: ['validUntil'] }),
};

const emissionObserved: EventTypeDefinition<EmissionObserved['data']> = {
  type: 'EmissionObserved',
  schemaVersion: 1,
  schema: z.object({ permitId: id, outletId: id, pollutant, value: concentration, unit, observedAt: instant }),
};

const emissionAlarmRaised: EventTypeDefinition<EmissionAlarmRaised['data']> = {
  type: 'EmissionAlarmRaised',
  schemaVersion: 1,
  schema: z
    .object({
      alarmId: id,
      permitId: id,
      legalPersonId: id,
      outletId: id,
      pollutant,
      value: concentration,
      limit: z.number().positive(),
      unit,
      observedAt: instant,
      raisedAt: instant,
      acknowledgeBy: instant,
    })
    .refine((a) => a.value > a.limit, { message: 'an alarm is raised only for a value above the limit', path: ['value'] }),
};

const emissionAlarmAcknowledged: EventTypeDefinition<EmissionAlarmAcknowledged['data']> = {
  type: 'EmissionAlarmAcknowledged',
  schemaVersion: 1,
  schema: z.object({ alarmId: id, by: text, at: instant }),
};

const emissionAlarmResolved: EventTypeDefinition<EmissionAlarmResolved['data']> = {
  type: 'EmissionAlarmResolved',
  schemaVersion: 1,
  schema: z.object({ alarmId: id, evidence: z.array(text).min(1), note: text, at: instant }),
};

const emissionAlarmEscalated: EventTypeDefinition<EmissionAlarmEscalated['data']> = {
  type: 'EmissionAlarmEscalated',
  schemaVersion: 1,
  schema: z.object({ alarmId: id, reason: z.enum(ESCALATION_REASONS), at: instant }),
};

export const emissionEventDefinitions: readonly EventTypeDefinition[] = [
  emissionPermitIssued,
  emissionObserved,
  emissionAlarmRaised,
  emissionAlarmAcknowledged,
  emissionAlarmResolved,
  emissionAlarmEscalated,
];
