import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activeBuildLocator } from './readModels.ts';

describe('activeBuildLocator', () => {
  it('looks a build up once for the readers arriving while the lookup runs, then remembers it for refreshMs', async () => {
    let lookups = 0;
    const locate = activeBuildLocator(60_000, async (name) => `${name}-table-${++lookups}`);
    const tables = await Promise.all(Array.from({ length: 10 }, () => locate('p')));
    assert.deepEqual(new Set(tables), new Set(['p-table-1']));
    assert.equal(await locate('p'), 'p-table-1');
    assert.equal(lookups, 1);
  });

  it('with refreshMs 0 looks up for every reader, so a swapped build is read at once', async () => {
    let lookups = 0;
    const locate = activeBuildLocator(0, async () => `table-${++lookups}`);
    await Promise.all([locate('p'), locate('p'), locate('p')]);
    assert.equal(lookups, 3);
  });

  it('keeps no failed lookup: a build not there yet is looked up again by the next reader', async () => {
    let built = false;
    const locate = activeBuildLocator(60_000, async () => (built ? 'table' : undefined));
    await assert.rejects(Promise.all([locate('p'), locate('p')]), /has not been built yet/);
    built = true;
    assert.equal(await locate('p'), 'table');
  });
});
