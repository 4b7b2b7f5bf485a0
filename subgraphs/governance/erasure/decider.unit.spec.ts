/**
 * The erasure decider, given/when/then: an administrator's erasure of every resource of a subject,
 * and a retention rule's expiry of one resource (due, not held, once).
 */
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { given } from '../../../test/helpers/decider.ts';
import { erasureDecider, type ErasePersonalData, type ExpirePersonalData } from './decider.ts';
import { RETENTION_ENDED, type PersonalDataErased, type PersonalDataExpired } from './events.ts';

const NOW = '2050-03-02T00:00:00.000Z';
const DUE = '2050-02-28T16:00:00.000Z';
const RULE = 'healthcare.records=30y after death';

const expire = (data: Partial<ExpirePersonalData['data']> = {}, facts: Partial<ExpirePersonalData['facts']> = {}): ExpirePersonalData => ({
  type: 'expirePersonalData',
  data: { subjectId: 'p-1', scope: 'healthcare.records', rule: RULE, dueAt: DUE, erasedBy: 'process-manager:governance.retention', ...data },
  facts: { legalHold: false, now: NOW, ...facts },
});

const erase = (facts: Partial<ErasePersonalData['facts']> = {}): ErasePersonalData => ({
  type: 'erasePersonalData',
  data: { subjectId: 'p-1', legalBasis: 'PIPL art. 47(1)(1)', approver: '数据安全官', erasedBy: 'admin' },
  facts: { key: 'LIVE', legalHold: false, now: NOW, ...facts },
});

const expired = (scope: string): PersonalDataExpired => ({
  type: 'PersonalDataExpired',
  data: {
    subjectId: 'p-1',
    scope,
    rule: RULE,
    dueAt: DUE,
    legalBasis: RETENTION_ENDED,
    approver: `PERSONAL_DATA_RETENTION: ${RULE}`,
    erasedBy: 'process-manager:governance.retention',
    erasedAt: NOW,
  },
});

const erased: PersonalDataErased = {
  type: 'PersonalDataErased',
  data: { subjectId: 'p-1', legalBasis: 'PIPL art. 47(1)(1)', approver: '数据安全官', erasedBy: 'admin', erasedAt: NOW },
};

describe('expiring one resource of a subject', () => {
  it('records the scope, the rule, the legal basis and the rule as approver once the period ended', () => {
    given(erasureDecider).when(expire()).then([expired('healthcare.records')]);
  });

  it('refuses before the period ends, and at its very instant', () => {
    given(erasureDecider).when(expire({}, { now: DUE })).thenThrows(ConflictError, /ends at 2050-02-28T16:00:00.000Z, not yet/);
  });

  it('refuses a subject under a legal hold, so the manager retries it once the hold is lifted', () => {
    given(erasureDecider).when(expire({}, { legalHold: true })).thenThrows(ConflictError, /legal hold.*waits until the hold is lifted/);
  });

  it('decides nothing for a resource already expired, or a subject already erased (a replay)', () => {
    given(erasureDecider, [expired('healthcare.records')]).when(expire()).then([]);
    given(erasureDecider, [erased]).when(expire({}, { legalHold: true })).then([]);
  });

  it('expires another resource of a subject whose first one expired', () => {
    given(erasureDecider, [expired('healthcare.claims')]).when(expire()).then([expired('healthcare.records')]);
  });
});

describe('erasing every resource of a subject', () => {
  it('is allowed after one resource expired (other keys are live)', () => {
    given(erasureDecider, [expired('healthcare.records')]).when(erase()).then([erased]);
  });

  it('refuses an unknown subject, one erased, one held, and a missing legal basis', () => {
    given(erasureDecider).when(erase({ key: 'NONE' })).thenThrows(NotFoundError, /no personal data of subject p-1/);
    given(erasureDecider, [erased]).when(erase({ key: 'ERASED' })).thenThrows(ConflictError, /already erased at/);
    given(erasureDecider).when(erase({ legalHold: true })).thenThrows(ConflictError, /legal hold/);
    given(erasureDecider).when({ ...erase(), data: { ...erase().data, legalBasis: ' ' } }).thenThrows(ValidationError, /legalBasis is required/);
  });
});
