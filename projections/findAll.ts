/**
 * Every document a query matches, read page by page (keyset cursors), for the few read paths that
 * need all of them at once: a usage or quality report over days, a batch of DataLoader keys.
 */
import type { Collection, Doc, FindOptions } from './types.ts';

export async function findAll<T extends Doc>(collection: Collection<T>, options: Omit<FindOptions, 'after'> & { first: number }): Promise<T[]> {
  const found: T[] = [];
  let after: string | undefined;
  do {
    const page = await collection.find({ ...options, ...(after && { after }) });
    found.push(...page.items.map((i) => i.node.doc));
    after = page.hasNextPage && page.endCursor ? page.endCursor : undefined;
  } while (after);
  return found;
}
