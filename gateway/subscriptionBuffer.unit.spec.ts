import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedSubscription, slowConsumerReason } from './subscriptionBuffer.ts';

/** A source that yields `count` numbers as fast as it is pulled and records how it ended. */
function numbers(count: number, options: { failAfter?: number } = {}) {
  const state = { pulled: 0, finished: false };
  async function* generate(): AsyncGenerator<number> {
    try {
      for (let n = 0; n < count; n++) {
        if (options.failAfter === n) throw new Error(`source failed after ${n}`);
        state.pulled++;
        yield n;
      }
    } finally {
      state.finished = true;
    }
  }
  return { source: generate(), state };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

async function drain<T>(iterator: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (let step = await iterator.next(); !step.done; step = await iterator.next()) out.push(step.value);
  return out;
}

describe('boundedSubscription', () => {
  it('passes every result through in order when the consumer keeps up, then ends', async () => {
    const { source, state } = numbers(50);
    let overflows = 0;
    const bounded = boundedSubscription(source, 5, () => overflows++);
    assert.deepEqual(await drain(bounded), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(overflows, 0);
    assert.equal(state.finished, true);
  });

  it('reads ahead up to the bound while the consumer waits, and delivers what it holds', async () => {
    const { source, state } = numbers(4);
    const bounded = boundedSubscription(source, 5, () => assert.fail('4 results fit in a bound of 5'));
    await settle();
    assert.equal(state.pulled, 4, 'pulled without being asked');
    assert.deepEqual(await drain(bounded), [0, 1, 2, 3]);
  });

  it('maps each result as it reads it, before it waits in the queue (the events\' own errors are taken then)', async () => {
    const { source } = numbers(4);
    const mapped: number[] = [];
    const bounded = boundedSubscription(source, 5, () => assert.fail('no overflow'), undefined, (n) => (mapped.push(n), n * 10));
    await settle();
    assert.deepEqual(mapped, [0, 1, 2, 3], 'mapped while the consumer had not pulled');
    assert.deepEqual(await drain(bounded), [0, 10, 20, 30]);
  });

  it('past the bound: calls onOverflow once, stops the source, drops what it held and ends with the final result', async () => {
    const { source, state } = numbers(1000);
    let overflows = 0;
    const bounded = boundedSubscription(source, 10, () => overflows++, -1);
    await settle();
    assert.equal(overflows, 1);
    assert.equal(state.pulled, 11, 'one past the bound, then nothing more');
    assert.equal(state.finished, true, 'the source was returned');
    assert.deepEqual(await drain(bounded), [-1], 'the buffered results are gone; only the final one is left');
  });

  it('rethrows a source error after the results queued before it', async () => {
    const { source } = numbers(10, { failAfter: 3 });
    const bounded = boundedSubscription(source, 10, () => assert.fail('no overflow'));
    await settle();
    assert.deepEqual([(await bounded.next()).value, (await bounded.next()).value, (await bounded.next()).value], [0, 1, 2]);
    await assert.rejects(bounded.next(), /source failed after 3/);
    // Once, as an async generator: a consumer that turns the rejection into a result and pulls
    // again (Yoga does) must then see the end, not the same error forever.
    assert.deepEqual(await bounded.next(), { value: undefined, done: true });
  });

  it('delivers a source error to a consumer already waiting, once, then ends', async () => {
    let fail!: (error: Error) => void;
    const source: AsyncIterableIterator<number> = {
      [Symbol.asyncIterator]: () => source,
      next: () => new Promise((_, reject) => (fail = reject)),
    };
    const bounded = boundedSubscription(source, 10, () => assert.fail('no overflow'));
    const pending = bounded.next();
    await settle();
    fail(new Error('upstream closed'));
    await assert.rejects(pending, /upstream closed/);
    assert.deepEqual(await bounded.next(), { value: undefined, done: true });
  });

  it('stops the source when the consumer returns, also while it waits for a result', async () => {
    let release = () => {};
    let finished = false;
    async function* slow(): AsyncGenerator<number> {
      try {
        yield 1;
        await new Promise<void>((resolve) => (release = resolve));
        yield 2;
      } finally {
        finished = true;
      }
    }
    const bounded = boundedSubscription(slow(), 10, () => assert.fail('no overflow'));
    assert.deepEqual(await bounded.next(), { value: 1, done: false });
    const pending = bounded.next();
    await settle();
    const returned = bounded.return!();
    assert.deepEqual(await pending, { value: undefined, done: true }, 'the waiting consumer is told the end');
    release();
    await returned;
    assert.equal(finished, true);
    assert.deepEqual(await bounded.next(), { value: undefined, done: true });
  });

  it('says how much was buffered and how to resume, within a WebSocket close reason', () => {
    const reason = slowConsumerReason(1_000_000);
    assert.match(reason, /more than 1000000 messages buffered; resume from the last position you received/);
    assert.ok(Buffer.byteLength(reason) <= 123, `${Buffer.byteLength(reason)} bytes`);
  });
});
