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

type InstantFieldOf<Data> = { [K in keyof Data]-?: Data[K] extends string ? K : never }[keyof Data];

/** The field each event type records its step's instant in. */
const INSTANT_FIELD: { [E in IncidentEvent as E['type']]: InstantFieldOf<E['data']> } = {
  IncidentReported: 'reportedAt',
  IncidentRegistered: 'registeredAt',
  IncidentRejected: 'rejectedAt',
  IncidentDispatched: 'dispatchedAt',
  IncidentReturned: 'returnedAt',
  IncidentEscalated: 'escalatedAt',
  IncidentHandlingStarted: 'startedAt',
  IncidentHandled: 'handledAt',
  IncidentVerificationPassed: 'verifiedAt',
  IncidentVerificationFailed: 'verifiedAt',
  IncidentClosed: 'closedAt',
  IncidentEvaluated: 'evaluatedAt',
  IncidentOverdue: 'detectedAt',
  IncidentSupervised: 'supervisedAt',
};

function instantOf(event: IncidentEvent): string {
  const data: Readonly<Record<string, unknown>> = event.data;
  // A string: the table's type admits only each event's own string fields, which TypeScript cannot pair with the event here.
  return data[INSTANT_FIELD[event.type]] as string;
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
