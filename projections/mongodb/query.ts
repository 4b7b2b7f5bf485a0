/**
 * Pure translations of the `DocumentStore` queries into MongoDB filters, so the SQL and MongoDB
 * backends answer the same `find` the same way. A stored document is
 * `{ _id: id, doc: {…}, sources: { field: { position, eventId } }, pos? }`.
 *
 * Semantics shared with the SQL store: equality, `in` and ranges compare a field's whole value
 * (an array never matches a scalar: `$not: { $type: 'array' }` stops MongoDB's element matching);
 * `null` matches a missing field too; `contains` matches arrays holding the value; sorting puts a
 * missing or null sort value first ascending and breaks ties by id (byte order on both backends).
 * One difference, by engine: across *different* JSON types in one field, PostgreSQL orders jsonb
 * (string < number < boolean) while MongoDB compares only within a type (and sorts numbers before
 * strings), so ranges and keyset pages are exact on fields of one type, which is what read models hold.
 */
import { ValidationError } from '../../events/errors.ts';
import { decodePosition } from '../../events/position.ts';
import type { Position } from '../../events/types.ts';
import { FIELD, isRange } from '../sql/documentStore.ts';
import type { FieldCondition, Where } from '../types.ts';

export type MongoFilter = Record<string, unknown>;

const NOT_ARRAY = { $not: { $type: 'array' } };

/** The stored path of a top-level document field; refuses names that could address anything else. */
export function docPath(name: string): string {
  if (!FIELD.test(name)) throw new ValidationError(`"${name}" is not a filterable field name`);
  return `doc.${name}`;
}

function condition(value: FieldCondition): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object') return { $eq: value, ...NOT_ARRAY };
  if ('in' in value) return { $in: [...value.in], ...NOT_ARRAY };
  if ('contains' in value) return { $elemMatch: { $eq: value.contains } };
  if (!isRange(value)) return undefined;
  const range: Record<string, unknown> = {};
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) if (value[op] !== undefined) range[`$${op}`] = value[op];
  return { ...range, ...NOT_ARRAY };
}

export function whereToFilter(where: Where | undefined): MongoFilter {
  const filter: MongoFilter = {};
  for (const [name, value] of Object.entries(where ?? {}) as [string, FieldCondition][]) {
    const c = condition(value);
    if (c) filter[docPath(name)] = c;
  }
  return filter;
}

export function sortSpec(sortBy: string | undefined, direction: 'asc' | 'desc' | undefined): Record<string, 1 | -1> {
  const d = direction === 'desc' ? -1 : 1;
  return sortBy ? { [docPath(sortBy)]: d, _id: d } : { _id: d };
}

/** Rows strictly after the cursor `(sortValue, id)` in the order `sortSpec` gives. */
export function keysetFilter(sortBy: string | undefined, direction: 'asc' | 'desc' | undefined, sortValue: unknown, id: string): MongoFilter {
  const desc = direction === 'desc';
  const after = desc ? '$lt' : '$gt';
  if (!sortBy) return { _id: { [after]: id } };
  const path = docPath(sortBy);
  const value = sortValue ?? null;
  const tie = { [path]: { $eq: value, ...NOT_ARRAY }, _id: { [after]: id } };
  // null (or missing) sorts first: ascending, everything non-null follows it; descending, nothing does.
  if (value === null) return desc ? tie : { $or: [{ [path]: { $ne: null } }, tie] };
  return desc ? { $or: [{ [path]: { $lt: value } }, { [path]: null }, tie] } : { $or: [{ [path]: { $gt: value } }, tie] };
}

/**
 * A position as a string that sorts like the position (both parts zero-padded to 20 digits), so the
 * fallback's "is this write older than the document?" is one indexed string comparison.
 */
export function positionKey(position: Position): string {
  const { tx, seq } = decodePosition(position);
  return `${tx.toString().padStart(20, '0')}:${seq.toString().padStart(20, '0')}`;
}

/** Writes in the fallback apply only to documents no newer event has written. */
export function olderThan(key: string): MongoFilter {
  return { $or: [{ pos: { $lt: key } }, { pos: { $exists: false } }] };
}

/** Collection name of one read-model collection of one projection build. */
export function buildCollectionName(prefix: string, collection: string): string {
  if (!FIELD.test(collection)) throw new ValidationError(`"${collection}" is not a valid read-model collection name`);
  return `${prefix}.${collection}`;
}

export function buildPrefix(name: string, version: number, buildId: string): string {
  return `rm.${name.replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 40)}.v${version}.${buildId}`;
}

/** Keys MongoDB would read as operators or paths cannot be stored as document fields. */
export function assertStorableFields(fields: object): void {
  for (const key of Object.keys(fields)) {
    if (key.startsWith('$') || key.includes('.') || key.length === 0) {
      throw new ValidationError(`read-model field "${key}" cannot be stored in MongoDB: field names must not start with "$" or contain "."`);
    }
  }
}
