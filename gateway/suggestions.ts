/**
 * In production the gateway does not help anyone map the schema: GraphQL's validation and input
 * coercion answer "Cannot query field "x" on type "Y". Did you mean "z"?", which lists field, type
 * and enum names one typo at a time even with introspection off. The suggestion is cut, the error stays.
 */
import { GraphQLError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

const SUGGESTION = /\s*Did you mean [^]*\?$/;

export function withoutSuggestion<E extends { message: string }>(error: E): E {
  if (!SUGGESTION.test(error.message)) return error;
  const message = error.message.replace(SUGGESTION, '');
  if (error instanceof GraphQLError) {
    // `E` is GraphQLError here (the check above), which TypeScript does not narrow a type parameter by.
    return new GraphQLError(message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: error.extensions }) as unknown as E;
  }
  return { ...error, message };
}

interface ResultWithErrors {
  errors?: readonly { message: string }[];
}

const strip = <R extends ResultWithErrors>(result: R): R => (result.errors?.length ? { ...result, errors: result.errors.map(withoutSuggestion) } : result);

/** Cuts "Did you mean …?" from every error of every (non-streamed) result. */
export function useNoSuggestions(): GatewayPlugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map(strip));
      else if (!(Symbol.asyncIterator in result)) setResult(strip(result));
    },
  };
}
