/** Asserting on GraphQL response bodies in specs: the data of a success, the first error of a failure. */
import assert from 'node:assert/strict';

export type GraphQLError = { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> };
export type Body<T = Record<string, unknown>> = { data?: T | null; errors?: GraphQLError[] };

/** The data of a response that must have succeeded; the test fails naming the errors otherwise. */
export function only<T>(body: Body<T>): T {
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.ok(body.data);
  return body.data;
}

/** The first error of a response that must have failed with `code` (`extensions.code`). */
export function failure(body: Body, code: string): GraphQLError {
  const error = body.errors?.[0];
  assert.ok(error, `expected a ${code} error, got ${JSON.stringify(body)}`);
  assert.equal(error.extensions?.code, code, JSON.stringify(error));
  return error;
}

/**
 * A partial answer: the data is there, and the one error is NOT_FOUND at `path` (a stored reference
 * that cannot be resolved nulls its own field, never the list around it).
 */
export function partialWithErrorAt<T>(body: Body<T>, path: readonly (string | number)[]): T {
  assert.ok(body.data, `expected data beside the error, got ${JSON.stringify(body)}`);
  assert.equal(body.errors?.length, 1, JSON.stringify(body.errors));
  assert.deepEqual(body.errors[0]!.path, path);
  assert.equal(body.errors[0]!.extensions?.code, 'NOT_FOUND', JSON.stringify(body.errors[0]));
  return body.data;
}
