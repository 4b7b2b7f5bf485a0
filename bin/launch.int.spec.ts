/**
 * `npm start`'s launcher (bin/launch.mjs): the CLI it runs from `.build/` is the sources' CLI, and a
 * start whose sources have not changed reuses the build it finds rather than compiling again.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILDS = join(ROOT, '.build');
const run = promisify(execFile);

const cli = async (args: readonly string[]) => (await run(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } })).stdout;

describe('bin/launch.mjs', () => {
  it('runs the same CLI as the sources under tsx, and reuses its build while the sources stay as they are', async () => {
    const compiled = await cli(['bin/launch.mjs', '--help']);
    assert.equal(compiled, await cli(['--import', 'tsx', 'bin/city-brain.ts', '--help']));
    assert.match(compiled, /start \[options\] +start the store/);

    // Each build's compiled CLI, by build: a second start with the same sources adds, removes and rewrites none.
    const builds = () =>
      Object.fromEntries(
        readdirSync(BUILDS)
          .filter((entry) => !entry.endsWith('.tmp'))
          .map((entry) => [entry, statSync(join(BUILDS, entry, 'bin', 'city-brain.js'), { throwIfNoEntry: false })?.mtimeMs]),
      );
    const before = builds();
    assert.ok(Object.values(before).some((mtime) => mtime !== undefined), `a build with the compiled CLI in ${BUILDS}`);
    assert.equal(await cli(['bin/launch.mjs', 'start', '--help']), await cli(['--import', 'tsx', 'bin/city-brain.ts', 'start', '--help']));
    assert.deepEqual(builds(), before);
  });
});
