/**
 * Every document a query matches, read page by page (keyset cursors), for the few read paths that
 * need all of them at once: a usage or quality report over days, a batch of DataLoader keys; and the
 * one document a unique field names.
 */
import type { Collection, Doc, FindOptions, Where } from './types.ts';

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

/** The document a unique field's value names (an ID number, a credit code), or undefined. */
export async function findOne<T extends Doc>(collection: Collection<T>, where: Where): Promise<T | undefined> {
  const [found] = (await collection.find({ where, first: 1 })).items;
  return found?.node.doc;
}
