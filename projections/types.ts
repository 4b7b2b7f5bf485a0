/**
 * The read side's ports. A projection folds events into documents through `DocumentStore`, which the
 * SQL backends implement over JSONB and `mongodb/` over MongoDB, without domain
 * code changing.
 */
import type { DomainEvent } from '../events/decider.ts';
import type { Position, Recorded, RecordedEvent } from '../events/types.ts';

/** Where a field's current value came from: the event that last set it. */
export interface FieldSource {
  position: Position;
  eventId: string;
}

/** The source an event stamps on the fields it writes. */
export const sourceOf = (event: RecordedEvent): FieldSource => ({ position: event.position, eventId: event.eventId });

/** A stored document: the projection's own fields plus bookkeeping the store maintains. */
export type Doc = Record<string, unknown>;

export interface StoredDoc<T extends Doc = Doc> {
  id: string;
  doc: T;
  /** Per top-level field, the event that last set it (DESIGN §1: provenance without replay). */
  fieldSources: Record<string, FieldSource>;
}

export type Comparable = string | number | boolean;

/** Equality, `in`, and ranges on top-level fields (dates compare as ISO strings). */
export type FieldCondition =
  | Comparable
  | null
  | { in: readonly Comparable[] }
  | { gt?: Comparable; gte?: Comparable; lt?: Comparable; lte?: Comparable }
  | { contains: Comparable };

export type Where = Record<string, FieldCondition>;

export interface FindOptions {
  where?: Where;
  /** Sort field (top-level); ties broken by id. Default: id. */
  sortBy?: string;
  direction?: 'asc' | 'desc';
  /** Page size. */
  first?: number;
  /** Opaque keyset cursor from a previous page's `endCursor`. */
  after?: string;
}

export interface Page<T extends Doc> {
  items: { cursor: string; node: StoredDoc<T> }[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/**
 * Inside a projection's batch the documents are not copied (projections/sql/documentStore.ts): a
 * document read may be the batch's own object, and a document written is kept as given. So a
 * projection changes a document it read only to write it back (in the same `apply`, or in the
 * `deferred` write that read it), and leaves a document alone once written.
 */
export interface Collection<T extends Doc = Doc> {
  get(id: string): Promise<StoredDoc<T> | undefined>;
  /** One round trip for any number of ids; result in the order of `ids`, `undefined` where absent. */
  getMany(ids: readonly string[]): Promise<(StoredDoc<T> | undefined)[]>;
  find(options?: FindOptions): Promise<Page<T>>;
  count(where?: Where): Promise<number>;
  /** Replaces the document; every top-level field is attributed to `source`. */
  upsert(id: string, doc: T, source: FieldSource): Promise<void>;
  /** Merges top-level fields into an existing (or new) document; only those fields are attributed to `source`. */
  patch(id: string, fields: Partial<T>, source: FieldSource): Promise<void>;
  delete(id: string): Promise<void>;
}

/** A collection's name that carries its documents' type: a read names the collection and gets typed documents, with no type to repeat. */
export type CollectionName<T extends Doc = Doc> = string & { readonly documentType?: T };

/** Names a collection whose documents are `T`. */
export const collectionName = <T extends Doc>(name: string): CollectionName<T> => name;

export interface DocumentStore {
  collection<T extends Doc = Doc>(name: CollectionName<T>): Collection<T>;
  /**
   * Where a batch of events is written at once (the SQL runner's batch): the batch's one state for
   * `key`, made by `start` on first use, and `write` runs once with it just before the batch's writes
   * go out (or a query inside the batch flushes them). A projection folding many events into the same
   * few large documents (kit/tieredCounts.ts) then writes them once a batch, not once an event.
   * Absent where writes go out one by one: the caller writes at once.
   */
  deferred?<S>(key: object, start: () => S, write: (state: S) => Promise<void>): S;
}

/** A projection's declared index on a top-level field of one collection. */
export interface IndexDeclaration {
  collection: string;
  fields: readonly string[];
  unique?: boolean;
}

/** One index on each of `fields` of `collection`, each by itself: how most read models are filtered. */
export const singleFieldIndexes = (collection: string, ...fields: readonly string[]): IndexDeclaration[] =>
  fields.map((field) => ({ collection, fields: [field] }));

/** `E`: the domain events of `eventTypes` (the runner delivers no others), so `apply` takes them typed. */
export interface Projection<E extends DomainEvent = DomainEvent> {
  /** Stable name, e.g. `population.persons`. */
  name: string;
  /** Bump to rebuild: the new version fills a fresh table and is swapped in when caught up. */
  version: number;
  /** Event types the projection handles; the runner reads only these. */
  eventTypes: readonly string[];
  indexes?: readonly IndexDeclaration[];
  /**
   * Applies one event. `store` is bound to the batch's transaction: the writes and the checkpoint
   * commit together, so a crash never applies an event twice or skips one.
   */
  apply(event: Recorded<E>, store: DocumentStore): Promise<void>;
}
