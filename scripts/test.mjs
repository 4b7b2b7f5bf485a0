#!/usr/bin/env node
// The one test command (README, .ci/run): type-check, lint, supergraph freshness, then every
// *.spec.ts file under node's own test runner, one file at a time: on PostgreSQL the gap-safe read
// waits for transactions open anywhere on the server, so parallel files would slow each other down.
// `--only unit|int|e2e` narrows the tier; `--skip-static` skips tsc/eslint/compose for quick loops.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
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
run(`tests (${specs.length} files)`, process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-concurrency=1',
  '--test-timeout=300000',
  '--test-reporter=spec',
  ...specs,
]);
