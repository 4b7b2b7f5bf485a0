/**
 * What every resolver of every subgraph receives, and the per-request DataLoaders that keep entity
 * references batched (DESIGN §1: a list of N entities costs a constant number of round trips).
 */
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { Collection, Doc, StoredDoc } from '../../projections/types.ts';
import type { RequestAccess } from './access.ts';
import type { Caller } from '../../platform/auth.ts';

export interface SubgraphContext {
  caller: Caller;
  /** The gateway's request id (from its assertion): joins logs and access records across subgraphs. */
  requestId: string;
  /** The client's operation name as the gateway asserted it; the subgraph's own operation may be anonymous. */
  clientOperationName?: string;
  /** This request's DataLoaders by name, created on first use by {@link loader}. */
  loaders: Map<string, DataLoader<unknown, unknown>>;
  /** A child logger carrying the subgraph, request id and consumer. */
  logger: Logger;
  /** The caller's grants for this request and what it served (`access.ts`); the kit's alone. */
  access: RequestAccess;
}

/**
 * The request's DataLoader called `key`, created from `batchFn` on first use. Loaders live as long as
 * the request (for a subscription, one event), so cached entities never outlive it.
 */
export function loader<K, V, C = K>(
  ctx: Pick<SubgraphContext, 'loaders'>,
  key: string,
  batchFn: DataLoader.BatchLoadFn<K, V>,
  options?: DataLoader.Options<K, V, C>,
): DataLoader<K, V, C> {
  let existing = ctx.loaders.get(key);
  // One map holds loaders of every key and value type; `key` names one loader, so the loader found
  // under it is the one made here with these types (DataLoader is invariant in them: hence the casts).
  if (!existing) {
    existing = new DataLoader<K, V, C>(batchFn, options) as unknown as DataLoader<unknown, unknown>;
    ctx.loaders.set(key, existing);
  }
  return existing as unknown as DataLoader<K, V, C>;
}

/** The request's loader `key` of stored documents (with their per-field sources) by id; null for one not projected yet. */
export function storedDocLoader<T extends Doc>(ctx: Pick<SubgraphContext, 'loaders'>, key: string, collection: () => Collection<T>): DataLoader<string, StoredDoc<T> | null> {
  return loader<string, StoredDoc<T> | null>(ctx, key, async (ids) => (await collection().getMany(ids)).map((d) => d ?? null));
}
