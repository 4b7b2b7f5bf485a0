import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionReads } from './answerReads.ts';
import { daysSince, nowForChinaDate } from './clock.ts';
import type { SubgraphRuntime } from './module.ts';

/** A runtime whose clock readings are noted as the gateway's host notes them. */
function runtimeAt(iso: string) {
  const reads = new ExecutionReads();
  const runtime: Pick<SubgraphRuntime, 'now' | 'readClock'> = { now: () => new Date(iso), readClock: () => reads.readClock(Date.parse(iso)) };
  return { runtime, window: () => reads.clockWindow() };
}

describe('clock figures say when they next change', () => {
  it('a China calendar date holds until the next midnight in China (16:00 UTC)', () => {
    const { runtime, window } = runtimeAt('2026-12-05T15:59:59.500Z');
    assert.equal(nowForChinaDate(runtime).toISOString(), '2026-12-05T15:59:59.500Z');
    assert.deepEqual(window(), { from: Date.parse('2026-12-05T15:59:59Z'), until: Date.parse('2026-12-05T16:00:00Z') });
    const later = runtimeAt('2026-12-05T16:00:00.000Z');
    nowForChinaDate(later.runtime);
    assert.equal(later.window()?.until, Date.parse('2026-12-06T16:00:00Z'));
  });

  it('whole days since an instant change when the next whole day has passed, and never go below 0', () => {
    const { runtime, window } = runtimeAt('2026-12-05T10:00:00Z');
    assert.equal(daysSince(runtime, '2026-12-02T12:00:00Z'), 2);
    assert.equal(window()?.until, Date.parse('2026-12-05T12:00:00Z'));
    const future = runtimeAt('2026-12-05T10:00:00Z');
    assert.equal(daysSince(future.runtime, '2026-12-06T00:00:00Z'), 0);
    assert.equal(future.window()?.until, Date.parse('2026-12-07T00:00:00Z'));
  });

  it('a plain reading bounds the window to its second; where no host keeps answers the clock is read as is', () => {
    const { runtime, window } = runtimeAt('2026-12-05T10:00:00.250Z');
    daysSince(runtime, '2026-12-01T00:00:00Z');
    runtime.readClock!();
    assert.deepEqual(window(), { from: Date.parse('2026-12-05T10:00:00Z'), until: Date.parse('2026-12-05T10:00:01Z') });
    assert.equal(daysSince({ now: () => new Date('2026-12-05T10:00:00Z') }, '2026-12-01T00:00:00Z'), 4);
  });
});
