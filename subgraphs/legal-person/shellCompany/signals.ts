/**
 * The shell-company signals, each a pure function of the facts the projection keeps (facts.ts), the
 * day of the assessment and the signal's configured weight and threshold. Every signal reports what
 * it observed and the events it came from, fired or not, so an assessment can always be explained
 * and checked against the log.
 */
import { addMonths, monthsOf, parsePeriod } from '../../kit/period.ts';
import { DEFAULT_SHELL_COMPANY_CONFIG, SIGNAL_KINDS, type ShellCompanyConfig, type SignalKind } from './config.ts';
import type { CompanyFacts, EvidenceRef, GroupFacts, RepresentativeFacts } from './facts.ts';

export interface SignalResult {
  kind: SignalKind;
  triggered: boolean;
  weight: number;
  threshold: number;
  /** The measured quantity the threshold is compared with (months, reports, legal persons, days). */
  observed: number;
  explanation: string;
  evidence: EvidenceRef[];
}

export interface AssessmentInput {
  company: CompanyFacts;
  /** The legal persons registered at the company's address (itself included); null when unknown. */
  addressGroup: GroupFacts | null;
  /** The representative's legal persons (itself included) and registered death. */
  representative: RepresentativeFacts | null;
  /** `YYYY-MM-DD`, China time. */
  today: string;
}

export interface ShellCompanyAssessment {
  legalPersonId: string;
  /** Sum of the weights of the signals that fired, at most 100. */
  score: number;
  suspected: boolean;
  assessedOn: string;
  signals: SignalResult[];
}

type Setting = { weight: number; threshold: number };

function result(kind: SignalKind, setting: Setting, observed: number, triggered: boolean, explanation: string, evidence: EvidenceRef[]): SignalResult {
  return { kind, triggered, weight: setting.weight, threshold: setting.threshold, observed, explanation, evidence };
}

/** Months (`YYYY-MM`) with a declaration of a positive taxable amount, and the declarations per month. */
function activity(company: CompanyFacts): { active: Set<string>; byMonth: Map<string, EvidenceRef[]> } {
  const active = new Set<string>();
  const byMonth = new Map<string, EvidenceRef[]>();
  for (const declaration of company.declarations) {
    for (const month of monthsOf(parsePeriod(declaration.period))) {
      if (declaration.taxableAmountFen > 0) active.add(month);
      byMonth.set(month, [...(byMonth.get(month) ?? []), declaration.source]);
    }
  }
  return { active, byMonth };
}

/**
 * No declaration, or only zero taxable amounts, over the most recent finished months: the run of
 * such months ending last month, counted from the month the company was established.
 */
export function noTaxActivity(input: AssessmentInput, setting: Setting): SignalResult {
  const { company, today } = input;
  const { active, byMonth } = activity(company);
  const firstMonth = company.establishedOn.slice(0, 7);
  const evidence: EvidenceRef[] = [company.registration, ...(company.taxpayer ? [company.taxpayer] : [])];
  let streak = 0;
  for (let month = addMonths(today.slice(0, 7), -1); month >= firstMonth && !active.has(month); month = addMonths(month, -1)) {
    streak++;
    evidence.push(...(byMonth.get(month) ?? []));
  }
  const triggered = streak >= setting.threshold;
  const declared = company.declarations.length;
  const explanation =
    streak === 0
      ? 'declared a positive taxable amount last month'
      : `${streak} consecutive finished month(s) up to last month with no declaration or only zero taxable amounts (${declared} declaration(s) on record)`;
  return result('NO_TAX_ACTIVITY', setting, streak, triggered, explanation, dedupe(evidence));
}

/** The latest annual reports, `threshold` of them in a row, all say nobody is employed. */
export function noEmployees(input: AssessmentInput, setting: Setting): SignalResult {
  const latestFirst = [...input.company.annualReports].sort((a, b) => b.year - a.year);
  const zeros: typeof latestFirst = [];
  for (const report of latestFirst) {
    if (report.employees !== 0) break;
    zeros.push(report);
  }
  const triggered = zeros.length >= setting.threshold;
  const explanation = latestFirst.length === 0 ? 'no annual report on record' : zeros.length === 0 ? `the ${latestFirst[0]!.year} report counts ${latestFirst[0]!.employees} employee(s)` : `the latest ${zeros.length} annual report(s) (${zeros.map((r) => r.year).join(', ')}) report no employees`;
  return result('NO_EMPLOYEES', setting, zeros.length, triggered, explanation, zeros.map((r) => r.source));
}

function groupSignal(kind: 'SHARED_ADDRESS' | 'REPRESENTATIVE_OF_MANY', group: GroupFacts | null, setting: Setting, what: string): SignalResult {
  const members = group?.members ?? [];
  const triggered = members.length >= setting.threshold;
  return result(kind, setting, members.length, triggered, `${members.length} legal person(s) ${what}`, members.map((m) => m.source));
}

/** Registered at an address shared by at least `threshold` legal persons. */
export function sharedAddress(input: AssessmentInput, setting: Setting): SignalResult {
  return groupSignal('SHARED_ADDRESS', input.addressGroup, setting, `registered at ${input.company.address.address}`);
}

/** Its legal representative represents at least `threshold` legal persons. */
export function representativeOfMany(input: AssessmentInput, setting: Setting): SignalResult {
  return groupSignal('REPRESENTATIVE_OF_MANY', input.representative?.group ?? null, setting, `represented by person ${input.company.representative.personId}`);
}

/** Years since establishment whose annual report was due (by 30 June of the next year) and never filed. */
export function annualReportsMissed(input: AssessmentInput, setting: Setting): SignalResult {
  const { company, today } = input;
  const filed = new Set(company.annualReports.map((r) => r.year));
  const missed: number[] = [];
  for (let year = Number(company.establishedOn.slice(0, 4)); `${year + 1}-06-30` < today; year++) {
    if (!filed.has(year)) missed.push(year);
  }
  const triggered = missed.length >= setting.threshold;
  const explanation = missed.length ? `no annual report for ${missed.join(', ')} (due by 30 June of the following year)` : 'every annual report due has been filed';
  return result('ANNUAL_REPORTS_MISSED', setting, missed.length, triggered, explanation, [company.registration, ...company.annualReports.map((r) => r.source)]);
}

const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** The legal representative's death was registered at least `threshold` days ago and nobody replaced them. */
export function representativeDeceased(input: AssessmentInput, setting: Setting): SignalResult {
  const death = input.representative?.death ?? null;
  if (!death) return result('REPRESENTATIVE_DECEASED', setting, 0, false, 'no death of the legal representative is registered', []);
  const days = Math.max(0, daysBetween(death.dateOfDeath, input.today));
  const triggered = days >= setting.threshold;
  return result(
    'REPRESENTATIVE_DECEASED',
    setting,
    days,
    triggered,
    `the legal representative died on ${death.dateOfDeath}, ${days} day(s) ago, and is still named`,
    [death.source, input.company.representative.source],
  );
}

function dedupe(evidence: readonly EvidenceRef[]): EvidenceRef[] {
  const seen = new Set<string>();
  return evidence.filter((e) => !seen.has(e.eventId) && Boolean(seen.add(e.eventId)));
}

const SIGNALS: Record<SignalKind, (input: AssessmentInput, setting: Setting) => SignalResult> = {
  NO_TAX_ACTIVITY: noTaxActivity,
  NO_EMPLOYEES: noEmployees,
  SHARED_ADDRESS: sharedAddress,
  REPRESENTATIVE_OF_MANY: representativeOfMany,
  ANNUAL_REPORTS_MISSED: annualReportsMissed,
  REPRESENTATIVE_DECEASED: representativeDeceased,
};

/** Every signal, fired or not, with its evidence; the score is the sum of the fired weights, capped at 100. */
export function assessShellCompany(input: AssessmentInput, config: ShellCompanyConfig = DEFAULT_SHELL_COMPANY_CONFIG): ShellCompanyAssessment {
  const signals = SIGNAL_KINDS.map((kind) => SIGNALS[kind](input, config[kind]));
  const score = Math.min(100, signals.reduce((sum, s) => sum + (s.triggered ? s.weight : 0), 0));
  return { legalPersonId: input.company.legalPersonId, score, suspected: score >= config.suspectScore, assessedOn: input.today, signals };
}
