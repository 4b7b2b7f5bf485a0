/**
 * A ready-made empty PGlite cluster. PGlite's `initdb` runs in WebAssembly: 3–5 s of CPU and a peak
 * of ~750 MB for every new store (each test file, every fresh `npm start`), while unpacking the
 * tarball of a cluster `initdb` made once takes about half a second. The tarball is made on first
 * use and kept in `node_modules/.cache/city-brain/`, named by the PGlite version that made it, so
 * an upgrade of PGlite makes a new one; a machine where that folder is not writable keeps it in memory
 * for the process only.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

interface PgliteInstall {
  version: string;
  cacheDir: string;
}

/** The installed PGlite's version, and the cache folder of the `node_modules` it is installed in. */
function pgliteInstall(): PgliteInstall {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return { version: pkg.version, cacheDir: join(dir, '..', '..', '.cache', 'city-brain') };
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the installed @electric-sql/pglite package.json');
    dir = parent;
  }
}

let template: Promise<Blob> | undefined;

/** The empty cluster's tarball: read from the cache, or made by one `initdb` and cached. */
export function emptyClusterTarball(): Promise<Blob> {
  template ??= loadOrMake().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function loadOrMake(): Promise<Blob> {
  const { version, cacheDir } = pgliteInstall();
  const file = join(cacheDir, `pglite-${version}-empty-cluster.tar`);
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    // not made yet on this machine
  }
  const db = await PGlite.create();
  const tarball = await db.dumpDataDir('none');
  await db.close();
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed: a concurrent process (another test file) reads a whole tarball or none.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await tarball.arrayBuffer()));
    renameSync(partial, file);
  } catch {
    rmSync(`${file}.${process.pid}.partial`, { force: true });
  }
  return tarball;
}
