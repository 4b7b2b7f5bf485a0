/**
 * What a registered death sets off in healthcare (死亡登记 一件事, §(八)): the process manager reacting
 * to PersonDeceased closes the person's health record and holds every open claim (not yet settled
 * or rejected) whose service date is after the date of death, flagged DECEASED_BEFORE_SERVICE with
 * the PersonDeceased event as evidence.
 *
 * Its memory follows each person's open claims from the claim events, so a claim screened after the
 * death was registered but before screening could see it (the read model's lag) is held as well.
 * Idempotency keys are derived from the triggering death and the claim, so a replay, a restart or
 * a second process appends nothing twice.
 */
import type { ProcessManager, ReactionContext } from '../../../projections/processManager.ts';
import type { FieldSource } from '../../../projections/types.ts';
import type { PersonDeceased } from '../../population/person/events.ts';
import type { ClaimEvent } from '../claim/events.ts';
import type { HealthRecordClosed } from '../healthRecord/events.ts';
import { eventRefOf, type DeathFact } from '../facts.ts';
import { handleClaim, handleHealthRecord } from '../healthcareCommands.ts';

export type DeceasedPayload =
  | { kind: 'closeRecord'; personId: string; death: DeathFact }
  | { kind: 'holdClaim'; claimId: string; death: DeathFact };

interface OpenClaim {
  serviceDate: string;
  /** The claim already carries the DECEASED_BEFORE_SERVICE flag: nothing to hold. */
  deceasedFlagged: boolean;
}

/** Memory per person: the death (once registered) and the open claims. */
interface PersonMemory extends Record<string, unknown> {
  death: DeathFact | null;
  openClaims: Record<string, OpenClaim>;
}

/** Memory per claim: whose it is (claim events after submission carry only the claim id). */
interface ClaimMemory extends Record<string, unknown> {
  personId: string;
}

const personKey = (personId: string) => `person:${personId}`;
const claimKey = (claimId: string) => `claim:${claimId}`;
const holdId = (claimId: string) => `hold:${claimId}`;
const closeId = (personId: string) => `close:${personId}`;

type Ctx = ReactionContext<DeceasedPayload>;

async function personMemory(ctx: Ctx, personId: string): Promise<PersonMemory> {
  return ((await ctx.memory.get(personKey(personId)))?.doc as PersonMemory | undefined) ?? { death: null, openClaims: {} };
}

async function scheduleHoldIfDue(ctx: Ctx, claimId: string, claim: OpenClaim, death: DeathFact | null, dueAt: string): Promise<void> {
  if (!death || claim.deceasedFlagged || claim.serviceDate <= death.dateOfDeath) return;
  await ctx.schedule({
    id: holdId(claimId),
    dueAt,
    idempotencyKey: `healthcare.deceased:hold:${claimId}:${death.evidence.eventId}`,
    payload: { kind: 'holdClaim', claimId, death },
  });
}

export const deceasedManager: ProcessManager<DeceasedPayload, PersonDeceased | HealthRecordClosed | ClaimEvent> = {
  name: 'healthcare.deceased',
  version: 1,
  department: 'jinan-healthcare-security-bureau',
  eventTypes: ['PersonDeceased', 'HealthRecordClosed', 'ClaimSubmitted', 'ClaimScreened', 'ClaimSettled', 'ClaimRejected'],
  async react(recorded, ctx) {
    const source: FieldSource = { position: recorded.position, eventId: recorded.eventId };
    // Due at once: the reaction is issued on the next tick.
    const dueAt = recorded.recordedAt;
    if (recorded.type === 'PersonDeceased') {
      const { personId, dateOfDeath } = recorded.data;
      const death: DeathFact = { dateOfDeath, evidence: eventRefOf(recorded) };
      const memory = await personMemory(ctx, personId);
      await ctx.memory.upsert(personKey(personId), { ...memory, death }, source);
      await ctx.schedule({
        id: closeId(personId),
        dueAt,
        idempotencyKey: `healthcare.deceased:close:${personId}:${recorded.eventId}`,
        payload: { kind: 'closeRecord', personId, death },
      });
      for (const [claimId, claim] of Object.entries(memory.openClaims)) await scheduleHoldIfDue(ctx, claimId, claim, death, dueAt);
      return;
    }
    if (recorded.type === 'HealthRecordClosed') {
      await ctx.cancel(closeId(recorded.data.personId));
      return;
    }
    const event = recorded;
    const { claimId } = event.data;
    if (event.type === 'ClaimSubmitted') {
      const { personId, serviceDate } = event.data;
      await ctx.memory.upsert(claimKey(claimId), { personId } satisfies ClaimMemory, source);
      const memory = await personMemory(ctx, personId);
      await ctx.memory.upsert(personKey(personId), { ...memory, openClaims: { ...memory.openClaims, [claimId]: { serviceDate, deceasedFlagged: false } } }, source);
      return;
    }
    const owner = (await ctx.memory.get(claimKey(claimId)))?.doc as ClaimMemory | undefined;
    if (!owner) return;
    const memory = await personMemory(ctx, owner.personId);
    const open = memory.openClaims[claimId];
    if (!open) return;
    if (event.type === 'ClaimScreened') {
      const claim = { ...open, deceasedFlagged: event.data.flags.some((f) => f.ruleId === 'DECEASED_BEFORE_SERVICE') };
      await ctx.memory.upsert(personKey(owner.personId), { ...memory, openClaims: { ...memory.openClaims, [claimId]: claim } }, source);
      if (claim.deceasedFlagged) await ctx.cancel(holdId(claimId));
      else await scheduleHoldIfDue(ctx, claimId, claim, memory.death, dueAt);
      return;
    }
    // Settled or rejected: no longer open.
    const { [claimId]: _closed, ...rest } = memory.openClaims;
    await ctx.memory.upsert(personKey(owner.personId), { ...memory, openClaims: rest }, source);
    await ctx.cancel(holdId(claimId));
  },
  issue(item, ctx) {
    const { payload } = item;
    const now = ctx.now.toISOString();
    if (payload.kind === 'closeRecord') {
      return handleHealthRecord(
        ctx.store,
        { type: 'closeHealthRecord', data: { personId: payload.personId, death: payload.death }, metadata: { now } },
        ctx.metadata,
        { idempotencyKey: item.idempotencyKey },
      );
    }
    return handleClaim(ctx.store, { type: 'holdClaimForDeath', data: { claimId: payload.claimId, death: payload.death }, metadata: { now } }, ctx.metadata, {
      idempotencyKey: item.idempotencyKey,
    });
  },
};
