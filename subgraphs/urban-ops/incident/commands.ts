import type { Command } from '../../kit/command.ts';
import type { ActorRef, IncidentReported, RejectionReason } from './events.ts';

/**
 * Who issues a command: a command centre (level + division) or, with `unitId`, a handling unit of
 * that division (a district's 城管局, a street office, a community's grid team). Through the graph it
 * is the caller's jurisdiction as governance registered it (resolvers.ts `actingAs`), never input.
 */
export type Actor = ActorRef;

/** A unit that can be dispatched to; its level follows from its division code. */
export interface UnitRef {
  unitId: string;
  unitName: string;
  divisionCode: string;
}

export type ReportIncident = Command<'reportIncident', IncidentReported['data']>;

/**
 * `serial` is the registering centre's running number for the day (allocated by the caller, which
 * sees all cases); the case number is `<centre division>-<YYYYMMDD in China>-<category code>-<serial>`.
 */
export type RegisterIncident = Command<'registerIncident', { incidentId: string; serial: number; actor: Actor }>;

export type RejectIncident = Command<
  'rejectIncident',
  {
    incidentId: string;
    reason: RejectionReason;
    /** The open case this report repeats; required for DUPLICATE, refused otherwise. */
    duplicateOfId?: string;
    note: string;
    actor: Actor;
  }
>;

export type DispatchIncident = Command<'dispatchIncident', { incidentId: string; unit: UnitRef; actor: Actor }>;

export type ReturnIncident = Command<'returnIncident', { incidentId: string; reason: string; actor: Actor }>;

export type EscalateIncident = Command<'escalateIncident', { incidentId: string; reason: string; actor: Actor }>;

export type StartHandling = Command<'startHandling', { incidentId: string; actor: Actor }>;

export type ReportHandled = Command<
  'reportHandled',
  { incidentId: string; evidence: string[]; note: string; actor: Actor }
>;

export type VerifyIncident = Command<
  'verifyIncident',
  { incidentId: string; passed: boolean; /** Required when not passed. */ reason?: string; note?: string; actor: Actor }
>;

export type EvaluateIncident = Command<
  'evaluateIncident',
  { incidentId: string; satisfaction: number; comment?: string }
>;

/** Issued by the deadline process manager once the deadline has passed. */
export type MarkOverdue = Command<'markOverdue', { incidentId: string }>;

export type IncidentCommand =
  | ReportIncident
  | RegisterIncident
  | RejectIncident
  | DispatchIncident
  | ReturnIncident
  | EscalateIncident
  | StartHandling
  | ReportHandled
  | VerifyIncident
  | EvaluateIncident
  | MarkOverdue;

export type IncidentCommandType = IncidentCommand['type'];

/** In the order of the workflow; `allowedCommands` lists them in this order. */
export const INCIDENT_COMMAND_TYPES: readonly IncidentCommandType[] = [
  'reportIncident',
  'registerIncident',
  'rejectIncident',
  'dispatchIncident',
  'returnIncident',
  'escalateIncident',
  'startHandling',
  'reportHandled',
  'verifyIncident',
  'evaluateIncident',
  'markOverdue',
];
