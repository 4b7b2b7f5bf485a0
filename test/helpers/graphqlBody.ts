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
