/**
 * `replay [projection…]`: rebuilds projections from position 0 into fresh tables (queries keep the
 * old ones until the new build has caught up and is swapped in), with a progress bar, then reports
 * every projection's lag.
 */
import type { Platform } from '../bin/platform.ts';
import type { BatchProgress, ProjectionLag } from '../projections/readModels.ts';
import { ValidationError } from '../events/errors.ts';
import type { Progress } from './progress.ts';

export interface ReplayReport {
  projection: string;
  events: number;
  seconds: number;
}

/** Routes the runner's batch reports to the bar of the projection being rebuilt. */
export class ProgressRouter {
  current: Progress | undefined;
  /** Events applied since it was last reset. */
  applied = 0;
  readonly onProgress = (progress: BatchProgress): void => {
    this.applied += progress.applied;
    this.current?.increment(progress.applied);
  };
}

export async function replayProjections(
  platform: Platform,
  names: readonly string[],
  router: ProgressRouter,
  createProgress: (label: string, total: number) => Progress,
): Promise<ReplayReport[]> {
  const known = platform.modules.flatMap((m) => m.projections);
  const unknown = names.filter((n) => !known.some((p) => p.name === n));
  if (unknown.length) {
    throw new ValidationError(
      `no projection named ${unknown.join(', ')}; known: ${known.map((p) => p.name).join(', ') || '(none)'}`,
      { unknown },
    );
  }
  const selected = names.length ? known.filter((p) => names.includes(p.name)) : known;
  const reports: ReplayReport[] = [];
  for (const projection of selected) {
    // The bar's length, counted in the SQL log; KurrentDB keeps no count by type, so there the bar has none.
    const { rows } = platform.db
      ? await platform.db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events WHERE type = ANY($1)', [[...projection.eventTypes]])
      : { rows: [] };
    const bar = createProgress(projection.name, Number(rows[0]?.n ?? 0));
    router.current = bar;
    router.applied = 0;
    const started = performance.now();
    try {
      await platform.runner.rebuild(projection.name);
    } finally {
      bar.stop();
      router.current = undefined;
    }
    reports.push({ projection: projection.name, events: router.applied, seconds: (performance.now() - started) / 1000 });
  }
  return reports;
}

export function formatLag(lags: readonly ProjectionLag[]): string {
  if (lags.length === 0) return 'no projections are registered';
  const width = Math.max(...lags.map((l) => l.projection.length), 'projection'.length);
  const lines = lags.map(
    (l) => `${l.projection.padEnd(width)}  ${String(l.events).padStart(9)}  ${l.seconds.toFixed(1).padStart(9)}  ${(l.owned ? 'yes' : 'no').padEnd(10)}  ${l.checkpoint}`,
  );
  return [`${'projection'.padEnd(width)}  ${'lag (ev)'.padStart(9)}  ${'lag (s)'.padStart(9)}  owned here  checkpoint`, ...lines].join('\n');
}
