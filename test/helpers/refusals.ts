/** Asserting that a command naming something that does not exist is refused before anything is written. */
import assert from 'node:assert/strict';
import type { EventStore } from '../../events/types.ts';
import { failure, type Body, type GraphQLError } from './graphqlBody.ts';

/**
 * Sends a command that must be refused as BAD_USER_INPUT naming `field` (`extensions.field`), and
 * checks that nothing was appended: the store's committed head did not move.
 */
export async function refusedNaming(store: EventStore, field: string, send: () => Promise<Body>): Promise<GraphQLError> {
  const before = await store.committedHead();
  const error = failure(await send(), 'BAD_USER_INPUT');
  assert.equal(error.extensions?.field, field, JSON.stringify(error));
  assert.equal(await store.committedHead(), before, `nothing was appended for the unknown ${field}`);
  return error;
}
