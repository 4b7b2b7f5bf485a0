/**
 * `npm start`'s launcher (bin/launch.mjs): the CLI it runs from `.build/` is the sources' CLI, and a
 * start whose sources have not changed reuses the build it finds rather than compiling again.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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

  it('bundles the packages a module imports into shared chunks, and leaves graphql and PGlite in node_modules', async () => {
    await cli(['bin/launch.mjs', '--help']);
    const latest = readdirSync(BUILDS)
      .filter((entry) => !entry.endsWith('.tmp'))
      .map((entry) => ({ entry, mtime: statSync(join(BUILDS, entry)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime)[0]!.entry;
    const imports = (file: string) => [...readFileSync(join(BUILDS, latest, file), 'utf8').matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
    const gateway = imports('gateway/server.js');
    assert.ok(!gateway.some((specifier) => specifier.startsWith('@graphql-hive/gateway-runtime')), 'the gateway runtime is bundled');
    assert.ok(gateway.some((specifier) => specifier.startsWith('../vendor/')), 'from a shared chunk');
    assert.ok(gateway.includes('graphql'), 'one graphql for every package: imported from node_modules');
    assert.ok(imports('events/sql/database.js').includes('@electric-sql/pglite'), 'PGlite loads its WebAssembly from beside its module');
  });
});
