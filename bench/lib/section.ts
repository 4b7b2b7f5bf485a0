/** What a bench section is, and what the runner (`bench/run.ts`) hands it. */
import type { Figure, Target } from './figures.ts';
import type { Progress } from '../../cli/progress.ts';

export type BackendId = 'pglite' | 'postgres';

/** How a figure's name starts on each backend (`pg.append…`, `pglite.append…`). */
export const FIGURE_PREFIX: Readonly<Record<BackendId, string>> = { postgres: 'pg', pglite: 'pglite' };

/** Reports a figure measured on `backend`, with its targets on PostgreSQL (PGlite is reported without targets). */
export function backendReporter(ctx: Pick<BenchContext, 'report'>, backend: BackendId, postgresTargets: Readonly<Record<string, readonly Target[]>>) {
  return (key: string, value: number, baseline?: { key: string; value: number }): void => {
    const targets = backend === 'postgres' ? postgresTargets[key] : undefined;
    ctx.report({ backend: FIGURE_PREFIX[backend], key, value, ...(baseline && { baseline }), ...(targets && { targets }) });
  };
}

/** A numeric setting: `--kebab-name <n>`, else `BENCH_SNAKE_NAME`, else the default (or the quick default). */
export interface BenchOption {
  /** camelCase, e.g. `streamReads` → `--stream-reads <n>`, `BENCH_STREAM_READS`. */
  name: string;
  description: string;
  default: number;
  /** Used by `--quick` when neither the flag nor the variable is set. */
  quick: number;
}

export interface BenchContext {
  readonly quick: boolean;
  /** Aborted on Ctrl-C: stop between steps (`signal.throwIfAborted()`); the runner then cleans up and exits. */
  readonly signal: AbortSignal;
  /** The stores to measure, in order. */
  readonly backends: readonly BackendId[];
  /** A setting declared by the runner or by this section's `options`. */
  size(name: string): number;
  log(message: string): void;
  report(figure: Figure): void;
  /** A fact about the environment shown in the header (a server version, a setting). */
  fact(name: string, value: string): void;
  progress(label: string, total: number): Progress;
  /**
   * Registers a cleanup that runs when the section ends, failed or not, or when the run is
   * interrupted (latest first). Call the returned function to run it earlier, exactly once.
   */
  defer(cleanup: () => Promise<void>): () => Promise<void>;
}

export interface BenchSection {
  /** Selects the section on the command line: `npm run bench -- <name>`. */
  name: string;
  description: string;
  options?: readonly BenchOption[];
  run(ctx: BenchContext): Promise<void>;
}
