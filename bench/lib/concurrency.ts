import { setImmediate as nextMacrotask } from 'node:timers/promises';

let lastYield = performance.now();
/**
 * Lets the event loop poll at most every 50 ms. An in-process PGlite answers through promise
 * chains alone, which never reach the poll phase: without this, Ctrl-C would wait for the end.
 */
export async function letSignalsIn(): Promise<void> {
  if (performance.now() - lastYield < 50) return;
  await nextMacrotask();
  lastYield = performance.now();
}

/**
 * Runs `task(0) … task(count - 1)` on `concurrency` workers that each take the next index when free;
 * once `signal` is aborted no new task starts.
 */
export async function runWorkers(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !signal?.aborted) {
      await task(next++);
      await letSignalsIn();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  signal?.throwIfAborted();
}

/**
 * Runs `first` then `second` on even rounds and the other way round on odd ones, so that neither of
 * two measured paths always runs first (warm caches, background load).
 */
export async function inTurn(round: number, first: () => Promise<unknown>, second: () => Promise<unknown>): Promise<void> {
  const [a, b] = round % 2 === 0 ? [first, second] : [second, first];
  await a();
  await b();
}
