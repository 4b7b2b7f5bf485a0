/**
 * The composition root of the graph: given an open `SubgraphRuntime` (store, read models, clock,
 * logger), the subgraph modules to host and the access control, start every module's subgraph
 * server and the gateway in front of them. `npm start` hosts everything in one process this way; the
 * e2e specs and the gateway bench start a graph per scenario on random ports.
 */
import type { Logger } from 'pino';
import { clientTokenConfig, parseGatewayOptions, type GatewayAuthInput, type GatewayOptionsInput } from '../gateway/config.ts';
import type { GatewayLimitsInput } from '../gateway/limits.ts';
import { createGatewayServer, type GatewayServerOptions, type ListeningGateway } from '../gateway/server.ts';
import { defaultSubgraphPort, type SubgraphName } from '../platform/subgraphs.ts';
import { composeSupergraph, composeSupergraphCached } from '../schema/compose.ts';
import type { AccessControl } from '../subgraphs/kit/access.ts';
import type { SubgraphModule, SubgraphRuntime } from '../subgraphs/kit/module.ts';
import { createSubgraphServer, type ListeningSubgraph, type SubgraphFetch } from '../subgraphs/kit/server.ts';
import { answerSources, callSources, notingReads } from '../subgraphs/kit/answerReads.ts';
import { consumerStreamId } from '../subgraphs/governance/consumer/events.ts';

export const DEFAULT_GATEWAY_PORT = 4000;

export interface GraphOptions {
  runtime: SubgraphRuntime;
  /** The subgraphs to host, each once. */
  modules: readonly SubgraphModule[];
  /** Client-token keys and the gateway assertion secret (gateway/config.ts); subgraphs verify with the same. */
  auth: GatewayAuthInput;
  /** Grants and the access recorder every subgraph enforces (`createGovernanceAccess(runtime)`). */
  access: AccessControl;
  /**
   * `'random'`: every server on a free port (tests, bench). Otherwise each port, defaulting to the
   * gateway's 4000 and each subgraph's port in platform/subgraphs.ts.
   */
  ports?: 'random' | { gateway?: number; subgraphs?: Partial<Record<SubgraphName, number>> };
  /** @default 127.0.0.1 */
  host?: string;
  limits?: GatewayLimitsInput;
  /** Introspection and GraphiQL at the gateway (and introspection at the subgraphs). @default false */
  devMode?: boolean;
  logger?: Logger;
  /** More routes at the gateway (the operator's admin endpoint, cli/admin.ts). */
  routes?: GatewayServerOptions['routes'];
  /**
   * A file keeping the composed supergraph for the next start (`composeSupergraphCached`): the
   * subgraphs' ports change, what they compose does not. @default composed on every start
   */
  supergraphCache?: string;
  /** The gateway's CORS origins, operator token, drain time and query planner (gateway/config.ts). */
  gateway?: Pick<GatewayOptionsInput, 'corsOrigins' | 'adminToken' | 'drainTimeoutMs' | 'queryPlanner'>;
  /** Keep answers of queries and serve them again while they hold (gateway/responseCache.ts). @default true */
  responseCache?: boolean;
}

export interface RunningGraph {
  /** The gateway's `http://host:port/graphql`. */
  url: string;
  /** Each hosted subgraph's `/graphql` URL. */
  subgraphs: Partial<Record<SubgraphName, string>>;
  /** Each hosted subgraph's `/graphql` answered in this process, as the gateway calls it. */
  inProcess: Partial<Record<SubgraphName, SubgraphFetch>>;
  gateway: ListeningGateway;
  /** Closes the gateway, then the subgraphs; the runtime and the access control stay open (the caller's). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startGraph(options: GraphOptions): Promise<RunningGraph> {
  const names = options.modules.map((m) => m.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice) throw new Error(`subgraph ${twice} is given twice: host each module once`);
  if (names.length === 0) throw new Error('no subgraph modules to start');
  // Fail on a configuration mistake before any port is opened.
  const auth = parseGatewayOptions({ auth: options.auth, limits: options.limits ?? {} }).auth;
  const host = options.host ?? '127.0.0.1';
  const ports = options.ports ?? {};
  const portOf = (name: SubgraphName) => (ports === 'random' ? 0 : (ports.subgraphs?.[name] ?? defaultSubgraphPort(name)));

  // The resolvers read through ports that note each read in the request that made it, for the response cache.
  const sources = options.responseCache === false ? undefined : answerSources({ access: options.access, runtime: options.runtime, readModelNames: options.modules.flatMap((m) => m.projections.map((p) => p.name)) });
  // A consumer's stream (registration, grants, jurisdiction) holds no personal data: `me` may be kept by its revision.
  const consumerStreams = consumerStreamId('');
  const resolverRuntime = sources ? notingReads(options.runtime, (streamId) => streamId.startsWith(consumerStreams)) : options.runtime;
  const started: ListeningSubgraph[] = [];
  const closeSubgraphs = () => Promise.all(started.map((s) => s.close())).then(() => undefined);
  try {
    const urls: Partial<Record<SubgraphName, string>> = {};
    const inProcess: Partial<Record<SubgraphName, SubgraphFetch>> = {};
    for (const module of options.modules) {
      const server = createSubgraphServer({
        name: module.name,
        typeDefs: module.typeDefs,
        resolvers: module.resolvers(resolverRuntime),
        auth: { client: clientTokenConfig(auth), assertionSecret: auth.assertionSecret },
        access: options.access,
        now: options.runtime.now,
        logger: options.runtime.logger,
        devMode: options.devMode ?? false,
        readAfterWrite: { readModels: options.runtime.readModels, projections: module.projections.map((p) => p.name) },
      });
      const listening = await server.listen(portOf(module.name), host);
      started.push(listening);
      urls[module.name] = listening.url;
      inProcess[module.name] = listening.fetch;
    }
    // Composed from the modules actually hosted, at the URLs they actually listen on: the checked-in
    // schema/supergraph.graphql is the same composition at the default ports (scripts/compose.ts).
    const subgraphs = options.modules.map((m) => ({ name: m.name, url: urls[m.name] ?? '', typeDefs: m.typeDefs }));
    const supergraph = options.supergraphCache === undefined ? composeSupergraph(subgraphs) : composeSupergraphCached(subgraphs, options.supergraphCache);
    const gateway = await createGatewayServer({
      supergraph,
      auth: options.auth,
      limits: options.limits ?? {},
      devMode: options.devMode ?? false,
      ...(options.logger && { logger: options.logger }),
      ...(options.routes && { routes: options.routes }),
      // The gateway reaches its subgraphs without loopback sockets (and their HTTP and TCP work).
      inProcessSubgraphs: Object.fromEntries(started.map((s) => [s.url, s.fetch])),
      ...(sources && { answerSources: sources }),
      // Identical query calls of one caller in flight at once share one execution, each request with its own access records.
      callSources: sources ?? callSources({ access: options.access, now: () => options.runtime.now() }),
      ...options.gateway,
    }).listen(ports === 'random' ? 0 : (ports.gateway ?? DEFAULT_GATEWAY_PORT), host);
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= gateway.close().finally(closeSubgraphs);
      return closing;
    };
    return { url: gateway.url, subgraphs: urls, inProcess, gateway, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await closeSubgraphs();
    throw error;
  }
}
