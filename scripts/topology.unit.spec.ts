import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commandOf, productionTopology, REPOSITORY_ROOT, SERVED_NODE_FLAGS } from './topology.ts';

/** The Node flags a command line gives before its script (`node [flags] [--import tsx] script`). */
function nodeFlagsOf(commandLine: string): string[] {
  const words = commandLine.slice(commandLine.indexOf('node ') + 'node '.length).split(/\s+/);
  return words.filter((w) => w.startsWith('--max-') || w.startsWith('--min-'));
}

describe('the V8 flags of the served processes', () => {
  it('npm start, every Procfile line, start:prod and the bench run with the same flags', () => {
    const { scripts } = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.deepEqual(nodeFlagsOf(scripts.start!), [...SERVED_NODE_FLAGS], 'npm start');
    assert.deepEqual(nodeFlagsOf(scripts.bench!), [...SERVED_NODE_FLAGS], 'npm run bench: its server side stands in for the served processes');
    const lines = readFileSync(join(REPOSITORY_ROOT, 'Procfile'), 'utf8').split('\n').filter((l) => /^[a-z0-9-]+:/.test(l));
    assert.ok(lines.length >= 9, 'the Procfile lists every process');
    for (const line of lines) assert.deepEqual(nodeFlagsOf(line), [...SERVED_NODE_FLAGS], line);
    for (const spec of productionTopology({ DATABASE_URL: 'postgres://127.0.0.1/x' })) {
      const { args } = commandOf(spec);
      assert.deepEqual(args.slice(0, SERVED_NODE_FLAGS.length), [...SERVED_NODE_FLAGS], spec.name);
    }
  });
});
