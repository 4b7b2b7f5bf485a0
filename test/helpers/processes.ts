/**
 * Child processes a test file starts, ended with their whole process group however the file ends:
 * its `after` hooks (call `killAll`), a normal exit, or a signal to the test process (SIGINT,
 * SIGTERM, SIGHUP: the runner cancelling a run), after which the signal is raised again.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const owned = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function killAll(): void {
  for (const child of owned) killGroup(child);
  owned.clear();
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Dropping databases is asynchronous: give it a few seconds, then die of the same signal.
      const done = Promise.allSettled([...cleanups].map((c) => c()));
      void Promise.race([done, new Promise((r) => setTimeout(r, 5000))]).then(() => process.kill(process.pid, signal));
    });
  }
}

/** Spawns `command` in its own process group, ended with the test file. */
export function spawnOwned(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  install();
  const child = spawn(command, args, { ...options, detached: true });
  owned.add(child);
  child.once('exit', () => owned.delete(child));
  return child;
}

/** Runs `cleanup` (drop a database) if the test process is stopped by a signal; returns its unregistration. */
export function cleanupOnSignal(cleanup: () => Promise<void>): () => void {
  install();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
