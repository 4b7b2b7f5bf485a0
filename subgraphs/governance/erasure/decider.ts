/**
 * Whether a subject's personal data may be erased (pure). Refused, with nothing written: a missing
 * legal basis or approver, a subject whose data the log does not hold (no key), one already erased,
 * one under a legal hold. A recorded erasure whose key is still there (the process stopped between
 * the record and the key) is completed without a second record.
 */
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import type { Decider } from '../../../events/decider.ts';
import { PERSONAL_DATA_ERASED, type ErasureEvent } from './events.ts';

/** The subject's key as the key store holds it. */
export type KeyStatus = 'LIVE' | 'ERASED' | 'NONE';

export interface ErasePersonalData {
  type: 'erasePersonalData';
  data: { subjectId: string; legalBasis: string; approver: string; erasedBy: string };
  /** What the command is decided against, read by the handler. */
  facts: { key: KeyStatus; legalHold: boolean; now: string };
}

export interface ErasureState {
  erasedAt: string | null;
}

function required(value: string, field: string, hint: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} is required: ${hint}`, { field });
  return trimmed;
}

export const erasureDecider: Decider<ErasePersonalData, ErasureEvent, ErasureState> = {
  initialState: () => ({ erasedAt: null }),
  evolve: (_state, event) => ({ erasedAt: event.data.erasedAt }),
  decide(command, state) {
    const { subjectId, erasedBy } = command.data;
    const legalBasis = required(command.data.legalBasis, 'legalBasis', 'the article and ground of the erasure, e.g. "PIPL art. 47(1)(1): purpose fulfilled"');
    const approver = required(command.data.approver, 'approver', 'the official who approved the erasure');
    const { key, legalHold, now } = command.facts;
    if (key === 'ERASED') {
      throw new ConflictError(`the personal data of subject ${subjectId} was already erased${state.erasedAt ? ` at ${state.erasedAt}` : ''}`, { field: 'subjectId' });
    }
    if (key === 'NONE') throw new NotFoundError(`no personal data of subject ${subjectId} is held: unknown subject (a person id whose events hold personal data)`, { field: 'subjectId' });
    if (legalHold) throw new ConflictError(`subject ${subjectId} is under a legal hold (PERSONAL_DATA_LEGAL_HOLDS): its personal data cannot be erased until the hold is lifted`, { field: 'subjectId' });
    if (state.erasedAt) return [];
    return [{ type: PERSONAL_DATA_ERASED, data: { subjectId, legalBasis, approver, erasedBy, erasedAt: now } }];
  },
};
