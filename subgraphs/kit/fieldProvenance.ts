/**
 * Field provenance (DESIGN §3): for each field of an entity, the event that
 * last set it — answered from the read model document's per-field sources (`StoredDoc.fieldSources`)
 * and one batched `readEventsById` per request, never by folding the stream.
 *
 * A subgraph maps each API field to the document fields it is computed from; when there are
 * several (e.g. `age` from `birthDate` and `dateOfDeath`), the latest of their sources wins. It
 * declares the GraphQL type once in its `schema.graphql`, as a shareable value type:
 *
 *   type FieldProvenance @shareable @resource(name: "audit.log") { field: String! eventId: ID!
 *     type: String! position: String! recordedAt: DateTime! department: String! system: String!
 *     channel: String! collectedAt: DateTime! sourceRecordId: String }
 */
import { ValidationError } from '../../events/errors.ts';
import { comparePositions } from '../../events/position.ts';
import type { EventStore, RecordedEvent } from '../../events/types.ts';
import type { FieldSource, StoredDoc } from '../../projections/types.ts';
import { loader, type SubgraphContext } from './context.ts';

export interface FieldProvenance {
  field: string;
  eventId: string;
  type: string;
  position: string;
  recordedAt: string;
  department: string;
  system: string;
  channel: string;
  collectedAt: string;
  sourceRecordId: string | null;
}

/** API field → the document fields its value is computed from (at least one). */
export type FieldSourceMap = Readonly<Record<string, readonly [string, ...string[]]>>;

/** The latest source among `docFields`, or undefined when the document has none of them. */
export function latestSource(fieldSources: StoredDoc['fieldSources'], docFields: readonly string[]): FieldSource | undefined {
  let latest: FieldSource | undefined;
  for (const name of docFields) {
    const source = fieldSources[name];
    if (source && (!latest || comparePositions(source.position, latest.position) > 0)) latest = source;
  }
  return latest;
}

/** The known API fields, or a BAD_USER_INPUT naming them. */
export function assertKnownField(map: FieldSourceMap, field: string, entity: string): void {
  if (!Object.hasOwn(map, field)) {
    throw new ValidationError(`${entity} has no field "${field}"; provenance is kept for ${Object.keys(map).join(', ')}`, {
      field: 'field',
      knownFields: Object.keys(map),
    });
  }
}

export function toFieldProvenance(field: string, event: RecordedEvent): FieldProvenance {
  const { provenance } = event.metadata;
  return {
    field,
    eventId: event.eventId,
    type: event.type,
    position: event.position,
    recordedAt: event.recordedAt,
    department: provenance.department,
    system: provenance.system,
    channel: provenance.channel,
    collectedAt: provenance.collectedAt,
    sourceRecordId: provenance.sourceRecordId ?? null,
  };
}

/** The request's events by id: every provenance field of every entity in a response costs one round trip. */
export const eventById = (ctx: Pick<SubgraphContext, 'loaders'>, store: EventStore, eventId: string): Promise<RecordedEvent | undefined> =>
  loader<string, RecordedEvent | undefined>(ctx, 'kit.eventById', (ids) => store.readEventsById(ids)).load(eventId);

/**
 * The provenance of `fields` (in the map's order) of one stored document; fields the document has
 * no source for (never set) are left out.
 */
export async function provenanceOf(
  ctx: Pick<SubgraphContext, 'loaders'>,
  store: EventStore,
  map: FieldSourceMap,
  stored: Pick<StoredDoc, 'fieldSources'>,
  fields: readonly string[] = Object.keys(map),
): Promise<FieldProvenance[]> {
  const sourced = fields.flatMap((field) => {
    const docFields = map[field];
    const source = docFields && latestSource(stored.fieldSources, docFields);
    return source ? [{ field, source }] : [];
  });
  const events = await Promise.all(sourced.map(({ source }) => eventById(ctx, store, source.eventId)));
  return sourced.flatMap(({ field, source }, i) => {
    const event = events[i];
    // A source always names a stored event; a miss means the log and the read model disagree.
    if (!event) throw new Error(`field ${field} was set by event ${source.eventId} at ${source.position}, which the store does not have`);
    return [toFieldProvenance(field, event)];
  });
}

export interface ProvenanceResolverOptions<View extends { asOf: string | null }, Ctx extends Pick<SubgraphContext, 'loaders'>> {
  /** The GraphQL type name, for error messages. */
  entity: string;
  store: EventStore;
  fields: FieldSourceMap;
  /** The entity's read-model document (batched by the caller's loader); undefined or null when not projected yet. */
  stored(ctx: Ctx, view: View): Promise<Pick<StoredDoc, 'fieldSources'> | null | undefined>;
}

/**
 * The `provenance` and `fieldProvenance(field:)` resolvers of an entity type. Provenance describes
 * the current record: an `asOf` view is refused (its `history` shows the events up to that instant),
 * and an entity the projector has not reached yet has none so far.
 */
export function provenanceResolvers<View extends { asOf: string | null }, Ctx extends Pick<SubgraphContext, 'loaders'>>(
  options: ProvenanceResolverOptions<View, Ctx>,
) {
  const { entity, store, fields } = options;
  async function of(view: View, ctx: Ctx, names?: readonly string[]): Promise<FieldProvenance[]> {
    if (view.asOf !== null) {
      throw new ValidationError(`provenance describes the current ${entity}; read history for the view as of ${view.asOf}`, { field: 'asOf', asOf: view.asOf });
    }
    const stored = await options.stored(ctx, view);
    return stored ? provenanceOf(ctx, store, fields, stored, names) : [];
  }
  return {
    provenance: (view: View, _: unknown, ctx: Ctx) => of(view, ctx),
    async fieldProvenance(view: View, { field }: { field: string }, ctx: Ctx): Promise<FieldProvenance | null> {
      assertKnownField(fields, field, entity);
      return (await of(view, ctx, [field]))[0] ?? null;
    },
  };
}
