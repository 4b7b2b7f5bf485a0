import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventRef } from '../facts.ts';
import {
  claimFingerprint,
  claimTotalOverLimit,
  deceasedBeforeService,
  DEFAULT_SCREENING_LIMITS,
  duplicateOfSettled,
  itemQuantityOverLimit,
  noVisitAtHospital,
  screenClaim,
  type ClaimUnderScreening,
  type ScreeningInput,
} from './rules.ts';

const ref = (type: string, n: number): EventRef => ({ type, eventId: `00000000-0000-4000-8000-00000000000${n}`, streamId: `s-${n}`, position: `1:${n}` });

const claim: ClaimUnderScreening = {
  claimId: 'claim-1',
  personId: 'person-1',
  hospitalCode: 'H37010201',
  serviceDate: '2026-03-10',
  items: [
    { code: 'XJ01CAA040A001', name: '阿莫西林胶囊', quantity: 2, unitPriceFen: 1250 },
    { code: '001102000010000', name: '门诊诊查费', quantity: 1, unitPriceFen: 1000 },
  ],
  totalFen: 3500,
};

const visitThere = { visitId: 'v1', hospitalCode: 'H37010201', visitDate: '2026-03-10', evidence: ref('MedicalVisitRecorded', 1) };

function input(overrides: Partial<ScreeningInput> = {}): ScreeningInput {
  return { claim, death: null, settledClaims: [], visits: [visitThere], limits: DEFAULT_SCREENING_LIMITS, ...overrides };
}

describe('screening rule DECEASED_BEFORE_SERVICE', () => {
  it('flags a service dated after the registered death, citing the PersonDeceased event', () => {
    const death = { dateOfDeath: '2026-03-03', evidence: ref('PersonDeceased', 2) };
    const [flag, ...rest] = deceasedBeforeService(input({ death }));
    assert.equal(rest.length, 0);
    assert.equal(flag?.ruleId, 'DECEASED_BEFORE_SERVICE');
    assert.match(flag!.explanation, /2026-03-03.*before the service date 2026-03-10/);
    assert.deepEqual(flag!.evidence, [death.evidence]);
  });

  it('passes a service on the day of death or before it, and a living patient', () => {
    assert.deepEqual(deceasedBeforeService(input({ death: { dateOfDeath: '2026-03-10', evidence: ref('PersonDeceased', 2) } })), []);
    assert.deepEqual(deceasedBeforeService(input()), []);
  });
});

describe('screening rule DUPLICATE_OF_SETTLED', () => {
  const evidence = [ref('ClaimSubmitted', 3), ref('ClaimSettled', 4)];

  it('flags a claim with the fingerprint of a settled one, citing its events', () => {
    const settled = { claimId: 'claim-0', fingerprint: claimFingerprint(claim), evidence };
    const [flag] = duplicateOfSettled(input({ settledClaims: [settled] }));
    assert.equal(flag?.ruleId, 'DUPLICATE_OF_SETTLED');
    assert.match(flag!.explanation, /claim-0/);
    assert.deepEqual(flag!.evidence, evidence);
  });

  it('ignores other fingerprints and the claim itself', () => {
    const other = { ...claim, items: [{ ...claim.items[0]!, quantity: 3 }] };
    assert.deepEqual(duplicateOfSettled(input({ settledClaims: [{ claimId: 'claim-0', fingerprint: claimFingerprint(other), evidence }] })), []);
    assert.deepEqual(duplicateOfSettled(input({ settledClaims: [{ claimId: claim.claimId, fingerprint: claimFingerprint(claim), evidence }] })), []);
  });

  it('fingerprints ignore the order of items but not their quantities or prices', () => {
    const reordered = { ...claim, items: [...claim.items].reverse() };
    assert.equal(claimFingerprint(reordered), claimFingerprint(claim));
    assert.notEqual(claimFingerprint({ ...claim, serviceDate: '2026-03-11' }), claimFingerprint(claim));
    assert.notEqual(claimFingerprint({ ...claim, items: [{ ...claim.items[0]!, unitPriceFen: 1251 }, claim.items[1]!] }), claimFingerprint(claim));
  });
});

describe('screening rules over the configurable limits', () => {
  it('ITEM_QUANTITY_OVER_LIMIT flags each item above the limit', () => {
    const flags = itemQuantityOverLimit(input({ limits: { maxItemQuantity: 1, maxClaimTotalFen: 1_000_000 } }));
    assert.deepEqual(
      flags.map((f) => [f.ruleId, f.explanation]),
      [['ITEM_QUANTITY_OVER_LIMIT', 'item XJ01CAA040A001 is claimed 2 times; the limit is 1 per claim']],
    );
    assert.deepEqual(itemQuantityOverLimit(input()), []);
  });

  it('CLAIM_TOTAL_OVER_LIMIT flags a total above the limit, in yuan', () => {
    const [flag] = claimTotalOverLimit(input({ limits: { maxItemQuantity: 100, maxClaimTotalFen: 3499 } }));
    assert.equal(flag?.explanation, 'the claim totals ¥35.00; the limit is ¥34.99 per claim');
    assert.deepEqual(claimTotalOverLimit(input({ limits: { maxItemQuantity: 100, maxClaimTotalFen: 3500 } })), []);
  });
});

describe('screening rule NO_VISIT_AT_HOSPITAL', () => {
  it('passes when the patient visited the hospital that day', () => {
    assert.deepEqual(noVisitAtHospital(input()), []);
  });

  it('flags a day without a visit there, citing the visits elsewhere that day', () => {
    const elsewhere = { visitId: 'v2', hospitalCode: 'H37010401', visitDate: '2026-03-10', evidence: ref('MedicalVisitRecorded', 5) };
    const otherDay = { ...visitThere, visitDate: '2026-03-09' };
    const [flag] = noVisitAtHospital(input({ visits: [elsewhere, otherDay] }));
    assert.equal(flag?.ruleId, 'NO_VISIT_AT_HOSPITAL');
    assert.match(flag!.explanation, /visited H37010401/);
    assert.deepEqual(flag!.evidence, [elsewhere.evidence]);
  });
});

describe('screenClaim', () => {
  it('passes a claim no rule flags', () => {
    assert.deepEqual(screenClaim(input()), { outcome: 'PASSED', flags: [] });
  });

  it('holds a claim with every flag raised, in rule order', () => {
    const result = screenClaim(
      input({ visits: [], death: { dateOfDeath: '2026-01-01', evidence: ref('PersonDeceased', 2) }, limits: { maxItemQuantity: 1, maxClaimTotalFen: 100 } }),
    );
    assert.equal(result.outcome, 'HELD');
    assert.deepEqual(
      result.flags.map((f) => f.ruleId),
      ['DECEASED_BEFORE_SERVICE', 'ITEM_QUANTITY_OVER_LIMIT', 'CLAIM_TOTAL_OVER_LIMIT', 'NO_VISIT_AT_HOSPITAL'],
    );
  });
});
