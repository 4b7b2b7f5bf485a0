/**
 * Read-after-write: a mutation answers with the positions of the events it appended, and a query
 * sent with one of them in the `x-min-position` header waits until the subgraph's read models have
 * projected through it (bounded), so it sees the write. Read models are projected asynchronously,
 * usually within tens of milliseconds; the wait costs nothing when they already have.
 */
import { NotYetProjectedError, ValidationError } from '../../events/errors.ts';
import { comparePositions, decodePosition } from '../../events/position.ts';
import { START, type Position } from '../../events/types.ts';
import type { ReadModels } from '../../projections/readModels.ts';

export const MIN_POSITION_HEADER = 'x-min-position';

export interface ReadAfterWriteOptions {
  readModels: ReadModels;
  /** The projections the subgraph's queries read (its module's). */
  projections: readonly string[];
  /** The longest a query waits before it is answered NOT_YET_PROJECTED. @default 5000 */
  maxWaitMs?: number;
  /** @default 20 */
  pollMs?: number;
}

/**
 * Returns once every projection has projected through `minPosition`; NOT_YET_PROJECTED (carrying
 * the lowest checkpoint) when they have not within `maxWaitMs`.
 */
export async function waitForProjections(options: ReadAfterWriteOptions, minPosition: string): Promise<void> {
  try {
    decodePosition(minPosition);
  } catch {
    throw new ValidationError(`${MIN_POSITION_HEADER} "${minPosition}" is not a position: send one of a mutation's \`positions\` ("<transaction>:<sequence>")`, {
      field: MIN_POSITION_HEADER,
    });
  }
  const { readModels, projections, maxWaitMs = 5000, pollMs = 20 } = options;
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const checkpoints = await readModels.checkpoints(projections);
    const behind = projections.map((name): [string, Position] => [name, checkpoints.get(name) ?? START]).filter(([, at]) => comparePositions(at, minPosition) < 0);
    if (behind.length === 0) return;
    if (Date.now() >= deadline) {
      const position = behind.map(([, at]) => at).reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b));
      throw new NotYetProjectedError(`the read models have not projected through ${minPosition} within ${maxWaitMs} ms (they stand at ${position}); ask again`, {
        minPosition,
        position,
        projections: behind.map(([name]) => name),
      });
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
