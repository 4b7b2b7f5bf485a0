/**
 * One subgraph process: Apollo Server 5 over Node's http for `POST /graphql`, graphql-ws on the same
 * path for subscriptions, `/healthz` and `/metrics` (the process's, platform/metrics.ts). Every GraphQL request is authenticated before Apollo sees
 * it (client token + gateway assertion, see `auth.ts`); every field is checked against the caller's
 * grants (`access.ts`); every result that served data waits for its access record (`audit.ts`)
 * before it leaves; errors are formatted in `errors.ts` only.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import {
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  print,
  type ExecutionResult,
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { pipelineResults } from './resultPipeline.ts';
import { subscribeSharing } from './sharedEvents.ts';
import { useServer } from 'graphql-ws/use/ws';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { CityBrainError, ValidationError } from '../../events/errors.ts';
import { servedTypeDefs } from '../../schema/accessDescriptions.ts';
import { scalarResolvers } from '../../schema/scalars.ts';
import { applyAccessControl, RequestAccess, requestPrincipalsOf, type AccessControl } from './access.ts';
import { historyEventResolvers } from './history.ts';
import { accessRecordOf, heldByCaller } from './audit.ts';
import { ASSERTION_HEADER, authenticateSubgraphRequest, CREDENTIALS_EXTENSION, headerValue, type AuthenticatedRequest, type Caller, type SubgraphAuthConfig } from '../../platform/auth.ts';
import type { SubgraphContext } from './context.ts';
import { formatAnyError, formatSubgraphError, isInternalError, withRequestId } from './errors.ts';
import { listenOn, type Listening } from '../../platform/listen.ts';
import { closeWebSocketEndpoint, coalesceSendsPerTurn } from '../../platform/webSocket.ts';
import { MIN_POSITION_HEADER, waitForProjections, type ReadAfterWriteOptions } from './readAfterWrite.ts';
import { serveMetrics, timeSubgraphRequest } from '../../platform/metrics.ts';

export type SubgraphResolvers<TContext> = GraphQLResolverMap<TContext>;

/** The operation a result belongs to, for hooks such as the access audit. */
export interface OperationInfo {
  type: OperationTypeNode;
  name: string | null;
  document: DocumentNode;
  /** SHA-256 (hex) of the operation's source text. */
  hash: string;
}

export type ResultHook<TContext> = (
  ctx: TContext,
  result: FormattedExecutionResult,
  operation: OperationInfo,
) => Promise<void> | void;

export interface SubgraphServerOptions<Extra extends object = object> {
  /** The subgraph's name, as in the supergraph (`population`, `legal-person`, …). */
  name: string;
  /** The subgraph's SDL; the shared scalars it uses are added (`schema/scalars.ts`). */
  typeDefs: DocumentNode;
  resolvers: SubgraphResolvers<SubgraphContext & Extra>;
  auth: SubgraphAuthConfig;
  /** Grants and the access record, shared by every subgraph of the process (`createGovernanceAccess`). */
  access: AccessControl;
  /** The clock of access records. @default () => new Date() */
  now?: () => Date;
  /** Per-request additions to the context (repositories, …). */
  context?: (caller: Caller) => Extra | Promise<Extra>;
  /** @default a pino logger at `LOG_LEVEL` (or `info`) */
  logger?: Logger;
  /** Answer introspection queries sent to the subgraph itself. @default false */
  devMode?: boolean;
  /** Larger POST bodies are refused with 413. @default 1048576 */
  maxBodyBytes?: number;
  /**
   * Called with every result before it leaves the subgraph (an HTTP response, or one subscription
   * event), after its access record is durable, and awaited. If it throws, the client gets the
   * error instead of the data.
   */
  onResult?: ResultHook<SubgraphContext & Extra>;
  /** Queries sent with `x-min-position` wait for these read models to project through it (kit/readAfterWrite.ts); without, the header is ignored. */
  readAfterWrite?: ReadAfterWriteOptions;
  /** Further Apollo Server plugins (HTTP path only). */
  plugins?: ApolloServerPlugin<SubgraphContext & Extra>[];
}

/**
 * The subgraph's `POST /graphql` as a `fetch` (the subset the gateway's HTTP transport uses), answered
 * in the same process without a socket — after the same token, assertion and size checks as over HTTP.
 */
export type SubgraphFetch = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<Response>;

export interface ListeningSubgraph extends Listening {
  /** `url` answered in this process (a gateway in the same process calls this instead of the socket). */
  fetch: SubgraphFetch;
}

export interface SubgraphServer {
  name: string;
  schema: GraphQLSchema;
  listen(port?: number, host?: string): Promise<ListeningSubgraph>;
}

const GRAPHQL_PATH = '/graphql';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendErrors(res: ServerResponse, status: number, errors: GraphQLFormattedError[]): void {
  sendJson(res, status, { errors });
}

/** A `/graphql` request as either transport hands it over. */
interface GraphQLHttpRequest {
  method: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  search: string;
  /** The body as text; throws a `ValidationError` past `limit` bytes. */
  readBody(limit: number): Promise<string>;
  /** Who sent it, for the log line of a refusal. */
  remote: string | undefined;
}

interface GraphQLHttpAnswer {
  status: number;
  headers: Iterable<[string, string]>;
  body: string | AsyncIterable<string>;
}

function errorAnswer(status: number, errors: GraphQLFormattedError[]): GraphQLHttpAnswer {
  return { status, headers: [['content-type', 'application/json; charset=utf-8']], body: JSON.stringify({ errors }) };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ValidationError(`the request body exceeds ${limit} bytes`, { limit });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function operationInfo(document: DocumentNode, operationName: string | null | undefined, source: string | undefined): OperationInfo | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  return {
    type: operation.operation,
    name: operation.name?.value ?? null,
    document,
    hash: createHash('sha256').update(source ?? print(document)).digest('hex'),
  };
}

/** The caller's data is withheld when the result hook fails (e.g. its access record was not written). */
async function applyResultHook<C>(
  hook: ResultHook<C> | undefined,
  ctx: C,
  result: FormattedExecutionResult,
  operation: OperationInfo | undefined,
  logger: Logger,
): Promise<FormattedExecutionResult> {
  if (!hook || !operation) return result;
  try {
    await hook(ctx, result, operation);
    return result;
  } catch (error) {
    // Every error the client sees as internal has its log line, where its request id leads.
    const formatted = formatAnyError(error);
    if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error }, 'result hook failed; the result was withheld');
    return { errors: [formatted] };
  }
}

/** Subscription events whose access records are written at once, each released when its own is durable. */
const SUBSCRIPTION_PIPELINE = 64;

/**
 * An event whose subscription root field was refused: the consumer lost its grant (revoked,
 * expired), so the subscription ends with that error instead of sending refusals forever.
 */
const refusedAtRoot = (result: FormattedExecutionResult): boolean =>
  result.errors?.some((e) => e.extensions?.code === 'FORBIDDEN' && e.path?.length === 1) ?? false;

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

export function createSubgraphServer<Extra extends object = object>(options: SubgraphServerOptions<Extra>): SubgraphServer {
  type Ctx = SubgraphContext & Extra;
  const logger = (options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' })).child({ subgraph: options.name });
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const now = options.now ?? (() => new Date());
  const typeDefs = servedTypeDefs(options.typeDefs);
  const hasHistory = typeDefs.definitions.some((d) => 'name' in d && d.name?.value === 'HistoryEvent');
  const schema = applyAccessControl(
    buildSubgraphSchema([{ typeDefs, resolvers: { ...scalarResolvers, ...(hasHistory && historyEventResolvers), ...options.resolvers } }]),
  );

  const principals = requestPrincipalsOf(options.access);

  /** `perRequest`: the principal is shared by the calls of one execution; a subscription's events read it each. */
  async function buildContext(auth: AuthenticatedRequest, perRequest: boolean): Promise<Ctx> {
    const extra = options.context ? await options.context(auth.caller) : ({} as Extra);
    const requestLogger = logger.child({ requestId: auth.requestId, consumerId: auth.caller.consumerId });
    const { consumerId } = auth.caller;
    const load = perRequest ? () => principals.principalFor(auth.requestId, consumerId, context) : () => options.access.principalFor(consumerId, context);
    const context = {
      ...extra,
      caller: auth.caller,
      requestId: auth.requestId,
      ...(auth.operationName !== undefined && { clientOperationName: auth.operationName }),
      loaders: new Map(),
      logger: requestLogger,
      access: new RequestAccess(load, requestLogger, (unitId) => options.access.unit(unitId)),
    } as Ctx;
    return context;
  }

  /** The access record first (no data leaves without it), then the module's own hook. */
  const resultHook: ResultHook<Ctx> = async (ctx, result, operation) => {
    const recorder = options.access.recorder;
    const named = { ...operation, name: operation.name ?? ctx.clientOperationName ?? null };
    const record = recorder && accessRecordOf({ access: ctx.access, caller: ctx.caller, requestId: ctx.requestId, subgraph: options.name, operation: named, at: now() });
    if (record) {
      const written = recorder.record(record.data, record.metadata);
      // A gateway in this process holding the answer until it is durable waits for it instead (audit.ts `holdingDurability`).
      if (!heldByCaller(written)) await written;
    }
    await options.onResult?.(ctx, result, operation);
  };

  const kitPlugin: ApolloServerPlugin<Ctx> = {
    async requestDidStart() {
      const timed = timeSubgraphRequest(options.name);
      return {
        async didResolveOperation({ operation, request }) {
          const minPosition = request.http?.headers.get(MIN_POSITION_HEADER);
          if (!minPosition || operation?.operation !== OperationTypeNode.QUERY || !options.readAfterWrite) return;
          try {
            await waitForProjections(options.readAfterWrite, minPosition);
          } catch (error) {
            // A refusal, not a failure of the subgraph: HTTP 200 with the error, as for any other.
            if (error instanceof CityBrainError) throw new GraphQLError(error.message, { originalError: error, extensions: { http: { status: 200 } } });
            throw error;
          }
        },
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            if (isInternalError(error)) contextValue.logger.error({ err: error, path: error.path }, 'internal error while serving a request');
          }
        },
        async willSendResponse(requestContext: GraphQLRequestContextWillSendResponse<Ctx>) {
          const { response, document, operationName, operation, source, contextValue } = requestContext;
          try {
            if (response.body.kind !== 'single' || !document) return;
            const info = operationInfo(document, operationName, source);
            const served = await applyResultHook(resultHook, contextValue, response.body.singleResult, info, contextValue.logger);
            response.body.singleResult = withRequestId(served, contextValue.requestId);
          } finally {
            // The client's operation name (the gateway's assertion carries it), else the subgraph request's own.
            timed({ name: contextValue.clientOperationName ?? operationName, type: operation?.operation });
          }
        },
      };
    },
  };

  const apollo = new ApolloServer<Ctx>({
    schema,
    introspection: options.devMode ?? false,
    formatError: formatSubgraphError,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    logger,
    // No cache hints or federated traces are used: without them Apollo wraps no field resolver in a
    // per-field hook (each wrap cost every resolved field its own call and promise).
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginInlineTraceDisabled(), kitPlugin, ...(options.plugins ?? [])],
  });

  /**
   * `/graphql` over either transport: the client token and the gateway assertion are verified, the
   * body size limit applies, then Apollo answers. Nothing reaches Apollo without passing the checks.
   */
  async function answerGraphQL(request: GraphQLHttpRequest): Promise<GraphQLHttpAnswer> {
    let auth: AuthenticatedRequest;
    try {
      auth = await authenticateSubgraphRequest(request.headers, options.auth);
    } catch (error) {
      if (!(error instanceof CityBrainError)) throw error;
      logger.warn({ reason: error.details.reason, remote: request.remote }, 'refused an unauthenticated request');
      return errorAnswer(401, [formatAnyError(error)]);
    }
    if (Number(headerValue(request.headers, 'content-length') ?? 0) > maxBodyBytes) {
      return errorAnswer(413, [{ message: `the request body exceeds ${maxBodyBytes} bytes`, extensions: { code: 'BAD_USER_INPUT' } }]);
    }
    let body: unknown;
    if (request.method === 'POST') {
      let text: string;
      try {
        text = await request.readBody(maxBodyBytes);
      } catch (error) {
        if (error instanceof ValidationError) return errorAnswer(413, [formatAnyError(error)]);
        throw error;
      }
      const isJson = (headerValue(request.headers, 'content-type') ?? '').includes('json');
      try {
        body = isJson && text !== '' ? JSON.parse(text) : text;
      } catch {
        return errorAnswer(400, [{ message: 'the request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }]);
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method, headers, search: request.search, body },
      context: () => buildContext(auth, auth.grantsPerRequest),
    });
    return { status: response.status ?? 200, headers: response.headers, body: response.body.kind === 'complete' ? response.body.string : response.body.asyncIterator };
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const answer = await answerGraphQL({
      method: req.method ?? 'GET',
      headers: req.headers,
      search: url.search,
      readBody: (limit) => readBody(req, limit),
      remote: req.socket.remoteAddress,
    });
    for (const [key, value] of answer.headers) res.setHeader(key, value);
    res.statusCode = answer.status;
    if (typeof answer.body === 'string') {
      res.end(answer.body);
      return;
    }
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  }

  /** `POST /graphql` from a gateway in this process: `answerGraphQL` as over HTTP, without a socket. */
  const fetchInProcess: SubgraphFetch = async (url, init = {}) => {
    const body = init.body ?? '';
    const answer = await answerGraphQL({
      method: init.method ?? 'GET',
      headers: init.headers ?? {},
      search: new URL(url).search,
      async readBody(limit) {
        if (Buffer.byteLength(body) > limit) throw new ValidationError(`the request body exceeds ${limit} bytes`, { limit });
        return body;
      },
      remote: 'in-process',
    });
    let text = '';
    if (typeof answer.body === 'string') text = answer.body;
    else for await (const chunk of answer.body) text += chunk;
    return new Response(text, { status: answer.status, headers: [...answer.headers] });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://subgraph');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', subgraph: options.name });
    if (url.pathname === '/metrics') return serveMetrics(res);
    if (url.pathname !== GRAPHQL_PATH) return sendJson(res, 404, { error: `not found; GraphQL is served at ${GRAPHQL_PATH}` });
    if (req.method !== 'POST' && req.method !== 'GET') {
      res.setHeader('allow', 'GET, POST');
      return sendJson(res, 405, { error: 'use POST (or GET for queries)' });
    }
    await handleGraphQL(req, res, url);
  }

  /** Results the subscription pipeline has already formatted and recorded. */
  const finished = new WeakSet<object>();

  function formatResult(result: ExecutionResult, context: Ctx | undefined): FormattedExecutionResult {
    for (const error of result.errors ?? []) {
      if (isInternalError(error)) context?.logger.error({ err: error, path: error.path }, 'internal error in a subscription event');
    }
    // Without errors it is already in its formatted shape: passed on as it is, so the subscriptions
    // reusing one execution of a shared event all send (and mark finished) the same object.
    if (!result.errors) return result as FormattedExecutionResult;
    const formatted = { ...result, errors: result.errors.map((e) => formatSubgraphError(e.toJSON(), e)) };
    return context ? withRequestId(formatted, context.requestId) : formatted;
  }

  /**
   * One subscription event: its access record is taken (synchronously, before the next event is
   * resolved) and written; the event is released once it is durable.
   */
  function finishEvent(context: Ctx, result: ExecutionResult, info: OperationInfo | undefined): Promise<FormattedExecutionResult> {
    const done = applyResultHook(resultHook, context, formatResult(result, context), info, context.logger).then((out) => {
      finished.add(out);
      return out;
    });
    // Each event is its own request for batching, caching, grants and its access record.
    context.loaders.clear();
    context.access.reset();
    return done;
  }

  function attachWebSockets(server: Server): { close(): Promise<void> } {
    const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
    /** Connections opened with a caller's credentials: each serves that caller only. */
    const authByConnection = new WeakMap<object, AuthenticatedRequest>();
    /**
     * Operations on a connection opened without credentials (the gateway's, shared by its callers):
     * each carries its own caller's in the subscribe message, by message payload.
     */
    const authByOperation = new WeakMap<object, AuthenticatedRequest>();
    const contexts = new WeakMap<object, { context: Ctx; query: string }>();
    const disposable = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(
      {
        schema,
        async onConnect(ctx) {
          const params = ctx.connectionParams ?? {};
          if (headerValue(params, 'authorization') === undefined && headerValue(params, ASSERTION_HEADER) === undefined) {
            // It serves nothing by itself: every operation on it is authenticated on its own (onSubscribe).
            coalesceSendsPerTurn(ctx.extra.socket, ctx.extra.request.socket);
            return true;
          }
          try {
            authByConnection.set(ctx.extra.socket, await authenticateSubgraphRequest(params, options.auth));
            return true;
          } catch (error) {
            if (!(error instanceof CityBrainError)) throw error;
            logger.warn({ reason: error.details.reason }, 'refused an unauthenticated subscription connection');
            // 4401 is final for graphql-ws clients: they will not retry with the same credentials.
            ctx.extra.socket.close(CloseCode.Unauthorized, error.message.slice(0, 120));
            return false;
          }
        },
        async onSubscribe(ctx, _id, payload) {
          if (authByConnection.has(ctx.extra.socket)) return;
          const credentials = payload.extensions?.[CREDENTIALS_EXTENSION];
          const carried = typeof credentials === 'object' && credentials !== null ? (credentials as Record<string, unknown>) : {};
          try {
            authByOperation.set(payload, await authenticateSubgraphRequest(carried, options.auth));
            return;
          } catch (error) {
            if (!(error instanceof CityBrainError)) throw error;
            logger.warn({ reason: error.details.reason }, 'refused an unauthenticated subscription');
            // Refused alone: the connection's other operations belong to other callers.
            return [new GraphQLError(error.message, { originalError: error })];
          }
        },
        async context(ctx, _id, payload, args) {
          const auth = authByConnection.get(ctx.extra.socket) ?? authByOperation.get(payload);
          if (!auth) throw new Error('graphql-ws executed an operation on an unauthenticated connection');
          const context = await buildContext(auth, false);
          contexts.set(args, { context, query: payload.query });
          return context;
        },
        // Subscription events go through the pipeline: each leaves once its access record is durable,
        // in order, while the records of the next events are already being written.
        async subscribe(args) {
          const { context, query } = contexts.get(args) ?? {};
          if (!context) throw new Error('graphql-ws subscribed an operation without its context');
          const info = operationInfo(args.document, args.operationName, query);
          // The events many subscriptions share are executed once per operation text and variables.
          const operationKey = JSON.stringify([info?.hash ?? query, args.operationName ?? null, args.variableValues ?? null]);
          const result = await subscribeSharing(args, operationKey, context.access);
          if (!isAsyncIterable(result)) return result;
          const results = pipelineResults(result[Symbol.asyncIterator](), (event: ExecutionResult) => finishEvent(context, event, info), SUBSCRIPTION_PIPELINE, refusedAtRoot);
          // The hook's typings ask for an AsyncGenerator; graphql-ws only iterates what it gets (and returns it on close).
          return results as unknown as AsyncGenerator<ExecutionResult>;
        },
        async onNext(_ctx, _id, payload, args, result) {
          // graphql-ws would format it again (calling toJSON on formatted errors): hand it back as is.
          if (finished.has(result)) return result as FormattedExecutionResult;
          // A query or mutation sent over the socket: one result.
          const context = contexts.get(args)?.context;
          const formatted = formatResult(result, context);
          if (!context) return formatted;
          return applyResultHook(resultHook, context, formatted, operationInfo(args.document, args.operationName, payload.query), context.logger);
        },
        onError(_ctx, _id, _payload, errors) {
          return errors.map((e) => formatSubgraphError(e.toJSON(), e));
        },
      },
      wss,
    );
    return { close: () => closeWebSocketEndpoint(wss, disposable) };
  }

  return {
    name: options.name,
    schema,
    async listen(port = 0, host = '127.0.0.1') {
      await apollo.start();
      const server = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          logger.error({ err: error }, 'request failed');
          if (!res.headersSent) sendErrors(res, 500, [formatAnyError(error)]);
          else res.destroy();
        });
      });
      const ws = attachWebSockets(server);
      const { origin, port: actualPort } = await listenOn(server, port, host);
      const url = `${origin}${GRAPHQL_PATH}`;
      logger.info({ url }, 'subgraph listening');
      let closing: Promise<void> | undefined;
      const close = (): Promise<void> => {
        closing ??= (async () => {
          await ws.close();
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await apollo.stop();
        })();
        return closing;
      };
      return { url, port: actualPort, fetch: fetchInProcess, close, [Symbol.asyncDispose]: close };
    },
  };
}
