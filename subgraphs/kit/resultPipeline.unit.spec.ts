import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipelineResults } from './resultPipeline.ts';

async function* numbers(count: number, log: string[]): AsyncGenerator<number> {
  try {
    for (let i = 0; i < count; i++) {
      log.push(`pulled ${i}`);
      yield i;
    }
  } finally {
    log.push('source ended');
  }
}

describe('pipelined subscription results', () => {
  it('releases results in order, each after its own work, with the work of several under way at once', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    // Later results finish their work sooner: order must still hold.
    const work = async (n: number) => {
      log.push(`started ${n}`);
      most = Math.max(most, ++running);
      await sleep(20 - n * 3);
      running--;
      return n * 10;
    };
    const out: number[] = [];
    for await (const value of pipelineResults(numbers(5, log), work, 3)) out.push(value);
    assert.deepEqual(out, [0, 10, 20, 30, 40]);
    assert.equal(most, 3, 'at most the window at once');
    // Each result's work starts before the next one is pulled.
    for (let i = 0; i < 4; i++) assert.ok(log.indexOf(`started ${i}`) < log.indexOf(`pulled ${i + 1}`));
  });

  it('surfaces a failure of the source after the results before it', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('feed broke');
    }
    const out: number[] = [];
    await assert.rejects(async () => {
      for await (const value of pipelineResults(failing(), async (n) => n, 4)) out.push(value);
    }, /feed broke/);
    assert.deepEqual(out, [1, 2]);
  });

  it('ends after a last result: it is released, nothing after it, and the source is returned', async () => {
    const log: string[] = [];
    const out: number[] = [];
    for await (const value of pipelineResults(numbers(10, log), async (n) => n, 3, (n) => n === 2)) out.push(value);
    assert.deepEqual(out, [0, 1, 2]);
    await sleep(5);
    assert.equal(log.at(-1), 'source ended');
  });

  it('ends the source at once on return, even while its next result is awaited', async () => {
    const log: string[] = [];
    let release: (() => void) | undefined;
    const source: AsyncIterator<number> = {
      next: () => new Promise((resolve) => (release = () => resolve({ value: 1, done: false }))),
      return: async () => {
        log.push('source ended');
        return { value: undefined, done: true };
      },
    };
    const results = pipelineResults(source, async (n) => n, 2);
    const pending = results.next();
    await sleep(5);
    assert.deepEqual(await results.return!(), { value: undefined, done: true });
    assert.deepEqual(log, ['source ended']);
    release?.();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.throws(() => pipelineResults(source, async (n) => n, 0), /window must be a whole number/);
  });
});
