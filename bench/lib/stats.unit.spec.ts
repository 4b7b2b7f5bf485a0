import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Latencies, percentile, perSecond } from './stats.ts';

describe('percentile', () => {
  it('takes the nearest rank: the smallest value with at least p % of the samples at or below it', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile([7], 99), 7);
  });

  it('refuses an empty sample and a percentile outside (0, 100]', () => {
    assert.throws(() => percentile([], 50), /no samples/);
    assert.throws(() => percentile([1], 0), /outside/);
    assert.throws(() => percentile([1], 101), /outside/);
  });
});

describe('Latencies', () => {
  it('sorts numerically past its initial capacity', async () => {
    const latencies = new Latencies(2);
    for (const ms of [10, 2, 33, 4, 5]) latencies.add(ms);
    assert.equal(latencies.count, 5);
    assert.deepEqual(latencies.percentiles(20, 60, 100), [2, 5, 33]);
    await latencies.time(async () => undefined);
    assert.equal(latencies.count, 6);
  });

  it('goes to another process as an array and comes back with the same samples', () => {
    const latencies = new Latencies(2);
    for (const ms of [10, 2, 33]) latencies.add(ms);
    assert.deepEqual(latencies.toArray(), [10, 2, 33]);
    const copy = Latencies.from(latencies.toArray());
    assert.equal(copy.count, 3);
    assert.deepEqual(copy.percentiles(50, 100), [10, 33]);
  });
});

describe('perSecond', () => {
  it('turns a count over milliseconds into a rate, and no time into 0', () => {
    assert.equal(perSecond(500, 250), 2000);
    assert.equal(perSecond(500, 0), 0);
  });
});
