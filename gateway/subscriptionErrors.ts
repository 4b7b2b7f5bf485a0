/**
 * Each subscription event carries its own errors, and only its own. The Rust planner's executor
 * (`@graphql-hive/router-runtime` 1.4) keeps one errors array per subscription: every event's result
 * points at it, and the errors of later events (a grant revoked meanwhile, an entity fetch refused)
 * are pushed into it. So an event named the refusals of the events before it, and a result still
 * queued for a slow client (subscriptionBuffer.ts) grew after it was taken. `ownEventResults` hands
 * each event a copy holding the errors added since the previous event of the same subscription.
 *
 * The same executor keeps the last event's data for the subscription: when the subgraph's stream
 * fails (its connection dropped), the error result it yields carries the last event again. That
 * would be a second delivery of it, so such a result keeps its errors and loses the repeated data.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ExecutionResult } from 'graphql';

/** Per subscription: how many errors of each array the events before already carried. */
export function eventErrors(): (errors: ExecutionResult['errors']) => ExecutionResult['errors'] {
  const carried = new WeakMap<object, number>();
  return (errors) => {
    if (!errors) return errors;
    const before = carried.get(errors) ?? 0;
    carried.set(errors, errors.length);
    const own = errors.slice(before);
    return own.length ? own : undefined;
  };
}

/**
 * The mapping for one subscription's results, applied to each as the executor yields it, before any
 * queue holds it (`useSubscriptionBuffer` runs it in its read-ahead loop: a result waiting in its
 * queue is already a copy, and no extra async iterator wraps every event).
 */
export function ownEventResults(): (event: ExecutionResult) => ExecutionResult {
  const ownErrors = eventErrors();
  let previous: ExecutionResult['data'];
  return (event) => {
    const last = previous;
    previous = event.data;
    if (!event.errors) return event;
    const errors = ownErrors(event.errors);
    const { errors: _shared, data, ...rest } = event;
    const repeated = errors !== undefined && last != null && isDeepStrictEqual(data, last);
    return { ...rest, ...(repeated ? { data: null } : data !== undefined && { data }), ...(errors && { errors }) };
  };
}
