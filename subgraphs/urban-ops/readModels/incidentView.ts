/**
 * What the read side knows of one incident: the decider's own state (folded with its `evolve`, so
 * the read model can never disagree with the write side) plus what the state does not keep — the
 * escalations — and the stream revision a client passes back as `expectedRevision`. The projection
 * and `asOf` queries fold the same function, over the whole stream or a prefix of it.
 */
import type { Recorded } from '../../../events/types.ts';
import { ancestorsOf, type Level } from '../levels.ts';
import { levelOfIncident } from '../metrics.ts';
import { incidentDecider, type IncidentState } from '../incident/decider.ts';
import type { IncidentEscalated, IncidentEvent } from '../incident/events.ts';

export type Escalation = Omit<IncidentEscalated['data'], 'incidentId'>;

export interface IncidentView {
  incidentId: string;
  state: Exclude<IncidentState, { status: 'UNREPORTED' }>;
  escalations: Escalation[];
  /** When the current or last handling started (the state forgets it once the work is reported). */
  handlingStartedAt: string | null;
  revision: number;
  /** When the store recorded the last event. */
  updatedAt: string;
}

/** Far beyond any deadline: `overdueAfter` of incidents that cannot become overdue. */
export const NEVER_OVERDUE = '9999-12-31T23:59:59.999Z';

export function evolveView(view: IncidentView | undefined, event: Recorded<IncidentEvent>): IncidentView | undefined {
  const domainEvent = event;
  const state = incidentDecider.evolve(view?.state ?? incidentDecider.initialState(), domainEvent);
  if (state.status === 'UNREPORTED') return view;
  const escalations = view?.escalations ?? [];
  let escalation: Escalation | undefined;
  if (domainEvent.type === 'IncidentEscalated') {
    const { incidentId: _incidentId, ...rest } = domainEvent.data;
    escalation = rest;
  }
  return {
    incidentId: domainEvent.data.incidentId,
    state,
    escalations: escalation ? [...escalations, escalation] : escalations,
    handlingStartedAt: state.status === 'HANDLING' ? state.startedAt : (view?.handlingStartedAt ?? null),
    revision: event.revision,
    updatedAt: event.recordedAt,
  };
}

export function foldView(events: readonly Recorded<IncidentEvent>[]): IncidentView | undefined {
  let view: IncidentView | undefined;
  for (const event of events) view = evolveView(view, event);
  return view;
}

export function isOpenCase(state: IncidentView['state']): boolean {
  return state.status === 'REGISTERED' || state.status === 'DISPATCHED' || state.status === 'HANDLING' || state.status === 'HANDLED';
}

/** The stored document: the view plus flat fields the list filters and metrics counts use. */
export interface IncidentDoc extends Record<string, unknown> {
  view: IncidentView;
  status: string;
  channel: string;
  category: string;
  subcategory: string;
  level: Level | null;
  cityCode: string;
  districtCode: string;
  streetCode: string;
  communityCode: string;
  reportedAt: string;
  caseNumber: string | null;
  /** Who reported it, when the report names them by id: their name is erased with their personal data. */
  reporterId: string | null;
  /** The deadline while the case is open and dispatched, else {@link NEVER_OVERDUE}. */
  overdueAfter: string;
}

export function incidentDoc(view: IncidentView): IncidentDoc {
  const { state } = view;
  const { report } = state;
  const [communityCode, streetCode, districtCode, cityCode] = ancestorsOf(report.divisionCode) as [string, string, string, string];
  const caseFile = 'caseFile' in state ? state.caseFile : null;
  return {
    view,
    status: state.status,
    channel: report.channel,
    category: report.category,
    subcategory: report.subcategory,
    level: levelOfIncident(state),
    cityCode,
    districtCode,
    streetCode,
    communityCode,
    reportedAt: report.reportedAt,
    caseNumber: caseFile?.caseNumber ?? null,
    reporterId: report.reporter.id ?? null,
    overdueAfter: caseFile?.deadline && isOpenCase(state) ? caseFile.deadline : NEVER_OVERDUE,
  };
}

/** The flat field holding a division code of the given level. */
export const DIVISION_FIELD: Record<Level, 'cityCode' | 'districtCode' | 'streetCode' | 'communityCode'> = {
  CITY: 'cityCode',
  DISTRICT: 'districtCode',
  STREET: 'streetCode',
  COMMUNITY: 'communityCode',
};
