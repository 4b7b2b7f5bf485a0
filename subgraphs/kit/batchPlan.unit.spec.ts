/** `mapInSlices`: a chunk's records mapped in order, the event loop turning between slices (so a commit's round trips are answered meanwhile). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapInSlices } from './batchPlan.ts';

describe('mapInSlices', () => {
  it('maps every item in order with its index', async () => {
    const items = Array.from({ length: 250 }, (_, i) => i * 2);
    assert.deepEqual(await mapInSlices(items, (item, index) => `${index}:${item}`), items.map((item, index) => `${index}:${item}`));
    assert.deepEqual(await mapInSlices([], () => 1), []);
  });

  it('lets I/O and timers run between slices of 100, never in the middle of one', async () => {
    let turns = 0;
    const seen: number[] = [];
    const tick = () => {
      turns++;
      if (turns < 50) setImmediate(tick);
    };
    setImmediate(tick);
    await mapInSlices(Array.from({ length: 300 }, (_, i) => i), (i) => {
      if (i % 100 === 0 || i % 100 === 99) seen.push(turns);
    });
    // Items 0–99 run in one turn, 100–199 in the next, and so on: the loop turned twice meanwhile.
    assert.deepEqual(seen, [0, 0, 1, 1, 2, 2]);
  });
});
