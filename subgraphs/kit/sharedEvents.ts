/**
 * Subscription events that reach many subscriptions as one object — the event feed hands every feed
 * holding the same grants the same root value for an event — are executed once per operation, not
 * once per subscription: the result and what its execution marked as served (the access record's
 * content) are kept beside the value and reused by every other subscription running the same
 * operation text with the same variables. Each subscription still gets its own access record.
 *
 * Whoever marks a value shared promises that executing an operation on it depends on nothing but
 * the value, the operation and its variables: everything the caller's grants decide is already
 * decided in the value (the feed decides each event once per set of grants).
 */
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { RequestAccess, ServedData } from './access.ts';

const shared = new WeakSet<object>();

/** Executions of shared events run, and reused by another subscription (for tests and operators). */
export const sharedExecutionStats = { executed: 0, reused: 0 };

/** Marks a subscription root value as executed once per operation (see the module's comment). */
export function markShared<T extends object>(value: T): T {
  shared.add(value);
  return value;
}

interface Execution {
  result: ExecutionResult;
  served: ServedData;
}

/** Per shared value (held as long as the value is), its executions by operation key. */
const executions = new WeakMap<object, Map<string, Execution>>();

const copyServed = (s: ServedData): ServedData => ({
  resources: new Set(s.resources),
  grantIds: new Set(s.grantIds),
  purposes: new Set(s.purposes),
  subjectIds: new Set(s.subjectIds),
  eventIds: new Set(s.eventIds),
});
const SERVED_KEYS = ['resources', 'grantIds', 'purposes', 'subjectIds', 'eventIds'] as const;

function addServed(into: ServedData, from: ServedData): void {
  for (const key of SERVED_KEYS) for (const value of from[key]) into[key].add(value);
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> => typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * graphql-js's `subscribe`, executing each event in turn as it is pulled (so one event's marks are
 * taken before the next one's execution starts), but a shared event only once per `operationKey`.
 * `access` is the subscription's: a reused execution adds its marks there.
 */
export async function subscribeSharing(
  args: ExecutionArgs,
  operationKey: string,
  access: RequestAccess,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream as ExecutionResult;
  const events = stream[Symbol.asyncIterator]();

  const executeEvent = async (payload: unknown): Promise<ExecutionResult> => {
    if (typeof payload !== 'object' || payload === null || !shared.has(payload)) return execute({ ...args, rootValue: payload });
    const known = executions.get(payload)?.get(operationKey);
    // Marks already taken before this event (the subscription's own, at its start) are not the event's.
    const clean = SERVED_KEYS.every((key) => access.served[key].size === 0);
    if (known) {
      sharedExecutionStats.reused++;
      // Nothing marked yet: the subscription holds the execution's marks themselves, so its access
      // record's lists are derived once for all of them (`audit.ts`). Nothing marks them afterwards:
      // the server takes the record and replaces them (`reset()`) before the next event.
      if (clean) access.served = known.served;
      else addServed(access.served, known.served);
      return known.result;
    }
    const executed = execute({ ...args, rootValue: payload });
    sharedExecutionStats.executed++;
    // Kept in the same turn when execution is synchronous: the other subscriptions run theirs next.
    const result = executed instanceof Promise ? await executed : executed;
    // A result with errors may depend on the caller (a refusal names it): never reused.
    if (clean && !result.errors) {
      let byOperation = executions.get(payload);
      if (!byOperation) executions.set(payload, (byOperation = new Map()));
      byOperation.set(operationKey, { result, served: copyServed(access.served) });
    }
    return result;
  };

  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const step = await events.next();
      if (step.done) return { value: undefined, done: true };
      try {
        return { value: await executeEvent(step.value), done: false };
      } catch (error) {
        await events.return?.();
        throw error;
      }
    },
    async return() {
      await events.return?.();
      return { value: undefined, done: true };
    },
  };
  return iterator;
}
