/**
 * The tax write path: each command is looked up against the registers it depends on (I/O here, so
 * the deciders stay pure), then decided and appended through the command seam. A taxpayer is one
 * per legal person or person: the subject is claimed as a natural key before the registration is
 * appended, so two racing registrations of one company cannot both succeed.
 */
import type { EventStore, RecordedEvent } from '../../events/types.ts';
import { handle, idempotencyOnly, type CommandContext, type CommandHandler, type CommandResult, type Reference } from '../kit/command.ts';
import { defineNaturalKey } from '../kit/naturalKey.ts';
import { readLegalPersonFacts } from '../legal-person/facts.ts';
import { legalPersonStreamId } from '../legal-person/legalPerson/events.ts';
import { readPersonFacts } from '../population/facts.ts';
import { personStreamId } from '../population/person/events.ts';
import type { PropertyTransactionCommand } from './propertyTransaction/commands.ts';
import { propertyTransactionDecider, type PropertyTransactionState } from './propertyTransaction/decider.ts';
import { propertyTransactionStreamId } from './propertyTransaction/events.ts';
import type { AmendDeclaration, DeclareTax, PayTax, RegisterTaxpayer, SubjectFacts, TaxpayerCommand, TransactionFacts } from './taxpayer/commands.ts';
import { initialState, taxpayerDecider, type TaxpayerState } from './taxpayer/decider.ts';
import { taxpayerStreamId, type SubjectRef } from './taxpayer/events.ts';

/** One taxpayer per legal person or person (`tax.taxpayer-subject-legal-person.<id>`). */
export const taxpayerSubjectKey = defineNaturalKey({
  streamPrefix: 'tax.taxpayer-subject',
  claimedType: 'TaxpayerSubjectClaimed',
  releasedType: 'TaxpayerSubjectReleased',
  label: 'legal person or person',
  ownerLabel: 'taxpayer',
  field: 'subject.id',
});

/** Event types the write path appends besides the aggregates' own (the subject claims). */
export const taxCommandsEventTypes = taxpayerSubjectKey.eventTypes;

export const subjectKey = (subject: SubjectRef): string => `${subject.kind === 'LEGAL_PERSON' ? 'legal-person' : 'person'}.${subject.id}`;

/** What the legal-person or population register says about a subject now (their facts modules); null when unregistered. */
export async function subjectFacts(store: EventStore, subject: SubjectRef): Promise<SubjectFacts | null> {
  if (subject.kind === 'LEGAL_PERSON') {
    const legalPerson = await readLegalPersonFacts(store, subject.id);
    // A revoked licence still owes its taxes; only a deregistered legal person is gone.
    return legalPerson && {
      name: legalPerson.name, taxpayerNumber: legalPerson.creditCode, divisionCode: legalPerson.divisionCode,
      active: legalPerson.status !== 'DEREGISTERED', statusNote: legalPerson.status,
    };
  }
  const person = await readPersonFacts(store, subject.id);
  return person && { name: person.name, taxpayerNumber: person.idNumber, divisionCode: person.divisionCode, active: person.status === 'REGISTERED', statusNote: person.status };
}

const handleTaxpayer = handle(taxpayerDecider, (command: TaxpayerCommand) => taxpayerStreamId(command.data.taxpayerId));

export interface TaxpayerCommandResult extends CommandResult<TaxpayerState> {
  /** Every event appended, the subject claim included. */
  appended: RecordedEvent[];
}

export async function registerTaxpayer(store: EventStore, data: { taxpayerId: string; subject: SubjectRef }, ctx: CommandContext): Promise<TaxpayerCommandResult> {
  const { metadata, now, ...options } = ctx;
  const command: RegisterTaxpayer = { type: 'registerTaxpayer', data: { ...data, facts: await subjectFacts(store, data.subject) }, metadata: { now } };
  // Decided once before the claim, so a refused registration leaves no claim behind to release.
  const streamId = taxpayerStreamId(data.taxpayerId);
  const existing = await store.streamRevision(streamId);
  if (existing === undefined) taxpayerDecider.decide(command, initialState());
  const key = subjectKey(data.subject);
  // With the registration's key, a retry is answered with the claim it appended first (its positions
  // are the first answer's), and a retry naming another subject is refused (CONFLICT) before it claims it.
  const claimed = await taxpayerSubjectKey.claim(store, key, data.taxpayerId, metadata, idempotencyOnly(options));
  try {
    const result = await handleTaxpayer(store, command, metadata, options);
    return { ...result, appended: [...claimed, ...result.events] };
  } catch (error) {
    if (claimed.length > 0) await taxpayerSubjectKey.release(store, key, data.taxpayerId, metadata);
    throw error;
  }
}

/** The recorded transaction a deed-tax declaration names, as its stream says now. */
export async function transactionFacts(store: EventStore, transactionId: string): Promise<TransactionFacts | null> {
  return transactionFactsOf(transactionId, await transactionState(store, transactionId));
}

/** The facts of a transaction's folded stream (a batch folds the streams it read at once); null when unrecorded. */
export function transactionFactsOf(transactionId: string, state: PropertyTransactionState): TransactionFacts | null {
  if (state.status === 'UNRECORDED') return null;
  const { buyer, contractDate } = state.transaction;
  return { transactionId, buyer, contractDate };
}

export async function transactionState(store: EventStore, transactionId: string): Promise<PropertyTransactionState> {
  return (await store.aggregate(propertyTransactionDecider, propertyTransactionStreamId(transactionId))).state;
}

export async function declareTax(store: EventStore, data: Omit<DeclareTax['data'], 'transaction'>, ctx: CommandContext): Promise<CommandResult<TaxpayerState>> {
  const { metadata, now, ...options } = ctx;
  const transaction = data.propertyTransactionId === null ? null : await transactionFacts(store, data.propertyTransactionId);
  return handleTaxpayer(store, { type: 'declareTax', data: { ...data, transaction }, metadata: { now } }, metadata, options);
}

export const runTaxpayerCommand: CommandHandler<AmendDeclaration | PayTax, TaxpayerState> = handleTaxpayer;

/** A party of a transaction (`seller`, `buyer`) as a reference: the legal person or person must be registered. */
function partyReference(field: 'seller' | 'buyer', party: SubjectRef): Reference {
  const legal = party.kind === 'LEGAL_PERSON';
  return { field: `${field}.id`, label: legal ? 'legal person' : 'person', id: party.id, streamId: legal ? legalPersonStreamId(party.id) : personStreamId(party.id) };
}

export const runPropertyTransactionCommand: CommandHandler<PropertyTransactionCommand, PropertyTransactionState> = handle(
  propertyTransactionDecider,
  (command: PropertyTransactionCommand) => propertyTransactionStreamId(command.data.transactionId),
  {
    references: (command) =>
      command.type === 'recordPropertyTransaction' ? [partyReference('seller', command.data.seller), partyReference('buyer', command.data.buyer)] : [],
  },
);
