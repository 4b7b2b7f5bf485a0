import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { saveResults } from './results.ts';

const run = (figures: Record<string, number>) => ({
  startedAt: '2026-01-02T03:04:05.678Z',
  args: ['eventStore'],
  sections: ['eventStore'],
  machine: { cpu: 'test' },
  figures,
});

describe('saveResults', () => {
  it('merges into latest.json, keeping figures of other sections, and writes a timestamped snapshot', async () => {
    const dir = await mkdtemp(join(os.tmpdir(), 'bench-results-'));
    try {
      await writeFile(join(dir, 'latest.json'), JSON.stringify({ 'pg.rebuild.events_per_s': 21_000, 'pg.readAll.events_per_s': 1 }));
      const paths = await saveResults(dir, run({ 'pg.readAll.events_per_s': 90_000, 'pg.append.batch1.events_per_s': 1_200 }));
      assert.deepEqual(JSON.parse(await readFile(paths.latest, 'utf8')), {
        'pg.append.batch1.events_per_s': 1_200,
        'pg.readAll.events_per_s': 90_000,
        'pg.rebuild.events_per_s': 21_000,
      });
      assert.equal(paths.snapshot, join(dir, '2026-01-02T03-04-05.678Z.json'));
      const snapshot = JSON.parse(await readFile(paths.snapshot, 'utf8')) as { figures: Record<string, number>; machine: unknown };
      assert.deepEqual(snapshot.figures, { 'pg.append.batch1.events_per_s': 1_200, 'pg.readAll.events_per_s': 90_000 });
      assert.deepEqual(snapshot.machine, { cpu: 'test' });
      assert.deepEqual((await readdir(dir)).sort(), ['2026-01-02T03-04-05.678Z.json', 'latest.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to merge into a latest.json that is not a flat object of numbers, naming the figure', async () => {
    const dir = await mkdtemp(join(os.tmpdir(), 'bench-results-'));
    try {
      await writeFile(join(dir, 'latest.json'), JSON.stringify({ 'pg.readAll.events_per_s': '90000' }));
      await assert.rejects(saveResults(dir, run({ x: 1 })), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /"pg\.readAll\.events_per_s" is not a number: fix or delete it/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
