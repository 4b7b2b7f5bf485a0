/**
 * Prometheus metrics of one gateway (`GET /metrics`): requests and their latency by transport and
 * operation type, errors by `extensions.code`, the subscriptions open now and the slow subscribers
 * disconnected, beside Hive's Prometheus plugin (per operation name and subgraph, gateway/server.ts)
 * on the same registry. Each gateway has its own registry, so several can run in one process (tests)
 * without clashing names; `/metrics` serves it with the process's (platform/metrics.ts).
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { getOperationAST, type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Transport = 'http' | 'ws';

interface Pending {
  end: (operationType: string | undefined) => void;
  type?: string | undefined;
}

const OPERATION_NONE = 'none';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = this.counter('city_brain_gateway_requests_total', 'GraphQL requests (HTTP) and operations (graphql-ws) the gateway answered, by transport and operation type ("none": refused before an operation was known)', ['transport', 'operation_type']);
  private readonly duration = new Histogram({
    name: 'city_brain_gateway_request_duration_seconds',
    help: 'Time from receiving a request (or a graphql-ws operation) to its complete response, by transport and operation type; subscriptions are timed to their first result',
    labelNames: ['transport', 'operation_type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly errors = this.counter('city_brain_gateway_errors_total', 'GraphQL errors sent to clients, by extensions.code (UNAUTHENTICATED, FORBIDDEN, QUERY_LIMIT_EXCEEDED, …)', ['code']);
  private readonly subscriptions = new Gauge({
    name: 'city_brain_gateway_active_subscriptions',
    help: 'Subscriptions open now',
    registers: [this.registry],
  });
  /** Queries answered from the response cache (gateway/responseCache.ts), counted with the requests too. */
  readonly responseCacheHits = this.counter('city_brain_gateway_response_cache_hits_total', 'Queries answered with an answer kept by the response cache (each with its own access records)', []);
  /** Subgraph calls answered by an identical call of the same caller in flight (gateway/sharedCalls.ts). */
  readonly sharedSubgraphCalls = this.counter('city_brain_gateway_shared_subgraph_calls_total', 'Subgraph calls answered by an identical call of the same caller already in flight (each with its own access records)', []);
  private readonly slowConsumers = this.counter('city_brain_gateway_slow_consumer_disconnects_total', 'Subscribers disconnected because more than GATEWAY_MAX_SUBSCRIPTION_BUFFER results waited for them, by transport', ['transport']);

  /** A counter in this gateway's registry. */
  private counter<Label extends string>(name: string, help: string, labelNames: readonly Label[]): Counter<Label> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Starts timing a request; call the result when its response is complete. */
  startRequest(transport: Transport): (operationType: string | undefined) => void {
    const end = this.duration.startTimer({ transport });
    return (operationType) => {
      const operation_type = operationType ?? OPERATION_NONE;
      end({ operation_type });
      this.requests.inc({ transport, operation_type });
    };
  }

  countErrors(errors: readonly (GraphQLError | GraphQLFormattedError)[] | undefined): void {
    for (const error of errors ?? []) {
      const code = error.extensions?.code;
      this.errors.inc({ code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR' });
    }
  }

  countSlowConsumer(transport: Transport): void {
    this.slowConsumers.inc({ transport });
  }

  /** Slow subscribers disconnected so far (every transport). */
  async slowConsumerDisconnects(): Promise<number> {
    return (await this.slowConsumers.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  countResult(result: unknown): void {
    if (Array.isArray(result)) for (const r of result) this.countResult(r);
    else if (result && typeof result === 'object' && 'errors' in result) this.countErrors((result as ExecutionResult).errors);
  }

  /**
   * The plugin timing requests: an HTTP request from yoga's `onRequest` to its `onResponse`; a
   * graphql-ws operation from validation to its result (a subscription: to its start). It also
   * counts the errors of HTTP results and the subscriptions open. graphql-ws results are counted by
   * the gateway's `onNext` (they never pass through yoga's response hooks).
   */
  plugin(): GatewayPlugin {
    const http = new WeakMap<Request, Pending>();
    const ws = new WeakMap<object, Pending>();
    const finish = (map: WeakMap<object, Pending>, key: object) => {
      const entry = map.get(key);
      map.delete(key);
      entry?.end(entry.type);
    };
    return {
      onRequest: ({ request }) => {
        http.set(request, { end: this.startRequest('http') });
      },
      onValidate: ({ context, params }) => {
        const type = getOperationAST(params.documentAST)?.operation;
        const { request, transport } = context as { request?: Request; transport?: Transport };
        if (transport === 'ws') {
          ws.set(context, { end: this.startRequest('ws'), type });
          return ({ valid }) => {
            if (!valid) finish(ws, context);
          };
        }
        const entry = request && http.get(request);
        if (entry) entry.type = type;
        return undefined;
      },
      onExecute: ({ args }) => ({
        onExecuteDone: () => finish(ws, args.contextValue as object),
      }),
      onResultProcess: ({ result }) => {
        this.countResult(result);
      },
      onResponse: ({ request }) => finish(http, request),
      onSubscribe: ({ args }) => ({
        onSubscribeResult: ({ result }) => {
          finish(ws, args.contextValue as object);
          if (!(result && typeof result === 'object' && Symbol.asyncIterator in result)) return;
          this.subscriptions.inc();
          return { onEnd: () => this.subscriptions.dec() };
        },
      }),
    };
  }
}
