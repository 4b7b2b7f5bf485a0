/**
 * The shape of one delivered record, shared by every kind (kit/ingest.ts). A record arrives as an
 * NDJSON object or as a CSV row whose cells are strings, so the schemas here:
 * - take nested values either way: an object in NDJSON (`"residence": {"address": …}`) or dotted
 *   CSV headers (`residence.address`, `residence.divisionCode`), nested before validation;
 * - treat an empty value (an empty CSV cell, `""`, `null`) as absent;
 * - coerce numbers (`"12.5"` → 12.5).
 * Shape only: every domain rule stays in the deciders, so a record and a mutation are refused alike.
 */
import { z } from 'zod';
import { deterministicEventId } from '../../events/append.ts';
import type { IngestKind, IngestRecord } from './ingest.ts';

/** Dotted keys nested, empty values dropped (recursively), so both transports give one shape. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const item = typeof raw === 'string' && raw.trim() === '' ? undefined : raw === null ? undefined : normalise(raw);
    if (item === undefined) continue;
    const path = key.split('.');
    let target = out;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      target = (next !== null && typeof next === 'object' && !Array.isArray(next) ? next : (target[part] = {})) as Record<string, unknown>;
    }
    target[path.at(-1)!] = item;
  }
  return out;
}

/** One record's schema: `sourceRecordId` (required) and the kind's own fields. */
export function recordSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.preprocess(normalise, z.object({ sourceRecordId: z.string().trim().min(1), ...shape }));
}

/** A number, also from a CSV cell. */
export const number = () => z.coerce.number<unknown>().refine(Number.isFinite, 'a finite number');
/** An integer, also from a CSV cell. */
export const integer = () => z.coerce.number<unknown>().int();
/** A money amount in yuan as the mutations take it (`"1000000.50"`); a number in NDJSON is taken as its decimal text. */
export const yuan = () => z.union([z.string(), z.number().transform(String)]);

/** A JSON array in a CSV cell, or the array itself in NDJSON. */
export const jsonCell = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array' });
      return z.NEVER;
    }
  }, schema);

/** Exactly one of two fields that name the same thing (a person by id, or by this department's source id). */
export const exactlyOne = (a: string, b: string): [(value: Record<string, unknown>) => boolean, { message: string; path: string[] }] => [
  (value) => (value[a] === undefined) !== (value[b] === undefined),
  { message: `give exactly one of ${a} and ${b}`, path: [a] },
];

/**
 * The id of the entity (a person, a visit, a declaration) a record describes, derived from the
 * delivering department, the kind and the record's source id: the same record delivered again
 * (corrected or not) names the same entity, so a register compares it with what it holds instead of
 * registering it twice, and a fact is found already present. With `sourceRecordId`: the entity another
 * record of the same department names (a household's head by its `persons` record).
 */
export function entityIdOf(record: Pick<IngestRecord<unknown>, 'metadata' | 'sourceRecordId'>, kind: string, sourceRecordId = record.sourceRecordId): string {
  return deterministicEventId(`ingest-entity\u0000${record.metadata.provenance.department}\u0000${kind}\u0000${sourceRecordId}`, 0);
}

/** A kind as a module lists it: its `plan` takes what its own `schema` produced, which the channel guarantees. */
export const erased = <Data>(kind: IngestKind<Data>): IngestKind => kind as unknown as IngestKind;
