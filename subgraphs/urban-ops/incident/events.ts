/**
 * The digital urban-management closed loop of one incident (§(十三)): reported (信息收集) →
 * registered as a case (立案) or rejected → dispatched (派遣) → handling (处置) → handled (处置反馈)
 * → verified (核查) → closed (结案) → evaluated (评价), with returns (退回), escalations (上报),
 * overdue marks and supervision (督办) along the way.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { URGENCIES, getCategory, type Urgency } from '../categories.ts';
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

export interface Location {
  longitude: number;
  latitude: number;
  address: string;
}

export interface Reporter {
  kind: ReporterKind;
  /** Sensor id or grid worker id; citizens may stay anonymous. */
  id?: string;
  name?: string;
}

/** A command centre (指挥中心) at one level, identified by its division. */
export interface CentreRef {
  level: Level;
  divisionCode: string;
}

/** Whoever acted: a command centre, or a unit (unitId) belonging to a division. */
export interface ActorRef extends CentreRef {
  unitId?: string;
}

export type IncidentReported = DomainEvent<
  'IncidentReported',
  {
    incidentId: string;
    channel: Channel;
    category: string;
    subcategory: string;
    description: string;
    location: Location;
    /** The community (12 digits) the location lies in. */
    divisionCode: string;
    reporter: Reporter;
    /** References to stored photos, recordings or sensor readings. */
    attachments: string[];
    /** When the report was made at the source, which may precede its recording. */
    reportedAt: string;
  }
>;

/**
 * 立案. No deadline yet: by the local rules the handling clock starts at dispatch, so the limit is
 * frozen here (a later catalog change does not move an open case) and the first
 * IncidentDispatched carries the deadline.
 */
export type IncidentRegistered = DomainEvent<
  'IncidentRegistered',
  {
    incidentId: string;
    caseNumber: string;
    urgency: Urgency;
    limitMinutes: number;
    /** The registering centre's level and division, which owns the case from now on. */
    level: Level;
    divisionCode: string;
    registeredAt: string;
  }
>;

/** A duplicate report is rejected with a link to the case it repeats (duplicateOfId). */
export type IncidentRejected = DomainEvent<
  'IncidentRejected',
  {
    incidentId: string;
    reason: RejectionReason;
    duplicateOfId?: string;
    note: string;
    rejectedBy: CentreRef;
    rejectedAt: string;
  }
>;

export type IncidentDispatched = DomainEvent<
  'IncidentDispatched',
  {
    incidentId: string;
    unitId: string;
    unitName: string;
    /** The unit's level and division. */
    level: Level;
    divisionCode: string;
    /** The dispatching centre, which owns the case from now on (returns go back to it). */
    dispatchedBy: CentreRef;
    /** First dispatch + the category limit; re-dispatches keep the first deadline. */
    deadline: string;
    dispatchedAt: string;
  }
>;

/** 退回: the unit says the case is not theirs; it goes back to the owning centre. */
export type IncidentReturned = DomainEvent<
  'IncidentReturned',
  { incidentId: string; unitId: string; reason: string; returnedTo: CentreRef; returnedAt: string }
>;

export type IncidentEscalated = DomainEvent<
  'IncidentEscalated',
  {
    incidentId: string;
    trigger: EscalationTrigger;
    fromLevel: Level;
    fromDivisionCode: string;
    toLevel: Level;
    toDivisionCode: string;
    reason: string;
    /** Absent when the deadline process manager escalated. */
    escalatedBy?: ActorRef;
    escalatedAt: string;
  }
>;

export type IncidentHandlingStarted = DomainEvent<
  'IncidentHandlingStarted',
  { incidentId: string; unitId: string; startedAt: string }
>;

export type IncidentHandled = DomainEvent<
  'IncidentHandled',
  { incidentId: string; unitId: string; evidence: string[]; note: string; handledAt: string }
>;

export type IncidentVerificationPassed = DomainEvent<
  'IncidentVerificationPassed',
  { incidentId: string; verifiedBy: ActorRef; note?: string; verifiedAt: string }
>;

/** 核查不通过: the case is reopened for re-dispatch and counts as rework (返工). */
export type IncidentVerificationFailed = DomainEvent<
  'IncidentVerificationFailed',
  { incidentId: string; verifiedBy: ActorRef; reason: string; verifiedAt: string }
>;

export type IncidentClosed = DomainEvent<
  'IncidentClosed',
  { incidentId: string; closedAt: string; /** closedAt is not after the deadline. */ onTime: boolean }
>;

export type IncidentEvaluated = DomainEvent<
  'IncidentEvaluated',
  {
    incidentId: string;
    /** 1 (very dissatisfied) to 5 (very satisfied). */
    satisfaction: number;
    comment?: string;
    evaluatedAt: string;
  }
>;

export type IncidentOverdue = DomainEvent<
  'IncidentOverdue',
  { incidentId: string; deadline: string; detectedAt: string }
>;

/**
 * 督办: a centre puts the case under its supervision. After an overdue escalation it sets its own
 * `deadline` (the category's limit again, from now): a case still open then escalates once more.
 */
export type IncidentSupervised = DomainEvent<
  'IncidentSupervised',
  { incidentId: string; level: Level; divisionCode: string; note: string; supervisedAt: string; deadline?: string }
>;

export type IncidentEvent =
  | IncidentReported
  | IncidentRegistered
  | IncidentRejected
  | IncidentDispatched
  | IncidentReturned
  | IncidentEscalated
  | IncidentHandlingStarted
  | IncidentHandled
  | IncidentVerificationPassed
  | IncidentVerificationFailed
  | IncidentClosed
  | IncidentEvaluated
  | IncidentOverdue
  | IncidentSupervised;

export const incidentStreamId = (incidentId: string): string => `urban.incident-${incidentId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const level = z.enum(LEVELS);
const divisionCode = z.string().refine((code) => tryLevelOfCode(code) !== null, 'a city, district, street or community code');
/** A level and a code that agree with each other. */
const centreRef = z
  .object({ level, divisionCode })
  .refine((c) => tryLevelOfCode(c.divisionCode) === c.level, 'level must match the division code');
const actorRef = z
  .object({ level, divisionCode, unitId: id.optional() })
  .refine((c) => tryLevelOfCode(c.divisionCode) === c.level, 'level must match the division code');
const refs = z.array(id);

const incidentReported: EventTypeDefinition<IncidentReported['data']> = {
  type: 'IncidentReported',
  schemaVersion: 1,
  schema: z
    .object({
      incidentId: id,
      channel: z.enum(CHANNELS),
      category: id,
      subcategory: id,
      description: text,
      location: z.object({
        longitude: z.number().min(-180).max(180),
        latitude: z.number().min(-90).max(90),
        address: text,
      }),
      divisionCode: z.string().regex(/^\d{12}$/, 'a 12-digit community code'),
      reporter: z.object({ kind: z.enum(REPORTER_KINDS), id: id.optional(), name: text.optional() }),
      attachments: refs,
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
};

const incidentRegistered: EventTypeDefinition<IncidentRegistered['data']> = {
  type: 'IncidentRegistered',
  schemaVersion: 1,
  schema: z
    .object({
      incidentId: id,
      caseNumber: id,
      urgency: z.enum(URGENCIES),
      limitMinutes: z.int().positive(),
      level,
      divisionCode,
      registeredAt: instant,
    })
    .refine((d) => tryLevelOfCode(d.divisionCode) === d.level, 'level must match the division code'),
};

const incidentRejected: EventTypeDefinition<IncidentRejected['data']> = {
  type: 'IncidentRejected',
  schemaVersion: 1,
  schema: z
    .object({
      incidentId: id,
      reason: z.enum(REJECTION_REASONS),
      duplicateOfId: id.optional(),
      note: text,
      rejectedBy: centreRef,
      rejectedAt: instant,
    })
    .refine((d) => (d.reason === 'DUPLICATE') === (d.duplicateOfId !== undefined), 'duplicateOfId goes with DUPLICATE only'),
};

const incidentDispatched: EventTypeDefinition<IncidentDispatched['data']> = {
  type: 'IncidentDispatched',
  schemaVersion: 1,
  schema: z
    .object({
      incidentId: id,
      unitId: id,
      unitName: text,
      level,
      divisionCode,
      dispatchedBy: centreRef,
      deadline: instant,
      dispatchedAt: instant,
    })
    .refine((d) => tryLevelOfCode(d.divisionCode) === d.level, 'level must match the division code'),
};

const incidentReturned: EventTypeDefinition<IncidentReturned['data']> = {
  type: 'IncidentReturned',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, unitId: id, reason: text, returnedTo: centreRef, returnedAt: instant }),
};

const incidentEscalated: EventTypeDefinition<IncidentEscalated['data']> = {
  type: 'IncidentEscalated',
  schemaVersion: 1,
  schema: z
    .object({
      incidentId: id,
      trigger: z.enum(ESCALATION_TRIGGERS),
      fromLevel: level,
      fromDivisionCode: divisionCode,
      toLevel: level,
      toDivisionCode: divisionCode,
      reason: text,
      escalatedBy: actorRef.optional(),
      escalatedAt: instant,
    })
    .refine(
      (d) => tryLevelOfCode(d.fromDivisionCode) === d.fromLevel && tryLevelOfCode(d.toDivisionCode) === d.toLevel,
      'levels must match the division codes',
    )
    .refine((d) => LEVELS.indexOf(d.toLevel) < LEVELS.indexOf(d.fromLevel), 'an escalation goes up at least one level'),
};

const incidentHandlingStarted: EventTypeDefinition<IncidentHandlingStarted['data']> = {
  type: 'IncidentHandlingStarted',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, unitId: id, startedAt: instant }),
};

const incidentHandled: EventTypeDefinition<IncidentHandled['data']> = {
  type: 'IncidentHandled',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, unitId: id, evidence: refs.min(1), note: text, handledAt: instant }),
};

const incidentVerificationPassed: EventTypeDefinition<IncidentVerificationPassed['data']> = {
  type: 'IncidentVerificationPassed',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, verifiedBy: actorRef, note: text.optional(), verifiedAt: instant }),
};

const incidentVerificationFailed: EventTypeDefinition<IncidentVerificationFailed['data']> = {
  type: 'IncidentVerificationFailed',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, verifiedBy: actorRef, reason: text, verifiedAt: instant }),
};

const incidentClosed: EventTypeDefinition<IncidentClosed['data']> = {
  type: 'IncidentClosed',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, closedAt: instant, onTime: z.boolean() }),
};

const incidentEvaluated: EventTypeDefinition<IncidentEvaluated['data']> = {
  type: 'IncidentEvaluated',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, satisfaction: z.int().min(1).max(5), comment: text.optional(), evaluatedAt: instant }),
};

const incidentOverdue: EventTypeDefinition<IncidentOverdue['data']> = {
  type: 'IncidentOverdue',
  schemaVersion: 1,
  schema: z.object({ incidentId: id, deadline: instant, detectedAt: instant }),
};

const incidentSupervised: EventTypeDefinition<IncidentSupervised['data']> = {
  type: 'IncidentSupervised',
  schemaVersion: 1,
  schema: z
    .object({ incidentId: id, level, divisionCode, note: text, supervisedAt: instant, deadline: instant.optional() })
    .refine((d) => tryLevelOfCode(d.divisionCode) === d.level, 'level must match the division code'),
};

export const incidentEventDefinitions: readonly EventTypeDefinition[] = [
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
];
