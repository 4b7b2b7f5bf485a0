/**
 * The one place where errors become GraphQL errors (DESIGN §3, STYLE 7): a `CityBrainError` keeps
 * its message and carries its `code` and details in `extensions`; GraphQL's own errors (syntax,
 * validation, variable coercion) pass through; anything else is a bug whose message may leak
 * internals, so clients see only "internal error" and the log gets the whole error.
 */
import { GraphQLError, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { CityBrainError } from '../../events/errors.ts';

export const INTERNAL_ERROR_MESSAGE = 'internal error';

/** The error a resolver threw, under the GraphQLError wrappers graphql-js and Apollo add around it. */
export function originalError(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

/** True for errors nobody raised on purpose: bugs and infrastructure failures. */
export function isInternalError(error: unknown): boolean {
  const original = originalError(error);
  return !(original instanceof CityBrainError) && !(original instanceof GraphQLError);
}

/** Apollo Server's `formatError` (and the graphql-ws path's): see the module comment. */
export function formatSubgraphError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = originalError(error);
  const where = {
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
  };
  if (original instanceof CityBrainError) {
    return { message: original.message, ...where, extensions: { ...original.details, code: original.code } };
  }
  if (original instanceof GraphQLError) return formatted;
  return { message: INTERNAL_ERROR_MESSAGE, ...where, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** Formats a raw error (not yet through graphql-js), e.g. one thrown before execution. */
export function formatAnyError(error: unknown): GraphQLFormattedError {
  const asGraphQL = error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : null });
  return formatSubgraphError(asGraphQL.toJSON(), error);
}

/**
 * Internal errors of a result name the request they happened in: the client sees no internals, but
 * can quote `extensions.requestId`, and the log line of the error carries the same id.
 */
export function withRequestId(result: FormattedExecutionResult, requestId: string): FormattedExecutionResult {
  const isInternal = (e: GraphQLFormattedError) => e.extensions?.code === 'INTERNAL_SERVER_ERROR';
  if (!result.errors?.some(isInternal)) return result;
  return { ...result, errors: result.errors.map((e) => (isInternal(e) ? { ...e, extensions: { ...e.extensions, requestId } } : e)) };
}
