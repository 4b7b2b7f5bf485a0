/** Medical-insurance claims (医保结算) and their screening before settlement (智慧医保监控). */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { SCREENING_RULE_IDS, type ClaimItem, type ScreeningFlag, type ScreeningLimits, type ScreeningOutcome } from '../screening/rules.ts';

/** Why a claim was screened: on submission, again before settlement, or after a death was registered. */
export const SCREENING_TRIGGERS = ['SUBMISSION', 'SETTLEMENT', 'PERSON_DECEASED'] as const;
export type ScreeningTrigger = (typeof SCREENING_TRIGGERS)[number];

export const REVIEW_FINDINGS = ['CLEARED', 'CONFIRMED'] as const;
/** CLEARED: the flags are explained and the claim may be settled; CONFIRMED: they stand and it is rejected. */
export type ReviewFinding = (typeof REVIEW_FINDINGS)[number];

export type ClaimSubmitted = DomainEvent<
  'ClaimSubmitted',
  {
    claimId: string;
    personId: string;
    hospitalCode: string;
    /** `YYYY-MM-DD`. */
    serviceDate: string;
    items: ClaimItem[];
    /** Sum of quantity × unit price, integer fen. */
    totalFen: number;
    /** ISO 8601 instant. */
    submittedAt: string;
  }
>;

export type ClaimScreened = DomainEvent<
  'ClaimScreened',
  {
    claimId: string;
    outcome: ScreeningOutcome;
    /** Every flag standing on the claim after this screening (earlier ones included). */
    flags: ScreeningFlag[];
    trigger: ScreeningTrigger;
    /** The limits in force, so the verdict can be explained later. */
    limits: ScreeningLimits;
    screenedAt: string;
  }
>;

export type ClaimReviewed = DomainEvent<
  'ClaimReviewed',
  { claimId: string; finding: ReviewFinding; reviewer: string; note: string; reviewedAt: string }
>;

export type ClaimSettled = DomainEvent<'ClaimSettled', { claimId: string; amountFen: number; settledAt: string }>;

export type ClaimRejected = DomainEvent<'ClaimRejected', { claimId: string; reason: string; rejectedAt: string }>;

export type ClaimEvent = ClaimSubmitted | ClaimScreened | ClaimReviewed | ClaimSettled | ClaimRejected;

export const claimStreamId = (claimId: string): string => `healthcare.claim-${claimId}`;

const id = z.string().min(1);
const text = z.string().trim().min(1);
const instant = z.iso.datetime({ offset: true });
const fen = z.number().int().nonnegative();
const eventRef = z.object({ type: text, eventId: id, streamId: id, position: id });
const limits = z.object({ maxItemQuantity: z.number().int().positive(), maxClaimTotalFen: fen });

const claimSubmitted: EventTypeDefinition<ClaimSubmitted['data']> = {
  type: 'ClaimSubmitted',
  schemaVersion: 1,
  schema: z.object({
    claimId: id,
    personId: id,
    hospitalCode: text,
    serviceDate: z.iso.date(),
    items: z.array(z.object({ code: text, name: text, quantity: z.number().int().positive(), unitPriceFen: fen })).min(1),
    totalFen: fen,
    submittedAt: instant,
  }),
};

const claimScreened: EventTypeDefinition<ClaimScreened['data']> = {
  type: 'ClaimScreened',
  schemaVersion: 1,
  schema: z.object({
    claimId: id,
    outcome: z.enum(['PASSED', 'HELD']),
    flags: z.array(z.object({ ruleId: z.enum(SCREENING_RULE_IDS), explanation: text, evidence: z.array(eventRef) })),
    trigger: z.enum(SCREENING_TRIGGERS),
    limits,
    screenedAt: instant,
  }),
};

const claimReviewed: EventTypeDefinition<ClaimReviewed['data']> = {
  type: 'ClaimReviewed',
  schemaVersion: 1,
  schema: z.object({ claimId: id, finding: z.enum(REVIEW_FINDINGS), reviewer: text, note: text, reviewedAt: instant }),
};

const claimSettled: EventTypeDefinition<ClaimSettled['data']> = {
  type: 'ClaimSettled',
  schemaVersion: 1,
  schema: z.object({ claimId: id, amountFen: fen, settledAt: instant }),
};

const claimRejected: EventTypeDefinition<ClaimRejected['data']> = {
  type: 'ClaimRejected',
  schemaVersion: 1,
  schema: z.object({ claimId: id, reason: text, rejectedAt: instant }),
};

export const claimEventDefinitions: readonly EventTypeDefinition[] = [claimSubmitted, claimScreened, claimReviewed, claimSettled, claimRejected];

export const CLAIM_EVENT_TYPES = claimEventDefinitions.map((d) => d.type);
