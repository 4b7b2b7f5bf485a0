/**
 * `npm run start:prod`: the production topology on this machine (docs/deployment.md) — every
 * subgraph, the gateway and two projectors as separate processes, configured by the environment.
 * Their output is prefixed with their name; SIGINT/SIGTERM are forwarded to each; when one process
 * exits on its own, the others are stopped too (like a Procfile runner), and the exit code says so.
 *
 *   DATABASE_URL=postgres://… JWT_SECRET=… GATEWAY_ASSERTION_SECRET=… npm run start:prod
 *   npm run start:prod -- --subgraphs governance,population --projectors 3
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { isSubgraphName, SUBGRAPH_NAMES, type SubgraphName } from '../platform/subgraphs.ts';
import { commandOf, productionTopology, REPOSITORY_ROOT } from './topology.ts';

const STOP_GRACE_MS = 10_000;

function fail(message: string): never {
  console.error(`start:prod: ${message}`);
  process.exit(1);
}

const { values } = parseArgs({ options: { subgraphs: { type: 'string' }, projectors: { type: 'string', default: '2' } } });
const subgraphs = values.subgraphs?.split(',').map((s) => s.trim()) ?? [...SUBGRAPH_NAMES];
const unknown = subgraphs.filter((s) => !isSubgraphName(s));
if (unknown.length > 0) fail(`--subgraphs: unknown ${unknown.join(', ')}; expected some of ${SUBGRAPH_NAMES.join(', ')}`);
const projectors = Number(values.projectors);
if (!Number.isInteger(projectors) || projectors < 1) fail(`--projectors "${values.projectors}": expected a whole number ≥ 1`);
// Each process validates its own configuration; these three are checked here so that a missing one
// is one message, not ten.
const missing = [
  !process.env.DATABASE_URL && process.env.EVENT_STORE !== 'kurrentdb' && 'DATABASE_URL (postgres://…; or EVENT_STORE=kurrentdb)',
  !process.env.JWT_SECRET && !process.env.JWT_JWKS_URL && 'JWT_SECRET or JWT_JWKS_URL',
  !process.env.GATEWAY_ASSERTION_SECRET && 'GATEWAY_ASSERTION_SECRET',
].filter(Boolean);
if (missing.length > 0) fail(`set ${missing.join(', ')} (docs/deployment.md)`);

const specs = productionTopology(process.env, { subgraphs: subgraphs as SubgraphName[], projectors });
const width = Math.max(...specs.map((s) => s.name.length));
const running = new Map<string, ChildProcess>();
let stopping = false;

function prefixLines(stream: Readable, name: string, out: NodeJS.WriteStream): void {
  const prefix = `${name.padEnd(width)} | `;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${prefix}${line}\n`));
}

function signalAll(signal: NodeJS.Signals): void {
  for (const child of running.values()) {
    // Each child leads its own process group: the signal reaches anything it started too.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

function stopAll(exitCode: number): void {
  if (stopping) return;
  stopping = true;
  process.exitCode = exitCode;
  signalAll('SIGTERM');
  setTimeout(() => {
    if (running.size === 0) return;
    console.error(`start:prod: ${[...running.keys()].join(', ')} still running after ${STOP_GRACE_MS / 1000} s: killing`);
    signalAll('SIGKILL');
  }, STOP_GRACE_MS).unref();
}

for (const spec of specs) {
  const { command, args } = commandOf(spec);
  // Detached: a terminal's Ctrl-C reaches this supervisor only, which forwards it once to each child.
  const child = spawn(command, args, { cwd: REPOSITORY_ROOT, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.set(spec.name, child);
  prefixLines(child.stdout, spec.name, process.stdout);
  prefixLines(child.stderr, spec.name, process.stderr);
  child.on('exit', (code, signal) => {
    running.delete(spec.name);
    if (!stopping) {
      console.error(`start:prod: ${spec.name} exited (${signal ?? `code ${code}`}): stopping the others`);
      stopAll(code || 1);
    }
  });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) signalAll('SIGKILL');
    else stopAll(0);
  });
}
// Should this supervisor die on an uncaught error, its children must not outlive it.
process.on('exit', () => signalAll('SIGKILL'));
console.log(`start:prod: ${specs.map((s) => s.name).join(', ')} (gateway on :${process.env.GATEWAY_PORT ?? 4000})`);
