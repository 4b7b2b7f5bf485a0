/**
 * The tax write path: each command is looked up against the registers it depends on (I/O here, so
 * the deciders stay pure), then decided and appended through `executeCommand`. A taxpayer is one
 * per legal person or person: the subject is claimed as a natural key before the registration is
 * appended, so two racing registrations of one company cannot both succeed.
 */
import { fold } from '../../events/decider.ts';
import type { EventMetadata, EventStore, RecordedEvent } from '../../events/types.ts';
import { executeCommand, type CommandResult } from '../kit/command.ts';
import { defineNaturalKey } from '../kit/naturalKey.ts';
import { legalPersonDecider } from '../legal-person/legalPerson/decider.ts';
import { legalPersonStreamId, type LegalPersonEvent } from '../legal-person/legalPerson/events.ts';
import { personDecider } from '../population/person/decider.ts';
import { personStreamId, type PersonEvent } from '../population/person/events.ts';
import type { PropertyTransactionCommand } from './propertyTransaction/commands.ts';
import { propertyTransactionDecider, type PropertyTransactionState } from './propertyTransaction/decider.ts';
import { propertyTransactionStreamId, type PropertyTransactionEvent } from './propertyTransaction/events.ts';
import type { AmendDeclaration, DeclareTax, PayTax, RegisterTaxpayer, SubjectFacts, TransactionFacts } from './taxpayer/commands.ts';
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

export interface CommandOptions {
  idempotencyKey?: string;
  expectedRevision?: number;
}

/** What the legal-person or population register says about a subject now; null when unregistered. */
export async function subjectFacts(store: EventStore, subject: SubjectRef): Promise<SubjectFacts | null> {
  if (subject.kind === 'LEGAL_PERSON') {
    const state = fold(legalPersonDecider, (await store.readStream(legalPersonStreamId(subject.id))) as unknown as LegalPersonEvent[]);
    if (state.status === 'UNREGISTERED') return null;
    const { legalPerson } = state;
    return {
      name: legalPerson.name,
      taxpayerNumber: legalPerson.creditCode,
      divisionCode: legalPerson.registeredAddress.divisionCode,
      // A revoked licence still owes its taxes; only a deregistered legal person is gone.
      active: state.status !== 'DEREGISTERED',
      statusNote: state.status,
    };
  }
  const state = fold(personDecider, (await store.readStream(personStreamId(subject.id))) as unknown as PersonEvent[]);
  if (state.status === 'UNREGISTERED') return null;
  return {
    name: state.person.name,
    taxpayerNumber: state.person.idNumber,
    divisionCode: state.person.residence.divisionCode,
    active: state.status === 'REGISTERED',
    statusNote: state.status,
  };
}

const withOptions = (options: CommandOptions) => ({
  ...(options.idempotencyKey !== undefined && { idempotencyKey: options.idempotencyKey }),
  ...(options.expectedRevision !== undefined && { expectedRevision: options.expectedRevision }),
});

export interface TaxpayerCommandResult extends CommandResult<TaxpayerState> {
  /** Every event appended, the subject claim included. */
  appended: RecordedEvent[];
}

export async function registerTaxpayer(
  store: EventStore,
  data: { taxpayerId: string; subject: SubjectRef },
  metadata: EventMetadata,
  now: string,
  options: CommandOptions = {},
): Promise<TaxpayerCommandResult> {
  const command: RegisterTaxpayer = { type: 'registerTaxpayer', data: { ...data, facts: await subjectFacts(store, data.subject) }, metadata: { now } };
  // Decided once before the claim, so a refused registration leaves no claim behind to release.
  const streamId = taxpayerStreamId(data.taxpayerId);
  const existing = await store.streamRevision(streamId);
  if (existing === undefined) taxpayerDecider.decide(command, initialState());
  const key = subjectKey(data.subject);
  const claimed = await taxpayerSubjectKey.claim(store, key, data.taxpayerId, metadata);
  try {
    const result = await executeCommand({ store, streamId, decider: taxpayerDecider, command, metadata, ...withOptions(options) });
    return { ...result, appended: [...claimed, ...result.events] };
  } catch (error) {
    if (claimed.length > 0) await taxpayerSubjectKey.release(store, key, data.taxpayerId, metadata);
    throw error;
  }
}

/** The recorded transaction a deed-tax declaration names, as its stream says now. */
export async function transactionFacts(store: EventStore, transactionId: string): Promise<TransactionFacts | null> {
  const state = await transactionState(store, transactionId);
  if (state.status === 'UNRECORDED') return null;
  const { buyer, contractDate } = state.transaction;
  return { transactionId, buyer, contractDate };
}

export async function transactionState(store: EventStore, transactionId: string): Promise<PropertyTransactionState> {
  return fold(propertyTransactionDecider, (await store.readStream(propertyTransactionStreamId(transactionId))) as unknown as PropertyTransactionEvent[]);
}

export async function declareTax(
  store: EventStore,
  data: Omit<DeclareTax['data'], 'transaction'>,
  metadata: EventMetadata,
  now: string,
  options: CommandOptions = {},
): Promise<CommandResult<TaxpayerState>> {
  const transaction = data.propertyTransactionId === null ? null : await transactionFacts(store, data.propertyTransactionId);
  return executeCommand({
    store,
    streamId: taxpayerStreamId(data.taxpayerId),
    decider: taxpayerDecider,
    command: { type: 'declareTax', data: { ...data, transaction }, metadata: { now } },
    metadata,
    ...withOptions(options),
  });
}

export function runTaxpayerCommand(
  store: EventStore,
  command: AmendDeclaration | PayTax,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<CommandResult<TaxpayerState>> {
  return executeCommand({ store, streamId: taxpayerStreamId(command.data.taxpayerId), decider: taxpayerDecider, command, metadata, ...withOptions(options) });
}

export function runPropertyTransactionCommand(
  store: EventStore,
  command: PropertyTransactionCommand,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<CommandResult<PropertyTransactionState>> {
  return executeCommand({
    store,
    streamId: propertyTransactionStreamId(command.data.transactionId),
    decider: propertyTransactionDecider,
    command,
    metadata,
    ...withOptions(options),
  });
}
