/**
 * Asserting what a command leaves behind: a refused reference writes nothing, a retried create
 * answers its first result and writes nothing. "Nothing" is checked on the log itself: no event
 * after the position before the request, the access records of the request aside.
 */
import assert from 'node:assert/strict';
import type { EventStore, Position } from '../../events/types.ts';
import { ACCESS_STREAM_PREFIX } from '../../subgraphs/kit/dataAccessed.ts';
import { readCommitted } from './events.ts';
import { failure, only, type Body, type GraphQLError } from './graphqlBody.ts';

async function assertNothingAppendedSince(store: EventStore, before: Position, what: string): Promise<void> {
  const appended = (await readCommitted(store, { fromPosition: before })).filter((e) => !e.streamId.startsWith(ACCESS_STREAM_PREFIX));
  assert.deepEqual(appended.map((e) => `${e.streamId} ${e.type}`), [], `nothing was appended for ${what}`);
}

/** Sends a command that must be refused as BAD_USER_INPUT naming `field` (`extensions.field`), appending nothing. */
export async function refusedNaming(store: EventStore, field: string, send: () => Promise<Body>): Promise<GraphQLError> {
  const before = await store.committedHead();
  const error = failure(await send(), 'BAD_USER_INPUT');
  assert.equal(error.extensions?.field, field, JSON.stringify(error));
  await assertNothingAppendedSince(store, before, `the unknown ${field}`);
  return error;
}

/**
 * Sends a command twice (the same idempotency key): the retry answers what the first answered
 * (`pick` of the data: the id, the positions) and appends nothing. Returns the first answer's pick.
 */
export async function answeredOnceOnRetry<T, P>(store: EventStore, send: () => Promise<Body<T>>, pick: (data: T) => P): Promise<P> {
  const first = pick(only(await send()));
  const before = await store.committedHead();
  const again = pick(only(await send()));
  assert.deepEqual(again, first, 'the retry answers the first result');
  await assertNothingAppendedSince(store, before, 'the retry');
  return first;
}
