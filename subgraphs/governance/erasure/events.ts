/**
 * Erasure of a data subject's personal data (PIPL art. 47) by crypto-shredding: the subject's data
 * key is destroyed and `PersonalDataErased` records who erased it, when and why. One stream per
 * subject, `governance.erasure-<subjectId>`: an erasure happens once.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';

export const PERSONAL_DATA_ERASED = 'PersonalDataErased';

export type PersonalDataErased = DomainEvent<
  typeof PERSONAL_DATA_ERASED,
  {
    /** The data subject (a person id): the only personal reference the record keeps. */
    subjectId: string;
    /** The legal basis of the erasure, e.g. `PIPL art. 47(1)(2): retention period ended`. */
    legalBasis: string;
    /** The official who approved it. */
    approver: string;
    /** The consumer that erased it. */
    erasedBy: string;
    erasedAt: string;
  }
>;

export type ErasureEvent = PersonalDataErased;

export const erasureStreamId = (subjectId: string): string => `governance.erasure-${subjectId}`;

const text = z.string().trim().min(1);

export const erasureEventDefinitions: readonly EventTypeDefinition[] = [
  {
    type: PERSONAL_DATA_ERASED,
    schemaVersion: 1,
    schema: z.object({ subjectId: text, legalBasis: text, approver: text, erasedBy: text, erasedAt: z.iso.datetime({ offset: true }) }),
  } satisfies EventTypeDefinition<PersonalDataErased['data']>,
];
