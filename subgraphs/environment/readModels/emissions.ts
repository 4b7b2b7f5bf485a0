/**
 * `environment.emissions`: discharge permits and their alarms, by legal person (排污单位), for
 * `LegalPerson.environment` and the environment bureau's alarm worklist.
 */
import { assertNever } from '../../../events/decider.ts';
import type { Recorded } from '../../../events/types.ts';
import { sourceOf, type Projection } from '../../../projections/types.ts';
import type { EmissionAlarmStatus } from '../emission/decider.ts';
import type { EmissionAlarmEvent, EmissionAlarmRaised, EmissionPermitIssued, EscalationReason } from '../emission/events.ts';

export const EMISSIONS_PROJECTION = 'environment.emissions';
export const PERMITS = 'permits';
export const ALARMS = 'alarms';

export type PermitDoc = EmissionPermitIssued['data'] & { issuedAt: string };

export type AlarmDoc = EmissionAlarmRaised['data'] & {
  status: EmissionAlarmStatus;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  escalatedAt: string | null;
  escalationReason: EscalationReason | null;
  resolvedAt: string | null;
  evidence: string[];
  resolutionNote: string | null;
};

/** The fields of an alarm's document an event sets (all of them for the raise). */
export function alarmFields(event: EmissionAlarmEvent): Partial<AlarmDoc> & { alarmId: string } {
  switch (event.type) {
    case 'EmissionAlarmRaised':
      return {
        ...event.data,
        status: 'RAISED',
        acknowledgedBy: null,
        acknowledgedAt: null,
        escalatedAt: null,
        escalationReason: null,
        resolvedAt: null,
        evidence: [],
        resolutionNote: null,
      };
    case 'EmissionAlarmAcknowledged':
      return { alarmId: event.data.alarmId, status: 'ACKNOWLEDGED', acknowledgedBy: event.data.by, acknowledgedAt: event.data.at };
    case 'EmissionAlarmEscalated':
      return { alarmId: event.data.alarmId, status: 'ESCALATED', escalatedAt: event.data.at, escalationReason: event.data.reason };
    case 'EmissionAlarmResolved':
      return {
        alarmId: event.data.alarmId,
        status: 'RESOLVED',
        resolvedAt: event.data.at,
        evidence: event.data.evidence,
        resolutionNote: event.data.note,
      };
    default:
      return assertNever(event);
  }
}

/** An alarm's document from its stream (the payload of a command, before the projection catches up). */
export function alarmDocOf(events: readonly Recorded<EmissionAlarmEvent>[]): AlarmDoc | undefined {
  if (events[0]?.type !== 'EmissionAlarmRaised') return undefined;
  return events.reduce((doc, event) => ({ ...doc, ...alarmFields(event) }), {}) as AlarmDoc;
}

export const emissionsProjection: Projection<EmissionPermitIssued | EmissionAlarmEvent> = {
  name: EMISSIONS_PROJECTION,
  version: 1,
  eventTypes: ['EmissionPermitIssued', 'EmissionAlarmRaised', 'EmissionAlarmAcknowledged', 'EmissionAlarmEscalated', 'EmissionAlarmResolved'],
  indexes: [
    { collection: PERMITS, fields: ['legalPersonId'] },
    { collection: ALARMS, fields: ['legalPersonId', 'status'] },
    { collection: ALARMS, fields: ['status', 'raisedAt'] },
    { collection: ALARMS, fields: ['raisedAt'] },
  ],
  async apply(event, store) {
    const source = sourceOf(event);
    if (event.type === 'EmissionPermitIssued') {
      const { data } = event;
      await store.collection<PermitDoc>(PERMITS).upsert(data.permitId, { ...data, issuedAt: event.recordedAt }, source);
      return;
    }
    const alarms = store.collection<AlarmDoc>(ALARMS);
    const fields = alarmFields(event);
    if (event.type === 'EmissionAlarmRaised') await alarms.upsert(fields.alarmId as string, fields as AlarmDoc, source);
    else await alarms.patch(fields.alarmId as string, fields, source);
  },
};
