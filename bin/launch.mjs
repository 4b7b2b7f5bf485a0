/**
 * `npm start` without a TypeScript loader in the served process. Under `--import tsx` every module
 * the service loads — the gateway runtime's thousand node_modules files included — goes through
 * tsx's hooks on another thread, which doubled the CPU a start spends loading code (about 4 s of a
 * restart's 14 on this machine). So the sources are compiled here, file by file with the same
 * esbuild transform tsx applies, into `.build/<hash of the sources>/`, and the CLI is run from there
 * by plain Node. A start whose sources have not changed finds its build by the hash and compiles
 * nothing; an edited file makes a new build (about a second), so there is still no build step to
 * remember. Tests, the bench's helpers and `npm run cli` keep running the sources under tsx.
 *
 *   node bin/launch.mjs start [--fresh]     (what `npm start` runs)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** The folders the service's modules live in (tsconfig's, without tests, bench, scripts and the screen). */
const SOURCE_DIRS = ['bin', 'cli', 'events', 'gateway', 'ingest', 'platform', 'projections', 'schema', 'subgraphs'];
/** Builds kept beside the current one: a service still running from an older build may load a lazy module from it. */
const KEPT_BUILDS = 2;
const ENTRY = 'bin/city-brain.js';

/** Every module and every file the modules read beside themselves (SDL), relative to the repository. */
function sourceFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.graphql$/.test(entry.name) || (/\.ts$/.test(entry.name) && !/\.(spec|d)\.ts$/.test(entry.name))) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return files.sort();
}

/** The build's name: the sources' content, and this launcher's (a change in how it compiles is a new build). */
function buildHash(files) {
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of files) hash.update(`\0${file}\0`).update(readFileSync(join(REPO, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles `files` into `dir`, keeping the tree: each module on its own (imports stay imports, the
 * `.ts` of a relative specifier becomes `.js`), SDL copied, and `web/` linked, so that paths taken
 * from `import.meta.url` (the SDL, the screen's `web/dist`) find what they found beside the sources.
 */
async function compile(files, dir) {
  const { build } = await import('esbuild');
  const modules = files.filter((f) => f.endsWith('.ts'));
  await build({
    entryPoints: modules.map((f) => join(REPO, f)),
    outdir: dir,
    outbase: REPO,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // "Bundling" with every import external is a transform per file whose specifiers esbuild rewrites.
    bundle: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [
      {
        name: 'each-file-on-its-own',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            return { path: args.path.startsWith('.') ? args.path.replace(/\.ts$/, '.js') : args.path, external: true };
          });
        },
      },
    ],
  });
  for (const file of files.filter((f) => !f.endsWith('.ts'))) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), readFileSync(join(REPO, file)));
  }
  symlinkSync(relative(dir, join(REPO, 'web')), join(dir, 'web'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
}

/** The compiled CLI for the sources as they are now, compiled first if no build of them exists. */
async function compiledEntry() {
  const root = join(REPO, '.build');
  const files = sourceFiles();
  const name = buildHash(files);
  const dir = join(root, name);
  if (!existsSync(join(dir, ENTRY))) {
    // Compiled aside and renamed into place: a start running beside this one never sees half a build.
    const scratch = join(root, `${name}.${process.pid}.tmp`);
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    try {
      await compile(files, scratch);
      renameSync(scratch, dir);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      // Another start renamed the same build into place first: its build is ours.
      if (!existsSync(join(dir, ENTRY))) throw error;
    }
  }
  pruneBuilds(root, name);
  return join(dir, ENTRY);
}

function pruneBuilds(root, current) {
  const others = readdirSync(root)
    .filter((entry) => entry !== current && !entry.endsWith('.tmp'))
    .map((entry) => ({ entry, mtime: statSync(join(root, entry)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { entry } of others.slice(KEPT_BUILDS - 1)) rmSync(join(root, entry), { recursive: true, force: true });
}

await import(pathToFileURL(await compiledEntry()).href);
