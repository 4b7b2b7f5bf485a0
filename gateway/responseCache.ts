/**
 * Answers of queries kept and served again to the same caller while nothing they were
 * read from has changed: the operations screen's twenty clients ask the same few queries again and
 * again, and an answer served whole skips the runtime, the planner and every subgraph execution.
 *
 * Only when the gateway hosts its subgraphs in its own process (bin/graph.ts gives it their
 * `AnswerSources`). An answer is served again only when all of these are what they were when it was
 * read:
 * - the request: its body as sent (document, variables, operation name, extensions), its `Accept`
 *   and its `Origin` (the answer's headers are sent again with it);
 * - the caller: consumer, role, name, user and token, and its principal — grants valid now and
 *   jurisdiction, read fresh for every request (a revoked or expired grant changes it at once, and a
 *   masked grant never meets an answer read under a clear one);
 * - when the execution read the clock, the clock's second (figures such as overdue cases change
 *   with the clock alone), or, when every figure it read from the clock said when it next changes
 *   (a date at midnight, a count of passed deadlines at the next deadline), until the first of these;
 * - the version of every read model the execution read (a projection that applied events, or a
 *   rebuild swapped in, moves it), and the revision of every stream it folded whole (the caller's
 *   consumer stream, for `me`: a grant given, even one not valid yet, moves it). An execution that
 *   read the event log otherwise or the database itself is not kept, nor an answer with errors, nor anything but a query, nor a request that waits for a
 *   position (`x-min-position`).
 * Every answer served again leaves the access records of the execution it came from, rewritten as
 * this request's (its id, its instant), durable before the answer leaves; if they cannot be
 * written, the request is executed as if nothing were kept.
 *
 * Why not Envelop's response cache: it serves from inside the runtime's pipeline with no hook to
 * record a hit in the subgraphs' names, its key cannot see the read models' versions, and it adds
 * `__typename` and `id` to every selection sent to the subgraphs to track entities.
 */
import type { Counter } from 'prom-client';
import type { Caller } from '../platform/auth.ts';
import type { AnswerSources, ExecutionReads } from '../subgraphs/kit/answerReads.ts';
import type { KeptAccessRecord } from '../subgraphs/kit/audit.ts';
import { callerIdentity } from './sharedCalls.ts';

/** What the runtime answered one request, as the gateway captured it. */
export interface ExecutedAnswer {
  status: number;
  /** The response's headers but its length (content type, CORS headers for the request's `Origin`). */
  headers: readonly (readonly [string, string])[];
  /** The operation's type (`query`, `mutation`, …), when one was executed. */
  operation: string | undefined;
  /** The result as executed; kept only without errors. */
  result: { errors?: readonly unknown[] } | undefined;
}

interface KeptAnswer {
  status: number;
  headers: readonly (readonly [string, string])[];
  body: string;
  /** The read models the execution read, and their versions before it began. */
  versions: readonly (readonly [string, string])[];
  /** The streams the execution folded whole, each with the revision it folded. */
  streams: readonly (readonly [string, number])[];
  records: readonly KeptAccessRecord[];
  /** When the execution read the clock, the instants (ms) between which what it read holds: from the second of its latest reading to the first change. */
  clock: { from: number; until: number } | undefined;
}

export interface CacheableRequest {
  /** The parsed JSON body. */
  body: unknown;
  accept: string | undefined;
  /** The CORS headers answer it. */
  origin: string | undefined;
  caller: Caller;
  requestId: string;
}

/** Answers kept at once; past it the oldest goes first. */
const MAX_ANSWERS = 256;

export class ResponseCache {
  private readonly kept = new Map<string, KeptAnswer>();
  /** Requests (body, `Accept`, `Origin`, caller) whose last execution read beyond the read models: never kept. */
  private readonly readBeyond = new Set<string>();
  /** Executions in flight by key: identical requests arriving meanwhile wait for them. */
  private readonly executing = new Map<string, Promise<KeptAnswer | undefined>>();

  constructor(
    private readonly sources: AnswerSources,
    private readonly hits: Counter,
  ) {}

  /**
   * Sends a kept answer that holds for `request` now (`send`), or runs `execute` (the runtime
   * answering the request itself) and keeps what it answered when that may be served again.
   */
  async serve(request: CacheableRequest, execute: () => Promise<ExecutedAnswer | undefined>, send: (answer: { status: number; headers: KeptAnswer['headers']; body: string }) => void): Promise<void> {
    const { caller, requestId } = request;
    const asked = JSON.stringify([request.body, request.accept ?? null, request.origin ?? null, callerIdentity(caller)]);
    // A request whose execution read the event log last time is executed as if nothing were kept,
    // without the lookup's reads (the consumer's `me` on every page load).
    if (this.readBeyond.has(asked)) {
      await execute();
      return;
    }
    const [principal, versions] = await Promise.all([this.sources.principal(caller, requestId), this.sources.versions()]);
    const at = this.sources.now().getTime();
    const key = JSON.stringify([asked, principal]);
    // An execution in flight is waited for, and then the one a waiter before this one started when
    // that answer did not hold (the clock moved past it): identical requests execute one at a time, never
    // all together. No await unless one is executing, so requests of the same turn find the first.
    let executing = this.executing.get(key);
    let kept = executing ? undefined : this.kept.get(key);
    while (executing && !(kept && holds(kept, versions, at))) {
      const awaited: Promise<KeptAnswer | undefined> = executing;
      kept = await awaited;
      const next = this.executing.get(key);
      executing = next === awaited ? undefined : next;
    }
    if (kept && holds(kept, versions, at) && (await this.streamsHold(kept)) && (await this.recordAgain(kept, requestId))) {
      this.hits.inc();
      send(kept);
      return;
    }
    const executed = this.sources.track(requestId, execute).then(({ value, reads, records }) => {
      if (reads.beyondReadModels) {
        if (this.readBeyond.size >= MAX_ANSWERS) this.readBeyond.delete(this.readBeyond.values().next().value!);
        this.readBeyond.add(asked);
      }
      return keepable(value, reads, records, versions);
    });
    const keptNow = executed.then(
      (answer) => answer,
      () => undefined,
    );
    this.executing.set(key, keptNow);
    try {
      const answer = await executed;
      if (answer) {
        if (this.kept.size >= MAX_ANSWERS) this.kept.delete(this.kept.keys().next().value!);
        this.kept.set(key, answer);
      }
    } finally {
      if (this.executing.get(key) === keptNow) this.executing.delete(key);
    }
  }

  /** Every stream the kept answer folded is still at the revision it folded. */
  private async streamsHold(kept: KeptAnswer): Promise<boolean> {
    if (kept.streams.length === 0) return true;
    const now = await this.sources.streamRevisions(kept.streams.map(([id]) => id));
    return kept.streams.every(([, revision], i) => now[i] === revision);
  }

  private recordAgain(kept: KeptAnswer, requestId: string): Promise<boolean> {
    return this.sources.recordAgain(kept.records, requestId, this.sources.now()).then(
      () => true,
      () => false,
    );
  }
}

/** The kept answer still holds when every read model it was read from is at the same version now, and the clock, if it was read, within what it read holds for. */
function holds(kept: KeptAnswer, versions: ReadonlyMap<string, string | undefined>, at: number): boolean {
  return (kept.clock === undefined || (kept.clock.from <= at && at < kept.clock.until)) && kept.versions.every(([name, version]) => versions.get(name) === version);
}

function keepable(answer: ExecutedAnswer | undefined, reads: ExecutionReads, records: readonly KeptAccessRecord[], versions: ReadonlyMap<string, string | undefined>): KeptAnswer | undefined {
  if (!answer?.result || answer.status !== 200 || answer.operation !== 'query' || answer.result.errors?.length || reads.beyondReadModels) return undefined;
  // Read across a change of what it read from the clock (two seconds, or past a figure's change): no one instant's answer.
  const clock = reads.clockWindow();
  if (clock && clock.from >= clock.until) return undefined;
  const readVersions: [string, string][] = [];
  for (const name of reads.readModels) {
    const version = versions.get(name);
    // A read model not hosted here, or not built yet: nothing says when it changes.
    if (version === undefined) return undefined;
    readVersions.push([name, version]);
  }
  return { status: answer.status, headers: answer.headers, body: JSON.stringify(answer.result), versions: readVersions, streams: [...reads.streams], records, clock };
}
