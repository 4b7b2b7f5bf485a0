/**
 * An incident's timeline: each event of its stream with who acted, at which level and when. Units
 * are named by id in their events; their level and division come from the case as it stood just
 * before (the decider's state), so the stream is folded along the way.
 */
import type { Recorded } from '../../../events/types.ts';
import { incidentDecider, type IncidentState } from '../incident/decider.ts';
import type { ActorRef, IncidentEvent } from '../incident/events.ts';

export interface TimelineStep {
  type: string;
  revision: number;
  position: string;
  at: string;
  recordedAt: string;
  level: string | null;
  divisionCode: string | null;
  unitId: string | null;
  consumerId: string;
  role: string;
  department: string;
  system: string;
  channel: string;
  collectedAt: string;
  correlationId: string;
  data: unknown;
}

/** The instant each event type records its step at. */
function instantOf(event: IncidentEvent): string {
  switch (event.type) {
    case 'IncidentReported':
      return event.data.reportedAt;
    case 'IncidentRegistered':
      return event.data.registeredAt;
    case 'IncidentRejected':
      return event.data.rejectedAt;
    case 'IncidentDispatched':
      return event.data.dispatchedAt;
    case 'IncidentReturned':
      return event.data.returnedAt;
    case 'IncidentEscalated':
      return event.data.escalatedAt;
    case 'IncidentHandlingStarted':
      return event.data.startedAt;
    case 'IncidentHandled':
      return event.data.handledAt;
    case 'IncidentVerificationPassed':
    case 'IncidentVerificationFailed':
      return event.data.verifiedAt;
    case 'IncidentClosed':
      return event.data.closedAt;
    case 'IncidentEvaluated':
      return event.data.evaluatedAt;
    case 'IncidentOverdue':
      return event.data.detectedAt;
    case 'IncidentSupervised':
      return event.data.supervisedAt;
  }
}

/** The centre or unit that took the step; null for reporters, citizens and the deadline process. */
function actorOf(event: IncidentEvent, before: IncidentState): ActorRef | null {
  const unit = 'unit' in before ? { level: before.unit.level, divisionCode: before.unit.divisionCode, unitId: before.unit.unitId } : null;
  switch (event.type) {
    case 'IncidentRegistered':
    case 'IncidentSupervised':
      return { level: event.data.level, divisionCode: event.data.divisionCode };
    case 'IncidentRejected':
      return event.data.rejectedBy;
    case 'IncidentDispatched':
      return event.data.dispatchedBy;
    case 'IncidentEscalated':
      return event.data.escalatedBy ?? null;
    case 'IncidentVerificationPassed':
    case 'IncidentVerificationFailed':
      return event.data.verifiedBy;
    case 'IncidentReturned':
    case 'IncidentHandlingStarted':
    case 'IncidentHandled':
      return unit;
    case 'IncidentReported':
    case 'IncidentClosed':
    case 'IncidentEvaluated':
    case 'IncidentOverdue':
      return null;
  }
}

export function timelineOf(events: readonly Recorded<IncidentEvent>[]): TimelineStep[] {
  let state = incidentDecider.initialState();
  return events.map((recorded) => {
    const event: IncidentEvent = recorded;
    const actor = actorOf(event, state);
    state = incidentDecider.evolve(state, event);
    const { provenance, actor: caller, correlationId } = recorded.metadata;
    return {
      type: recorded.type,
      revision: recorded.revision,
      position: recorded.position,
      at: instantOf(event),
      recordedAt: recorded.recordedAt,
      level: actor?.level ?? null,
      divisionCode: actor?.divisionCode ?? null,
      unitId: actor?.unitId ?? null,
      consumerId: caller.consumerId,
      role: caller.role,
      department: provenance.department,
      system: provenance.system,
      channel: provenance.channel,
      collectedAt: provenance.collectedAt,
      correlationId,
      data: recorded.data,
    };
  });
}
