/**
 * Erasure of a data subject's personal data (PIPL art. 47) by crypto-shredding: the subject's data
 * keys are destroyed and `PersonalDataErased` records who erased them, when and why. A retention
 * rule's end destroys one resource's key only, recorded as `PersonalDataExpired`. One stream per
 * subject, `governance.erasure-<subjectId>`: an erasure, or a resource's expiry, happens once.
 */
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';

export const PERSONAL_DATA_ERASED = 'PersonalDataErased';

const { text, instant } = eventFields;

/** What every erasure record holds. */
const erasureRecord = {
  /** The data subject (a person id): the only personal reference the record keeps. */
  subjectId: text,
  /** The legal basis of the erasure, e.g. `PIPL art. 47(1)(2): retention period ended`. */
  legalBasis: text,
  /** The official who approved it; for an expiry, the configured rule (`PERSONAL_DATA_RETENTION: <rule>`). */
  approver: text,
  /** The consumer that erased it (the retention process manager for an expiry). */
  erasedBy: text,
  erasedAt: instant,
};

const personalDataErased = eventType(PERSONAL_DATA_ERASED, erasureRecord);
export type PersonalDataErased = EventOf<typeof personalDataErased>;

export const PERSONAL_DATA_EXPIRED = 'PersonalDataExpired';

/** The legal basis of every expiry: the retention period of the data ended. */
export const RETENTION_ENDED = 'PIPL art. 47(1)(2): retention period ended';

const personalDataExpired = eventType(PERSONAL_DATA_EXPIRED, {
  ...erasureRecord,
  /** The catalog resource whose personal data of the subject was erased; the rest is kept. */
  scope: text,
  /** The retention rule that ended, as configured: `healthcare.records=30y after death`. */
  rule: text,
  /** When the retention period ended. */
  dueAt: instant,
});
export type PersonalDataExpired = EventOf<typeof personalDataExpired>;

/** Whether an erasure record covers `scope`: all of them for a subject's erasure, its own for an expiry. */
export function erasesScope(event: ErasureEvent, scope: string): boolean {
  return event.type === PERSONAL_DATA_ERASED || event.data.scope === scope;
}

/** The erasure records, for projections that show what a rebuild from the log gives. */
export const ERASURE_EVENT_TYPES = [PERSONAL_DATA_ERASED, PERSONAL_DATA_EXPIRED] as const;

export const erasureStreamId = (subjectId: string): string => `governance.erasure-${subjectId}`;

export const erasureEventDefinitions = [personalDataErased, personalDataExpired] as const satisfies readonly EventTypeDefinition[];
export type ErasureEvent = EventsOf<typeof erasureEventDefinitions>;
