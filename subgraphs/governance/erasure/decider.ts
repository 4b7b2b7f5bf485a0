/**
 * Whether a subject's personal data may be erased (pure).
 *
 * `erasePersonalData` (an administrator, every resource): refused, with nothing written, for a
 * missing legal basis or approver, a subject whose data the log does not hold (no key), one already
 * erased, one under a legal hold. A recorded erasure whose keys are still there (the process stopped
 * between the record and the keys) is completed without a second record.
 *
 * `expirePersonalData` (the retention process manager, one resource): the rule's period must have
 * ended and the subject must not be under a legal hold (refused: the manager retries it, so a hold
 * postpones the expiry until it is lifted). A resource already expired, or a subject already erased,
 * has nothing left to expire: decided as nothing, so a replay appends nothing.
 */
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import type { Decider } from '../../../events/decider.ts';
import { PERSONAL_DATA_ERASED, PERSONAL_DATA_EXPIRED, RETENTION_ENDED, type ErasureEvent } from './events.ts';

/** The subject's keys as the key store holds them: any live, all erased, or none ever. */
export type KeyStatus = 'LIVE' | 'ERASED' | 'NONE';

export interface ErasePersonalData {
  type: 'erasePersonalData';
  data: { subjectId: string; legalBasis: string; approver: string; erasedBy: string };
  /** What the command is decided against, read by the handler. */
  facts: { key: KeyStatus; legalHold: boolean; now: string };
}

export interface ExpirePersonalData {
  type: 'expirePersonalData';
  /** `rule`: the configured rule's text; `dueAt`: when its period ends for this subject. */
  data: { subjectId: string; scope: string; rule: string; dueAt: string; erasedBy: string };
  facts: { legalHold: boolean; now: string };
}

export type ErasureCommand = ErasePersonalData | ExpirePersonalData;

export interface ErasureState {
  erasedAt: string | null;
  /** When each expired resource of the subject was erased. */
  expired: Readonly<Record<string, string>>;
}

function required(value: string, field: string, hint: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} is required: ${hint}`, { field });
  return trimmed;
}

function decideErasure(command: ErasePersonalData, state: ErasureState): ErasureEvent[] {
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
}

function decideExpiry(command: ExpirePersonalData, state: ErasureState): ErasureEvent[] {
  const { subjectId, scope, rule, dueAt, erasedBy } = command.data;
  const { legalHold, now } = command.facts;
  if (state.erasedAt || state.expired[scope]) return [];
  if (Date.parse(now) <= Date.parse(dueAt)) throw new ConflictError(`the retention period of ${scope} of subject ${subjectId} (${rule}) ends at ${dueAt}, not yet`, { field: 'dueAt' });
  if (legalHold) throw new ConflictError(`subject ${subjectId} is under a legal hold (PERSONAL_DATA_LEGAL_HOLDS): the expiry of ${scope} (${rule}) waits until the hold is lifted`, { field: 'subjectId' });
  return [{ type: PERSONAL_DATA_EXPIRED, data: { subjectId, scope, rule, dueAt, legalBasis: RETENTION_ENDED, approver: `PERSONAL_DATA_RETENTION: ${rule}`, erasedBy, erasedAt: now } }];
}

export const erasureDecider: Decider<ErasureCommand, ErasureEvent, ErasureState> = {
  initialState: () => ({ erasedAt: null, expired: {} }),
  evolve: (state, event) =>
    event.type === PERSONAL_DATA_ERASED ? { ...state, erasedAt: event.data.erasedAt } : { ...state, expired: { ...state.expired, [event.data.scope]: event.data.erasedAt } },
  decide: (command, state) => (command.type === 'erasePersonalData' ? decideErasure(command, state) : decideExpiry(command, state)),
};
