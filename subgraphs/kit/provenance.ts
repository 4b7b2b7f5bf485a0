/**
 * The metadata every event appended through the API carries (DESIGN §1): where the fact came from
 * (the providing department's system, or the caller's own account of it) and who wrote it (the
 * authenticated consumer). Commands name their usual department; a caller relaying another
 * system's record may state its own provenance, which is recorded as given.
 */
import { ValidationError } from '../../events/errors.ts';
import type { Actor, EventMetadata, Provenance } from '../../events/types.ts';
import { parseInstant } from './calendar.ts';
import { commandOptionsOf, type CommandContext } from './command.ts';
import type { SubgraphContext } from './context.ts';

/** The `channel` of everything written through the graph's mutations. */
export const API_CHANNEL = 'graphql';

/** The optional `provenance` of a mutation input (GraphQL gives `null` for fields left out). */
export interface ProvenanceInput {
  department?: string | null;
  system?: string | null;
  sourceRecordId?: string | null;
  batchId?: string | null;
  collectedAt?: string | null;
}

/** Where a command's facts come from when the caller does not say. */
export interface ProvenanceDefaults {
  department: string;
  system: string;
}

function optionalText(value: string | null | undefined, field: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`provenance.${field} must not be empty when given`, { field: `provenance.${field}` });
  return trimmed;
}

export function provenanceOf(defaults: ProvenanceDefaults, channel: string, input: ProvenanceInput | null | undefined, now: string): Provenance {
  const collectedAt = input?.collectedAt ?? now;
  if (parseInstant(collectedAt, 'provenance.collectedAt') > parseInstant(now, 'now')) {
    throw new ValidationError(`provenance.collectedAt ${collectedAt} is in the future; it is when the source collected the fact`, {
      field: 'provenance.collectedAt',
    });
  }
  const sourceRecordId = optionalText(input?.sourceRecordId, 'sourceRecordId');
  const batchId = optionalText(input?.batchId, 'batchId');
  return {
    department: optionalText(input?.department, 'department') ?? defaults.department,
    system: optionalText(input?.system, 'system') ?? defaults.system,
    channel,
    collectedAt,
    ...(sourceRecordId !== undefined && { sourceRecordId }),
    ...(batchId !== undefined && { batchId }),
  };
}

/**
 * Metadata for events a mutation appends: the caller is the actor, the request id the correlation
 * id, and the grant the mutation was allowed under (on `resource`) is named, as DESIGN §1 asks.
 */
export function mutationMetadata(
  ctx: Pick<SubgraphContext, 'caller' | 'requestId' | 'access'>,
  resource: string,
  defaults: ProvenanceDefaults,
  input: ProvenanceInput | null | undefined,
  now: string,
): EventMetadata {
  const grantId = ctx.access.grantIdFor(resource);
  return {
    provenance: provenanceOf(defaults, API_CHANNEL, input, now),
    actor: actorOf(ctx),
    correlationId: ctx.requestId,
    ...(grantId !== undefined && { grantId }),
  };
}

/** What a mutation decides its command with: `mutationMetadata`, `now`, and the key and revision its input gives (`commandOptionsOf`). */
export function mutationCommandContext(
  ctx: Pick<SubgraphContext, 'caller' | 'requestId' | 'access'>,
  resource: string,
  defaults: ProvenanceDefaults,
  input: { provenance?: ProvenanceInput | null; idempotencyKey?: string | null; expectedRevision?: number | null },
  now: string,
): CommandContext {
  return { metadata: mutationMetadata(ctx, resource, defaults, input.provenance, now), now, ...commandOptionsOf(input, ctx.caller) };
}

/**
 * The authenticated principal as event metadata records it: consumer, user and role from the token,
 * division and unit from governance (loaded with the grants the mutation's root field was checked
 * against). `onBehalfOfUnitId`: the unit a centre acted for.
 */
export function actorOf(ctx: Pick<SubgraphContext, 'caller' | 'access'>, onBehalfOfUnitId?: string): Actor {
  const jurisdiction = ctx.access.knownJurisdiction;
  return {
    consumerId: ctx.caller.consumerId,
    ...(ctx.caller.userId !== undefined && { userId: ctx.caller.userId }),
    role: ctx.caller.role,
    ...(jurisdiction && { divisionCode: jurisdiction.divisionCode }),
    ...(jurisdiction?.unitId !== undefined && { unitId: jurisdiction.unitId }),
    ...(onBehalfOfUnitId !== undefined && { onBehalfOfUnitId }),
  };
}
