/**
 * The healthcare write path shared by the resolvers, the process manager and the demo data: facts
 * are looked up in the `healthcare.views` read model (in a constant number of round trips, however
 * many claims are screened at once), passed into the command, and the pure decider decides.
 *
 * The facts are as fresh as the projection: a death or a visit recorded within its lag (well under
 * a second) may be missed at submission. The PersonDeceased process manager and the re-check before
 * settlement close that gap for deaths and duplicates.
 */
import type { EventMetadata, EventStore } from '../../events/types.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import { handle, type CommandContext, type CommandOptions, type CommandResult } from '../kit/command.ts';
import type { ClaimCommand, RejectClaim, ReviewClaim, SubmitClaim } from './claim/commands.ts';
import { claimDecider, type ClaimState } from './claim/decider.ts';
import { claimStreamId } from './claim/events.ts';
import type { PersonFacts } from './facts.ts';
import type { HealthRecordCommand } from './healthRecord/commands.ts';
import { healthRecordDecider, type HealthRecordState } from './healthRecord/decider.ts';
import { healthRecordStreamId } from './healthRecord/events.ts';
import { PERSONS, SETTLED, VISIT_DAYS, visitDayId, HEALTHCARE_PROJECTION, type PersonFactsDoc } from './readModels/views.ts';
import { claimFingerprint, type ClaimItem, type ScreeningFacts, type ScreeningLimits } from './screening/rules.ts';

export interface HealthcarePorts {
  store: EventStore;
  readModels: ReadModels;
}

/** A person's health record: one stream per person. */
export const handleHealthRecord = handle(healthRecordDecider, (command: HealthRecordCommand) => healthRecordStreamId(command.data.personId));

/** A medical-insurance claim: one stream per claim. */
export const handleClaim = handle(claimDecider, (command: ClaimCommand) => claimStreamId(command.data.claimId));

const view = (readModels: ReadModels) => readModels.of(HEALTHCARE_PROJECTION);

const factsOf = (doc: PersonFactsDoc | undefined): PersonFacts | null =>
  doc ? { personId: doc.personId, birthDate: doc.birthDate, death: doc.death } : null;

/** What the population register says of each person (`null`: not registered), in one round trip. */
export async function loadPersonFacts(readModels: ReadModels, personIds: readonly string[]): Promise<(PersonFacts | null)[]> {
  const docs = await view(readModels).collection(PERSONS).getMany(personIds);
  return docs.map((d) => factsOf(d?.doc));
}

export interface ClaimToScreen {
  personId: string;
  hospitalCode: string;
  serviceDate: string;
  items: readonly ClaimItem[];
}

/** The patient and the screening facts of each claim: three round trips for any number of claims. */
export async function loadScreeningFacts(
  readModels: ReadModels,
  claims: readonly ClaimToScreen[],
): Promise<{ person: PersonFacts | null; facts: Omit<ScreeningFacts, 'limits'> }[]> {
  const docs = view(readModels);
  const [persons, days, settled] = await Promise.all([
    docs.collection(PERSONS).getMany(claims.map((c) => c.personId)),
    docs.collection(VISIT_DAYS).getMany(claims.map((c) => visitDayId(c.personId, c.serviceDate))),
    docs.collection(SETTLED).getMany(claims.map((c) => claimFingerprint(c))),
  ]);
  return claims.map((_, i) => {
    const person = factsOf(persons[i]?.doc);
    return {
      person,
      facts: { death: person?.death ?? null, visits: days[i]?.doc.visits ?? [], settledClaims: settled[i]?.doc.claims ?? [] },
    };
  });
}

/** Any health-record command; entry commands get the person's facts from the read model first. */
export async function runHealthRecordCommand(
  ports: HealthcarePorts,
  build: (person: PersonFacts | null) => HealthRecordCommand,
  personId: string,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<CommandResult<HealthRecordState>> {
  const [person] = await loadPersonFacts(ports.readModels, [personId]);
  return handleHealthRecord(ports.store, build(person ?? null), metadata, options);
}

export type SubmitClaimInput = Omit<SubmitClaim['data'], 'person' | 'facts'>;

/** 医保结算申请: screened in the same decision that records it. */
export async function submitClaim(ports: HealthcarePorts, input: SubmitClaimInput, limits: ScreeningLimits, ctx: CommandContext): Promise<CommandResult<ClaimState>> {
  const { metadata, now, ...options } = ctx;
  const [screening] = await loadScreeningFacts(ports.readModels, [input]);
  const command: SubmitClaim = { type: 'submitClaim', data: { ...input, person: screening!.person, facts: { ...screening!.facts, limits } }, metadata: { now } };
  return handleClaim(ports.store, command, metadata, options);
}

/** Settles a claim after re-checking the facts that may have changed since it was screened. */
export async function settleClaim(ports: HealthcarePorts, claimId: string, ctx: CommandContext): Promise<CommandResult<ClaimState>> {
  const { metadata, now, ...options } = ctx;
  const { state } = await ports.store.aggregate(claimDecider, claimStreamId(claimId));
  // An unknown claim gets no facts; the decider refuses it with NOT_FOUND.
  const recheck =
    state.status === 'EMPTY'
      ? { death: null, settledClaims: [] }
      : await loadScreeningFacts(ports.readModels, [state.claim]).then(([s]) => ({
          death: s!.facts.death,
          settledClaims: [...s!.facts.settledClaims],
        }));
  return handleClaim(ports.store, { type: 'settleClaim', data: { claimId, recheck }, metadata: { now } }, metadata, options);
}

export function runClaimStep(store: EventStore, command: ReviewClaim | RejectClaim, metadata: EventMetadata, options: CommandOptions = {}): Promise<CommandResult<ClaimState>> {
  return handleClaim(store, command, metadata, options);
}
