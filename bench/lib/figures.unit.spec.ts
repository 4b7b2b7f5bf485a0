import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateTargets, flatten, ratioKey, type Figure } from './figures.ts';
import { renderTable } from './report.ts';

const batch100: Figure = {
  backend: 'pg',
  key: 'append.batch100.events_per_s',
  value: 20_000,
  baseline: { key: 'baseline.insert.batch100.events_per_s', value: 25_000 },
  targets: [
    { on: 'value', op: '>=', threshold: 30_000 },
    { on: 'ratio', op: '>=', threshold: 1 / 1.5 },
  ],
};

describe('figures', () => {
  it('flattens a figure into itself, its baseline and their ratio, prefixed by the backend', () => {
    assert.deepEqual(flatten([batch100, { backend: 'pglite', key: 'readStream.p50_ms', value: 2.5 }]), {
      'pg.append.batch100.events_per_s': 20_000,
      'pg.baseline.insert.batch100.events_per_s': 25_000,
      'pg.append.batch100.ratio_to_baseline': 0.8,
      'pglite.readStream.p50_ms': 2.5,
    });
    assert.equal(ratioKey('readAll.events_per_s'), 'readAll.ratio_to_baseline');
  });

  it('checks each target against the value or the ratio to the baseline', () => {
    assert.deepEqual(
      evaluateTargets(batch100).map((o) => [o.target.on, o.met]),
      [
        ['value', false],
        ['ratio', true],
      ],
    );
    assert.equal(evaluateTargets({ key: 'readStream.p99_ms', value: 4, targets: [{ on: 'value', op: '<=', threshold: 10 }] })[0]?.met, true);
  });

  it('prints each backend side by side with baseline, ratio, target and which target was missed', () => {
    const table = renderTable(
      [batch100, { backend: 'pglite', key: 'append.batch100.events_per_s', value: 14_000, baseline: { key: 'b', value: 20_000 } }],
      [
        { id: 'pg', label: 'PostgreSQL' },
        { id: 'pglite', label: 'PGlite' },
      ],
    );
    const row = table.split('\n').find((l) => l.startsWith('append.batch100.events_per_s'));
    assert.ok(row, table);
    assert.match(row, /20,000\s+25,000\s+0\.80\s+≥ 30,000, ≥ 0\.67× baseline\s+MISSED \(value\)\s+14,000\s+20,000\s+0\.70$/);
    assert.match(table, /\[PostgreSQL\].*\[PGlite\]/);
  });
});
