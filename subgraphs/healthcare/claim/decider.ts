/**
 * A medical-insurance claim (stream `healthcare.claim-<claimId>`):
 *
 *   submitClaim → PASSED ──settleClaim──▶ SETTLED
 *              ↘ HELD ──reviewClaim──▶ REVIEWED ─ CLEARED ──settleClaim──▶ SETTLED
 *                                               └ CONFIRMED ─rejectClaim──▶ REJECTED
 *
 * Submission and screening are one decision, so no claim exists unscreened. Settling re-checks the
 * facts that may have changed (a death, a duplicate settled meanwhile) and holds the claim instead
 * when one now flags it; a death registered later holds open claims dated after it (process manager).
 */
import { assertNever, type Decider } from '../../../events/decider.ts';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { assertCalendarDate, chinaDate, parseInstant } from '../../kit/calendar.ts';
import { assertHospital, isItemCode } from '../catalog.ts';
import {
  screenClaim,
  type ClaimItem,
  type ClaimUnderScreening,
  type ScreeningFlag,
  type ScreeningLimits,
  type ScreeningOutcome,
  type ScreeningRuleId,
} from '../screening/rules.ts';
import type { ClaimCommand, ClaimStep } from './commands.ts';
import type { ClaimEvent, ClaimScreened, ReviewFinding, ScreeningTrigger } from './events.ts';

export type ClaimStatus = 'SUBMITTED' | 'PASSED' | 'HELD' | 'REVIEWED' | 'SETTLED' | 'REJECTED';

export interface Screening {
  outcome: ScreeningOutcome;
  trigger: ScreeningTrigger;
  flags: ScreeningFlag[];
  limits: ScreeningLimits;
  screenedAt: string;
}

export interface ClaimFile {
  status: ClaimStatus;
  claim: ClaimUnderScreening & { submittedAt: string };
  /** The flags standing now (the latest screening's). */
  flags: ScreeningFlag[];
  screenings: Screening[];
  review: { finding: ReviewFinding; reviewer: string; note: string; reviewedAt: string } | null;
  settlement: { amountFen: number; settledAt: string } | null;
  rejection: { reason: string; rejectedAt: string } | null;
}

export type ClaimState = { status: 'EMPTY' } | ClaimFile;

const MAX_ITEMS = 200;
const MAX_QUANTITY = 100_000;
/** ¥1,000,000: larger unit prices are typing mistakes. */
const MAX_UNIT_PRICE_FEN = 100_000_000;
/** Totals must fit a GraphQL Int (32 bits). */
const MAX_TOTAL_FEN = 2_147_483_647;
/** Settlement re-checks the facts that can change after submission. */
const SETTLEMENT_RULES: readonly ScreeningRuleId[] = ['DECEASED_BEFORE_SERVICE', 'DUPLICATE_OF_SETTLED'];

/** The steps allowed from a state, for InvalidTransitionError and the API's `allowedNextSteps`. */
export function allowedClaimSteps(state: ClaimState): ClaimStep[] {
  switch (state.status) {
    case 'EMPTY':
      return ['submitClaim'];
    case 'PASSED':
      return ['settleClaim'];
    case 'HELD':
      return ['reviewClaim'];
    case 'REVIEWED':
      return state.review?.finding === 'CLEARED' ? ['settleClaim'] : ['rejectClaim'];
    case 'SUBMITTED':
    case 'SETTLED':
    case 'REJECTED':
      return [];
    default:
      return assertNever(state);
  }
}

function statusText(state: ClaimState): string {
  return state.status === 'REVIEWED' && 'review' in state && state.review ? `REVIEWED (${state.review.finding})` : state.status;
}

function requireStep(step: ClaimStep, state: ClaimState, claimId: string): ClaimFile {
  if (state.status === 'EMPTY') throw new NotFoundError(`claim ${claimId} has not been submitted`, { claimId });
  const allowed = allowedClaimSteps(state);
  if (!allowed.includes(step)) throw new InvalidTransitionError(step, statusText(state), allowed);
  return state;
}

function requireText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  if (trimmed.length > max) throw new ValidationError(`${field} may be at most ${max} characters`, { field });
  return trimmed;
}

function validItems(items: readonly ClaimItem[]): { items: ClaimItem[]; totalFen: number } {
  if (items.length === 0) throw new ValidationError('a claim lists at least one item', { field: 'items' });
  if (items.length > MAX_ITEMS) throw new ValidationError(`a claim lists at most ${MAX_ITEMS} items`, { field: 'items' });
  let totalFen = 0;
  const valid = items.map((item, i) => {
    const field = `items.${i}`;
    const code = item.code.trim().toUpperCase();
    if (!isItemCode(code)) {
      throw new ValidationError(`${field}.code "${item.code}" is not a medical-insurance item code (6 to 30 capital letters and digits)`, {
        field: `${field}.code`,
      });
    }
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw new ValidationError(`${field}.quantity must be a whole number from 1 to ${MAX_QUANTITY}, got ${item.quantity}`, { field: `${field}.quantity` });
    }
    if (!Number.isInteger(item.unitPriceFen) || item.unitPriceFen < 0 || item.unitPriceFen > MAX_UNIT_PRICE_FEN) {
      throw new ValidationError(`${field}.unitPriceFen must be whole fen from 0 to ${MAX_UNIT_PRICE_FEN}, got ${item.unitPriceFen}`, {
        field: `${field}.unitPriceFen`,
      });
    }
    totalFen += item.quantity * item.unitPriceFen;
    return { code, name: requireText(item.name, `${field}.name`, 200), quantity: item.quantity, unitPriceFen: item.unitPriceFen };
  });
  if (totalFen > MAX_TOTAL_FEN) throw new ValidationError(`the claim total ${totalFen} fen exceeds ${MAX_TOTAL_FEN} fen`, { field: 'items' });
  return { items: valid, totalFen };
}

const instantOf = (now: string) => new Date(parseInstant(now, 'now')).toISOString();

function screened(claimId: string, flags: ScreeningFlag[], trigger: ScreeningTrigger, limits: ScreeningLimits, now: string): ClaimScreened {
  return { type: 'ClaimScreened', data: { claimId, outcome: flags.length ? 'HELD' : 'PASSED', flags, trigger, limits, screenedAt: instantOf(now) } };
}

/** Flags whose rule is not already standing on the claim. */
const newFlags = (file: ClaimFile, flags: ScreeningFlag[]) => flags.filter((f) => !file.flags.some((s) => s.ruleId === f.ruleId));

function latestLimits(file: ClaimFile): ScreeningLimits {
  const latest = file.screenings.at(-1);
  if (!latest) throw new Error(`claim ${file.claim.claimId} has no screening`);
  return latest.limits;
}

function decide(command: ClaimCommand, state: ClaimState): ClaimEvent[] {
  const { now } = command.metadata;
  switch (command.type) {
    case 'submitClaim': {
      const d = command.data;
      requireText(d.claimId, 'claimId', 100);
      if (state.status !== 'EMPTY') throw new InvalidTransitionError('submitClaim', statusText(state), allowedClaimSteps(state));
      if (d.person === null) {
        throw new ValidationError(`personId ${d.personId} is not in the population register; register the patient first`, { personId: d.personId, field: 'personId' });
      }
      assertHospital(d.hospitalCode);
      assertCalendarDate(d.serviceDate, 'serviceDate');
      if (d.serviceDate > chinaDate(now)) throw new ValidationError(`serviceDate ${d.serviceDate} is in the future`, { field: 'serviceDate' });
      if (d.serviceDate < d.person.birthDate) {
        throw new ValidationError(`serviceDate ${d.serviceDate} is before the patient was born (${d.person.birthDate})`, { field: 'serviceDate' });
      }
      const { limits } = d.facts;
      if (!Number.isInteger(limits.maxItemQuantity) || limits.maxItemQuantity < 1 || !Number.isInteger(limits.maxClaimTotalFen) || limits.maxClaimTotalFen < 0) {
        throw new Error(`screening limits ${JSON.stringify(limits)} are not whole positive numbers`);
      }
      const { items, totalFen } = validItems(d.items);
      const claim: ClaimUnderScreening = { claimId: d.claimId, personId: d.personId, hospitalCode: d.hospitalCode, serviceDate: d.serviceDate, items, totalFen };
      const { flags } = screenClaim({ claim, ...d.facts });
      return [
        { type: 'ClaimSubmitted', data: { ...claim, items: [...items], submittedAt: instantOf(now) } },
        screened(d.claimId, flags, 'SUBMISSION', limits, now),
      ];
    }
    case 'settleClaim': {
      const file = requireStep('settleClaim', state, command.data.claimId);
      const limits = latestLimits(file);
      const { flags } = screenClaim({ claim: file.claim, ...command.data.recheck, visits: [], limits }, SETTLEMENT_RULES);
      const raised = newFlags(file, flags);
      if (raised.length) return [screened(file.claim.claimId, [...file.flags, ...raised], 'SETTLEMENT', limits, now)];
      return [{ type: 'ClaimSettled', data: { claimId: file.claim.claimId, amountFen: file.claim.totalFen, settledAt: instantOf(now) } }];
    }
    case 'reviewClaim': {
      const d = command.data;
      const file = requireStep('reviewClaim', state, d.claimId);
      return [
        {
          type: 'ClaimReviewed',
          data: {
            claimId: file.claim.claimId,
            finding: d.finding,
            reviewer: requireText(d.reviewer, 'reviewer', 100),
            note: requireText(d.note, 'note', 2000),
            reviewedAt: instantOf(now),
          },
        },
      ];
    }
    case 'rejectClaim': {
      const file = requireStep('rejectClaim', state, command.data.claimId);
      return [{ type: 'ClaimRejected', data: { claimId: file.claim.claimId, reason: requireText(command.data.reason, 'reason', 2000), rejectedAt: instantOf(now) } }];
    }
    case 'holdClaimForDeath': {
      if (state.status === 'EMPTY') throw new NotFoundError(`claim ${command.data.claimId} has not been submitted`, { claimId: command.data.claimId });
      // A claim already paid or refused is past holding; the manager's replay finds nothing to do.
      if (state.status === 'SETTLED' || state.status === 'REJECTED') return [];
      const limits = latestLimits(state);
      const { flags } = screenClaim({ claim: state.claim, death: command.data.death, settledClaims: [], visits: [], limits }, ['DECEASED_BEFORE_SERVICE']);
      const raised = newFlags(state, flags);
      return raised.length ? [screened(state.claim.claimId, [...state.flags, ...raised], 'PERSON_DECEASED', limits, now)] : [];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: ClaimState, event: ClaimEvent): ClaimState {
  if (event.type === 'ClaimSubmitted') {
    const { submittedAt, ...claim } = event.data;
    return { status: 'SUBMITTED', claim: { ...claim, submittedAt }, flags: [], screenings: [], review: null, settlement: null, rejection: null };
  }
  if (state.status === 'EMPTY') return state;
  switch (event.type) {
    case 'ClaimScreened': {
      const { outcome, trigger, flags, limits, screenedAt } = event.data;
      return { ...state, status: outcome, flags, screenings: [...state.screenings, { outcome, trigger, flags, limits, screenedAt }], review: outcome === 'HELD' ? null : state.review };
    }
    case 'ClaimReviewed': {
      const { finding, reviewer, note, reviewedAt } = event.data;
      return { ...state, status: 'REVIEWED', review: { finding, reviewer, note, reviewedAt } };
    }
    case 'ClaimSettled':
      return { ...state, status: 'SETTLED', settlement: { amountFen: event.data.amountFen, settledAt: event.data.settledAt } };
    case 'ClaimRejected':
      return { ...state, status: 'REJECTED', rejection: { reason: event.data.reason, rejectedAt: event.data.rejectedAt } };
    default:
      return assertNever(event);
  }
}

export const claimDecider: Decider<ClaimCommand, ClaimEvent, ClaimState> = { initialState: () => ({ status: 'EMPTY' }), decide, evolve };
