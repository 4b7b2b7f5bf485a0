/**
 * The closed loop's rules. Who may act:
 * - register / reject: a centre whose division contains the incident's community;
 * - dispatch: the owning centre or one above it, to a unit of its own division or of a division
 *   directly below (city → district departments, district → its streets, street → its communities);
 * - return / start / report handled: only the unit the case is dispatched to;
 * - escalate: that unit, or the owning centre while the case awaits dispatch; never above the city;
 * - verify (and so close): the owning centre or the centre that dispatched the case, never a unit.
 * Register, reject, dispatch and verify are a centre's: a unit (an actor with `unitId`) is refused.
 * Who acts is the authenticated consumer's jurisdiction (the resolvers build the actor from it);
 * a refusal by these rules is NOT_YOUR_CASE, never FORBIDDEN (a missing grant).
 * Deadline: the handling clock starts at the first dispatch (local rules); returns and rework do
 * not restart it. Past it, markOverdue escalates the case one level and gives the supervising level
 * a deadline of its own (the category's limit again); past that, one level more, up to the city.
 * Closure on time is always judged against the case's own deadline. Commands outside `allowedCommands(state)` are InvalidTransitionErrors.
 */
import { z } from 'zod';
import { assertNever, byType, type Decider, type HandlersByType } from '../../../events/decider.ts';
import {
  ConflictError,
  InvalidTransitionError,
  NotFoundError,
  NotYourCaseError,
  ValidationError,
} from '../../../events/errors.ts';
import { CHINA_OFFSET_MS } from '../../kit/calendar.ts';
import { getCategory, type Urgency } from '../categories.ts';
import { LEVEL_NAMES, isLevel, isWithin, levelBelow, levelOfCode, parentCode, type Level } from '../levels.ts';
import {
  INCIDENT_COMMAND_TYPES, type Actor, type DispatchIncident, type EscalateIncident, type EvaluateIncident, type IncidentCommand,
  type IncidentCommandType, type MarkOverdue, type RegisterIncident, type RejectIncident, type ReportHandled, type ReportIncident,
  type ReturnIncident, type StartHandling, type VerifyIncident,
} from './commands.ts';
import {
  CHANNELS,
  REJECTION_REASONS,
  type ActorRef,
  type CentreRef,
  type Channel,
  type IncidentEvaluated,
  type IncidentEvent,
  type IncidentHandled,
  type IncidentRejected,
  type IncidentReported,
  type Reporter,
  type ReporterKind,
} from './events.ts';

export type IncidentReport = IncidentReported['data'];
export type Rejection = IncidentRejected['data'];
export type Handling = IncidentHandled['data'];
export type Evaluation = IncidentEvaluated['data'];

/** The unit a case is currently dispatched to. */
export interface Assignment {
  unitId: string;
  unitName: string;
  level: Level;
  divisionCode: string;
  dispatchedBy: CentreRef;
  dispatchedAt: string;
  /** The case's deadline, fixed at its first dispatch. */
  deadline: string;
}

export interface DispatchRecord extends Assignment {
  /** Set when the unit returned the case (退回). */
  returned: { reason: string; returnedAt: string } | null;
}

/** What a registered case carries through the rest of its life. */
export interface IncidentCase {
  caseNumber: string;
  urgency: Urgency;
  limitMinutes: number;
  registeredAt: string;
  registeredBy: CentreRef;
  /** The centre that owns the case: it dispatches it, receives returns and verifies the work. */
  owner: CentreRef;
  /** Where the case sits now: the dispatched unit's level, otherwise the owner's. */
  level: Level;
  /** Set by the first dispatch; null until then. */
  deadline: string | null;
  firstDispatchedAt: string | null;
  /** Every dispatch in order, the current one last. */
  dispatches: DispatchRecord[];
  /** Failed verifications (返工). */
  reworkCount: number;
  lastVerification: 'PASSED' | 'FAILED' | null;
  overdue: boolean;
  supervised: boolean;
  /** The most recent supervising centre (督办). */
  supervisedBy: CentreRef | null;
  /**
   * Set when an overdue case is escalated: the supervising level's own deadline. Passed with the case
   * still open, the case is marked overdue again and escalates one more level, up to the city.
   */
  supervisionDeadline: string | null;
}

interface WithCase {
  report: IncidentReport;
  caseFile: IncidentCase;
}

export type IncidentState =
  | { status: 'UNREPORTED' }
  | { status: 'REPORTED'; report: IncidentReport }
  | { status: 'REJECTED'; report: IncidentReport; rejection: Rejection }
  | ({ status: 'REGISTERED' } & WithCase)
  | ({ status: 'DISPATCHED'; unit: Assignment } & WithCase)
  | ({ status: 'HANDLING'; unit: Assignment; startedAt: string } & WithCase)
  | ({ status: 'HANDLED'; unit: Assignment; handling: Handling } & WithCase)
  | ({
      status: 'CLOSED';
      unit: Assignment;
      handling: Handling;
      closedAt: string;
      onTime: boolean;
      evaluation: Evaluation | null;
    } & WithCase);

export type IncidentStatus = IncidentState['status'];
/** A registered case, in any status from REGISTERED on. */
export type CaseState = Extract<IncidentState, WithCase>;
/** A registered case that is not closed yet. */
export type OpenCaseState = Extract<CaseState, { status: 'REGISTERED' | 'DISPATCHED' | 'HANDLING' | 'HANDLED' }>;

/** One sensor or worker reports through its own channel; citizens through the other three. */
const REPORTER_KIND_OF_CHANNEL: Record<Channel, ReporterKind> = {
  IOT_SENSOR: 'DEVICE',
  GRID_WORKER: 'GRID_WORKER',
  CITIZEN_PHOTO: 'CITIZEN',
  HOTLINE_12345: 'CITIZEN',
  APP: 'CITIZEN',
};

const CHILDREN_NAMES: Record<Exclude<Level, 'COMMUNITY'>, string> = {
  CITY: 'districts and counties',
  DISTRICT: 'streets',
  STREET: 'communities',
};

const MINUTE_MS = 60_000;
const isoInstant = z.iso.datetime({ offset: true });

function requiredText(value: string | undefined, field: string): string {
  const trimmed = (value ?? '').trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

/** Normalised to UTC so instants compare as strings everywhere downstream. */
function instant(value: string, field: string): string {
  if (!isoInstant.safeParse(value).success) {
    throw new ValidationError(`${field} must be an ISO 8601 instant with a time zone, got "${value}"`, { field });
  }
  return new Date(value).toISOString();
}

const addMinutes = (at: string, minutes: number): string => new Date(Date.parse(at) + minutes * MINUTE_MS).toISOString();

const chinaCompactDate = (at: string): string =>
  new Date(Date.parse(at) + CHINA_OFFSET_MS).toISOString().slice(0, 10).replaceAll('-', '');

function checkedActor(actor: Actor): ActorRef {
  if (!isLevel(actor.level)) {
    throw new ValidationError(`actor.level ${String(actor.level)} is not CITY, DISTRICT, STREET or COMMUNITY`, {
      field: 'actor.level',
    });
  }
  const level = levelOfCode(actor.divisionCode, 'actor.divisionCode');
  if (level !== actor.level) {
    throw new ValidationError(
      `actor.level ${actor.level} does not match actor.divisionCode ${actor.divisionCode}, which is a ${level} code`,
      { field: 'actor.level' },
    );
  }
  const ref: ActorRef = { level, divisionCode: actor.divisionCode };
  if (actor.unitId !== undefined) ref.unitId = requiredText(actor.unitId, 'actor.unitId');
  return ref;
}

const centreOf = (actor: ActorRef): CentreRef => ({ level: actor.level, divisionCode: actor.divisionCode });

function describeCentre(centre: CentreRef): string {
  return `the ${centre.level} (${LEVEL_NAMES[centre.level]}) centre ${centre.divisionCode}`;
}

/** The division the case sits in: the dispatched unit's, otherwise the owner's. */
function position(state: OpenCaseState): CentreRef {
  return state.status === 'REGISTERED'
    ? state.caseFile.owner
    : { level: state.unit.level, divisionCode: state.unit.divisionCode };
}

/**
 * 上报 goes to the division above where the case sits; when the owner is already higher (an
 * overdue case taken over from above), the case goes to the owner, so ownership never moves down.
 */
export function escalationTarget(state: OpenCaseState): { from: CentreRef; to: CentreRef } | null {
  const from = position(state);
  const parent = parentCode(from.divisionCode);
  if (parent === null) return null;
  const { owner } = state.caseFile;
  const toCode = isWithin(parent, owner.divisionCode) && parent !== owner.divisionCode ? owner.divisionCode : parent;
  return { from, to: { level: levelOfCode(toCode), divisionCode: toCode } };
}

const hasCase = (state: IncidentState): state is CaseState => 'caseFile' in state;

function isOpen(state: IncidentState): state is OpenCaseState {
  return (
    state.status === 'REGISTERED' ||
    state.status === 'DISPATCHED' ||
    state.status === 'HANDLING' ||
    state.status === 'HANDLED'
  );
}

const canEscalate = (state: OpenCaseState): boolean => state.status !== 'HANDLED' && escalationTarget(state) !== null;
/** The deadline whose passing marks the case overdue next: the case's own, then its supervisor's; null when none is pending. */
function pendingDeadline({ caseFile }: OpenCaseState): string | null {
  if (!caseFile.overdue) return caseFile.deadline;
  // Escalation stops at the city: a city supervisor's deadline is shown, but nothing is above it.
  return parentCode(caseFile.owner.divisionCode) === null ? null : caseFile.supervisionDeadline;
}

const canMarkOverdue = (state: OpenCaseState): boolean => pendingDeadline(state) !== null;

/** The workflow's next steps from each status; escalation and the overdue mark depend on the case and are added below. */
const NEXT_STEPS: Record<IncidentStatus, readonly IncidentCommandType[]> = {
  UNREPORTED: ['reportIncident'],
  REPORTED: ['registerIncident', 'rejectIncident'],
  REJECTED: [],
  REGISTERED: ['dispatchIncident'],
  DISPATCHED: ['returnIncident', 'startHandling'],
  HANDLING: ['reportHandled'],
  HANDLED: ['verifyIncident'],
  CLOSED: ['evaluateIncident'],
};

/** The commands that may follow, in workflow order; `decide` refuses every other command. */
export function allowedCommands(state: IncidentState): IncidentCommandType[] {
  const allowed = new Set(NEXT_STEPS[state.status]);
  // A case is evaluated once.
  if (state.status === 'CLOSED' && state.evaluation !== null) allowed.delete('evaluateIncident');
  if (isOpen(state)) {
    if (canEscalate(state)) allowed.add('escalateIncident');
    if (canMarkOverdue(state)) allowed.add('markOverdue');
  }
  return INCIDENT_COMMAND_TYPES.filter((type) => allowed.has(type));
}

/** The status as an error message states it, with the fact that blocks the command when the status alone would not. */
function statusFor(command: IncidentCommandType, state: IncidentState): string {
  if (isOpen(state)) {
    if (command === 'escalateIncident' && state.status !== 'HANDLED' && !canEscalate(state)) {
      return `${state.status} at the CITY level, which has no level above`;
    }
    if (command === 'markOverdue' && state.caseFile.overdue) {
      return `${state.status} and already marked overdue${state.caseFile.supervisionDeadline === null ? '' : `, supervised by ${describeCentre(state.caseFile.owner)} with no level above`}`;
    }
    if (command === 'markOverdue' && state.caseFile.deadline === null) {
      return `${state.status} and not yet dispatched, so without a deadline`;
    }
  }
  if (state.status === 'CLOSED' && command === 'evaluateIncident' && state.evaluation !== null) {
    return 'CLOSED and already evaluated';
  }
  return state.status;
}

function inStatus<S extends IncidentStatus>(
  command: IncidentCommandType,
  state: IncidentState,
  ...statuses: S[]
): Extract<IncidentState, { status: S }> {
  if (!(statuses as IncidentStatus[]).includes(state.status)) {
    throw new InvalidTransitionError(command, statusFor(command, state), allowedCommands(state));
  }
  return state as Extract<IncidentState, { status: S }>;
}

/** Registering, rejecting, dispatching and verifying are a command centre's, never a unit's. */
function requireCentre(actor: ActorRef, action: string): void {
  if (actor.unitId !== undefined) {
    throw new NotYourCaseError(
      `unit ${actor.unitId} of ${actor.divisionCode} may not ${action}: a handling unit only works on what is dispatched to it; a command centre must do this`,
      { actorUnitId: actor.unitId },
    );
  }
}

/** A centre may act on an incident only inside its own division. */
function requireCentreOver(actor: ActorRef, divisionCode: string, action: string): void {
  requireCentre(actor, action);
  if (!isWithin(divisionCode, actor.divisionCode)) {
    throw new NotYourCaseError(
      `${describeCentre(actor)} may not ${action}: ${divisionCode} is outside its division; ` +
        `a centre of ${divisionCode} or a division above it must do this`,
      { actorDivisionCode: actor.divisionCode, divisionCode },
    );
  }
}

function requireAssignedUnit(actor: ActorRef, unit: Assignment, action: string): void {
  if (actor.unitId !== unit.unitId || actor.divisionCode !== unit.divisionCode) {
    const who = actor.unitId === undefined ? `${describeCentre(actor)} (no unit)` : `unit ${actor.unitId} of ${actor.divisionCode}`;
    throw new NotYourCaseError(
      `${who} may not ${action}: the case is dispatched to unit ${unit.unitId} (${unit.unitName}) of ${unit.divisionCode}, ` +
        `and only that unit may do so`,
      { unitId: unit.unitId, actorUnitId: actor.unitId ?? null },
    );
  }
}

function checkedReporter(channel: Channel, reporter: Reporter): Reporter {
  const kind = REPORTER_KIND_OF_CHANNEL[channel];
  if (reporter.kind !== kind) {
    throw new ValidationError(`reports through ${channel} come from a ${kind}, but reporter.kind is ${reporter.kind}`, {
      field: 'reporter.kind',
    });
  }
  const checked: Reporter = { kind };
  if (kind !== 'CITIZEN' || (reporter.id !== undefined && reporter.id.trim())) {
    checked.id = requiredText(reporter.id, 'reporter.id');
  }
  if (reporter.name !== undefined && reporter.name.trim()) checked.name = reporter.name.trim();
  return checked;
}

function report(command: ReportIncident, now: string): IncidentEvent {
  const { data } = command;
  if (!CHANNELS.includes(data.channel)) {
    throw new ValidationError(`channel ${String(data.channel)} is not a discovery channel; use one of ${CHANNELS.join(', ')}`, {
      field: 'channel',
    });
  }
  getCategory(data.category, data.subcategory);
  const { longitude, latitude } = data.location;
  if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
    throw new ValidationError(`location.longitude must be between -180 and 180, got ${longitude}`, {
      field: 'location.longitude',
    });
  }
  if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
    throw new ValidationError(`location.latitude must be between -90 and 90, got ${latitude}`, {
      field: 'location.latitude',
    });
  }
  const level = levelOfCode(data.divisionCode);
  if (level !== 'COMMUNITY') {
    throw new ValidationError(
      `divisionCode ${data.divisionCode} is a ${level}; an incident is located in a community (12 digits)`,
      { field: 'divisionCode' },
    );
  }
  const attachments = data.attachments.map((ref, i) => requiredText(ref, `attachments[${i}]`));
  if (data.channel === 'CITIZEN_PHOTO' && attachments.length === 0) {
    throw new ValidationError('a CITIZEN_PHOTO report needs at least one photo in attachments', { field: 'attachments' });
  }
  const reportedAt = instant(data.reportedAt, 'reportedAt');
  if (reportedAt > now) {
    throw new ValidationError(`reportedAt ${reportedAt} is in the future (now is ${now})`, { field: 'reportedAt' });
  }
  return {
    type: 'IncidentReported',
    data: {
      incidentId: requiredText(data.incidentId, 'incidentId'),
      channel: data.channel,
      category: data.category,
      subcategory: data.subcategory,
      description: requiredText(data.description, 'description'),
      location: { longitude, latitude, address: requiredText(data.location.address, 'location.address') },
      divisionCode: data.divisionCode,
      reporter: checkedReporter(data.channel, data.reporter),
      attachments,
      reportedAt,
    },
  };
}

function register(command: RegisterIncident, state: IncidentState, now: string): IncidentEvent[] {
  const { report } = inStatus(command.type, state, 'REPORTED');
  const actor = checkedActor(command.data.actor);
  requireCentreOver(actor, report.divisionCode, 'register this incident');
  const { serial } = command.data;
  if (!Number.isSafeInteger(serial) || serial < 1) {
    throw new ValidationError(`serial must be a whole number from 1, got ${serial}`, { field: 'serial' });
  }
  const category = getCategory(report.category, report.subcategory);
  const caseNumber = `${actor.divisionCode}-${chinaCompactDate(now)}-${category.categoryCode}-${String(serial).padStart(4, '0')}`;
  return [
    {
      type: 'IncidentRegistered',
      data: {
        incidentId: report.incidentId,
        caseNumber,
        urgency: category.urgency,
        limitMinutes: category.limitMinutes,
        level: actor.level,
        divisionCode: actor.divisionCode,
        registeredAt: now,
      },
    },
  ];
}

function reject(command: RejectIncident, state: IncidentState, now: string): IncidentEvent[] {
  const { report } = inStatus(command.type, state, 'REPORTED');
  const actor = checkedActor(command.data.actor);
  requireCentreOver(actor, report.divisionCode, 'reject this incident');
  const { reason, duplicateOfId } = command.data;
  if (!REJECTION_REASONS.includes(reason)) {
    throw new ValidationError(`reason ${String(reason)} is not a rejection reason; use one of ${REJECTION_REASONS.join(', ')}`, {
      field: 'reason',
    });
  }
  const data: Rejection = {
    incidentId: report.incidentId,
    reason,
    note: requiredText(command.data.note, 'note'),
    rejectedBy: centreOf(actor),
    rejectedAt: now,
  };
  if (reason === 'DUPLICATE') {
    const original = requiredText(duplicateOfId, 'duplicateOfId');
    if (original === report.incidentId) {
      throw new ValidationError('duplicateOfId names this incident itself; give the open case it repeats', {
        field: 'duplicateOfId',
      });
    }
    data.duplicateOfId = original;
  } else if (duplicateOfId !== undefined) {
    throw new ValidationError(`duplicateOfId goes with reason DUPLICATE only, but the reason is ${reason}`, {
      field: 'duplicateOfId',
    });
  }
  return [{ type: 'IncidentRejected', data }];
}

function dispatch(command: DispatchIncident, state: IncidentState, now: string): IncidentEvent[] {
  const { report, caseFile } = inStatus(command.type, state, 'REGISTERED');
  const actor = checkedActor(command.data.actor);
  requireCentre(actor, `dispatch case ${caseFile.caseNumber}`);
  if (!isWithin(caseFile.owner.divisionCode, actor.divisionCode)) {
    throw new NotYourCaseError(
      `${describeCentre(actor)} may not dispatch case ${caseFile.caseNumber}: it is owned by ${describeCentre(caseFile.owner)}, ` +
        'and only that centre or one above it may dispatch it',
      { ownerDivisionCode: caseFile.owner.divisionCode },
    );
  }
  const { unit } = command.data;
  const unitId = requiredText(unit.unitId, 'unit.unitId');
  const unitLevel = levelOfCode(unit.divisionCode, 'unit.divisionCode');
  if (unit.divisionCode !== actor.divisionCode && parentCode(unit.divisionCode) !== actor.divisionCode) {
    const scope = actor.level === 'COMMUNITY' ? 'its own units' : `its own departments or its ${CHILDREN_NAMES[actor.level]}`;
    const below = levelBelow(actor.level);
    throw new NotYourCaseError(
      `${describeCentre(actor)} dispatches only to ${scope}; unit ${unitId} belongs to ${unit.divisionCode}. ` +
        `Dispatch to a unit of ${actor.divisionCode}${below ? ` or of a ${below} directly under it` : ''}`,
      { actorDivisionCode: actor.divisionCode, unitDivisionCode: unit.divisionCode },
    );
  }
  const earlierReturn = caseFile.dispatches.find((d) => d.unitId === unitId && d.returned !== null);
  if (earlierReturn?.returned) {
    throw new ValidationError(
      `unit ${unitId} returned this case at ${earlierReturn.returned.returnedAt} ("${earlierReturn.returned.reason}"); ` +
        'dispatch it to another unit, or escalate it',
      { field: 'unit.unitId' },
    );
  }
  return [
    {
      type: 'IncidentDispatched',
      data: {
        incidentId: report.incidentId,
        unitId,
        unitName: requiredText(unit.unitName, 'unit.unitName'),
        level: unitLevel,
        divisionCode: unit.divisionCode,
        dispatchedBy: centreOf(actor),
        // The clock starts at the first dispatch; returns and rework do not restart it.
        deadline: caseFile.deadline ?? addMinutes(now, caseFile.limitMinutes),
        dispatchedAt: now,
      },
    },
  ];
}

function returnToOwner(command: ReturnIncident, state: IncidentState, now: string): IncidentEvent[] {
  const { report, caseFile, unit } = inStatus(command.type, state, 'DISPATCHED');
  requireAssignedUnit(checkedActor(command.data.actor), unit, 'return this case');
  return [
    {
      type: 'IncidentReturned',
      data: {
        incidentId: report.incidentId,
        unitId: unit.unitId,
        reason: requiredText(command.data.reason, 'reason'),
        returnedTo: caseFile.owner,
        returnedAt: now,
      },
    },
  ];
}

function escalate(command: EscalateIncident, state: IncidentState, now: string): IncidentEvent[] {
  const current = inStatus(command.type, state, 'REGISTERED', 'DISPATCHED', 'HANDLING');
  const actor = checkedActor(command.data.actor);
  if (current.status === 'REGISTERED') {
    requireCentre(actor, `escalate case ${current.caseFile.caseNumber}`);
    if (actor.divisionCode !== current.caseFile.owner.divisionCode) {
      throw new NotYourCaseError(
        `${describeCentre(actor)} may not escalate case ${current.caseFile.caseNumber}: it awaits dispatch by ` +
          `${describeCentre(current.caseFile.owner)}, and only that centre may escalate it`,
        { ownerDivisionCode: current.caseFile.owner.divisionCode },
      );
    }
  } else {
    requireAssignedUnit(actor, current.unit, 'escalate this case');
  }
  const target = escalationTarget(current);
  if (!target) throw new InvalidTransitionError(command.type, statusFor(command.type, state), allowedCommands(state));
  return [
    {
      type: 'IncidentEscalated',
      data: {
        incidentId: current.report.incidentId,
        trigger: 'REQUESTED',
        fromLevel: target.from.level,
        fromDivisionCode: target.from.divisionCode,
        toLevel: target.to.level,
        toDivisionCode: target.to.divisionCode,
        reason: requiredText(command.data.reason, 'reason'),
        escalatedBy: actor,
        escalatedAt: now,
      },
    },
  ];
}

function startHandling(command: StartHandling, state: IncidentState, now: string): IncidentEvent[] {
  const { report, unit } = inStatus(command.type, state, 'DISPATCHED');
  requireAssignedUnit(checkedActor(command.data.actor), unit, 'start handling this case');
  return [{ type: 'IncidentHandlingStarted', data: { incidentId: report.incidentId, unitId: unit.unitId, startedAt: now } }];
}

function reportHandled(command: ReportHandled, state: IncidentState, now: string): IncidentEvent[] {
  const { report, unit } = inStatus(command.type, state, 'HANDLING');
  requireAssignedUnit(checkedActor(command.data.actor), unit, 'report this case handled');
  const evidence = command.data.evidence.map((ref, i) => requiredText(ref, `evidence[${i}]`));
  if (evidence.length === 0) {
    throw new ValidationError('evidence must name at least one photo or record showing the result of the handling', {
      field: 'evidence',
    });
  }
  return [
    {
      type: 'IncidentHandled',
      data: {
        incidentId: report.incidentId,
        unitId: unit.unitId,
        evidence,
        note: requiredText(command.data.note, 'note'),
        handledAt: now,
      },
    },
  ];
}

function verify(command: VerifyIncident, state: IncidentState, now: string): IncidentEvent[] {
  const { report, caseFile, unit } = inStatus(command.type, state, 'HANDLED');
  const actor = checkedActor(command.data.actor);
  if (actor.unitId === unit.unitId) {
    throw new NotYourCaseError(`unit ${unit.unitId} handled this case and may not verify its own work; the owning centre verifies it`, {
      unitId: unit.unitId,
    });
  }
  requireCentre(actor, `verify case ${caseFile.caseNumber}`);
  const verifiers = [caseFile.owner.divisionCode, unit.dispatchedBy.divisionCode];
  if (!verifiers.includes(actor.divisionCode)) {
    throw new NotYourCaseError(
      `${describeCentre(actor)} may not verify case ${caseFile.caseNumber}: the owning centre ${caseFile.owner.divisionCode} ` +
        `or the centre that dispatched it (${unit.dispatchedBy.divisionCode}) verifies it`,
      { actorDivisionCode: actor.divisionCode, ownerDivisionCode: caseFile.owner.divisionCode, dispatchedByDivisionCode: unit.dispatchedBy.divisionCode },
    );
  }
  const { passed, reason, note } = command.data;
  if (typeof passed !== 'boolean') throw new ValidationError('passed must be true or false', { field: 'passed' });
  const incidentId = report.incidentId;
  if (!passed) {
    return [
      {
        type: 'IncidentVerificationFailed',
        data: { incidentId, verifiedBy: actor, reason: requiredText(reason, 'reason'), verifiedAt: now },
      },
    ];
  }
  if (reason !== undefined) {
    throw new ValidationError('reason explains a failed verification; for a passed one, use note', { field: 'reason' });
  }
  const passedData: Extract<IncidentEvent, { type: 'IncidentVerificationPassed' }>['data'] = {
    incidentId,
    verifiedBy: actor,
    verifiedAt: now,
  };
  if (note !== undefined && note.trim()) passedData.note = note.trim();
  return [
    { type: 'IncidentVerificationPassed', data: passedData },
    { type: 'IncidentClosed', data: { incidentId, closedAt: now, onTime: now <= unit.deadline } },
  ];
}

function evaluate(command: EvaluateIncident, state: IncidentState, now: string): IncidentEvent[] {
  const { report } = inStatus(command.type, state, 'CLOSED');
  const { satisfaction, comment } = command.data;
  if (!Number.isInteger(satisfaction) || satisfaction < 1 || satisfaction > 5) {
    throw new ValidationError(`satisfaction must be a whole number from 1 to 5, got ${satisfaction}`, {
      field: 'satisfaction',
    });
  }
  const data: Evaluation = { incidentId: report.incidentId, satisfaction, evaluatedAt: now };
  if (comment !== undefined && comment.trim()) data.comment = comment.trim();
  return [{ type: 'IncidentEvaluated', data }];
}

function markOverdue(command: MarkOverdue, state: IncidentState, now: string): IncidentEvent[] {
  const current = inStatus(command.type, state, 'REGISTERED', 'DISPATCHED', 'HANDLING', 'HANDLED');
  const { caseFile, report } = current;
  const { owner } = caseFile;
  const deadline = pendingDeadline(current);
  if (deadline === null) {
    throw new InvalidTransitionError(command.type, statusFor(command.type, state), allowedCommands(state));
  }
  if (now <= deadline) {
    const which = caseFile.overdue ? `the deadline ${deadline} ${describeCentre(owner)} set when supervising it` : `its deadline ${deadline}`;
    throw new ValidationError(`case ${caseFile.caseNumber} is not overdue: ${which} has not passed at ${now}`, {
      field: 'metadata.now',
    });
  }
  const incidentId = report.incidentId;
  const events: IncidentEvent[] = [{ type: 'IncidentOverdue', data: { incidentId, deadline, detectedAt: now } }];
  const above = parentCode(owner.divisionCode);
  const supervisor: CentreRef = above === null ? owner : { level: levelOfCode(above), divisionCode: above };
  if (above !== null) {
    events.push({
      type: 'IncidentEscalated',
      data: {
        incidentId,
        trigger: 'OVERDUE',
        fromLevel: owner.level,
        fromDivisionCode: owner.divisionCode,
        toLevel: supervisor.level,
        toDivisionCode: supervisor.divisionCode,
        reason: `not closed by its deadline ${deadline}`,
        escalatedAt: now,
      },
    });
  }
  events.push({
    type: 'IncidentSupervised',
    data: {
      incidentId,
      level: supervisor.level,
      divisionCode: supervisor.divisionCode,
      note: `overdue since ${deadline}; supervised by ${describeCentre(supervisor)}`,
      supervisedAt: now,
      ...(above !== null && { deadline: addMinutes(now, caseFile.limitMinutes) }),
    },
  });
  return events;
}

export function decide(command: IncidentCommand, state: IncidentState): IncidentEvent[] {
  const now = instant(command.metadata.now, 'metadata.now');
  const { incidentId } = command.data;
  if (command.type === 'reportIncident') {
    if (state.status !== 'UNREPORTED') {
      throw new ConflictError(
        `incident ${incidentId} has already been reported (status ${state.status}); report a new incident under a new id`,
        { incidentId, status: state.status },
      );
    }
    return [report(command, now)];
  }
  if (state.status === 'UNREPORTED') {
    throw new NotFoundError(`incident ${incidentId} has not been reported; report it with reportIncident first`, {
      incidentId,
    });
  }
  if (state.report.incidentId !== incidentId) {
    throw new ValidationError(`command for incident ${incidentId} was decided against incident ${state.report.incidentId}`, {
      field: 'incidentId',
    });
  }
  const allowed = allowedCommands(state);
  if (!allowed.includes(command.type)) {
    throw new InvalidTransitionError(command.type, statusFor(command.type, state), allowed);
  }
  return byType(CASE_STEPS, command, state, now);
}

/** The steps of a case once reported, one per command (reporting opens the case above). */
const CASE_STEPS: HandlersByType<Exclude<IncidentCommand, ReportIncident>, [state: IncidentState, now: string], IncidentEvent[]> = {
  registerIncident: register,
  rejectIncident: reject,
  dispatchIncident: dispatch,
  returnIncident: returnToOwner,
  escalateIncident: escalate,
  startHandling,
  reportHandled,
  verifyIncident: verify,
  evaluateIncident: evaluate,
  markOverdue,
};

const updateCase = (state: IncidentState, update: (caseFile: IncidentCase) => IncidentCase): IncidentState =>
  hasCase(state) ? { ...state, caseFile: update(state.caseFile) } : state;

/** Events that do not fit the state (never produced by `decide`) leave it unchanged. */
export function evolve(state: IncidentState, event: IncidentEvent): IncidentState {
  switch (event.type) {
    case 'IncidentReported':
      return { status: 'REPORTED', report: event.data };
    case 'IncidentRejected':
      return state.status === 'REPORTED' ? { status: 'REJECTED', report: state.report, rejection: event.data } : state;
    case 'IncidentRegistered': {
      if (state.status !== 'REPORTED') return state;
      const centre: CentreRef = { level: event.data.level, divisionCode: event.data.divisionCode };
      return {
        status: 'REGISTERED',
        report: state.report,
        caseFile: {
          caseNumber: event.data.caseNumber,
          urgency: event.data.urgency,
          limitMinutes: event.data.limitMinutes,
          registeredAt: event.data.registeredAt,
          registeredBy: centre,
          owner: centre,
          level: centre.level,
          deadline: null,
          firstDispatchedAt: null,
          dispatches: [],
          reworkCount: 0,
          lastVerification: null,
          overdue: false,
          supervised: false,
          supervisedBy: null,
          supervisionDeadline: null,
        },
      };
    }
    case 'IncidentDispatched': {
      if (state.status !== 'REGISTERED') return state;
      const { unitId, unitName, level, divisionCode, dispatchedBy, dispatchedAt, deadline } = event.data;
      const unit: Assignment = { unitId, unitName, level, divisionCode, dispatchedBy, dispatchedAt, deadline };
      const { caseFile } = state;
      return {
        status: 'DISPATCHED',
        report: state.report,
        unit,
        caseFile: {
          ...caseFile,
          owner: dispatchedBy,
          level,
          deadline,
          firstDispatchedAt: caseFile.firstDispatchedAt ?? dispatchedAt,
          dispatches: [...caseFile.dispatches, { ...unit, returned: null }],
        },
      };
    }
    case 'IncidentReturned': {
      if (state.status !== 'DISPATCHED') return state;
      const { returnedTo, reason, returnedAt } = event.data;
      const { caseFile } = state;
      const last = caseFile.dispatches.length - 1;
      return {
        status: 'REGISTERED',
        report: state.report,
        caseFile: {
          ...caseFile,
          owner: returnedTo,
          level: returnedTo.level,
          dispatches: caseFile.dispatches.map((d, i) => (i === last ? { ...d, returned: { reason, returnedAt } } : d)),
        },
      };
    }
    case 'IncidentEscalated': {
      if (!isOpen(state)) return state;
      const to: CentreRef = { level: event.data.toLevel, divisionCode: event.data.toDivisionCode };
      if (event.data.trigger === 'REQUESTED' || state.status === 'REGISTERED') {
        return { status: 'REGISTERED', report: state.report, caseFile: { ...state.caseFile, owner: to, level: to.level } };
      }
      // An overdue escalation moves ownership up but leaves the unit at work.
      return { ...state, caseFile: { ...state.caseFile, owner: to } };
    }
    case 'IncidentHandlingStarted':
      return state.status === 'DISPATCHED'
        ? { status: 'HANDLING', report: state.report, caseFile: state.caseFile, unit: state.unit, startedAt: event.data.startedAt }
        : state;
    case 'IncidentHandled':
      return state.status === 'HANDLING'
        ? { status: 'HANDLED', report: state.report, caseFile: state.caseFile, unit: state.unit, handling: event.data }
        : state;
    case 'IncidentVerificationPassed':
      return state.status === 'HANDLED' ? { ...state, caseFile: { ...state.caseFile, lastVerification: 'PASSED' } } : state;
    case 'IncidentVerificationFailed': {
      if (state.status !== 'HANDLED') return state;
      const { caseFile } = state;
      return {
        status: 'REGISTERED',
        report: state.report,
        caseFile: {
          ...caseFile,
          level: caseFile.owner.level,
          reworkCount: caseFile.reworkCount + 1,
          lastVerification: 'FAILED',
        },
      };
    }
    case 'IncidentClosed':
      return state.status === 'HANDLED'
        ? {
            status: 'CLOSED',
            report: state.report,
            caseFile: state.caseFile,
            unit: state.unit,
            handling: state.handling,
            closedAt: event.data.closedAt,
            onTime: event.data.onTime,
            evaluation: null,
          }
        : state;
    case 'IncidentEvaluated':
      return state.status === 'CLOSED' ? { ...state, evaluation: event.data } : state;
    case 'IncidentOverdue':
      return updateCase(state, (caseFile) => ({ ...caseFile, overdue: true }));
    case 'IncidentSupervised':
      return updateCase(state, (caseFile) => ({
        ...caseFile,
        supervised: true,
        supervisedBy: { level: event.data.level, divisionCode: event.data.divisionCode },
        supervisionDeadline: event.data.deadline ?? null,
      }));
    default:
      return assertNever(event);
  }
}

export const initialState = (): IncidentState => ({ status: 'UNREPORTED' });

export const incidentDecider: Decider<IncidentCommand, IncidentEvent, IncidentState> = { initialState, decide, evolve };
