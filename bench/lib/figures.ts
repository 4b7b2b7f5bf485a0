/**
 * A figure is one measured number, named with its unit as the last segment
 * (`pg.append.batch100.events_per_s`, `pglite.readStream.p50_ms`), optionally measured against a
 * baseline and held to targets. These names are the keys of `bench/results/*.json`.
 */

export type Comparison = '>=' | '<=';

export interface Target {
  /** What the target bounds: the figure itself, or the figure divided by its baseline. */
  on: 'value' | 'ratio';
  op: Comparison;
  threshold: number;
}

export interface Figure {
  /** The store the figure was measured on (`pg`, `pglite`); prefixes the recorded name. */
  backend?: string;
  /** The measurement with its unit, e.g. `append.batch100.events_per_s`. */
  key: string;
  value: number;
  baseline?: { key: string; value: number };
  targets?: readonly Target[];
}

export interface TargetOutcome {
  target: Target;
  actual: number;
  met: boolean;
}

export function figureName(figure: Pick<Figure, 'backend' | 'key'>): string {
  return figure.backend ? `${figure.backend}.${figure.key}` : figure.key;
}

/** `append.batch100.events_per_s` → `append.batch100.ratio_to_baseline`. */
export function ratioKey(key: string): string {
  const dot = key.lastIndexOf('.');
  return `${dot < 0 ? key : key.slice(0, dot)}.ratio_to_baseline`;
}

export function ratio(figure: Figure): number | undefined {
  return figure.baseline && figure.baseline.value > 0 ? figure.value / figure.baseline.value : undefined;
}

export function evaluateTargets(figure: Figure): TargetOutcome[] {
  return (figure.targets ?? []).map((target) => {
    const actual = target.on === 'value' ? figure.value : (ratio(figure) ?? Number.NaN);
    const met = target.op === '>=' ? actual >= target.threshold : actual <= target.threshold;
    return { target, actual, met };
  });
}

/** The flat `{ name: number }` a figure contributes to the results file: itself, its baseline and their ratio. */
export function flatten(figures: readonly Figure[]): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const f of figures) {
    flat[figureName(f)] = f.value;
    if (f.baseline) {
      flat[figureName({ backend: f.backend, key: f.baseline.key })] = f.baseline.value;
      const r = ratio(f);
      if (r !== undefined) flat[figureName({ backend: f.backend, key: ratioKey(f.key) })] = r;
    }
  }
  return flat;
}
