/**
 * 智慧医保监控 (§(二十)): claims are screened before settlement by explainable rules. Each rule is a
 * pure function of a {@link ScreeningInput} — the claim and the facts the command path gathered from
 * read models — and returns its flags, each saying in words why it was raised and naming the events
 * it rests on. A claim with any flag is HELD for review; one without passes to settlement.
 */
import { createHash } from 'node:crypto';
import type { DeathFact, EventRef } from '../facts.ts';

export const SCREENING_RULE_IDS = [
  'DECEASED_BEFORE_SERVICE',
  'DUPLICATE_OF_SETTLED',
  'ITEM_QUANTITY_OVER_LIMIT',
  'CLAIM_TOTAL_OVER_LIMIT',
  'NO_VISIT_AT_HOSPITAL',
] as const;
export type ScreeningRuleId = (typeof SCREENING_RULE_IDS)[number];

export interface ScreeningFlag {
  ruleId: ScreeningRuleId;
  explanation: string;
  /** The events the flag rests on; empty when it rests on the claim's own figures alone. */
  evidence: EventRef[];
}

export type ScreeningOutcome = 'PASSED' | 'HELD';

export interface ClaimItem {
  /** Medical-insurance item code (药品, 诊疗项目, 耗材). */
  code: string;
  name: string;
  quantity: number;
  /** Integer fen (分): money is never a float. */
  unitPriceFen: number;
}

/** What is screened of a claim. */
export interface ClaimUnderScreening {
  claimId: string;
  personId: string;
  hospitalCode: string;
  /** `YYYY-MM-DD`. */
  serviceDate: string;
  items: readonly ClaimItem[];
  totalFen: number;
}

export interface ScreeningLimits {
  /** The largest quantity of one item on one claim. */
  maxItemQuantity: number;
  /** The largest claim total, in fen. */
  maxClaimTotalFen: number;
}

/** @default 100 units of an item, ¥50,000 a claim */
export const DEFAULT_SCREENING_LIMITS: ScreeningLimits = { maxItemQuantity: 100, maxClaimTotalFen: 5_000_000 };

/** A settled claim of the same person and service date, with its fingerprint. */
export interface SettledClaimFact {
  claimId: string;
  fingerprint: string;
  /** Its submission and settlement. */
  evidence: EventRef[];
}

/** A medical visit of the person recorded for the claim's service date. */
export interface VisitFact {
  visitId: string;
  hospitalCode: string;
  /** `YYYY-MM-DD`. */
  visitDate: string;
  evidence: EventRef;
}

/** The facts screening needs, each gathered from a read model. */
export interface ScreeningFacts {
  death: DeathFact | null;
  settledClaims: readonly SettledClaimFact[];
  visits: readonly VisitFact[];
  limits: ScreeningLimits;
}

export interface ScreeningInput extends ScreeningFacts {
  claim: ClaimUnderScreening;
}

export type ScreeningRule = (input: ScreeningInput) => ScreeningFlag[];

const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;

/**
 * The same claim twice: person, hospital, service date and the same items (code, quantity, unit
 * price; in any order). A SHA-256 of that canonical form, so read models can index it.
 */
export function claimFingerprint(claim: Pick<ClaimUnderScreening, 'personId' | 'hospitalCode' | 'serviceDate' | 'items'>): string {
  const items = claim.items.map((i) => `${i.code}:${i.quantity}:${i.unitPriceFen}`).sort();
  return createHash('sha256')
    .update(JSON.stringify([claim.personId, claim.hospitalCode, claim.serviceDate, items]))
    .digest('hex');
}

/** Services dated after a registered death cannot have been given to the patient. */
export const deceasedBeforeService: ScreeningRule = ({ claim, death }) => {
  if (death === null || death.dateOfDeath >= claim.serviceDate) return [];
  return [
    {
      ruleId: 'DECEASED_BEFORE_SERVICE',
      explanation: `the patient's death was registered with date ${death.dateOfDeath}, before the service date ${claim.serviceDate}`,
      evidence: [death.evidence],
    },
  ];
};

/** A claim identical to one already settled would pay the same services twice. */
export const duplicateOfSettled: ScreeningRule = ({ claim, settledClaims }) => {
  const fingerprint = claimFingerprint(claim);
  const duplicates = settledClaims.filter((s) => s.fingerprint === fingerprint && s.claimId !== claim.claimId);
  if (duplicates.length === 0) return [];
  return [
    {
      ruleId: 'DUPLICATE_OF_SETTLED',
      explanation: `the same person, hospital, service date (${claim.serviceDate}) and items as settled claim${duplicates.length > 1 ? 's' : ''} ${duplicates.map((d) => d.claimId).join(', ')}`,
      evidence: duplicates.flatMap((d) => d.evidence),
    },
  ];
};

export const itemQuantityOverLimit: ScreeningRule = ({ claim, limits }) =>
  claim.items
    .filter((item) => item.quantity > limits.maxItemQuantity)
    .map((item) => ({
      ruleId: 'ITEM_QUANTITY_OVER_LIMIT',
      // The code only: item names are the patient's personal data, encrypted in the claim and erased with it.
      explanation: `item ${item.code} is claimed ${item.quantity} times; the limit is ${limits.maxItemQuantity} per claim`,
      evidence: [],
    }));

export const claimTotalOverLimit: ScreeningRule = ({ claim, limits }) =>
  claim.totalFen > limits.maxClaimTotalFen
    ? [
        {
          ruleId: 'CLAIM_TOTAL_OVER_LIMIT',
          explanation: `the claim totals ${yuan(claim.totalFen)}; the limit is ${yuan(limits.maxClaimTotalFen)} per claim`,
          evidence: [],
        },
      ]
    : [];

/** A service needs a visit at that hospital that day; visits elsewhere that day are listed as evidence. */
export const noVisitAtHospital: ScreeningRule = ({ claim, visits }) => {
  const thatDay = visits.filter((v) => v.visitDate === claim.serviceDate);
  if (thatDay.some((v) => v.hospitalCode === claim.hospitalCode)) return [];
  const elsewhere = thatDay.map((v) => v.hospitalCode);
  return [
    {
      ruleId: 'NO_VISIT_AT_HOSPITAL',
      explanation: `no visit of the patient at hospital ${claim.hospitalCode} is recorded on ${claim.serviceDate}${
        elsewhere.length ? `; that day the patient visited ${[...new Set(elsewhere)].join(', ')}` : ''
      }`,
      evidence: thatDay.map((v) => v.evidence),
    },
  ];
};

/** Every rule, in the order flags are listed. */
export const SCREENING_RULES: Readonly<Record<ScreeningRuleId, ScreeningRule>> = {
  DECEASED_BEFORE_SERVICE: deceasedBeforeService,
  DUPLICATE_OF_SETTLED: duplicateOfSettled,
  ITEM_QUANTITY_OVER_LIMIT: itemQuantityOverLimit,
  CLAIM_TOTAL_OVER_LIMIT: claimTotalOverLimit,
  NO_VISIT_AT_HOSPITAL: noVisitAtHospital,
};

export function screenClaim(input: ScreeningInput, rules: readonly ScreeningRuleId[] = SCREENING_RULE_IDS): { outcome: ScreeningOutcome; flags: ScreeningFlag[] } {
  const flags = rules.flatMap((id) => SCREENING_RULES[id](input));
  return { outcome: flags.length ? 'HELD' : 'PASSED', flags };
}
