import type { Command } from '../../kit/command.ts';
import type { DeathFact, PersonFacts } from '../facts.ts';
import type { ClaimItem, ScreeningFacts, SettledClaimFact } from '../screening/rules.ts';
import type { ReviewFinding } from './events.ts';

/** Submission and screening in one decision: a claim is never recorded unscreened. */
export type SubmitClaim = Command<
  'submitClaim',
  {
    claimId: string;
    personId: string;
    hospitalCode: string;
    /** `YYYY-MM-DD`. */
    serviceDate: string;
    items: ClaimItem[];
    /** The population register's facts of the patient; `null`: not registered. */
    person: PersonFacts | null;
    facts: ScreeningFacts;
  }
>;

/**
 * Settles a claim that passed (or whose flags a reviewer cleared). The facts that may have changed
 * since screening — a death registered, an identical claim settled meanwhile — are checked again:
 * a new flag holds the claim instead of paying it.
 */
export type SettleClaim = Command<
  'settleClaim',
  { claimId: string; recheck: { death: DeathFact | null; settledClaims: SettledClaimFact[] } }
>;

export type ReviewClaim = Command<'reviewClaim', { claimId: string; finding: ReviewFinding; reviewer: string; note: string }>;

export type RejectClaim = Command<'rejectClaim', { claimId: string; reason: string }>;

/** Issued by the process manager reacting to PersonDeceased: holds an open claim dated after the death. */
export type HoldClaimForDeath = Command<'holdClaimForDeath', { claimId: string; death: DeathFact }>;

export type ClaimCommand = SubmitClaim | SettleClaim | ReviewClaim | RejectClaim | HoldClaimForDeath;

/** The steps a client may take (the process manager's hold is not one of them). */
export type ClaimStep = Exclude<ClaimCommand['type'], 'holdClaimForDeath'>;
