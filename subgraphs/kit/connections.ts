/**
 * Relay connections (DESIGN §3) over read models and over small in-memory lists. Pagination is
 * keyset, never offset: a cursor names the last row a client saw, so rows appended or removed
 * meanwhile neither repeat nor vanish from the pages that follow.
 *
 * Cursors are opaque base64url strings. Each is bound to the list that issued it (its `list` name),
 * so a cursor of one list sent to another is refused with BAD_USER_INPUT instead of silently
 * paging from a meaningless place.
 */
import { ValidationError } from '../../events/errors.ts';
import type { Collection, Comparable, Doc, StoredDoc, Where } from '../../projections/types.ts';

/** An equality on each of `fields` the filter sets (neither null, undefined nor empty), on the documents' field of the same name. */
export function equalityWhere<Field extends string>(filter: Partial<Record<Field, Comparable | null>> | null | undefined, fields: readonly Field[]): Where {
  const where: Where = {};
  for (const field of fields) {
    const value = filter?.[field];
    if (value !== null && value !== undefined && value !== '') where[field] = value;
  }
  return where;
}

/**
 * Page size when `first` is not given: the same for every list of the graph. Every `first` argument of
 * the schema declares it as its default, so clients see it (checked by `schema/conventions.unit.spec.ts`).
 */
export const DEFAULT_PAGE_SIZE = 20;
/** The largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: PageInfo;
  /** Resolved only when the client asks for it (graphql-js calls function-valued fields). */
  totalCount: () => Promise<number> | number;
}

/** The page size a client asked for, refused with a clear error outside 0…MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) {
    throw new ValidationError(`"first" must be a whole number from 0 to ${MAX_PAGE_SIZE}, got ${first}`, { field: 'first' });
  }
  if (first > MAX_PAGE_SIZE) {
    throw new ValidationError(`"first" may be at most ${MAX_PAGE_SIZE}, got ${first}; page through the rest with "after"`, {
      field: 'first',
      max: MAX_PAGE_SIZE,
    });
  }
  return first;
}

function badCursor(cursor: string, reason: string): ValidationError {
  return new ValidationError(`cursor "${cursor}" ${reason}: start again without "after"`, { field: 'after' });
}

function encode(list: string, key: string): string {
  return Buffer.from(JSON.stringify([list, key])).toString('base64url');
}

/** The key inside a cursor this list issued. */
function decode(list: string, cursor: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor(cursor, 'is not a cursor this service issued');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') {
    throw badCursor(cursor, 'is not a cursor this service issued');
  }
  if (parsed[0] !== list) throw badCursor(cursor, `belongs to another list (${parsed[0]}), not ${list}`);
  return parsed[1];
}

function connectionOf<Node>(edges: { cursor: string; node: Node }[], hasNextPage: boolean, after: string | null | undefined, totalCount: Connection<Node>['totalCount']): Connection<Node> {
  return {
    edges,
    pageInfo: {
      hasNextPage,
      // A valid `after` cursor names a row the client has seen, so there is a page before this one.
      hasPreviousPage: Boolean(after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

export interface CollectionConnectionOptions<T extends Doc, Node> extends ConnectionArgs {
  /** Names the list in its cursors, e.g. `population.persons`; use one name per (collection, sort). */
  list: string;
  collection: Collection<T>;
  where?: Where;
  /** Top-level sort field; ties are broken by id. Default: id. */
  sortBy?: string;
  direction?: 'asc' | 'desc';
  node: (doc: StoredDoc<T>) => Node;
  /** The number of matches when a projection keeps it (instead of a `count` over `where`). */
  totalCount?: () => Promise<number>;
}

/** One page of a read-model collection: one `find` round trip, plus one `count` if `totalCount` is asked for. */
export async function collectionConnection<T extends Doc, Node>(options: CollectionConnectionOptions<T, Node>): Promise<Connection<Node>> {
  const first = pageSize(options.first);
  const after = options.after ? decode(options.list, options.after) : undefined;
  const page = await options.collection.find({
    ...(options.where && { where: options.where }),
    ...(options.sortBy && { sortBy: options.sortBy }),
    ...(options.direction && { direction: options.direction }),
    first,
    ...(after !== undefined && { after }),
  });
  const edges = page.items.map((item) => ({ cursor: encode(options.list, item.cursor), node: options.node(item.node) }));
  return connectionOf(edges, page.hasNextPage, options.after, options.totalCount ?? (() => options.collection.count(options.where)));
}

export interface ArrayConnectionOptions<Item, Node> extends ConnectionArgs {
  list: string;
  /** The whole list, already in its order; `key` must be unique and increase along it. */
  items: readonly Item[];
  key: (item: Item) => string;
  node: (item: Item) => Node;
}

/**
 * One page of a list already in memory (a static catalog, a batch a DataLoader fetched), with the
 * same cursors and limits as read-model lists. Keys are compared as strings, so the items must be
 * sorted by `key` (code order, id order).
 */
export function arrayConnection<Item, Node>(options: ArrayConnectionOptions<Item, Node>): Connection<Node> {
  const first = pageSize(options.first);
  const after = options.after ? decode(options.list, options.after) : undefined;
  const start = after === undefined ? 0 : options.items.findIndex((item) => options.key(item) > after);
  const rest = start < 0 ? [] : options.items.slice(start);
  const edges = rest.slice(0, first).map((item) => ({ cursor: encode(options.list, options.key(item)), node: options.node(item) }));
  return connectionOf(edges, rest.length > first, options.after, () => options.items.length);
}
