/**
 * The embedded store has one owner: PGlite is one session over its data directory, and a second
 * process opening the same files writes into pages the first one overwrites (confirmed writes are
 * lost). The owner holds `<DATA_DIR>.lock` (proper-lockfile: an atomic mkdir whose mtime the owner
 * refreshes) for its whole life and describes itself in `<DATA_DIR>.owner.json`; a second opener is
 * refused before it touches the directory, with a message naming the owner.
 *
 * A lock left by a process that was killed (SIGKILL, power cut) goes stale once its mtime is older
 * than `STALE_MS`; an opener that finds the owner's pid gone on this host waits that long at most,
 * then takes it over.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { CityBrainError } from '../errors.ts';

/** How long an unrefreshed lock is honoured: long enough for a busy event loop, short after a crash. */
const STALE_MS = 10_000;

export interface DataDirOwner {
  pid: number;
  hostname: string;
  /** ISO instant the lock was taken. */
  since: string;
  /** The command line of the owner (`city-brain start`, …). */
  command: string;
  /** The running service's admin base URL, once it listens (`status`, `verify` and `seals` ask it). */
  adminUrl?: string;
}

/** Another process holds the data directory; `owner` says who, when it could be read. */
export class DataDirLockedError extends CityBrainError {
  readonly code = 'CONFLICT';
  constructor(
    readonly dir: string,
    readonly owner: DataDirOwner | undefined,
  ) {
    super(
      `the data directory ${dir} is in use by ${owner ? describeOwner(owner) : 'another process (its owner file is unreadable)'}; stop it first, or give this process another DATA_DIR`,
      { dir, ...(owner && { owner }) },
    );
  }
}

export function describeOwner(owner: DataDirOwner): string {
  return `pid ${owner.pid} on ${owner.hostname} since ${owner.since} (${owner.command})`;
}

export interface DataDirLock {
  readonly dir: string;
  /** Records where the owner's admin endpoint listens, for `status`, `verify` and `seals`. */
  setAdminUrl(url: string): void;
  release(): Promise<void>;
}

const lockPath = (dir: string) => `${dir}.lock`;
const ownerPath = (dir: string) => `${dir}.owner.json`;

export function readDataDirOwner(dataDir: string): DataDirOwner | undefined {
  try {
    return JSON.parse(readFileSync(ownerPath(resolve(dataDir)), 'utf8')) as DataDirOwner;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process's life (released on `release()` and on exit), or throws
 * `DataDirLockedError` naming the owner. Nothing in the directory is touched before the lock is held.
 */
export async function lockDataDir(dataDir: string, command = process.argv.slice(1).join(' ')): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  mkdirSync(dirname(dir), { recursive: true });
  const attempt = (retries: number) =>
    lockfile.lock(dir, {
      realpath: false,
      lockfilePath: lockPath(dir),
      stale: STALE_MS,
      retries: { retries, minTimeout: 500, maxTimeout: 500, factor: 1 },
      onCompromised: (error) => {
        // Someone removed or took over the lock while we ran: writing on would corrupt the store.
        console.error(`city-brain: lost the lock on ${dir} (${error.message}); stopping before writing into a store another process may hold`);
        process.exit(70);
      },
    });
  let releaseLock: () => Promise<void>;
  try {
    releaseLock = await attempt(0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = readDataDirOwner(dir);
    // The owner died without releasing (SIGKILL): its lock goes stale within STALE_MS; wait for that
    // rather than refusing, but never for a live owner.
    if (!owner || owner.hostname !== hostname() || isAlive(owner.pid)) throw new DataDirLockedError(dir, owner);
    releaseLock = await attempt(Math.ceil(STALE_MS / 500) + 4).catch(() => {
      throw new DataDirLockedError(dir, readDataDirOwner(dir));
    });
  }
  let owner: DataDirOwner = { pid: process.pid, hostname: hostname(), since: new Date().toISOString(), command };
  const writeOwner = () => writeFileSync(ownerPath(dir), `${JSON.stringify(owner, null, 2)}\n`);
  writeOwner();
  let released = false;
  return {
    dir,
    setAdminUrl(url) {
      owner = { ...owner, adminUrl: url };
      writeOwner();
    },
    async release() {
      if (released) return;
      released = true;
      if (existsSync(ownerPath(dir)) && readDataDirOwner(dir)?.pid === process.pid) rmSync(ownerPath(dir), { force: true });
      await releaseLock();
    },
  };
}
