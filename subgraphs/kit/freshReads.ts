/**
 * One read for the callers that ask for the same key at about the same time, each of them answered by
 * a read issued after it asked: a caller asking while a read of its key is in flight waits for the next
 * one, issued when that ends. No caller gets a state older than its own request (a revocation committed
 * before it asked is seen), and twenty concurrent requests of one consumer need not make twenty reads.
 */
export function freshSharedReads<V>(read: (key: string) => Promise<V>): (key: string) => Promise<V> {
  interface Next {
    promise: Promise<V>;
    resolve: (value: V) => void;
    reject: (error: unknown) => void;
  }
  const inFlight = new Set<string>();
  const queued = new Map<string, Next>();

  const issue = (key: string): Promise<V> => {
    inFlight.add(key);
    const reading = read(key);
    void reading
      .catch(() => undefined)
      .finally(() => {
        inFlight.delete(key);
        const next = queued.get(key);
        if (!next) return;
        queued.delete(key);
        issue(key).then(next.resolve, next.reject);
      });
    return reading;
  };

  return (key) => {
    if (!inFlight.has(key)) return issue(key);
    let next = queued.get(key);
    if (!next) {
      let resolve!: (value: V) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<V>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      next = { promise, resolve, reject };
      queued.set(key, next);
    }
    return next.promise;
  };
}
