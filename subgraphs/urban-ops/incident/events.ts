/**
 * The digital urban-management closed loop of one incident (§(十三)): reported (信息收集) →
 * registered as a case (立案) or rejected → dispatched (派遣) → handling (处置) → handled (处置反馈)
 * → verified (核查) → closed (结案) → evaluated (评价), with returns (退回), escalations (上报),
 * overdue marks and supervision (督办) along the way.
 */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf } from '../../kit/eventTypes.ts';
import { URGENCIES, getCategory } from '../categories.ts';
import { LEVELS, tryLevelOfCode, type Level } from '../levels.ts';

/** 自动感知 (IoT), 主动上报 (grid workers, citizens' photos), 被动发现 (12345 hotline, the app). */
export const CHANNELS = ['IOT_SENSOR', 'GRID_WORKER', 'CITIZEN_PHOTO', 'HOTLINE_12345', 'APP'] as const;
export type Channel = (typeof CHANNELS)[number];

export const REPORTER_KINDS = ['DEVICE', 'GRID_WORKER', 'CITIZEN'] as const;
export type ReporterKind = (typeof REPORTER_KINDS)[number];

export const REJECTION_REASONS = ['DUPLICATE', 'OUT_OF_SCOPE', 'INSUFFICIENT'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/**
 * Why a case went up a level. REQUESTED: the unit or centre holding it asked (上报); the case waits
 * for the higher level to dispatch it. OVERDUE: the deadline process manager moved ownership up for
 * supervision; the unit already working on it keeps it.
 */
export const ESCALATION_TRIGGERS = ['REQUESTED', 'OVERDUE'] as const;
export type EscalationTrigger = (typeof ESCALATION_TRIGGERS)[number];

const { id, text, instant } = eventFields;
const level = z.enum(LEVELS);
const divisionCode = z.string().refine((code) => tryLevelOfCode(code) !== null, 'a city, district, street or community code');
/** An object whose `level` and `divisionCode` must agree with each other. */
const atLevel = <Shape extends z.ZodRawShape & { level: typeof level; divisionCode: typeof divisionCode }>(fields: Shape) =>
  z.object(fields).refine((parsed) => {
    // Shape has both fields; zod's output type of a generic shape does not show them.
    const placed = parsed as { level: Level; divisionCode: string };
    return tryLevelOfCode(placed.divisionCode) === placed.level;
  }, 'level must match the division code');
const refs = z.array(id);

const location = z.object({
  longitude: z.number().min(-180).max(180),
  latitude: z.number().min(-90).max(90),
  address: text,
});
export type Location = z.infer<typeof location>;

const reporter = z.object({
  kind: z.enum(REPORTER_KINDS),
  /** Sensor id or grid worker id; citizens may stay anonymous. */
  id: id.optional(),
  name: text.optional(),
});
export type Reporter = z.infer<typeof reporter>;

/** A command centre (指挥中心) at one level, identified by its division. */
const centreRef = atLevel({ level, divisionCode });
export type CentreRef = z.infer<typeof centreRef>;

/** Whoever acted: a command centre, or a unit (unitId) belonging to a division. */
const actorRef = atLevel({ level, divisionCode, unitId: id.optional() });
export type ActorRef = z.infer<typeof actorRef>;

const incidentReported = eventType(
  'IncidentReported',
  z
    .object({
      incidentId: id,
      channel: z.enum(CHANNELS),
      category: id,
      subcategory: id,
      description: text,
      location,
      /** The community (12 digits) the location lies in. */
      divisionCode: z.string().regex(/^\d{12}$/, 'a 12-digit community code'),
      reporter,
      /** References to stored photos, recordings or sensor readings. */
      attachments: refs,
      /** When the report was made at the source, which may precede its recording. */
      reportedAt: instant,
    })
    .refine((d) => {
      try {
        getCategory(d.category, d.subcategory);
        return true;
      } catch {
        return false;
      }
    }, 'category and subcategory must be a pair of the incident catalog'),
);
export type IncidentReported = EventOf<typeof incidentReported>;

/**
 * 立案. No deadline yet: by the local rules the handling clock starts at dispatch, so the limit is
 * frozen here (a later catalog change does not move an open case) and the first
 * IncidentDispatched carries the deadline.
 */
const incidentRegistered = eventType('IncidentRegistered', atLevel({
  incidentId: id,
  caseNumber: id,
  urgency: z.enum(URGENCIES),
  limitMinutes: z.int().positive(),
  /** The registering centre's level and division, which owns the case from now on. */
  level,
  divisionCode,
  registeredAt: instant,
}));
export type IncidentRegistered = EventOf<typeof incidentRegistered>;

/** A duplicate report is rejected with a link to the case it repeats (duplicateOfId). */
const incidentRejected = eventType(
  'IncidentRejected',
  z
    .object({
      incidentId: id,
      reason: z.enum(REJECTION_REASONS),
      duplicateOfId: id.optional(),
      note: text,
      rejectedBy: centreRef,
      rejectedAt: instant,
    })
    .refine((d) => (d.reason === 'DUPLICATE') === (d.duplicateOfId !== undefined), 'duplicateOfId goes with DUPLICATE only'),
);
export type IncidentRejected = EventOf<typeof incidentRejected>;

const incidentDispatched = eventType('IncidentDispatched', atLevel({
  incidentId: id,
  unitId: id,
  unitName: text,
  /** The unit's level and division. */
  level,
  divisionCode,
  /** The dispatching centre, which owns the case from now on (returns go back to it). */
  dispatchedBy: centreRef,
  /** First dispatch + the category limit; re-dispatches keep the first deadline. */
  deadline: instant,
  dispatchedAt: instant,
}));
export type IncidentDispatched = EventOf<typeof incidentDispatched>;

/** 退回: the unit says the case is not theirs; it goes back to the owning centre. */
const incidentReturned = eventType('IncidentReturned', { incidentId: id, unitId: id, reason: text, returnedTo: centreRef, returnedAt: instant });
export type IncidentReturned = EventOf<typeof incidentReturned>;

const incidentEscalated = eventType(
  'IncidentEscalated',
  z
    .object({
      incidentId: id,
      trigger: z.enum(ESCALATION_TRIGGERS),
      fromLevel: level,
      fromDivisionCode: divisionCode,
      toLevel: level,
      toDivisionCode: divisionCode,
      reason: text,
      /** Absent when the deadline process manager escalated. */
      escalatedBy: actorRef.optional(),
      escalatedAt: instant,
    })
    .refine(
      (d) => tryLevelOfCode(d.fromDivisionCode) === d.fromLevel && tryLevelOfCode(d.toDivisionCode) === d.toLevel,
      'levels must match the division codes',
    )
    .refine((d) => LEVELS.indexOf(d.toLevel) < LEVELS.indexOf(d.fromLevel), 'an escalation goes up at least one level'),
);
export type IncidentEscalated = EventOf<typeof incidentEscalated>;

const incidentHandlingStarted = eventType('IncidentHandlingStarted', { incidentId: id, unitId: id, startedAt: instant });
export type IncidentHandlingStarted = EventOf<typeof incidentHandlingStarted>;

const incidentHandled = eventType('IncidentHandled', { incidentId: id, unitId: id, evidence: refs.min(1), note: text, handledAt: instant });
export type IncidentHandled = EventOf<typeof incidentHandled>;

const incidentVerificationPassed = eventType('IncidentVerificationPassed', { incidentId: id, verifiedBy: actorRef, note: text.optional(), verifiedAt: instant });
export type IncidentVerificationPassed = EventOf<typeof incidentVerificationPassed>;

/** 核查不通过: the case is reopened for re-dispatch and counts as rework (返工). */
const incidentVerificationFailed = eventType('IncidentVerificationFailed', { incidentId: id, verifiedBy: actorRef, reason: text, verifiedAt: instant });
export type IncidentVerificationFailed = EventOf<typeof incidentVerificationFailed>;

/** `onTime`: closedAt is not after the deadline. */
const incidentClosed = eventType('IncidentClosed', { incidentId: id, closedAt: instant, onTime: z.boolean() });
export type IncidentClosed = EventOf<typeof incidentClosed>;

const incidentEvaluated = eventType('IncidentEvaluated', {
  incidentId: id,
  /** 1 (very dissatisfied) to 5 (very satisfied). */
  satisfaction: z.int().min(1).max(5),
  comment: text.optional(),
  evaluatedAt: instant,
});
export type IncidentEvaluated = EventOf<typeof incidentEvaluated>;

const incidentOverdue = eventType('IncidentOverdue', { incidentId: id, deadline: instant, detectedAt: instant });
export type IncidentOverdue = EventOf<typeof incidentOverdue>;

/**
 * 督办: a centre puts the case under its supervision. After an overdue escalation it sets its own
 * `deadline` (the category's limit again, from now): a case still open then escalates once more.
 */
const incidentSupervised = eventType('IncidentSupervised', atLevel({ incidentId: id, level, divisionCode, note: text, supervisedAt: instant, deadline: instant.optional() }));
export type IncidentSupervised = EventOf<typeof incidentSupervised>;

export const incidentStreamId = (incidentId: string): string => `urban.incident-${incidentId}`;

const incidentEventTypes = [
  incidentReported,
  incidentRegistered,
  incidentRejected,
  incidentDispatched,
  incidentReturned,
  incidentEscalated,
  incidentHandlingStarted,
  incidentHandled,
  incidentVerificationPassed,
  incidentVerificationFailed,
  incidentClosed,
  incidentEvaluated,
  incidentOverdue,
  incidentSupervised,
] as const;

export type IncidentEvent = EventOf<(typeof incidentEventTypes)[number]>;

export const incidentEventDefinitions: readonly EventTypeDefinition[] = incidentEventTypes;
