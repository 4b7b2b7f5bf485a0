/**
 * `npm run bench [-- <section…>] [--quick] [--backends pglite,postgres] [--events <n>] …`
 * Runs the selected sections (all by default) on each store, prints the machine's facts and one
 * table per section, and saves the figures under bench/results (see bench/README.md).
 */
import { Command, InvalidArgumentError } from 'commander';
import { ValidationError } from '../events/errors.ts';
import * as crypto from './crypto.bench.ts';
import * as environment from './environment.bench.ts';
import * as eventFeed from './eventFeed.bench.ts';
import * as eventStore from './eventStore.bench.ts';
import * as gateway from './gateway.bench.ts';
import * as healthcare from './healthcare.bench.ts';
import * as ingest from './ingest.bench.ts';
import * as urbanOps from './urbanOps.bench.ts';
import * as screen from './screen.bench.ts';
import * as startup from './startup.bench.ts';
import { postgresServerFacts } from './lib/databases.ts';
import { flatten, type Figure } from './lib/figures.ts';
import { machineFacts } from './lib/machine.ts';
import { createProgress } from '../cli/progress.ts';
import { renderFacts, renderTable } from './lib/report.ts';
import { saveResults } from './lib/results.ts';
import type { BackendId, BenchContext, BenchOption, BenchSection } from './lib/section.ts';

const SECTIONS: readonly BenchSection[] = [eventStore, environment, healthcare, gateway, eventFeed, startup, urbanOps, screen, ingest, crypto];
const BACKENDS: readonly BackendId[] = ['pglite', 'postgres'];

/** Settings every section may read. */
const GLOBAL_OPTIONS: readonly BenchOption[] = [
  { name: 'events', description: 'events in the store before reads and rebuilds are timed', default: 1_000_000, quick: 50_000 },
];

const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (name: string) => `BENCH_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
const integer = new Intl.NumberFormat('en-US');

function parseCount(raw: string, source: string): number {
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(`${source} is "${raw}": expected a positive whole number such as 1000000 or 1_000_000`, { source, raw });
  }
  return value;
}

function allOptions(): BenchOption[] {
  const seen = new Map<string, string>();
  const options: BenchOption[] = [];
  for (const [owner, list] of [['run', GLOBAL_OPTIONS] as const, ...SECTIONS.map((s) => [s.name, s.options ?? []] as const)]) {
    for (const option of list) {
      const other = seen.get(option.name);
      if (other) throw new Error(`bench option --${kebab(option.name)} is declared by both ${other} and ${owner}: rename one`);
      seen.set(option.name, owner);
      options.push(option);
    }
  }
  return options;
}

interface Cleanup {
  fn: () => Promise<void>;
  done: boolean;
}

async function main(): Promise<number> {
  const options = allOptions();
  const program = new Command()
    .name('npm run bench --')
    .description('Measures the stores on PGlite and PostgreSQL; figures go to bench/results/latest.json.')
    .argument('[sections...]', `sections to run, default all: ${SECTIONS.map((s) => s.name).join(', ')}`)
    .option('--quick', 'small sizes for a smoke run (figures are not saved unless --save)')
    .option('--save', 'save the figures to bench/results (the default, except with --quick)')
    .option('--no-save', 'print the figures only')
    .option(
      '--backends <list>',
      `comma-separated stores to measure, in order (env BENCH_BACKENDS)`,
      process.env.BENCH_BACKENDS ?? BACKENDS.join(','),
    );
  for (const o of options) {
    program.option(`--${kebab(o.name)} <n>`, `${o.description} (env ${envName(o.name)}; default ${integer.format(o.default)}, --quick ${integer.format(o.quick)})`, (raw) => {
      try {
        return parseCount(raw, `--${kebab(o.name)}`);
      } catch (err) {
        throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      }
    });
  }
  program.parse();
  const opts = program.opts<Record<string, unknown>>();
  const quick = opts.quick === true;
  const save = typeof opts.save === 'boolean' ? opts.save : !quick;

  const requested = program.processedArgs[0] as string[];
  const unknown = requested.filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length) {
    throw new ValidationError(`no bench section named ${unknown.join(', ')}: choose from ${SECTIONS.map((s) => s.name).join(', ')}`);
  }
  const sections = requested.length ? SECTIONS.filter((s) => requested.includes(s.name)) : [...SECTIONS];

  const backends = String(opts.backends)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const badBackend = backends.find((b) => !(BACKENDS as readonly string[]).includes(b));
  if (badBackend !== undefined || backends.length === 0) {
    throw new ValidationError(`--backends "${String(opts.backends)}": expected a comma-separated list of ${BACKENDS.join(', ')}`);
  }

  const sizes = new Map<string, number>();
  for (const o of options) {
    const flag = opts[o.name];
    const env = process.env[envName(o.name)];
    sizes.set(o.name, typeof flag === 'number' ? flag : env !== undefined ? parseCount(env, envName(o.name)) : quick ? o.quick : o.default);
  }

  const startedAt = new Date().toISOString();
  const facts: Record<string, string> = machineFacts();
  if (backends.includes('postgres')) Object.assign(facts, await postgresServerFacts());
  const runStart = performance.now();
  const log = (message: string) => console.log(`[${((performance.now() - runStart) / 1000).toFixed(1).padStart(6)} s] ${message}`);

  console.log(`City Brain bench · ${sections.map((s) => s.name).join(', ')} · ${quick ? 'QUICK sizes (smoke run)' : 'full sizes'} · ${startedAt}`);
  console.log(renderFacts(facts));
  console.log(`sizes: ${[...sizes].map(([k, v]) => `${kebab(k)} ${integer.format(v)}`).join(', ')}\n`);

  // A cleanup runs once, whoever starts it; a drain also waits for those already running, so the
  // process never exits in the middle of removing a database.
  const pending: Cleanup[] = [];
  const running = new Set<Promise<void>>();
  const start = (c: Cleanup): Promise<void> => {
    if (c.done) return Promise.resolve();
    c.done = true;
    const p = c.fn().catch((err: unknown) => console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`));
    running.add(p);
    return p.finally(() => running.delete(p));
  };
  const runCleanups = async () => {
    while (pending.length) await start(pending.pop()!);
    await Promise.all([...running]);
  };
  // Ctrl-C: sections stop at their next step and the partial figures are printed; the databases are
  // dropped even if a section does not stop (exit 2 s after); a second Ctrl-C exits at once.
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort();
    console.error('\ninterrupted: removing the bench databases… (Ctrl-C again to leave them)');
    void runCleanups().finally(() => setTimeout(() => process.exit(130), 2000).unref());
  });

  const results: { section: BenchSection; figures: Figure[]; error?: unknown }[] = [];
  for (const section of sections) {
    const figures: Figure[] = [];
    const ctx: BenchContext = {
      quick,
      signal: interrupt.signal,
      backends: backends as BackendId[],
      size(name) {
        const value = sizes.get(name);
        if (value === undefined) throw new Error(`bench setting "${name}" is not declared: add it to the section's options`);
        return value;
      },
      log: (message) => log(`${section.name}: ${message}`),
      report: (figure) => figures.push(figure),
      fact: (name, value) => {
        facts[name] = value;
      },
      progress: createProgress,
      defer(fn) {
        const entry: Cleanup = { fn, done: false };
        pending.push(entry);
        return () => start(entry);
      },
    };
    log(`▶ ${section.name}: ${section.description}`);
    try {
      await section.run(ctx);
      results.push({ section, figures });
    } catch (error) {
      results.push({ section, figures, error });
      if (!interrupt.signal.aborted) console.error(`✖ ${section.name} failed:`, error);
    } finally {
      await runCleanups();
    }
  }

  console.log(`\nCity Brain bench · ${startedAt} · ${quick ? 'QUICK sizes (smoke run)' : 'full sizes'} · ${((performance.now() - runStart) / 1000).toFixed(0)} s`);
  console.log(renderFacts(facts));
  for (const { section, figures, error } of results) {
    const partial = interrupt.signal.aborted ? ' (interrupted, partial figures)' : error ? ' (FAILED, partial figures)' : '';
    console.log(`\n${section.name}: ${section.description}${partial}`);
    if (figures.length) {
      console.log(
        renderTable(figures, [
          { id: 'pg', label: 'PostgreSQL' },
          { id: 'pglite', label: 'PGlite' },
        ]),
      );
    }
  }

  const all = results.flatMap((r) => r.figures);
  if (interrupt.signal.aborted) {
    console.log('\ninterrupted: figures not saved');
    return 130;
  }
  if (save && all.length) {
    const paths = await saveResults(RESULTS_DIR, {
      startedAt,
      args: process.argv.slice(2),
      sections: sections.map((s) => s.name),
      machine: facts,
      figures: flatten(all),
    });
    console.log(`\nfigures merged into ${paths.latest} and written to ${paths.snapshot}`);
  } else {
    console.log(`\nfigures not saved${quick ? ' (quick run; pass --save to keep them)' : ''}`);
  }
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ValidationError ? `bench: ${err.message}` : err);
    process.exit(1);
  },
);
