/**
 * Query limits, enforced at the gateway before anything reaches a subgraph: body size while the
 * request is read, tokens while it is parsed, depth / aliases / directives while it is validated,
 * estimated cost once the variables are known, and a deadline on execution. Over a limit the
 * client gets one error naming the limit (`extensions.code: QUERY_LIMIT_EXCEEDED`, `limit`, `max`).
 */
import { createGraphQLError } from '@graphql-tools/utils';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  parse,
  valueFromASTUntyped,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { z } from 'zod';

export const gatewayLimitsSchema = z.object({
  /** Deepest nesting of fields a query may select (introspection fields excluded). @default 12 */
  maxDepth: z.number().int().min(1).default(12),
  /** Aliases per operation, fragments expanded. @default 15 */
  maxAliases: z.number().int().min(0).default(15),
  /** Lexical tokens per document (names, punctuation, values). @default 2000 */
  maxTokens: z.number().int().min(10).default(2000),
  /** Directives per operation, fragments expanded. @default 10 */
  maxDirectives: z.number().int().min(0).default(10),
  /** Estimated cost per operation (see {@link estimateCost}). @default 5000 */
  maxCost: z.number().int().min(1).default(5000),
  /** Items assumed for a list field when no `first` / `last` / `limit` argument bounds it. @default 10 */
  defaultListSize: z.number().int().min(1).default(10),
  /** Request bodies over this many bytes are refused with 413. @default 262144 */
  maxBodyBytes: z.number().int().min(1024).default(262_144),
  /** Queries and mutations not answered within this many milliseconds fail; subscriptions are exempt. @default 10000 */
  executionTimeoutMs: z.number().int().min(1).default(10_000),
  /**
   * Results one subscription may have waiting at the gateway for a client that reads slower than
   * they come; one more disconnects that client (gateway/subscriptionBuffer.ts). @default 500
   */
  maxSubscriptionBuffer: z.number().int().min(1).max(1_000_000).default(500),
});

export type GatewayLimits = z.infer<typeof gatewayLimitsSchema>;
export type GatewayLimitsInput = z.input<typeof gatewayLimitsSchema>;

export const LIMIT_ERROR_CODE = 'QUERY_LIMIT_EXCEEDED';
export const TIMEOUT_ERROR_CODE = 'GATEWAY_TIMEOUT';

type LimitName = Exclude<keyof GatewayLimits, 'defaultListSize'>;

export function limitError(limit: LimitName, max: number, message: string, extra: { actual?: number; status?: number } = {}): GraphQLError {
  return createGraphQLError(message, {
    extensions: {
      code: LIMIT_ERROR_CODE,
      limit,
      max,
      ...(extra.actual !== undefined && { actual: extra.actual }),
      http: { status: extra.status ?? 400 },
    },
  });
}

const isIntrospectionRoot = (field: FieldNode): boolean => field.name.value === '__schema' || field.name.value === '__type';

type FragmentLookup = (name: string) => FragmentDefinitionNode | undefined;

/**
 * A fragment spread's value in a walk: `compute` runs once per fragment (memoised); an unknown
 * fragment, or one the walk is already inside (a cycle), is worth 0.
 */
function spreadValue(
  spread: FragmentSpreadNode,
  fragments: FragmentLookup,
  memo: Map<string, number>,
  visiting: Set<string>,
  compute: (fragment: FragmentDefinitionNode) => number,
): number {
  const name = spread.name.value;
  const fragment = fragments(name);
  if (!fragment || visiting.has(name)) return 0;
  let value = memo.get(name);
  if (value === undefined) {
    visiting.add(name);
    value = compute(fragment);
    visiting.delete(name);
    memo.set(name, value);
  }
  return value;
}

/**
 * Walks a selection set with fragments expanded, summing `measure` per node; each fragment is
 * measured once (memoised), so fragment reuse cannot blow up the walk, and cycles count as zero
 * (graphql's own NoFragmentCycles rule reports them).
 */
function sumOverSelections(
  selectionSet: SelectionSetNode,
  fragments: FragmentLookup,
  measure: (node: SelectionNode | FragmentDefinitionNode) => number,
  memo = new Map<string, number>(),
  visiting = new Set<string>(),
): number {
  let total = 0;
  for (const selection of selectionSet.selections) {
    total += measure(selection);
    switch (selection.kind) {
      case Kind.FIELD:
        if (selection.selectionSet && !isIntrospectionRoot(selection)) {
          total += sumOverSelections(selection.selectionSet, fragments, measure, memo, visiting);
        }
        break;
      case Kind.INLINE_FRAGMENT:
        total += sumOverSelections(selection.selectionSet, fragments, measure, memo, visiting);
        break;
      case Kind.FRAGMENT_SPREAD:
        total += spreadValue(selection, fragments, memo, visiting, (fragment) => measure(fragment) + sumOverSelections(fragment.selectionSet, fragments, measure, memo, visiting));
        break;
    }
  }
  return total;
}

/** Deepest field nesting of a selection set, fragments expanded; introspection subtrees are not counted. */
export function selectionDepth(
  selectionSet: SelectionSetNode,
  fragments: FragmentLookup,
  memo = new Map<string, number>(),
  visiting = new Set<string>(),
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    let depth = 0;
    switch (selection.kind) {
      case Kind.FIELD:
        if (isIntrospectionRoot(selection)) continue;
        depth = 1 + (selection.selectionSet ? selectionDepth(selection.selectionSet, fragments, memo, visiting) : 0);
        break;
      case Kind.INLINE_FRAGMENT:
        depth = selectionDepth(selection.selectionSet, fragments, memo, visiting);
        break;
      case Kind.FRAGMENT_SPREAD:
        depth = spreadValue(selection, fragments, memo, visiting, (fragment) => selectionDepth(fragment.selectionSet, fragments, memo, visiting));
        break;
    }
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}

export function countAliases(operation: OperationDefinitionNode, fragments: FragmentLookup): number {
  return sumOverSelections(operation.selectionSet, fragments, (s) => (s.kind === Kind.FIELD && s.alias ? 1 : 0));
}

export function countDirectives(operation: OperationDefinitionNode, fragments: FragmentLookup): number {
  const own = (operation.directives?.length ?? 0) + (operation.variableDefinitions ?? []).reduce((n, v) => n + (v.directives?.length ?? 0), 0);
  return own + sumOverSelections(operation.selectionSet, fragments, (s) => s.directives?.length ?? 0);
}

function operationRule(check: (operation: OperationDefinitionNode, context: ValidationContext) => GraphQLError | undefined): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const error = check(node, context);
      if (error) context.reportError(error);
      return false;
    },
  });
}

const lookup = (context: ValidationContext): FragmentLookup => (name) => context.getFragment(name) ?? undefined;

export function maxDepthRule(max: number): ValidationRule {
  return operationRule((operation, context) => {
    const depth = selectionDepth(operation.selectionSet, lookup(context));
    return depth > max
      ? limitError('maxDepth', max, `the query nests fields ${depth} levels deep; the limit is ${max}. Ask for less deeply nested data or split the query.`, { actual: depth })
      : undefined;
  });
}

export function maxAliasesRule(max: number): ValidationRule {
  return operationRule((operation, context) => {
    const aliases = countAliases(operation, lookup(context));
    return aliases > max
      ? limitError('maxAliases', max, `the query uses ${aliases} aliases; the limit is ${max}. Split it into several requests.`, { actual: aliases })
      : undefined;
  });
}

export function maxDirectivesRule(max: number): ValidationRule {
  return operationRule((operation, context) => {
    const directives = countDirectives(operation, lookup(context));
    return directives > max
      ? limitError('maxDirectives', max, `the query uses ${directives} directives; the limit is ${max}. Remove repeated @include/@skip or split the query.`, { actual: directives })
      : undefined;
  });
}

const SLICING_ARGUMENTS = new Set(['first', 'last', 'limit']);

export interface CostOptions {
  defaultListSize: number;
}

/**
 * Estimated cost of an operation, before it runs: every field returning an object, interface or
 * union costs 1; a list multiplies the cost of itself and everything under it by its size. The
 * size is the field's `first` / `last` / `limit` argument, or that of the connection field right
 * above it (`persons(first: 50) { edges { … } }`), else `defaultListSize`. Scalars are free.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  options: CostOptions,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName)) operation ??= definition;
  }
  if (!operation) return 0;
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;

  const sliceSize = (field: FieldNode): number | undefined => {
    for (const argument of field.arguments ?? []) {
      if (!SLICING_ARGUMENTS.has(argument.name.value)) continue;
      const value: unknown = valueFromASTUntyped(argument.value, variables ?? undefined);
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, value);
    }
    return undefined;
  };

  const visiting = new Set<string>();
  const costOf = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, inheritedSize: number | undefined): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        const fieldDef = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
        if (!fieldDef) continue;
        const isList = isListType(getNullableType(fieldDef.type));
        const named = getNamedType(fieldDef.type);
        const slice = sliceSize(selection);
        const size = isList ? (slice ?? inheritedSize ?? options.defaultListSize) : 1;
        const own = isCompositeType(named) ? 1 : 0;
        const below = selection.selectionSet && isCompositeType(named) ? costOf(selection.selectionSet, named, isList ? undefined : slice) : 0;
        total += size * (own + below);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName ? schema.getType(typeName) : parent;
        total += costOf(selection.selectionSet, type && isCompositeType(type) ? type : parent, inheritedSize);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || visiting.has(fragment.name.value)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        visiting.add(fragment.name.value);
        total += costOf(fragment.selectionSet, type && isCompositeType(type) ? type : parent, inheritedSize);
        visiting.delete(fragment.name.value);
      }
    }
    return total;
  };
  return costOf(operation.selectionSet, root, undefined);
}

function isTokenLimitError(error: unknown): boolean {
  return error instanceof GraphQLError && /Document contains more th(?:an|at) \d+ tokens/.test(error.message);
}

/** Reads a body through a counter, failing with 413 once it passes `max` bytes (chunked uploads too). */
function limitBody(request: Request, max: number, RequestCtor: typeof Request, TransformStreamCtor: typeof TransformStream): Request {
  if (!request.body) return request;
  let read = 0;
  const counted = request.body.pipeThrough(
    new TransformStreamCtor<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > max) controller.error(bodyTooLarge(max));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new RequestCtor(request.url, { method: request.method, headers: request.headers, signal: request.signal, body: counted, duplex: 'half' } as RequestInit);
}

function bodyTooLarge(max: number): GraphQLError {
  return limitError('maxBodyBytes', max, `the request body is larger than ${max} bytes; send a shorter query or fewer variables.`, { status: 413 });
}

function withTimeout(result: Promise<ExecutionResult> | ExecutionResult, ms: number): Promise<ExecutionResult> | ExecutionResult {
  if (!(result instanceof Promise)) return result;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          errors: [
            createGraphQLError(`the operation did not finish within ${ms} ms; ask for fewer items or narrower filters.`, {
              extensions: { code: TIMEOUT_ERROR_CODE, limit: 'executionTimeoutMs', max: ms, http: { status: 504 } },
            }),
          ],
        }),
      ms,
    );
    timer.unref();
  });
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

/** Every limit of {@link GatewayLimits} as one gateway plugin. */
export function useQueryLimits(limits: GatewayLimits): GatewayPlugin {
  const rules = [maxDepthRule(limits.maxDepth), maxAliasesRule(limits.maxAliases), maxDirectivesRule(limits.maxDirectives)];
  const costError = (cost: number): ExecutionResult => ({
    errors: [
      limitError(
        'maxCost',
        limits.maxCost,
        `the query's estimated cost is ${cost}; the limit is ${limits.maxCost}. Ask for fewer items (a smaller first/last) or fewer nested lists.`,
        { actual: cost },
      ),
    ],
  });
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null && Number(declared) > limits.maxBodyBytes) throw bodyTooLarge(limits.maxBodyBytes);
      if (!requestParser || !request.body) return;
      const parser = requestParser;
      setRequestParser((req) => parser(limitBody(req, limits.maxBodyBytes, fetchAPI.Request, fetchAPI.TransformStream)));
    },
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parse(source, { ...options, maxTokens: limits.maxTokens });
        } catch (error) {
          if (!isTokenLimitError(error)) throw error;
          throw limitError(
            'maxTokens',
            limits.maxTokens,
            `the query exceeds the limit of ${limits.maxTokens} tokens (names, punctuation, values); shorten it or split it into several requests.`,
          );
        }
      });
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
    onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const cost = estimateCost(args.schema, args.document, args.operationName, args.variableValues, limits);
      if (cost > limits.maxCost) {
        setResultAndStopExecution(costError(cost));
        return;
      }
      setExecuteFn((executionArgs) => withTimeout(executeFn(executionArgs) as Promise<ExecutionResult> | ExecutionResult, limits.executionTimeoutMs));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const cost = estimateCost(args.schema, args.document, args.operationName, args.variableValues, limits);
      if (cost > limits.maxCost) setResultAndStopExecution(costError(cost));
    },
  };
}
