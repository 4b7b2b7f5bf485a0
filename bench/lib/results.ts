/**
 * Figures are merged into `latest.json` (one flat `{ "<figure name with unit>": number }` object
 * shared by every section, so a run of one section keeps the others' last figures) and written
 * with the run's context to `<timestamp>.json` (colons replaced by dashes, for any file system).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../../events/errors.ts';

export interface RunRecord {
  startedAt: string;
  args: readonly string[];
  sections: readonly string[];
  machine: Record<string, string>;
  figures: Record<string, number>;
}

async function readFlat(path: string): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`${path} is not a flat JSON object of figures: fix or delete it, then run again`, { path });
  }
  const flat: Record<string, number> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'number') {
      throw new ValidationError(`${path}: figure "${name}" is not a number: fix or delete it, then run again`, { path, name });
    }
    flat[name] = value;
  }
  return flat;
}

function sortedObject(flat: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(flat).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function writeAtomically(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/** Writes both files; returns their paths. */
export async function saveResults(dir: string, run: RunRecord): Promise<{ latest: string; snapshot: string }> {
  await mkdir(dir, { recursive: true });
  const latest = join(dir, 'latest.json');
  const merged = { ...(await readFlat(latest)), ...run.figures };
  await writeAtomically(latest, sortedObject(merged));
  const snapshot = join(dir, `${run.startedAt.replace(/:/g, '-')}.json`);
  await writeAtomically(snapshot, { ...run, figures: sortedObject(run.figures) });
  return { latest, snapshot };
}
