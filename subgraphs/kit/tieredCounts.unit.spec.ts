import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDocuments } from '../../test/helpers/memoryDocuments.ts';
import { applyTieredDelta, bucketKey, countUpTo, tieredDelta, tieredTotal, type TieredBucketDoc, type TieredCounts, type TieredEntry, type TieredSummaryDoc } from './tieredCounts.ts';

const BY_YEAR: TieredCounts = { summaries: 'years', buckets: 'dates', bucketOf: (date) => date.slice(0, 4) };
const source = { position: '1:1', eventId: 'e1' };
const entry = (scope: string, series: string, value: string): TieredEntry => ({ scope, series, value });

async function given(entries: TieredEntry[]): Promise<MemoryDocuments> {
  const store = new MemoryDocuments();
  await applyTieredDelta(store, BY_YEAR, tieredDelta([], entries), source);
  return store;
}

function upTo(store: MemoryDocuments, scope: string, series: string | null, bound: string, inclusive = true): number {
  const summary = store.docs<TieredSummaryDoc>('years').get(scope);
  const bucket = store.docs<TieredBucketDoc>('dates').get(bucketKey(scope, BY_YEAR.bucketOf(bound)));
  return countUpTo(BY_YEAR, summary, bucket, series, bound, inclusive);
}

describe('tiered counts', () => {
  it('leaves out what a change keeps, and counts what it moves out of one place and into another', () => {
    const kept = entry('A', 'x', '2000-01-01');
    assert.deepEqual(tieredDelta([kept, entry('A', 'y', '2000-01-01')], [kept, entry('B', 'y', '2000-01-01')]), [
      { entry: entry('A', 'y', '2000-01-01'), by: -1 },
      { entry: entry('B', 'y', '2000-01-01'), by: 1 },
    ]);
  });

  it('counts whole years before the bound from the summary and the bound’s own year date by date', async () => {
    const store = await given([entry('A', 'x', '1999-12-31'), entry('A', 'x', '2000-03-01'), entry('A', 'x', '2000-03-02'), entry('A', 'y', '2000-03-01'), entry('B', 'x', '1990-01-01')]);
    assert.equal(upTo(store, 'A', 'x', '1999-12-31'), 1);
    assert.equal(upTo(store, 'A', 'x', '1999-12-31', false), 0);
    assert.equal(upTo(store, 'A', 'x', '2000-03-01'), 2);
    assert.equal(upTo(store, 'A', 'x', '2000-03-01', false), 1);
    assert.equal(upTo(store, 'A', 'x', '2001-01-01'), 3);
    assert.equal(upTo(store, 'A', null, '2000-03-01'), 3, 'every series together');
    assert.equal(upTo(store, 'A', 'z', '2001-01-01'), 0, 'a series never counted');
    assert.equal(upTo(store, 'C', 'x', '2001-01-01'), 0, 'a scope never counted');
    assert.equal(tieredTotal(store.docs<TieredSummaryDoc>('years').get('A'), 'x'), 3);
  });

  it('drops entries that reach zero, so documents do not grow with what no longer counts', async () => {
    const store = await given([entry('A', 'x', '2000-03-01')]);
    await applyTieredDelta(store, BY_YEAR, tieredDelta([entry('A', 'x', '2000-03-01')], []), source);
    assert.deepEqual(store.docs<TieredSummaryDoc>('years').get('A')?.buckets, { x: {} });
    assert.deepEqual(store.docs<TieredBucketDoc>('dates').get('A:2000')?.values, { x: {} });
    assert.equal(upTo(store, 'A', 'x', '2001-01-01'), 0);
  });
});
