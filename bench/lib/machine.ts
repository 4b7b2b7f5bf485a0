/** Facts about the machine a run measured on, printed in the header and stored with the figures. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function machineFacts(): Record<string, string> {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model.trim() ?? 'unknown'} × ${os.availableParallelism()} (${cpus.length} logical CPUs)`,
    memory: `${gib(os.totalmem())} total, ${gib(os.freemem())} free at start`,
    // The machine is shared: a busy start explains a slow run.
    'load average': os.loadavg().map((l) => l.toFixed(2)).join(' / ') + ' (1 / 5 / 15 min, at start)',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** The PGlite version pinned in package.json (the package does not export its own package.json). */
export function pinnedVersion(dependency: string): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return pkg.dependencies?.[dependency] ?? pkg.devDependencies?.[dependency] ?? 'unknown';
}
