import { isDeepStrictEqual } from 'node:util';

/**
 * The top-level fields of `after` that differ from `before`: what a `patch` writes so that every
 * other field keeps the source (the event) that last set it, which field provenance reports.
 * A `put` or `upsert` of the whole document would name the latest event for every field.
 */
export function changedFields<T extends Record<string, unknown>>(before: T, after: T): Partial<T> {
  const changed: Partial<T> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (!isDeepStrictEqual(before[key], after[key])) changed[key] = after[key];
  }
  return changed;
}
