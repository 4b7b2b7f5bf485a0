/**
 * `erasePersonalData`: decides on the subject's erasure stream and keys, records `PersonalDataErased`,
 * then destroys every key of the subject (its own and one per scope; tombstones where it had none, so
 * no new key is made for it). The record comes first: should the keys' destruction fail, the same
 * command again completes it (the decider sees the record and a live key) instead of being refused.
 *
 * `expirePersonalData`: the same for one scope whose retention period ended (the retention process
 * manager), recording `PersonalDataExpired` and destroying that scope's key only.
 */
import { ValidationError } from '../../../events/errors.ts';
import { keyIdOf, keyIdsOfSubject } from '../../../events/crypto/personalFields.ts';
import type { RetentionRule } from '../../../events/crypto/retentionRules.ts';
import type { EventMetadata, EventStore, RecordedEvent } from '../../../events/types.ts';
import type { PersonalDataPort, SubgraphRuntime } from '../../kit/module.ts';
import { erasureDecider, type KeyStatus } from './decider.ts';
import { erasureStreamId } from './events.ts';

export interface ErasureInput {
  subjectId: string;
  legalBasis: string;
  approver: string;
}

/** What stream ids accept after the prefix; anything else cannot be a subject the log holds. */
const SUBJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export async function erasePersonalData(
  runtime: Pick<SubgraphRuntime, 'store' | 'now'>,
  personalData: PersonalDataPort,
  input: ErasureInput,
  metadata: EventMetadata,
): Promise<{ erasedAt: string; events: RecordedEvent[] }> {
  const subjectId = input.subjectId.trim();
  if (!SUBJECT_ID.test(subjectId)) throw new ValidationError(`subjectId "${input.subjectId}" is not a subject id (a person id)`, { field: 'subjectId' });
  const streamId = erasureStreamId(subjectId);
  const keyIds = keyIdsOfSubject(subjectId, personalData.scopes);
  const [stored, aggregate] = await Promise.all([personalData.keys.store.get(keyIds), runtime.store.aggregate(erasureDecider, streamId)]);
  const key: KeyStatus = stored.size === 0 ? 'NONE' : [...stored.values()].some(Boolean) ? 'LIVE' : 'ERASED';
  const now = runtime.now().toISOString();
  const events = erasureDecider.decide(
    { type: 'erasePersonalData', data: { ...input, subjectId, erasedBy: metadata.actor.consumerId }, facts: { key, legalHold: personalData.legalHolds.has(subjectId), now } },
    aggregate.state,
  );
  const appended = events.length ? (await runtime.store.append(streamId, events.map((e) => ({ ...e, metadata })), { expectedRevision: aggregate.revision ?? 'no_stream' })).events : [];
  await personalData.keys.erase(keyIds);
  return { erasedAt: aggregate.state.erasedAt ?? now, events: appended };
}

export interface ExpiryInput {
  subjectId: string;
  rule: RetentionRule;
  /** When the rule's period ends for the subject. */
  dueAt: string;
}

export async function expirePersonalData(
  store: EventStore,
  personalData: PersonalDataPort,
  input: ExpiryInput,
  metadata: EventMetadata,
  now: Date,
): Promise<{ events: RecordedEvent[]; replayed: boolean }> {
  const { subjectId, rule, dueAt } = input;
  const streamId = erasureStreamId(subjectId);
  const aggregate = await store.aggregate(erasureDecider, streamId);
  const events = erasureDecider.decide(
    {
      type: 'expirePersonalData',
      data: { subjectId, scope: rule.resource, rule: rule.text, dueAt, erasedBy: metadata.actor.consumerId },
      facts: { legalHold: personalData.legalHolds.has(subjectId), now: now.toISOString() },
    },
    aggregate.state,
  );
  const result = events.length
    ? await store.append(streamId, events.map((e) => ({ ...e, metadata })), { expectedRevision: aggregate.revision ?? 'no_stream' })
    : { events: [], replayed: false };
  // Also when nothing was decided: completes an expiry recorded by a process that stopped before this.
  if (!aggregate.state.erasedAt) await personalData.keys.erase([keyIdOf(subjectId, rule.resource)]);
  return { events: result.events, replayed: result.replayed };
}
