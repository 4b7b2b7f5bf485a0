/**
 * `erasePersonalData`: decides on the subject's erasure stream and key, records `PersonalDataErased`,
 * then destroys the key. The record comes first: should the key's destruction fail, the same command
 * again completes it (the decider sees the record and a live key) instead of being refused.
 */
import { ValidationError } from '../../../events/errors.ts';
import type { EventMetadata, RecordedEvent } from '../../../events/types.ts';
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
  const [stored, aggregate] = await Promise.all([personalData.keys.store.get([subjectId]), runtime.store.aggregate(erasureDecider, streamId)]);
  const key: KeyStatus = !stored.has(subjectId) ? 'NONE' : stored.get(subjectId) ? 'LIVE' : 'ERASED';
  const now = runtime.now().toISOString();
  const events = erasureDecider.decide(
    { type: 'erasePersonalData', data: { ...input, subjectId, erasedBy: metadata.actor.consumerId }, facts: { key, legalHold: personalData.legalHolds.has(subjectId), now } },
    aggregate.state,
  );
  const appended = events.length ? (await runtime.store.append(streamId, events.map((e) => ({ ...e, metadata })), { expectedRevision: aggregate.revision ?? 'no_stream' })).events : [];
  await personalData.keys.erase(subjectId);
  return { erasedAt: aggregate.state.erasedAt ?? now, events: appended };
}
