/** Medical-insurance claims (医保结算) and their screening before settlement (智慧医保监控). */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';
import { SCREENING_RULE_IDS } from '../screening/rules.ts';

/** Why a claim was screened: on submission, again before settlement, or after a death was registered. */
export const SCREENING_TRIGGERS = ['SUBMISSION', 'SETTLEMENT', 'PERSON_DECEASED'] as const;
export type ScreeningTrigger = (typeof SCREENING_TRIGGERS)[number];

export const REVIEW_FINDINGS = ['CLEARED', 'CONFIRMED'] as const;
/** CLEARED: the flags are explained and the claim may be settled; CONFIRMED: they stand and it is rejected. */
export type ReviewFinding = (typeof REVIEW_FINDINGS)[number];

const { id, text, date, instant, fen } = eventFields;
const eventRef = z.object({ type: text, eventId: id, streamId: id, position: id });

const claimSubmitted = eventType('ClaimSubmitted', {
  claimId: id,
  personId: id,
  hospitalCode: text,
  serviceDate: date,
  items: z.array(z.object({ code: text, name: text, quantity: z.number().int().positive(), unitPriceFen: fen })).min(1),
  /** Sum of quantity × unit price. */
  totalFen: fen,
  submittedAt: instant,
});
export type ClaimSubmitted = EventOf<typeof claimSubmitted>;

const claimScreened = eventType('ClaimScreened', {
  claimId: id,
  outcome: z.enum(['PASSED', 'HELD']),
  /** Every flag standing on the claim after this screening (earlier ones included). */
  flags: z.array(z.object({ ruleId: z.enum(SCREENING_RULE_IDS), explanation: text, evidence: z.array(eventRef) })),
  trigger: z.enum(SCREENING_TRIGGERS),
  /** The limits in force, so the verdict can be explained later. */
  limits: z.object({ maxItemQuantity: z.number().int().positive(), maxClaimTotalFen: fen }),
  screenedAt: instant,
});
export type ClaimScreened = EventOf<typeof claimScreened>;

const claimReviewed = eventType('ClaimReviewed', { claimId: id, finding: z.enum(REVIEW_FINDINGS), reviewer: text, note: text, reviewedAt: instant });
export type ClaimReviewed = EventOf<typeof claimReviewed>;

const claimSettled = eventType('ClaimSettled', { claimId: id, amountFen: fen, settledAt: instant });
export type ClaimSettled = EventOf<typeof claimSettled>;

const claimRejected = eventType('ClaimRejected', { claimId: id, reason: text, rejectedAt: instant });
export type ClaimRejected = EventOf<typeof claimRejected>;

export const claimStreamId = (claimId: string): string => `healthcare.claim-${claimId}`;

export const claimEventDefinitions = [claimSubmitted, claimScreened, claimReviewed, claimSettled, claimRejected] as const satisfies readonly EventTypeDefinition[];
export type ClaimEvent = EventsOf<typeof claimEventDefinitions>;

export const CLAIM_EVENT_TYPES = claimEventDefinitions.map((d) => d.type);
