import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inTurn, runWorkers } from './concurrency.ts';

describe('runWorkers', () => {
  it('runs every index once with no more tasks in flight than workers', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await runWorkers(50, 4, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(i);
      inFlight--;
    });
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.equal(peak, 4);
  });

  it('starts no task once aborted, and rejects with the abort', async () => {
    const controller = new AbortController();
    let started = 0;
    const run = runWorkers(
      100,
      2,
      async () => {
        if (++started === 5) controller.abort();
        await Promise.resolve();
      },
      controller.signal,
    );
    await assert.rejects(run, { name: 'AbortError' });
    assert.ok(started <= 6, `started ${started} tasks after the abort`);
  });
});

describe('inTurn', () => {
  it('runs the first path first on even rounds and second on odd ones', async () => {
    const order: string[] = [];
    for (const round of [0, 1, 2]) await inTurn(round, async () => order.push(`a${round}`), async () => order.push(`b${round}`));
    assert.deepEqual(order, ['a0', 'b0', 'b1', 'a1', 'a2', 'b2']);
  });
});
