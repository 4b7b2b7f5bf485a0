import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import type { DeathFact, PersonFacts } from '../facts.ts';
import { claimFingerprint, DEFAULT_SCREENING_LIMITS, type ClaimItem, type ScreeningFacts, type SettledClaimFact } from '../screening/rules.ts';
import type { ClaimCommand, SubmitClaim } from './commands.ts';
import { allowedClaimSteps, claimDecider } from './decider.ts';
import { claimEventDefinitions, type ClaimEvent, type ClaimScreened, type ClaimSubmitted } from './events.ts';

const PERSON = 'a3d9e2f1-5c4b-4a7e-8f60-2b1c9d8e7f65';
const NOW = '2026-03-15T02:00:00.000Z';
const person: PersonFacts = { personId: PERSON, birthDate: '1948-02-11', death: null };
const visit = {
  visitId: 'visit-1',
  hospitalCode: 'H37010203',
  visitDate: '2026-03-12',
  evidence: { type: 'MedicalVisitRecorded', eventId: 'e-visit', streamId: `healthcare.health-record-${PERSON}`, position: '5:10' },
};
const facts: ScreeningFacts = { death: null, settledClaims: [], visits: [visit], limits: DEFAULT_SCREENING_LIMITS };
const items: ClaimItem[] = [
  { code: 'XC09AAA044A001', name: '卡托普利片', quantity: 3, unitPriceFen: 860 },
  { code: '001102000010000', name: '门诊诊查费', quantity: 1, unitPriceFen: 1000 },
];
const death: DeathFact = { dateOfDeath: '2026-03-05', evidence: { type: 'PersonDeceased', eventId: 'e-death', streamId: `population.person-${PERSON}`, position: '4:2' } };

const at = (now: string) => ({ now });
const submit = (overrides: Partial<SubmitClaim['data']> = {}): SubmitClaim => ({
  type: 'submitClaim',
  data: { claimId: 'claim-1', personId: PERSON, hospitalCode: 'H37010203', serviceDate: '2026-03-12', items, person, facts, ...overrides },
  metadata: at(NOW),
});

const submitted: ClaimSubmitted = {
  type: 'ClaimSubmitted',
  data: { claimId: 'claim-1', personId: PERSON, hospitalCode: 'H37010203', serviceDate: '2026-03-12', items, totalFen: 3580, submittedAt: NOW },
};
const passed: ClaimScreened = {
  type: 'ClaimScreened',
  data: { claimId: 'claim-1', outcome: 'PASSED', flags: [], trigger: 'SUBMISSION', limits: DEFAULT_SCREENING_LIMITS, screenedAt: NOW },
};
const deceasedFlag = {
  ruleId: 'DECEASED_BEFORE_SERVICE' as const,
  explanation: "the patient's death was registered with date 2026-03-05, before the service date 2026-03-12",
  evidence: [death.evidence],
};
const held: ClaimScreened = { type: 'ClaimScreened', data: { ...passed.data, outcome: 'HELD', flags: [deceasedFlag] } };
const reviewed = (finding: 'CLEARED' | 'CONFIRMED'): ClaimEvent => ({
  type: 'ClaimReviewed',
  data: { claimId: 'claim-1', finding, reviewer: '医保稽核科 王审核', note: '核对死亡证明', reviewedAt: NOW },
});
const settled: ClaimEvent = { type: 'ClaimSettled', data: { claimId: 'claim-1', amountFen: 3580, settledAt: NOW } };

const settle = (recheck: { death: DeathFact | null; settledClaims: SettledClaimFact[] } = { death: null, settledClaims: [] }): ClaimCommand => ({
  type: 'settleClaim',
  data: { claimId: 'claim-1', recheck },
  metadata: at(NOW),
});
const review = (finding: 'CLEARED' | 'CONFIRMED'): ClaimCommand => ({
  type: 'reviewClaim',
  data: { claimId: 'claim-1', finding, reviewer: '医保稽核科 王审核', note: '核对死亡证明' },
  metadata: at(NOW),
});
const reject: ClaimCommand = { type: 'rejectClaim', data: { claimId: 'claim-1', reason: '患者已死亡' }, metadata: at(NOW) };
const hold: ClaimCommand = { type: 'holdClaimForDeath', data: { claimId: 'claim-1', death }, metadata: at(NOW) };

describe('claim: submitClaim screens before anything else', () => {
  it('a clean claim is submitted and passes, with its total in integer fen', () => {
    given(claimDecider).when(submit()).then([submitted, passed]);
  });

  it('a claim for a patient who died before the service date is held with the flag and the death event', () => {
    given(claimDecider)
      .when(submit({ facts: { ...facts, death } }))
      .then([submitted, held]);
  });

  it('refuses bad input', () => {
    given(claimDecider).when(submit({ person: null })).thenThrows(ValidationError, /not in the population register/);
    given(claimDecider).when(submit({ hospitalCode: 'H0' })).thenThrows(ValidationError, /not a hospital/);
    given(claimDecider).when(submit({ serviceDate: '2026-03-16' })).thenThrows(ValidationError, /in the future/);
    given(claimDecider).when(submit({ serviceDate: '2026-02-30' })).thenThrows(ValidationError, /real calendar date/);
    given(claimDecider).when(submit({ serviceDate: '1940-01-01' })).thenThrows(ValidationError, /before the patient was born/);
    given(claimDecider).when(submit({ items: [] })).thenThrows(ValidationError, /at least one item/);
    given(claimDecider).when(submit({ items: [{ ...items[0]!, code: 'ab' }] })).thenThrows(ValidationError, /item code/);
    given(claimDecider).when(submit({ items: [{ ...items[0]!, quantity: 0 }] })).thenThrows(ValidationError, /quantity/);
    given(claimDecider).when(submit({ items: [{ ...items[0]!, unitPriceFen: 12.5 }] })).thenThrows(ValidationError, /whole fen/);
  });

  it('a claim id is submitted once', () => {
    given(claimDecider, [submitted, passed]).when(submit()).thenThrows(InvalidTransitionError, /cannot submitClaim while the status is PASSED/);
  });
});

describe('claim: settlement, review and rejection', () => {
  it('a passed claim is settled for its total', () => {
    given(claimDecider, [submitted, passed]).when(settle()).then([settled]);
  });

  it('settlement re-checks: a duplicate settled meanwhile holds the claim instead of paying it', () => {
    const evidence = [{ type: 'ClaimSettled', eventId: 'e-0', streamId: 'healthcare.claim-claim-0', position: '6:1' }];
    const recheck = { death: null, settledClaims: [{ claimId: 'claim-0', fingerprint: claimFingerprint(submitted.data), evidence }] };
    const [event, ...rest] = claimDecider.decide(settle(recheck), given(claimDecider, [submitted, passed]).state);
    assert.equal(rest.length, 0);
    assert.equal(event?.type, 'ClaimScreened');
    assert.ok(event?.type === 'ClaimScreened');
    assert.equal(event.data.outcome, 'HELD');
    assert.equal(event.data.trigger, 'SETTLEMENT');
    assert.deepEqual(event.data.flags.map((f) => [f.ruleId, f.evidence]), [['DUPLICATE_OF_SETTLED', evidence]]);
  });

  it('a held claim cannot be settled or rejected before review', () => {
    given(claimDecider, [submitted, held]).when(settle()).thenThrows(InvalidTransitionError, /cannot settleClaim while the status is HELD; allowed next steps: reviewClaim/);
    given(claimDecider, [submitted, held]).when(reject).thenThrows(InvalidTransitionError, /cannot rejectClaim while the status is HELD/);
  });

  it('review CLEARED leads to settlement; CONFIRMED to rejection', () => {
    given(claimDecider, [submitted, held]).when(review('CLEARED')).then([reviewed('CLEARED')]);
    given(claimDecider, [submitted, held, reviewed('CLEARED')]).when(settle({ death, settledClaims: [] })).then([settled]);
    given(claimDecider, [submitted, held, reviewed('CLEARED')]).when(reject).thenThrows(InvalidTransitionError, /REVIEWED \(CLEARED\).*settleClaim/);
    given(claimDecider, [submitted, held, reviewed('CONFIRMED')])
      .when(reject)
      .then([{ type: 'ClaimRejected', data: { claimId: 'claim-1', reason: '患者已死亡', rejectedAt: NOW } }]);
    given(claimDecider, [submitted, held, reviewed('CONFIRMED')]).when(settle()).thenThrows(InvalidTransitionError, /allowed next steps: rejectClaim/);
  });

  it('a passed claim cannot be reviewed; a settled one takes no further step', () => {
    given(claimDecider, [submitted, passed]).when(review('CLEARED')).thenThrows(InvalidTransitionError, /reviewClaim while the status is PASSED/);
    given(claimDecider, [submitted, passed, settled]).when(settle()).thenThrows(InvalidTransitionError, /allowed next steps: none/);
    assert.deepEqual(allowedClaimSteps(given(claimDecider, [submitted, passed, settled]).state), []);
  });

  it('steps on an unknown claim are NOT_FOUND', () => {
    given(claimDecider).when(settle()).thenThrows(NotFoundError, /has not been submitted/);
  });
});

describe('claim: holdClaimForDeath (process manager)', () => {
  it('holds a passed claim dated after the death', () => {
    given(claimDecider, [submitted, passed])
      .when(hold)
      .then([{ type: 'ClaimScreened', data: { ...held.data, trigger: 'PERSON_DECEASED' } }]);
  });

  it('does nothing for a claim already flagged, settled, or dated on or before the death', () => {
    given(claimDecider, [submitted, held]).when(hold).then([]);
    given(claimDecider, [submitted, passed, settled]).when(hold).then([]);
    const early: ClaimCommand = { type: 'holdClaimForDeath', data: { claimId: 'claim-1', death: { ...death, dateOfDeath: '2026-03-12' } }, metadata: at(NOW) };
    given(claimDecider, [submitted, passed]).when(early).then([]);
  });

  it('re-holds a claim whose other flags a reviewer cleared', () => {
    const noVisit: ClaimScreened = { type: 'ClaimScreened', data: { ...held.data, flags: [{ ruleId: 'NO_VISIT_AT_HOSPITAL', explanation: 'x', evidence: [] }] } };
    const [event] = claimDecider.decide(hold, given(claimDecider, [submitted, noVisit, reviewed('CLEARED')]).state);
    assert.ok(event?.type === 'ClaimScreened');
    assert.deepEqual(event.data.flags.map((f) => f.ruleId), ['NO_VISIT_AT_HOSPITAL', 'DECEASED_BEFORE_SERVICE']);
    assert.deepEqual(allowedClaimSteps(claimDecider.evolve(given(claimDecider, [submitted, noVisit, reviewed('CLEARED')]).state, event)), ['reviewClaim']);
  });
});

describe('claim events', () => {
  it('every event the decider emits passes its registered schema', () => {
    const registry = new EventRegistry().registerAll(claimEventDefinitions);
    assertAcceptedAsEmitted(registry, [submitted, passed, held, reviewed('CLEARED'), settled]);
  });
});
