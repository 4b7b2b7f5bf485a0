/** Collecting what a graphql-ws subscription pushes, for tests that expect a known number of results. */
import type { Client } from 'graphql-ws';

export interface Collected<Item> {
  /** `data[field]` of each result, in order. */
  received: Item[];
  /** Resolves once `count` results arrived (or the server completed); rejects on an error result or a failed subscription. */
  done: Promise<void>;
  unsubscribe(): void;
}

export function collectResults<Item>(client: Client, query: string, field: string, count: number): Collected<Item> {
  const received: Item[] = [];
  let unsubscribe!: () => void;
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe(
      { query },
      {
        next: (value) => {
          if (value.errors) return reject(new Error(JSON.stringify(value.errors)));
          received.push((value.data as Record<string, Item>)[field]!);
          if (received.length === count) resolve();
        },
        error: (error: unknown) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(),
      },
    );
  });
  return { received, done, unsubscribe: () => unsubscribe() };
}

/** Resolves once `items` (filled by a subscription) holds `count`; fails after `ms` saying how many came. */
export async function untilReceived(items: readonly unknown[], count: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (items.length < count) {
    if (Date.now() > deadline) throw new Error(`received ${items.length} of ${count} events within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
