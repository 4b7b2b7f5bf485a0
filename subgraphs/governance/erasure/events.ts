/**
 * Erasure of a data subject's personal data (PIPL art. 47) by crypto-shredding: the subject's data
 * keys are destroyed and `PersonalDataErased` records who erased them, when and why. A retention
 * rule's end destroys one resource's key only, recorded as `PersonalDataExpired`. One stream per
 * subject, `governance.erasure-<subjectId>`: an erasure, or a resource's expiry, happens once.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';

export const PERSONAL_DATA_ERASED = 'PersonalDataErased';

/** What every erasure record holds. */
interface ErasureRecord {
  /** The data subject (a person id): the only personal reference the record keeps. */
  subjectId: string;
  /** The legal basis of the erasure, e.g. `PIPL art. 47(1)(2): retention period ended`. */
  legalBasis: string;
  /** The official who approved it; for an expiry, the configured rule (`PERSONAL_DATA_RETENTION: <rule>`). */
  approver: string;
  /** The consumer that erased it (the retention process manager for an expiry). */
  erasedBy: string;
  erasedAt: string;
}

export type PersonalDataErased = DomainEvent<typeof PERSONAL_DATA_ERASED, ErasureRecord>;

export const PERSONAL_DATA_EXPIRED = 'PersonalDataExpired';

/** The legal basis of every expiry: the retention period of the data ended. */
export const RETENTION_ENDED = 'PIPL art. 47(1)(2): retention period ended';

export type PersonalDataExpired = DomainEvent<
  typeof PERSONAL_DATA_EXPIRED,
  ErasureRecord & {
    /** The catalogue resource whose personal data of the subject was erased; the rest is kept. */
    scope: string;
    /** The retention rule that ended, as configured: `healthcare.records=30y after death`. */
    rule: string;
    /** When the retention period ended. */
    dueAt: string;
  }
>;

export type ErasureEvent = PersonalDataErased | PersonalDataExpired;

/** Whether an erasure record covers `scope`: all of them for a subject's erasure, its own for an expiry. */
export function erasesScope(event: ErasureEvent, scope: string): boolean {
  return event.type === PERSONAL_DATA_ERASED || event.data.scope === scope;
}

/** The erasure records, for projections that show what a rebuild from the log gives. */
export const ERASURE_EVENT_TYPES = [PERSONAL_DATA_ERASED, PERSONAL_DATA_EXPIRED] as const;

export const erasureStreamId = (subjectId: string): string => `governance.erasure-${subjectId}`;

const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const erasureRecord = z.object({ subjectId: text, legalBasis: text, approver: text, erasedBy: text, erasedAt: instant });

export const erasureEventDefinitions: readonly EventTypeDefinition[] = [
  { type: PERSONAL_DATA_ERASED, schemaVersion: 1, schema: erasureRecord } satisfies EventTypeDefinition<PersonalDataErased['data']>,
  {
    type: PERSONAL_DATA_EXPIRED,
    schemaVersion: 1,
    schema: erasureRecord.extend({ scope: text, rule: text, dueAt: instant }),
  } satisfies EventTypeDefinition<PersonalDataExpired['data']>,
];
