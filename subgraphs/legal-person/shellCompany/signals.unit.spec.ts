import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../events/errors.ts';
import { DEFAULT_SHELL_COMPANY_CONFIG, parseShellCompanyConfig } from './config.ts';
import type { CompanyFacts, EvidenceRef, GroupFacts, RepresentativeFacts } from './facts.ts';
import { addressKey } from './projection.ts';
import {
  annualReportsMissed,
  assessShellCompany,
  noEmployees,
  noTaxActivity,
  representativeDeceased,
  representativeOfMany,
  sharedAddress,
  type AssessmentInput,
} from './signals.ts';

const TODAY = '2026-05-10';
let sequence = 0;
const ref = (type: string): EvidenceRef => ({ type, eventId: `e-${++sequence}`, position: `1:${sequence}`, streamId: 's', recordedAt: '2026-01-01T00:00:00.000Z' });

const registration = ref('LegalPersonRegistered');
const company = (overrides: Partial<CompanyFacts> = {}): CompanyFacts => ({
  legalPersonId: 'lp-1',
  name: '济南某某商务信息咨询有限公司',
  status: 'ACTIVE',
  establishedOn: '2023-02-01',
  cityCode: '370100',
  districtCode: '370102',
  streetCode: null,
  communityCode: null,
  registration,
  address: { key: 'k', address: '经十路1号1808室', divisionCode: '370102', source: registration },
  representative: { personId: 'p-1', source: registration },
  annualReports: [],
  taxpayer: null,
  declarations: [],
  ...overrides,
});

const group = (size: number): GroupFacts => ({ id: 'g', members: Array.from({ length: size }, (_, i) => ({ legalPersonId: `lp-${i + 1}`, source: ref('LegalPersonRegistered') })) });
const input = (overrides: Partial<AssessmentInput> = {}): AssessmentInput => ({ company: company(), addressGroup: group(1), representative: null, today: TODAY, ...overrides });
const declaration = (period: string, taxableAmountFen: number) => ({ declarationId: `d-${period}`, taxType: 'VAT', period, taxableAmountFen, source: ref('TaxDeclared') });
const report = (year: number, employees: number) => ({ year, employees, revenueFen: 0, source: ref('AnnualReportFiled') });
const setting = (threshold: number, weight = 10) => ({ threshold, weight });

describe('shell-company signals', () => {
  describe('no tax activity', () => {
    it('counts the finished months since the last positive declaration, citing the zero declarations', () => {
      const zeroMarch = declaration('2026-03', 0);
      const facts = company({ declarations: [declaration('2026-01', 500_00), zeroMarch] });
      const signal = noTaxActivity(input({ company: facts }), setting(3));
      assert.equal(signal.observed, 3, 'February (nothing), March (zero) and April (nothing)');
      assert.equal(signal.triggered, true);
      assert.ok(signal.evidence.some((e) => e.eventId === zeroMarch.source.eventId));
      assert.ok(signal.evidence.some((e) => e.eventId === registration.eventId));
      assert.equal(noTaxActivity(input({ company: facts }), setting(4)).triggered, false);
    });

    it('reads a quarter or a year as covering each of its months, and starts at the establishment', () => {
      assert.equal(noTaxActivity(input({ company: company({ declarations: [declaration('2026Q1', 1)] }) }), setting(1)).observed, 1, 'only April is idle');
      const young = company({ establishedOn: '2026-03-15' });
      assert.equal(noTaxActivity(input({ company: young }), setting(3)).observed, 2, 'March and April only');
      assert.equal(noTaxActivity(input({ company: company({ declarations: [declaration('2026-04', 100)] }) }), setting(1)).triggered, false);
    });
  });

  describe('no employees', () => {
    it('fires when the latest reports in a row count nobody', () => {
      const facts = company({ annualReports: [report(2023, 3), report(2024, 0), report(2025, 0)] });
      const signal = noEmployees(input({ company: facts }), setting(2));
      assert.equal(signal.observed, 2);
      assert.equal(signal.triggered, true);
      assert.deepEqual(signal.evidence.map((e) => e.type), ['AnnualReportFiled', 'AnnualReportFiled']);
      assert.equal(noEmployees(input({ company: facts }), setting(3)).triggered, false);
      assert.equal(noEmployees(input(), setting(1)).triggered, false, 'no report is a missed report, not an empty company');
    });
  });

  describe('shared address and representative of many', () => {
    it('fires at the threshold, citing the event that placed each legal person there', () => {
      const five = sharedAddress(input({ addressGroup: group(5) }), setting(5));
      assert.equal(five.triggered, true);
      assert.equal(five.evidence.length, 5);
      assert.equal(sharedAddress(input({ addressGroup: group(4) }), setting(5)).triggered, false);
      const representative: RepresentativeFacts = { personId: 'p-1', group: group(6), death: null };
      assert.equal(representativeOfMany(input({ representative }), setting(6)).triggered, true);
      assert.equal(representativeOfMany(input({ representative }), setting(7)).observed, 6);
    });
  });

  describe('annual reports missed', () => {
    it('counts each finished year whose report is overdue after 30 June of the next year', () => {
      const facts = company({ annualReports: [report(2023, 1)] });
      const signal = annualReportsMissed(input({ company: facts }), setting(1));
      assert.equal(signal.observed, 1, '2024 is missed; 2025 is due only by 2026-06-30');
      assert.match(signal.explanation, /no annual report for 2024/);
      assert.equal(annualReportsMissed(input({ company: facts, today: '2026-07-01' }), setting(2)).observed, 2);
      assert.equal(annualReportsMissed(input({ company: facts }), setting(2)).triggered, false);
    });
  });

  describe('representative deceased', () => {
    it('fires once the grace period since the registered death has passed', () => {
      const death = { dateOfDeath: '2026-01-10', source: ref('PersonDeceased') };
      const representative: RepresentativeFacts = { personId: 'p-1', group: group(1), death };
      const signal = representativeDeceased(input({ representative }), setting(90));
      assert.equal(signal.observed, 120);
      assert.equal(signal.triggered, true);
      assert.deepEqual(signal.evidence.map((e) => e.type), ['PersonDeceased', 'LegalPersonRegistered']);
      assert.equal(representativeDeceased(input({ representative }), setting(121)).triggered, false);
      assert.equal(representativeDeceased(input(), setting(0)).triggered, false);
    });
  });

  describe('the assessment', () => {
    it('adds the weights of the signals that fired, lists every signal, and caps the score at 100', () => {
      const shell = input({
        company: company({ annualReports: [report(2023, 0)] }),
        addressGroup: group(6),
        representative: { personId: 'p-1', group: group(6), death: null },
      });
      const assessment = assessShellCompany(shell);
      assert.equal(assessment.signals.length, 6);
      const fired = assessment.signals.filter((s) => s.triggered).map((s) => s.kind);
      assert.deepEqual(fired, ['NO_TAX_ACTIVITY', 'NO_EMPLOYEES', 'SHARED_ADDRESS', 'REPRESENTATIVE_OF_MANY', 'ANNUAL_REPORTS_MISSED']);
      assert.equal(assessment.score, 25 + 15 + 20 + 20 + 10);
      assert.equal(assessment.suspected, true);
      const heavy = parseShellCompanyConfig({ SHARED_ADDRESS: { weight: 100 } });
      assert.equal(assessShellCompany(shell, heavy).score, 100);
      const busy = input({ company: company({ establishedOn: '2026-04-20', declarations: [] }) });
      assert.equal(assessShellCompany(busy).score, 0);
    });

    it('takes its configuration over the defaults and refuses a wrong one clearly', () => {
      assert.deepEqual(parseShellCompanyConfig({}), DEFAULT_SHELL_COMPANY_CONFIG);
      assert.equal(parseShellCompanyConfig({ NO_TAX_ACTIVITY: { threshold: 6 } }).NO_TAX_ACTIVITY.weight, 25);
      assert.throws(() => parseShellCompanyConfig({ SHARED_ADDRESS: { weight: 1.5 } }), (e: unknown) => e instanceof ValidationError && /SHARED_ADDRESS.weight/.test(e.message));
      assert.throws(() => parseShellCompanyConfig({ SHARED_ADDRESS: { threshold: 1 } }), /SHARED_ADDRESS.threshold/);
      assert.throws(() => parseShellCompanyConfig({ TYPO: { weight: 1 } }), /Unrecognized key/);
    });
  });

  it('folds full-width characters and spaces when comparing addresses', () => {
    assert.equal(addressKey('经十路１号 B座1808室'), addressKey('经十路1号Ｂ座 1808室'));
    assert.notEqual(addressKey('经十路1号'), addressKey('经十路2号'));
  });
});
