/**
 * Layers point one way, read from the source files themselves (no I/O beyond reading them):
 * - `events/` and `platform/` import nothing above them; `projections/` imports only `events/`;
 * - the kit (`subgraphs/kit/`) imports no domain;
 * - nothing outside `bench/` imports `bench/`;
 * - a domain uses another only through that domain's event types (any aggregate's `events.ts`) and
 *   its published module (`index.ts`, `facts.ts` or `public.ts` at the domain's root).
 * Comments say what the code guarantees, never "issue N"; the data catalog is spelled one way.
 * Test code (specs, contract suites, `test/`) may reach across domains to build fixtures, but not
 * into `bench/`. The rules are plain functions over import edges, so they are checked against
 * imports they must refuse as well as against the repository.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_ROOTS = ['events', 'projections', 'platform', 'subgraphs', 'gateway', 'schema', 'test', 'bench', 'bin', 'scripts', 'cli', 'ingest'];
const PUBLISHED_MODULES = new Set(['index.ts', 'facts.ts', 'public.ts']);

/**
 * `as unknown as` casts allowed outside tests. Stored events arrive typed from the store port
 * (`readStream<E>`, `aggregate`, typed projections); what remains is not a stored-to-domain cast,
 * and each one says why.
 */
const DOUBLE_CASTS_ALLOWED = 10;

interface ImportEdge {
  /** Repository-relative path of the importing file. */
  from: string;
  /** Repository-relative path the specifier resolves to. */
  to: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;

/** The relative imports of one file (static, re-exports and dynamic), resolved against the repository root. */
function importsOf(file: string, source: string): ImportEdge[] {
  return [...source.matchAll(SPECIFIER)].map((match) => ({ from: file, to: posix.normalize(posix.join(posix.dirname(file), match[2]!)) }));
}

const isTestCode = (path: string): boolean => path.startsWith('test/') || /\.(spec|contract)\.ts$/.test(path);
const layerOf = (path: string): string => path.split('/')[0]!;
/** The domain of a path under `subgraphs/` (undefined for the kit and for anything outside). */
function domainOf(path: string): string | undefined {
  const [top, domain] = path.split('/');
  return top === 'subgraphs' && domain !== 'kit' && domain !== undefined && path.split('/').length > 2 ? domain : undefined;
}

/** Why an import breaks the layering, or undefined when it is allowed. */
function violationOf({ from, to }: ImportEdge): string | undefined {
  if (layerOf(to) === 'bench' && layerOf(from) !== 'bench') return 'only bench/ imports bench/';
  if (isTestCode(from)) return undefined;
  if (layerOf(from) === 'events' && layerOf(to) !== 'events') return 'events/ imports nothing above it';
  if (layerOf(from) === 'platform' && !['platform', 'events'].includes(layerOf(to))) return 'platform/ imports only events/';
  if (layerOf(from) === 'projections' && !['projections', 'events'].includes(layerOf(to))) return 'projections/ imports only events/';
  if (from.startsWith('subgraphs/kit/') && domainOf(to) !== undefined) return 'the kit imports no domain';
  const [source, target] = [domainOf(from), domainOf(to)];
  if (source !== undefined && target !== undefined && source !== target) {
    const inDomain = to.slice(`subgraphs/${target}/`.length);
    const allowed = posix.basename(to) === 'events.ts' || PUBLISHED_MODULES.has(inDomain);
    if (!allowed) return `a domain uses ${target} only through its events.ts files and its published module (index.ts, facts.ts or public.ts)`;
  }
  return undefined;
}

function* sourceFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'results') yield* sourceFiles(path);
    } else if (entry.name.endsWith('.ts')) {
      yield relative(ROOT, path).split('\\').join('/');
    }
  }
}

const files = SOURCE_ROOTS.flatMap((root) => [...sourceFiles(join(ROOT, root))]);
const sources = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
const edges = files.flatMap((file) => importsOf(file, sources.get(file)!));
const describeEdge = ({ from, to }: ImportEdge) => `${from} -> ${to}`;

describe('the rules of import direction', () => {
  it('refuse the imports they forbid', () => {
    const refused: [ImportEdge, RegExp][] = [
      [{ from: 'events/types.ts', to: 'projections/types.ts' }, /events\/ imports nothing above it/],
      [{ from: 'events/sql/database.ts', to: 'subgraphs/kit/calendar.ts' }, /events\/ imports nothing above it/],
      [{ from: 'projections/runner.ts', to: 'subgraphs/kit/command.ts' }, /projections\/ imports only events/],
      [{ from: 'platform/auth.ts', to: 'subgraphs/kit/errors.ts' }, /platform\/ imports only events/],
      [{ from: 'subgraphs/kit/demoCity.ts', to: 'subgraphs/population/seed.ts' }, /the kit imports no domain/],
      [{ from: 'subgraphs/kit/audit.ts', to: 'subgraphs/governance/index.ts' }, /the kit imports no domain/],
      [{ from: 'subgraphs/tax/seed.ts', to: 'bench/lib/stats.ts' }, /only bench\/ imports bench/],
      [{ from: 'test/helpers/events.ts', to: 'bench/lib/stats.ts' }, /only bench\/ imports bench/],
      [{ from: 'subgraphs/tax/seed.ts', to: 'subgraphs/legal-person/handlers.ts' }, /through its events\.ts files and its published module/],
      [{ from: 'subgraphs/tax/seed.ts', to: 'subgraphs/legal-person/legalPerson/decider.ts' }, /published module/],
      [{ from: 'subgraphs/healthcare/seed.ts', to: 'subgraphs/population/readModels/index.ts' }, /published module/],
    ];
    for (const [edge, reason] of refused) assert.match(violationOf(edge) ?? 'allowed', reason, describeEdge(edge));
  });

  it('allow what the layering permits', () => {
    const allowed: ImportEdge[] = [
      { from: 'subgraphs/healthcare/seed.ts', to: 'subgraphs/population/person/events.ts' },
      { from: 'subgraphs/tax/seed.ts', to: 'subgraphs/legal-person/public.ts' },
      { from: 'subgraphs/population/readModels/registry.ts', to: 'subgraphs/healthcare/public.ts' },
      { from: 'subgraphs/tax/seed.ts', to: 'subgraphs/kit/demoCity.ts' },
      { from: 'subgraphs/kit/audit.ts', to: 'platform/auth.ts' },
      { from: 'gateway/main.ts', to: 'platform/subgraphs.ts' },
      { from: 'bench/run.ts', to: 'subgraphs/kit/random.ts' },
      { from: 'subgraphs/tax/tax.int.spec.ts', to: 'subgraphs/population/handlers.ts' },
    ];
    for (const edge of allowed) assert.equal(violationOf(edge), undefined, describeEdge(edge));
  });

  it('read static, re-exported and dynamic imports, resolved from the importing file', () => {
    const source = `import { a } from './a.ts';\nimport type { B } from '../b/b.ts';\nexport { c } from "./c.ts";\nimport './side.ts';\nconst d = await import('../../d.ts');\nimport { z } from 'zod';`;
    assert.deepEqual(
      importsOf('subgraphs/tax/x.ts', source).map((e) => e.to),
      ['subgraphs/tax/a.ts', 'subgraphs/b/b.ts', 'subgraphs/tax/c.ts', 'subgraphs/tax/side.ts', 'd.ts'],
    );
  });
});

describe('the repository', () => {
  it('finds the source files and their imports', () => {
    assert.ok(files.includes('events/types.ts') && files.includes('subgraphs/kit/calendar.ts'), 'source roots not found');
    assert.ok(edges.length > 1000, `only ${edges.length} imports found`);
  });

  it('imports in one direction only', () => {
    const violations = edges
      .map((edge) => ({ edge: describeEdge(edge), reason: violationOf(edge) }))
      .filter((v) => v.reason !== undefined)
      .map((v) => `${v.edge}: ${v.reason}`);
    assert.deepEqual(violations, []);
  });

  it(`casts with "as unknown as" outside tests at most ${DOUBLE_CASTS_ALLOWED} times`, () => {
    const count = files.filter((file) => !isTestCode(file)).reduce((sum, file) => sum + (sources.get(file)!.match(/\bas unknown as\b/g)?.length ?? 0), 0);
    assert.ok(count <= DOUBLE_CASTS_ALLOWED, `${count} casts; at most ${DOUBLE_CASTS_ALLOWED}`);
  });

  it('says in its comments what the code guarantees, not which issue asked for it, and spells "catalog" one way', () => {
    const found = files.flatMap((file) =>
      sources
        .get(file)!
        .split('\n')
        .flatMap((line, i) => (/\bissue #?\d+|\bcatalogue/i.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    assert.deepEqual(found, []);
  });
});
