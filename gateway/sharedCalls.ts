/**
 * Identical subgraph calls of one caller in flight at once share one execution, as a bare gateway
 * shares identical calls (the executor's `deduplicateInflightRequests`) — but only among requests
 * of the same caller under the same grants, each leaving its own access records.
 *
 * The executor's own sharing is off (gateway/server.ts): it keys a call by its URL and body before the
 * credentials are added, so one consumer got another's answer — its grants, its masks — and left no
 * access record. Here a call is shared only when all of these are the same:
 * - the subgraph URL and the body as sent (the planner's operation and its variables);
 * - the caller: consumer, role, name, user and token;
 * - its principal — grants valid now and jurisdiction — read fresh for each request (the read the
 *   request's subgraph calls then share), so a revoked grant is never served from a call read before;
 * - the client's operation name (the access record names it) and its `x-min-position`.
 * Only queries, and only calls to subgraphs hosted in this process: their access records are collected
 * as the call writes them, and written again as each sharing request's (its id, its instant), durable
 * before its answer leaves: within an execution that holds them (`hold`), all are awaited at its end,
 * and if one could not be written the execution answers an error instead of its data; otherwise each
 * is awaited as the call answers, and the request makes its own call if it could not be written. When
 * the shared call failed or answered errors, the others make their own calls.
 */
import type { Counter } from 'prom-client';
import type { Caller } from '../platform/auth.ts';
import type { CallSources } from '../subgraphs/kit/answerReads.ts';
import type { KeptAccessRecord } from '../subgraphs/kit/audit.ts';
import type { SubgraphCredentials } from './credentials.ts';

/** Who is asking, as far as an answer may depend on it: the same in every key that shares an answer. */
export function callerIdentity(caller: Caller): readonly unknown[] {
  return [caller.consumerId, caller.role, caller.name ?? null, caller.userId ?? null, caller.tokenId];
}

interface CallAnswer {
  status: number;
  headers: readonly (readonly [string, string])[];
  body: string;
  records: readonly KeptAccessRecord[];
}

export interface SubgraphCall {
  url: string;
  body: string;
  credentials: SubgraphCredentials;
  minPosition: string | null | undefined;
}

export class SharedSubgraphCalls {
  private readonly inFlight = new Map<string, Promise<CallAnswer | undefined>>();
  /** Each request's principal as text, read once for all its calls. */
  private readonly principals = new WeakMap<SubgraphCredentials, Promise<string>>();
  /** The records being written again for an execution that holds them (`hold`): awaited together at its end. */
  private readonly held = new WeakMap<SubgraphCredentials, Promise<boolean>[]>();

  constructor(
    private readonly sources: CallSources,
    private readonly shared: Counter,
  ) {}

  /** Answers `call` with the answer of an identical call of the same caller in flight, else runs `fetch` and shares it. */
  async fetch(call: SubgraphCall, fetch: () => Promise<Response>): Promise<Response> {
    const { credentials } = call;
    let principal: string;
    try {
      principal = await this.principalOf(credentials);
    } catch {
      // The subgraph reads it again, and answers the failure as it would any other.
      return fetch();
    }
    const key = JSON.stringify([call.url, call.body, callerIdentity(credentials.caller), principal, credentials.clientOperationName ?? null, call.minPosition ?? null]);
    const running = this.inFlight.get(key);
    if (running) {
      const answer = await running;
      if (!answer) return fetch();
      const written = this.recordAgain(answer.records, credentials.requestId);
      const held = this.held.get(credentials);
      // Held: the execution goes on while they are written, and waits for them once, at its end.
      if (held) held.push(written);
      else if (!(await written)) return fetch();
      this.shared.inc();
      return responseOf(answer);
    }
    const answered = this.sources.trackCall(async () => {
      const response = await fetch();
      return { status: response.status, headers: [...response.headers], body: await response.text() };
    });
    // An answer with errors is not shared: an internal error names the request it happened in
    // (`extensions.requestId`), which is the caller's to quote. (Text that merely holds "errors" is not shared either.)
    const shared = answered.then(
      ({ value, records }): CallAnswer | undefined => (value.status === 200 && !value.body.includes('"errors"') ? { ...value, records } : undefined),
      () => undefined,
    );
    this.inFlight.set(key, shared);
    try {
      const { value } = await answered;
      return responseOf({ ...value, records: [] });
    } finally {
      if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
    }
  }

  /**
   * From now until `release`, the records of the calls `credentials` shares, and those its in-process
   * calls write (`heldFor`), are written while its execution goes on, not awaited call by call: one
   * wait at its end instead of one per level of the plan.
   */
  hold(credentials: SubgraphCredentials): void {
    this.held.set(credentials, []);
  }

  /** The durability of the records `credentials`'s execution holds (`hold`), for its other in-process calls to add theirs to (audit.ts `holdingDurability`); none when it holds none. */
  heldFor(credentials: SubgraphCredentials): Promise<boolean>[] | undefined {
    return this.held.get(credentials);
  }

  /** Waits for the records held since `hold`; false when one could not be written (then nothing of the execution may be served). */
  async release(credentials: SubgraphCredentials): Promise<boolean> {
    const held = this.held.get(credentials) ?? [];
    this.held.delete(credentials);
    return (await Promise.all(held)).every(Boolean);
  }

  private principalOf(credentials: SubgraphCredentials): Promise<string> {
    let principal = this.principals.get(credentials);
    if (!principal) {
      principal = this.sources.principal(credentials.caller, credentials.requestId);
      this.principals.set(credentials, principal);
      // A failed read is not kept: the next call of the request reads again.
      principal.catch(() => this.principals.delete(credentials));
    }
    return principal;
  }

  private recordAgain(records: readonly KeptAccessRecord[], requestId: string): Promise<boolean> {
    return this.sources.recordAgain(records, requestId, this.sources.now()).then(
      () => true,
      () => false,
    );
  }
}

function responseOf(answer: CallAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers as [string, string][] });
}
