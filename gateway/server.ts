/**
 * The gateway process: Hive Gateway's runtime serving the supergraph over Node's http — `POST
 * /graphql`, graphql-ws on the same path, `/healthz`, `/readyz`, `/metrics`. A request is
 * authenticated before the runtime sees it (no token, no GraphQL), limits are checked before any
 * subgraph is called, and every subgraph call carries the client's token and a fresh gateway
 * assertion (gateway/credentials.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { maskError } from 'graphql-yoga';
import { createGatewayRuntime, getGraphQLWSOptions, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { Logger as HiveLogger, type LogLevel, type LogWriter } from '@graphql-hive/logger';
import usePrometheus, { createHistogram, type FillLabelsFnParams } from '@graphql-mesh/plugin-prometheus';
import { getOperationASTFromRequest, type ExecutionRequest } from '@graphql-tools/utils';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { getOperationAST, GraphQLError, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { UnauthenticatedError } from '../events/errors.ts';
import { AccessRecordNotWrittenError, holdingDurability } from '../subgraphs/kit/audit.ts';
import { CREDENTIALS_EXTENSION, type Caller } from '../platform/auth.ts';
import { MIN_POSITION_HEADER } from '../subgraphs/kit/readAfterWrite.ts';
import type { SubgraphFetch } from '../subgraphs/kit/server.ts';
import { supergraphSubgraphs } from '../platform/subgraphs.ts';
import { clientTokenConfig, parseGatewayOptions, type GatewayOptionsInput } from './config.ts';
import { authenticateClient, SubgraphCredentials } from './credentials.ts';
import { useQueryLimits } from './limits.ts';
import { GatewayMetrics, type Transport } from './metrics.ts';
import { LATENCY_BUCKETS, operationLabel, serveMetrics } from '../platform/metrics.ts';
import { createScreenPages, renderLocalGraphiQL } from './pages.ts';
import { subgraphWebSocketTransport } from './subgraphSubscriptions.ts';
import { useSubscriptionBuffer, type DisconnectableContext } from './subscriptionBuffer.ts';
import { listenOn, type Listening } from '../platform/listen.ts';
import { closeWebSocketEndpoint } from '../platform/webSocket.ts';
import { isOperator } from './operator.ts';
import { ResponseCache, type ExecutedAnswer } from './responseCache.ts';
import type { AnswerSources, CallSources } from '../subgraphs/kit/answerReads.ts';
import { SharedSubgraphCalls } from './sharedCalls.ts';
import { useNoSuggestions } from './suggestions.ts';

export const GRAPHQL_PATH = '/graphql';

export interface GatewayServerOptions extends GatewayOptionsInput {
  /** The supergraph SDL: `schema/supergraph.graphql`, or one composed in memory (tests). */
  supergraph: string;
  /** @default a pino logger at `LOG_LEVEL` (or `info`) */
  logger?: Logger;
  /**
   * More routes by path (the operator's admin endpoint, cli/admin.ts; ingestion, ingest/http.ts); each
   * authenticates its own callers. A path ending in `/` takes every path below it (`/ingest/` → `/ingest/persons`).
   */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
  /**
   * Subgraphs hosted in this process, by the URL the supergraph gives them (bin/graph.ts): their
   * HTTP calls are answered by this fetch instead of a loopback socket, with the same headers and the
   * same checks at the subgraph. Subscriptions still use graphql-ws.
   */
  inProcessSubgraphs?: Readonly<Record<string, SubgraphFetch>>;
  /** What the process hosting the subgraphs tells the response cache (gateway/responseCache.ts); without, nothing is kept. */
  answerSources?: AnswerSources;
  /** What it tells the shared subgraph calls (gateway/sharedCalls.ts); without, no call is shared. */
  callSources?: CallSources;
}

/** What the gateway adds to every operation's GraphQL context. */
export interface GatewayRequestContext extends DisconnectableContext {
  transport: Transport;
  /** Absent only for the development GraphiQL page, which runs no operation. */
  credentials?: SubgraphCredentials;
  /** Filled in as the runtime answers, for the response cache. */
  answer?: Partial<ExecutedAnswer>;
}

export interface ListeningGateway extends Listening {
  metrics: GatewayMetrics;
}

export interface GatewayServer {
  listen(port?: number, host?: string): Promise<ListeningGateway>;
}

interface SubgraphHealth {
  name: string;
  url: string;
  ok: boolean;
  error?: string;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The body a refused token gets at `/graphql` (and at every route that takes client tokens). */
export function unauthenticatedError(error: UnauthenticatedError): GraphQLFormattedError {
  return { message: error.message, extensions: { ...error.details, code: error.code } };
}

/**
 * Sends the caller's token and a fresh assertion with every HTTP request to a subgraph, and the
 * client's `x-min-position` (each subgraph waits for its read models, kit/readAfterWrite.ts); and
 * the same credentials in each subscription's subscribe message, on the connection all share.
 */
function useSubgraphCredentials(): GatewayPlugin<GatewayRequestContext> {
  // The client's operation name goes into the assertion before any subgraph is called.
  // A subscription's events are each checked against the grants valid then: only one execution
  // lets its subgraph calls share one read of them (AuthenticatedRequest.grantsPerRequest).
  const nameOperation = (oneExecution: boolean) => ({ args }: { args: { contextValue: unknown; document: DocumentNode; operationName?: string | null | undefined } }) => {
    const context = args.contextValue as Partial<GatewayRequestContext>;
    return context.credentials?.nameOperation(getOperationAST(args.document, args.operationName)?.name?.value, oneExecution);
  };
  return {
    onExecute: nameOperation(true),
    onSubscribe: nameOperation(false),
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      if (!isSubscriptionCall(executionRequest)) return;
      const credentials = (executionRequest.context as Partial<GatewayRequestContext> | undefined)?.credentials;
      // The client's own extensions stay here: the executor would merge an `extensions.connectionParams`
      // into the shared connection's parameters. Without credentials the subgraph refuses the operation.
      setExecutionRequest({ ...executionRequest, extensions: credentials ? { [CREDENTIALS_EXTENSION]: credentials.headers() } : {} });
    },
    onFetch({ context, options, setOptions }) {
      const credentials = 'credentials' in context ? context.credentials : undefined;
      // Without credentials the subgraph refuses the call; nothing is sent on anyone's behalf.
      if (!credentials) return;
      const request = 'request' in context ? (context.request as Request | undefined) : undefined;
      const minPosition = request?.headers.get(MIN_POSITION_HEADER);
      const merged = { ...options.headers, ...credentials.headers(), ...(minPosition && { [MIN_POSITION_HEADER]: minPosition }) };
      setOptions({ ...options, headers: merged });
    },
  };
}

const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !(value instanceof Uint8Array);

const isSubscriptionCall = (request: ExecutionRequest): boolean => (request.operationType ?? getOperationASTFromRequest(request).operation) === 'subscription';

/**
 * Hive's Prometheus plugin, except that a subscription's subgraph call is neither timed nor counted:
 * its "duration" is the subscription's lifetime, not a latency, and the hooks would wrap every event
 * of every subscriber in one more async iterator (measurably, per delivery). The errors its events
 * carry are counted with the client's results (`GatewayMetrics.countErrors`).
 */
function withoutSubscriptionCalls(plugin: GatewayPlugin<GatewayRequestContext>): GatewayPlugin<GatewayRequestContext> {
  const { onSubgraphExecute } = plugin;
  if (!onSubgraphExecute) return plugin;
  return { ...plugin, onSubgraphExecute: (payload) => (isSubscriptionCall(payload.executionRequest) ? undefined : onSubgraphExecute(payload)) };
}

/**
 * Calls to a subgraph of this process skip the socket (`GatewayServerOptions.inProcessSubgraphs`),
 * identical query calls of one caller in flight at once share one execution (`shared`), and the access
 * records of an execution's calls are awaited once, at its end.
 */
function useInProcessSubgraphs(fetches: Readonly<Record<string, SubgraphFetch>>, shared: SharedSubgraphCalls | undefined): GatewayPlugin<GatewayRequestContext> {
  // Executions of a client query. A mutation's own reads (the entities it returns) are never shared:
  // an identical call begun before its write would answer them with what was there before.
  const queries = new WeakSet<SubgraphCredentials>();
  return {
    onFetch({ url, options, context, executionRequest, setFetchFn }) {
      const fetch = fetches[url];
      // A body other than JSON text (a file upload's form) goes over HTTP.
      if (!fetch || (options.body !== undefined && typeof options.body !== 'string')) return;
      const call = (target: string, init: typeof options) => fetch(target, { ...(init.method && { method: init.method }), ...(init.headers && { headers: init.headers }), ...(typeof init.body === 'string' && { body: init.body }) });
      const credentials = 'credentials' in context ? context.credentials : undefined;
      // The subgraph's access records are awaited with the execution's, before its result leaves (`onExecute` below).
      const held = credentials && shared?.heldFor(credentials);
      const holding = (send: () => Promise<Response>) => (held ? holdingDurability(held, send) : send());
      const isQuery = credentials !== undefined && queries.has(credentials) && executionRequest !== undefined && (executionRequest.operationType ?? getOperationASTFromRequest(executionRequest).operation) === 'query';
      if (!shared || !credentials || !isQuery || typeof options.body !== 'string') {
        setFetchFn((target, init) => holding(() => call(target, init ?? {})));
        return;
      }
      const { body } = options;
      const minPosition = 'request' in context ? (context.request as Request | undefined)?.headers.get(MIN_POSITION_HEADER) : undefined;
      setFetchFn((target, init) => holding(() => shared.fetch({ url: target, body, credentials, minPosition }, () => call(target, init ?? {}))));
    },
    // The access records of an execution's in-process calls, and those written again for the calls it
    // shared, are written while it goes on and awaited once, before its result leaves: none of it is
    // served unless every one is durable.
    onExecute({ args }) {
      const credentials = (args.contextValue as Partial<GatewayRequestContext>).credentials;
      if (!shared || !credentials) return;
      if (getOperationAST(args.document, args.operationName)?.operation === 'query') queries.add(credentials);
      shared.hold(credentials);
      return {
        async onExecuteDone({ setResult }) {
          if (!(await shared.release(credentials))) setResult({ errors: [new AccessRecordNotWrittenError()] });
        },
      };
    },
  };
}

/** Takes what the runtime answered (the operation's type, its result, the response's status and type) into the request's `answer`. */
function useAnswerCapture(): GatewayPlugin<GatewayRequestContext> {
  return {
    onExecute({ args }) {
      const answer = (args.contextValue as Partial<GatewayRequestContext>).answer;
      if (!answer) return;
      answer.operation = getOperationAST(args.document, args.operationName)?.operation;
      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) answer.result = result;
        },
      };
    },
    onResponse({ response, serverContext }) {
      const answer = (serverContext as Partial<GatewayRequestContext>).answer;
      if (!answer) return;
      answer.status = response.status;
      answer.headers = [...response.headers].filter(([name]) => name !== 'content-length');
    },
  };
}

/**
 * A JSON body of declared length within the limit, read and parsed before the runtime sees the request,
 * which then takes it as parsed (its Node adapter uses `req.body`, as under Express): otherwise the
 * body passes two counting streams (the limits' and Yoga's own), there for bodies of unknown length,
 * which cost a small query more than its parse. HTTP framing holds a body to its declared length. A
 * body that is not a JSON object is handed on as read, for the runtime to refuse as before; a body of
 * undeclared length or over the limit is left to the limits.
 */
async function readDeclaredJson(req: IncomingMessage & { body?: unknown }, maxBytes: number): Promise<boolean> {
  const declared = req.headers['content-length'];
  if (req.method !== 'POST' || !(req.headers['content-type'] ?? '').includes('json') || declared === undefined || !/^\d+$/.test(declared)) return true;
  const length = Number(declared);
  if (length === 0 || length > maxBytes) return true;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch {
    return false;
  }
  const body = Buffer.concat(chunks);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length > 0;
  req.body = isObject ? parsed : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return true;
}

/**
 * Creates the gateway; validates the options first (a `ValidationError` lists every mistake).
 * Nothing listens until `listen()`.
 */
export function createGatewayServer(input: GatewayServerOptions): GatewayServer {
  const options = parseGatewayOptions(input);
  const baseLogger = input.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const logger = baseLogger.child({ component: 'gateway' });
  const client = clientTokenConfig(options.auth);
  const { assertionSecret } = options.auth;
  const subgraphs = supergraphSubgraphs(input.supergraph).map((s) => ({ name: s.name, url: options.subgraphUrls[s.name] ?? s.url }));
  if (subgraphs.length === 0) throw new Error('the supergraph names no subgraphs (no join__Graph values): compose it with `npm run compose`');

  const metrics = new GatewayMetrics();
  const sharedCalls = input.callSources && new SharedSubgraphCalls(input.callSources, metrics.sharedSubgraphCalls);
  const hiveLog = hiveLoggerOver(baseLogger.child({ component: 'gateway-runtime' }));
  const pages = createScreenPages();
  const runtime = createGatewayRuntime<GatewayRequestContext>({
    supergraph: input.supergraph,
    transports: { http: httpTransport, ws: subgraphWebSocketTransport },
    transportEntries: {
      ...Object.fromEntries(subgraphs.map((s) => [s.name, { location: s.url }])),
      // Apollo Server subgraphs refuse the default (SSE) subscription transport (DESIGN §7). One
      // graphql-ws connection per subgraph, opened without credentials, carries every caller's
      // subscriptions; each subscribe message carries its own caller's (useSubgraphCredentials).
      '*': {
        options: {
          // Identical subgraph calls in flight at once would otherwise share one answer (the executor
          // keys them by URL and body, before the credentials are added): one consumer would get what
          // was served under another's grants and masks, and leave no access record of its own. Calls
          // are shared per caller and grants instead, each with its own records (gateway/sharedCalls.ts).
          deduplicateInflightRequests: false,
          subscriptions: { kind: 'ws', location: GRAPHQL_PATH },
        },
      },
    },
    ...(options.queryPlanner === 'rust' && { unifiedGraphHandler }),
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: options.devMode ? { title: 'City Brain' } : false,
    renderGraphiQL: renderLocalGraphiQL,
    landingPage: false,
    ...(!options.devMode && { disableIntrospection: {} }),
    requestId: false,
    // Only configured origins, never the caller's reflected back with credentials.
    cors: options.corsOrigins.length ? { origin: options.corsOrigins, credentials: true } : false,
    maskedErrors: { maskError: maskWithRequestId(logger), errorMessage: 'Unexpected error.' },
    logging: hiveLog,
    plugins: () => [
      ...(options.devMode ? [] : [useNoSuggestions()]),
      withoutSubscriptionCalls(usePrometheus(prometheusOptions(metrics, hiveLog))),
      metrics.plugin(),
      useQueryLimits(options.limits),
      useSubgraphCredentials(),
      ...(input.inProcessSubgraphs ? [useInProcessSubgraphs(input.inProcessSubgraphs, sharedCalls)] : []),
      ...(input.answerSources ? [useAnswerCapture()] : []),
      useSubscriptionBuffer(options.limits.maxSubscriptionBuffer, (transport) => {
        metrics.countSlowConsumer(transport);
        logger.warn({ transport, maxSubscriptionBuffer: options.limits.maxSubscriptionBuffer }, 'disconnected a slow subscriber');
      }),
    ],
  });

  // The adapter's listener sends the response itself and merges extra server contexts into the
  // GraphQL context (its typings omit that third parameter).
  const serve = runtime.requestListener as unknown as (req: IncomingMessage, res: ServerResponse, context: GatewayRequestContext) => Promise<void>;
  const responses = input.answerSources && new ResponseCache(input.answerSources, metrics.responseCacheHits);

  async function checkSubgraphs(): Promise<SubgraphHealth[]> {
    return Promise.all(
      subgraphs.map(async ({ name, url }): Promise<SubgraphHealth> => {
        try {
          const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(options.readinessTimeoutMs) });
          await response.body?.cancel();
          return response.ok ? { name, url, ok: true } : { name, url, ok: false, error: `answered HTTP ${response.status}` };
        } catch (error) {
          return { name, url, ok: false, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The development GraphiQL page and CORS preflights run no operation; everything else needs a token.
    const wantsPage = options.devMode && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (wantsPage || req.method === 'OPTIONS') {
      await serve(req, res, { transport: 'http' });
      return;
    }
    let caller: Caller;
    let token: string;
    try {
      ({ caller, token } = await authenticateClient(req.headers, client));
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      const done = metrics.startRequest('http');
      const graphqlError = unauthenticatedError(error);
      metrics.countErrors([graphqlError]);
      logger.info({ reason: error.details.reason, remote: req.socket.remoteAddress }, 'refused an unauthenticated request');
      sendJson(res, 401, { errors: [graphqlError] }, { 'www-authenticate': 'Bearer realm="city-brain", error="invalid_token"' });
      done(undefined);
      return;
    }
    const credentials = new SubgraphCredentials(caller, token, assertionSecret);
    res.setHeader('x-request-id', credentials.requestId);
    // A client that went away while sending its body gets no answer.
    if (!(await readDeclaredJson(req, options.limits.maxBodyBytes))) return;
    const { requestId } = credentials;
    const body = (req as { body?: unknown }).body;
    if (!responses || !isJsonObject(body) || req.headers[MIN_POSITION_HEADER] !== undefined) {
      await requestScope.run({ requestId }, () => serve(req, res, { transport: 'http', credentials }));
      return;
    }
    const execute = async (): Promise<ExecutedAnswer> => {
      const answer: Partial<ExecutedAnswer> = {};
      await requestScope.run({ requestId }, () => serve(req, res, { transport: 'http', credentials, answer }));
      return { status: answer.status ?? 0, headers: answer.headers ?? [], operation: answer.operation, result: answer.result };
    };
    await responses.serve({ body, accept: req.headers.accept, origin: req.headers.origin, caller, requestId }, execute, (kept) => {
      const done = metrics.startRequest('http');
      res.writeHead(kept.status, { ...Object.fromEntries(kept.headers), 'content-length': String(Buffer.byteLength(kept.body)) });
      res.end(kept.body);
      done('query');
    });
  }

  let draining = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://gateway');
    switch (pathname) {
      case GRAPHQL_PATH:
        return handleGraphQL(req, res);
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        if (draining) return sendJson(res, 503, { status: 'draining' });
        const health = await checkSubgraphs();
        const ready = health.every((h) => h.ok);
        // Internal addresses are for the operator; anyone else learns only which subgraph is down.
        const shown = isOperator(req.headers.authorization, options.adminToken) ? health : health.map(({ name, ok }) => ({ name, ok }));
        return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', subgraphs: shown });
      }
      case '/metrics':
        return serveMetrics(res, metrics.registry);
      default: {
        const below = Object.keys(input.routes ?? {}).find((path) => path.endsWith('/') && pathname.startsWith(path) && pathname.length > path.length);
        const route = input.routes?.[pathname] ?? (below === undefined ? undefined : input.routes?.[below]);
        if (route) return route(req, res);
        if (await pages.handle(req, res, pathname)) return;
        return sendJson(res, 404, { error: `not found; GraphQL is served at ${GRAPHQL_PATH}, the operations screen at /` });
      }
    }
  }

  function attachWebSockets(server: ReturnType<typeof createServer>) {
    const wss = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: options.limits.maxBodyBytes });
    const callers = new WeakMap<WebSocket, { caller: Caller; token: string }>();
    const graphqlWs = getGraphQLWSOptions<GatewayRequestContext, { socket: WebSocket; request: IncomingMessage }>(runtime, async (ctx) => {
      const authenticated = callers.get(ctx.extra.socket);
      if (!authenticated) throw new Error('graphql-ws ran an operation on a connection that was never authenticated');
      const credentials = new SubgraphCredentials(authenticated.caller, authenticated.token, assertionSecret);
      const context: GatewayRequestContext & Record<string, unknown> = {
        transport: 'ws',
        credentials,
        req: ctx.extra.request,
        disconnect: (code, reason) => ctx.extra.socket.close(code, reason),
      };
      return context;
    });
    const disposable = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(
      {
        ...graphqlWs,
        // What is logged while an operation runs names its request id (maskWithRequestId, the runtime's lines).
        execute: (args) => inRequestScope(args.contextValue, () => graphqlWs.execute!(args)),
        subscribe: (args) => inRequestScope(args.contextValue, () => graphqlWs.subscribe!(args)),
        async onConnect(ctx) {
          try {
            callers.set(ctx.extra.socket, await authenticateClient(ctx.connectionParams ?? {}, client));
            return true;
          } catch (error) {
            if (!(error instanceof UnauthenticatedError)) throw error;
            metrics.countErrors([unauthenticatedError(error)]);
            logger.info({ reason: error.details.reason }, 'refused an unauthenticated graphql-ws connection');
            // 4401 is final for graphql-ws clients: they do not retry with the same credentials.
            ctx.extra.socket.close(CloseCode.Unauthorized, error.message.slice(0, 120));
            return false;
          }
        },
        onNext(_ctx, _id, _payload, _args, result) {
          metrics.countErrors(result.errors);
        },
      },
      wss,
    );
    return { close: () => closeWebSocketEndpoint(wss, disposable, { goingAway: true }) };
  }

  return {
    async listen(port = 0, host = '127.0.0.1') {
      // The runtime loads the supergraph on its first HTTP request; a graphql-ws client arriving first
      // would meet no schema ("Expected null to be a GraphQL schema"). Load it before listening.
      await runtime.getSchema();
      let inFlight = 0;
      let idle: (() => void) | undefined;
      const server = createServer((req, res) => {
        inFlight++;
        res.once('close', () => {
          inFlight--;
          if (inFlight === 0) idle?.();
        });
        handle(req, res).catch((error: unknown) => {
          logger.error({ err: error, requestId: res.getHeader('x-request-id') }, 'request failed');
          if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
          else res.destroy();
        });
      });
      const ws = attachWebSockets(server);
      const { origin, port: actualPort } = await listenOn(server, port, host);
      const url = `${origin}${GRAPHQL_PATH}`;
      logger.info({ url, subgraphs: subgraphs.map((s) => `${s.name} ${s.url}`), devMode: options.devMode }, 'gateway listening');
      let closing: Promise<void> | undefined;
      // Draining: no new connections, /readyz answers 503, subscribers are told the server is going
      // away (1001), and requests already running finish within drainTimeoutMs before connections are cut.
      const close = (): Promise<void> => {
        closing ??= (async () => {
          draining = true;
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          await ws.close();
          if (inFlight > 0) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, options.drainTimeoutMs);
              idle = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
          server.closeAllConnections();
          await stopped;
          await runtime.dispose();
        })();
        return closing;
      };
      return { url, port: actualPort, metrics, close, [Symbol.asyncDispose]: close };
    },
  };
}

/**
 * Closes `target` on SIGINT / SIGTERM, then exits. Hive's runtime listens for those signals itself
 * (to dispose of its transports), which stops Node's default exit: a process serving the gateway
 * must install this. A second signal exits at once.
 */
/** The request an operation serves, for the errors masked while it runs (the masking hook gets no context). */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

function inRequestScope<T>(contextValue: unknown, run: () => T): T {
  const requestId = (contextValue as Partial<GatewayRequestContext>).credentials?.requestId;
  return requestId === undefined ? run() : requestScope.run({ requestId }, run);
}

const HIVE_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error'] satisfies LogLevel[];

/**
 * Hive's runtime logging as pino JSON lines at pino's level (`fatal` and `silent` keep it quiet).
 * A line written while a request runs names its request id, the one the gateway sends back as
 * `x-request-id` and in the subgraph assertion (Hive's own request-id plugin is off: a client could
 * choose that id with a header).
 */
function hiveLoggerOver(logger: Logger): HiveLogger {
  const writer: LogWriter = {
    write(level, attrs, msg) {
      const requestId = requestScope.getStore()?.requestId;
      const fields = Array.isArray(attrs) ? { attrs } : (attrs ?? {});
      logger[level]({ ...fields, ...(requestId !== undefined && { requestId }) }, msg ?? undefined);
    },
  };
  return new HiveLogger({ level: HIVE_LEVELS.includes(logger.level) ? (logger.level as LogLevel) : false, writers: [writer] });
}

/**
 * Hive's Prometheus plugin on the gateway's registry: request duration per operation name and type,
 * each subgraph call per subgraph, the phases, errors and outgoing fetches. Operation names are chosen
 * by clients, so only these two histograms carry them, capped (`operationLabel`); the HTTP histogram
 * is off, as its `url` label would hold every GET query's text.
 */
function prometheusOptions(metrics: GatewayMetrics, log: HiveLogger): Parameters<typeof usePrometheus>[0] {
  const registry = metrics.registry;
  // `labels.operationName: false` below leaves the name out of the params too: it is read again here,
  // as envelop does (the client's `operationName`, else the document's first operation).
  const clientOperation = (document: DocumentNode | undefined, context: unknown) => {
    const named = (context as { params?: { operationName?: string | null } } | undefined)?.params?.operationName;
    return operationLabel(named || (document && getOperationAST(document)?.name?.value));
  };
  // A subgraph call is labelled with the client's operation that made it (the planner's subgraph queries are anonymous).
  const callerOperation = (request: ExecutionRequest) => operationLabel((request.context as Partial<GatewayRequestContext> | undefined)?.credentials?.clientOperationName);
  return {
    registry,
    log,
    endpoint: false,
    labels: { operationName: false, path: false },
    metrics: {
      graphql_yoga_http_duration: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      // Not in the subscribe phase (one more async iterator around each delivery): the errors of
      // subscription events are counted with the client's results (`GatewayMetrics.countErrors`).
      graphql_envelop_error_result: ['parse', 'validate', 'context', 'execute'],
      graphql_envelop_request_duration: createHistogram<'execute' | 'subscribe', 'operationName' | 'operationType', FillLabelsFnParams>({
        registry,
        histogram: { name: 'graphql_envelop_request_duration', help: 'Time to execute a GraphQL operation, by operation name and type', labelNames: ['operationName', 'operationType'], buckets: LATENCY_BUCKETS },
        fillLabelsFn: ({ document, operationType }, context) => ({ operationName: clientOperation(document, context), operationType: operationType ?? 'unknown' }),
        phases: ['execute', 'subscribe'],
      }),
      graphql_gateway_subgraph_execute_duration: createHistogram<'subgraphExecute', 'subgraphName' | 'operationName' | 'operationType', { subgraphName: string; executionRequest: ExecutionRequest }>({
        registry,
        histogram: { name: 'graphql_gateway_subgraph_execute_duration', help: 'Time spent on each subgraph call, by subgraph and the operation that made it', labelNames: ['subgraphName', 'operationName', 'operationType'], buckets: LATENCY_BUCKETS },
        fillLabelsFn: ({ subgraphName, executionRequest }) => ({ subgraphName, operationName: callerOperation(executionRequest), operationType: executionRequest.operationType ?? 'query' }),
        phases: ['subgraphExecute'],
      }),
    },
  };
}

/**
 * The gateway's own internal errors (the subgraphs name theirs themselves, kit/errors.ts): masked
 * for the client, which gets `extensions.requestId` to quote, and logged whole under the same id.
 */
function maskWithRequestId(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const masked = maskSubgraphOutage(error, message, isDev);
    if (!(masked instanceof GraphQLError) || masked.extensions.code !== 'INTERNAL_SERVER_ERROR' || masked === error) return masked;
    const requestId = requestScope.getStore()?.requestId;
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    logger.error({ err: original, requestId, path: masked.path }, 'internal error while serving a request');
    if (requestId === undefined) return masked;
    return new GraphQLError(masked.message, { nodes: masked.nodes, path: masked.path, extensions: { ...masked.extensions, requestId } });
  };
}

/**
 * Errors are masked (no internals leak), except a subgraph that cannot be reached: the client is
 * told which one, so partial data comes with an error a person can act on.
 */
function maskSubgraphOutage(error: unknown, message: string, isDev?: boolean): Error {
  // The Rust planner's executor hands a subgraph's errors on as formatted errors (plain objects),
  // not GraphQLErrors: they are the subgraph's own answer, already masked there, so they pass as is.
  if (isFormattedError(error)) {
    return new GraphQLError(error.message, { path: error.path, extensions: error.extensions });
  }
  for (let e: unknown = error; e instanceof GraphQLError; e = e.originalError) {
    if (e.extensions.code === 'SUBREQUEST_HTTP_ERROR') {
      const subgraph = typeof e.extensions.serviceName === 'string' ? e.extensions.serviceName : 'a';
      return new GraphQLError(`the ${subgraph} subgraph is unavailable; its fields are null in this answer`, {
        ...(error instanceof GraphQLError && { nodes: error.nodes, path: error.path }),
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph },
      });
    }
  }
  return maskError(error, message, isDev);
}

function isFormattedError(error: unknown): error is GraphQLFormattedError & { extensions: { code: string } } {
  if (error === null || typeof error !== 'object' || error instanceof Error) return false;
  const { message, extensions } = error as Partial<GraphQLFormattedError>;
  return typeof message === 'string' && typeof extensions?.code === 'string';
}

export function closeOnSignals(target: { close(): Promise<void> }, logger?: Logger): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger?.info({ signal }, 'shutting down');
    target.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger?.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
