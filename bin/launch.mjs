/**
 * `npm start` without a TypeScript loader in the served process. Under `--import tsx` every module
 * the service loads — the gateway runtime's thousand node_modules files included — goes through
 * tsx's hooks on another thread, which doubled the CPU a start spends loading code (about 4 s of a
 * restart's 14 on this machine). So the sources are compiled here with the same esbuild transform
 * tsx applies, into `.build/<hash>/`, and the CLI is run from there by plain Node. A start whose
 * sources and installed packages have not changed finds its build by the hash and compiles nothing;
 * an edited file or an `npm install` makes a new build (a few seconds), so there is still no build
 * step to remember. Tests, the bench's helpers and `npm run cli` keep running the sources under tsx.
 *
 * Each of our modules stays a file of its own at its place in the tree (paths taken from
 * `import.meta.url` find the SDL and the screen beside them); the packages they import are bundled
 * into shared chunks (`vendor/`). A restart otherwise opened ~2,600 files of node_modules — fourteen
 * copies of `@graphql-tools/utils` alone, the versions the gateway's packages pin apart — and spent
 * ~0.45 s of its ~4 s resolving, reading and linking them (bench/README.md, startup).
 *
 *   node bin/launch.mjs start [--fresh]     (what `npm start` runs)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** The folders the service's modules live in (tsconfig's, without tests, bench, scripts and the screen). */
const SOURCE_DIRS = ['bin', 'cli', 'events', 'gateway', 'ingest', 'platform', 'projections', 'schema', 'subgraphs'];
/** Builds kept beside the current one: a service still running from an older build may load a lazy module from it. */
const KEPT_BUILDS = 2;
const ENTRY = 'bin/city-brain.js';
/**
 * Packages left in node_modules, imported from there at run time: `graphql` (one instance for every
 * package, those left out included: its types are checked by identity), PGlite (loads its WebAssembly
 * and data files from beside its module), the native addons (the Rust query planner, KurrentDB's
 * bridge), `mongodb` (optional native modules it requires when present; loaded only with
 * READ_MODELS=mongodb), and the launcher's own tools.
 */
const LEFT_IN_NODE_MODULES = [/^graphql(\/|$)/, /^@electric-sql\/pglite(\/|$)/, /^@graphql-hive\/router-runtime(\/|$)/, /^@kurrent\//, /^mongodb(\/|$)/, /^esbuild(\/|$)/, /^tsx(\/|$)/];

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

/**
 * The build's name: the sources' content, this launcher's (a change in how it compiles is a new
 * build) and the installed packages' (npm's record of node_modules: the bundled packages are part of
 * the build).
 */
function buildHash(files) {
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  const installed = join(REPO, 'node_modules', '.package-lock.json');
  hash.update(existsSync(installed) ? readFileSync(installed) : '');
  for (const file of files) hash.update(`\0${file}\0`).update(readFileSync(join(REPO, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles `files` into `dir`, keeping the tree: each module on its own (its imports of our modules
 * stay imports, the `.ts` of a relative specifier becomes `.js`), the packages it imports bundled into
 * chunks shared by every module (`vendor/`, each package's code evaluated once), SDL copied, and
 * `web/` linked, so that paths taken from `import.meta.url` (the SDL, the screen's `web/dist`) find
 * what they found beside the sources.
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
    bundle: true,
    splitting: true,
    chunkNames: 'vendor/[name]-[hash]',
    // A CommonJS package bundled into an ES module still requires Node's built-ins.
    banner: { js: "import { createRequire as __launchRequire } from 'node:module'; const require = __launchRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [
      {
        name: 'our-modules-on-their-own',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            const ours = args.path.startsWith('.') && !args.importer.includes(`${sep}node_modules${sep}`);
            if (ours) return { path: args.path.replace(/\.ts$/, '.js'), external: true };
            if (LEFT_IN_NODE_MODULES.some((name) => name.test(args.path))) return { path: args.path, external: true };
            return undefined;
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
