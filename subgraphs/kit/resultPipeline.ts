/**
 * A subscription's results, each released only once its own work is done (for the kit: its access
 * record is durable), in order — but with the work of up to `window` results under way at once.
 * A subscription that waited for each record before resolving the next event delivered at most one
 * event per commit (~50 per second); pipelined, the records of consecutive events share commits.
 *
 * `start` is called for each result as soon as the source yields it and before the next one is
 * pulled, so whatever per-event state it reads (the request's served resources) belongs to that
 * event alone. `return()` ends the source at once, whatever is under way.
 */
export function pipelineResults<In, Out>(
  source: AsyncIterator<In>,
  start: (value: In) => Promise<Out>,
  window: number,
  /** A result after which the stream ends (it is released, then the source is returned). */
  isLast: (result: Out) => boolean = () => false,
): AsyncIterableIterator<Out> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a whole number of results, 1 or more; got ${window}`);
  const inFlight: Promise<Out>[] = [];
  // Awaited in order later; until then a rejection must not count as unhandled.
  const keep = (promise: Promise<Out>): void => {
    promise.catch(() => undefined);
    inFlight.push(promise);
  };
  let pulling: Promise<void> | undefined;
  let sourceDone = false;
  let closed = false;

  const fill = (): void => {
    if (pulling || sourceDone || closed || inFlight.length >= window) return;
    pulling = source.next().then(
      (step) => {
        pulling = undefined;
        if (step.done) sourceDone = true;
        // After return() nothing more is started: the result would never be released.
        else if (!closed) keep(start(step.value));
        fill();
      },
      (error: unknown) => {
        pulling = undefined;
        sourceDone = true;
        // In order: the error surfaces after the results before it.
        keep(Promise.reject(error));
      },
    );
  };

  const iterator: AsyncIterableIterator<Out> = {
    [Symbol.asyncIterator]: () => iterator,
    async next(): Promise<IteratorResult<Out>> {
      for (;;) {
        if (closed) return { value: undefined, done: true };
        fill();
        const head = inFlight[0];
        if (head) {
          const value = await head.finally(() => inFlight.shift());
          if (isLast(value)) void iterator.return?.();
          else fill();
          return { value, done: false };
        }
        if (sourceDone) return { value: undefined, done: true };
        await pulling;
      }
    },
    async return(): Promise<IteratorResult<Out>> {
      closed = true;
      inFlight.length = 0;
      await source.return?.();
      return { value: undefined, done: true };
    },
  };
  return iterator;
}
