/**
 * Back-pressure for subscriptions at the gateway. The gateway's graphql-ws server waits for each
 * message to be written to the client's socket before it takes the next result, so the results of
 * a slow client pile up upstream — in the subscription to the subgraph, which reads its socket as
 * fast as the subgraph sends. This plugin puts a bound there: it takes each subscription's results
 * as they come into a queue of its own, and when more than `maxSubscriptionBuffer` wait, it stops
 * the upstream subscription, drops what it buffered and disconnects that client:
 * - graphql-ws: the socket is closed with 1008 (policy violation) and a reason saying how much was
 *   buffered and to resume from the last position received. graphql-ws clients treat 1008 as
 *   final, so none re-subscribes on its own with stale variables.
 * - HTTP (server-sent events): the stream ends with one error, `extensions.code: SLOW_CONSUMER`.
 * A hand-written queue rather than a Repeater buffer: at the bound the buffer must be freed at once
 * and the client disconnected, where Repeater's buffers either wait or silently drop results.
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { isAsyncIterable } from '@graphql-tools/utils';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { ownEventResults } from './subscriptionErrors.ts';

/** WebSocket close code 1008, policy violation: final for graphql-ws clients (they do not retry). */
export const SLOW_CONSUMER_CLOSE_CODE = 1008;
export const SLOW_CONSUMER_ERROR_CODE = 'SLOW_CONSUMER';

/** The close reason (WebSocket reasons are at most 123 bytes). */
export const slowConsumerReason = (max: number): string =>
  `slow consumer: more than ${max} messages buffered; resume from the last position you received`;

/** What the plugin needs from the operation's context to disconnect a graphql-ws client. */
export interface DisconnectableContext {
  /** Present for graphql-ws operations: closes the client's socket. */
  disconnect?: (code: number, reason: string) => void;
}

/**
 * `source`, read ahead into a queue of at most `max` results, each mapped by `map` as it is read
 * (before it is queued). One more than `max` calls `onOverflow` once, ends `source` and the queue,
 * and the consumer gets `finalResult` (if any) and then the end.
 */
export function boundedSubscription<T>(
  source: AsyncIterable<T>,
  max: number,
  onOverflow: () => void,
  finalResult?: T,
  map: (value: T) => T = (value) => value,
): AsyncIterableIterator<T> {
  const upstream = source[Symbol.asyncIterator]();
  let queue: T[] = [];
  let head = 0;
  /** The end of the stream once known: done, or the error to rethrow after the queue. */
  let ending: { error?: unknown } | undefined;
  let waiting: { resolve: (step: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;

  /**
   * The stream's end for one pull: the error once, then done, as an async generator does. A consumer
   * that maps a rejection to a result and pulls again (Yoga does) would otherwise spin forever.
   */
  const end = (): Promise<IteratorResult<T>> => {
    const error = ending?.error;
    if (error === undefined) return Promise.resolve({ value: undefined, done: true });
    ending = {};
    return Promise.reject(error);
  };

  const finish = (result: { error?: unknown }) => {
    ending ??= result;
    const consumer = waiting;
    waiting = undefined;
    if (!consumer) return;
    if (head < queue.length) consumer.resolve({ value: queue[head++]!, done: false });
    else end().then(consumer.resolve, consumer.reject);
  };

  void (async () => {
    try {
      for (;;) {
        const step = await upstream.next();
        if (ending) return;
        if (step.done) return finish({});
        const value = map(step.value);
        if (waiting) {
          const consumer = waiting;
          waiting = undefined;
          consumer.resolve({ value, done: false });
          continue;
        }
        queue.push(value);
        if (queue.length - head > max) {
          queue = finalResult === undefined ? [] : [finalResult];
          head = 0;
          onOverflow();
          finish({});
          await upstream.return?.();
          return;
        }
      }
    } catch (error) {
      finish({ error });
    }
  })();

  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    next() {
      if (head < queue.length) {
        const value = queue[head++]!;
        if (head === queue.length) {
          queue = [];
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (ending) return end();
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    async return() {
      queue = [];
      head = 0;
      const wasEnded = ending !== undefined;
      finish({});
      if (!wasEnded) await upstream.return?.();
      return { value: undefined, done: true };
    },
  };
  return iterator;
}

/**
 * The plugin: every subscription's results through {@link boundedSubscription}, each given its own
 * errors on the way in (`ownEventResults`) — in the buffer's read-ahead loop rather than in one more
 * async iterator around every event of every subscriber.
 */
export function useSubscriptionBuffer(maxSubscriptionBuffer: number, onSlowConsumer: (transport: 'http' | 'ws') => void): GatewayPlugin {
  return {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable<ExecutionResult>(result)) return;
        const context = args.contextValue as DisconnectableContext;
        const reason = slowConsumerReason(maxSubscriptionBuffer);
        const final: ExecutionResult = {
          errors: [new GraphQLError(reason, { extensions: { code: SLOW_CONSUMER_ERROR_CODE, maxSubscriptionBuffer } })],
        };
        setResult(
          boundedSubscription(
            result,
            maxSubscriptionBuffer,
            () => {
              onSlowConsumer(context.disconnect ? 'ws' : 'http');
              context.disconnect?.(SLOW_CONSUMER_CLOSE_CODE, reason);
            },
            // A graphql-ws client gets the close reason instead: its socket is closing.
            context.disconnect ? undefined : final,
            ownEventResults(),
          ),
        );
      },
    }),
  };
}
