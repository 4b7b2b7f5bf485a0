#!/usr/bin/env node
// The one test command (README, .ci/run): type-check, lint, supergraph freshness, then every
// *.spec.ts file under node's own test runner, in two lanes side by side (one per store, below).
// `--only unit|int|e2e` narrows the tier; `--skip-static` skips tsc/eslint/compose for quick loops.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const skipStatic = args.includes('--skip-static') || only !== undefined;
const explicit = args.filter((a, i) => a.endsWith('.ts') && args[i - 1] !== '--only');

// Every spec of the tree: a folder added later (as ingest/ once was) is never left out of the run.
const SKIPPED = new Set(['node_modules', 'data', 'dist']);
function findSpecs(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (SKIPPED.has(name) || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return findSpecs(path);
    return name.endsWith('.spec.ts') ? [path] : [];
  });
}

function run(label, cmd, cmdArgs) {
  console.log(`\n▶ ${label}`);
  const res = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`✖ ${label} failed (exit ${res.status ?? res.signal})`);
    process.exit(res.status || 1);
  }
}

if (!skipStatic) {
  run('type-check (tsc --noEmit)', 'npx', ['tsc', '--noEmit']);
  run('type-check the operations screen (web/)', 'npx', ['tsc', '--noEmit', '-p', 'web/tsconfig.json']);
  run('lint (eslint)', 'npx', ['eslint', '.', '--max-warnings=0']);
  if (existsSync('scripts/compose.ts')) run('supergraph is composed and fresh', 'npx', ['tsx', 'scripts/compose.ts', '--check']);
}

let specs = explicit.length ? explicit : findSpecs('.').sort();
if (only) specs = specs.filter((f) => f.endsWith(`.${only}.spec.ts`));
if (specs.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const NODE_TEST = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', '--test-reporter=spec'];

/** One lane of spec files run one at a time, its output prefixed by its name; resolves to its exit code. */
function lane(name, files, env) {
  return new Promise((resolve) => {
    console.log(`\n▶ tests: ${name} lane (${files.length} files)`);
    const child = spawn(process.execPath, [...NODE_TEST, ...files], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

// The suites written for both stores name the test backends; only they have a PostgreSQL lane.
const usesBackends = (file) => /\b(BACKENDS|BACKEND_NAMES|backendForSuite)\b/.test(readFileSync(file, 'utf8'));

// Two lanes side by side, one per store, so both cores work: the PGlite lane runs every spec on the
// embedded store, the PostgreSQL lane the suites written for both stores on the server. Within a lane
// files run one at a time: on PostgreSQL the gap-safe read waits for transactions open anywhere on
// the server, so parallel PostgreSQL files would slow each other down. A TEST_BACKENDS the caller set
// runs one lane of every spec on that store.
// The unit specs (no store at all) ride in the PostgreSQL lane, the shorter one.
const isUnit = (file) => file.endsWith('.unit.spec.ts');
const plan = process.env.TEST_BACKENDS
  ? [[process.env.TEST_BACKENDS, specs]]
  : [
      ['pglite', specs.filter((f) => !isUnit(f) || usesBackends(f))],
      ['postgres', specs.filter((f) => isUnit(f) || usesBackends(f))],
    ];
// A lane with no files is not started: node --test given none would search the tree for tests of its own.
const codes = await Promise.all(plan.filter(([, files]) => files.length > 0).map(([name, files]) => lane(name, files, { TEST_BACKENDS: name })));
if (codes.some((code) => code !== 0)) {
  console.error(`✖ tests failed (lane exit codes ${codes.join(', ')})`);
  process.exit(1);
}
console.log('\n✔ every lane passed');
