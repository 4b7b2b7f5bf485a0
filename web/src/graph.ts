/**
 * The screen's client of the public graph: `POST /graphql` with the bearer token, and graphql-ws on
 * the same path. It first asks `me` which grants the token's consumer holds, and the views ask only
 * for the resources an active READ grant covers. A field refused all the same (a grant revoked since)
 * comes back null with a FORBIDDEN error naming its resource; the client remembers that too.
 */
import { createClient, type Client } from 'graphql-ws';

export const GRAPHQL_PATH = '/graphql';

export interface GraphError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

export interface Answer<Data> {
  data: Data;
  errors: GraphError[];
}

/** The gateway refused the token itself (HTTP 401, graphql-ws close 4401): the page must sign in again. */
export class SignInRequired extends Error {
  constructor(readonly reason: string) {
    super(signInMessage(reason));
    this.name = 'SignInRequired';
  }
}

/** What a person is told when the gateway refuses their token (its `extensions.reason`). */
export function signInMessage(reason: string): string {
  switch (reason) {
    case 'expired':
      return '登录已过期：令牌已失效，请重新获取令牌后登录。';
    case 'missing':
      return '请先登录：访问城市数据需要令牌。';
    case 'revoked':
      return '令牌已被吊销，请向授权管理员重新申请。';
    default:
      return `令牌无效（${reason}），无法登录：请核对令牌，或向授权管理员重新申请。`;
  }
}

/** Who the graph says the caller is (`me`). */
export interface Caller {
  consumerId: string;
  role: string;
  name: string | null;
  registered: boolean;
  /** Resources an ACTIVE grant with READ covers. */
  readable: Set<string>;
}

interface MeAnswer {
  me: {
    consumerId: string;
    role: string;
    name: string | null;
    registered: boolean;
    grants: { status: string; actions: string[]; resources: { name: string }[] }[];
  } | null;
}

const ME = 'query ScreenCaller { me { consumerId role name registered grants { status actions resources { name } } } }';

/** Served to every authenticated caller without a grant. */
const PUBLIC_RESOURCE = 'public';

export class Graph {
  /** Resources this token was refused (FORBIDDEN naming them): views leave their fields out. */
  readonly refused = new Set<string>();
  private readonly listeners = new Set<() => void>();
  /** Set by `identify`; until then every resource is tried and refusals are learned. */
  private caller: Caller | null = null;

  constructor(readonly token: string) {}

  /** Asks the graph who the token's caller is and what it may read. */
  async identify(): Promise<Caller> {
    const { data } = await this.query<MeAnswer>(ME);
    if (!data.me) throw new Error('the graph did not say who the caller is');
    const readable = new Set(
      data.me.grants.filter((g) => g.status === 'ACTIVE' && g.actions.includes('READ')).flatMap((g) => g.resources.map((r) => r.name)),
    );
    this.caller = { consumerId: data.me.consumerId, role: data.me.role, name: data.me.name, registered: data.me.registered, readable };
    return this.caller;
  }

  allows(resource: string): boolean {
    if (this.refused.has(resource)) return false;
    return resource === PUBLIC_RESOURCE || !this.caller || this.caller.readable.has(resource);
  }

  /** Called when a resource is refused for the first time (a view may then drop a whole panel). */
  onRefusal(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async query<Data>(query: string, variables: Record<string, unknown> = {}): Promise<Answer<Data>> {
    const response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json().catch(() => ({}))) as { data?: Data | null; errors?: GraphError[] };
    const errors = body.errors ?? [];
    if (response.status === 401) throw new SignInRequired(String(errors[0]?.extensions?.reason ?? 'invalid'));
    this.learn(errors);
    if (!body.data) throw new Error(errors.map((e) => e.message).join('; ') || `HTTP ${response.status}`);
    return { data: body.data, errors };
  }

  /** Records the resources named by FORBIDDEN errors. */
  learn(errors: readonly GraphError[]): void {
    let learned = false;
    for (const error of errors) {
      const resource = error.extensions?.resource;
      if (error.extensions?.code === 'FORBIDDEN' && typeof resource === 'string' && !this.refused.has(resource)) {
        this.refused.add(resource);
        learned = true;
      }
    }
    if (learned) for (const listener of this.listeners) listener();
  }

  /**
   * A graphql-ws connection that does not reconnect by itself: a re-subscription must carry the last
   * position seen (live.ts), which the client's own retry would not update.
   */
  connect(onSignInRequired: (error: SignInRequired) => void): Client {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`;
    return createClient({
      url,
      connectionParams: { authorization: `Bearer ${this.token}` },
      retryAttempts: 0,
      lazy: true,
      keepAlive: 10_000,
      on: {
        closed: (event) => {
          const { code, reason } = event as CloseEvent;
          if (code === 4401) onSignInRequired(new SignInRequired(/expired/i.test(reason) ? 'expired' : 'invalid'));
        },
      },
    });
  }
}

/** A field's selection when the token may read `resource`, else nothing. */
export const when = (graph: Graph, resource: string, selection: string): string => (graph.allows(resource) ? selection : '');
