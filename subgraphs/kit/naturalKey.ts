/**
 * Natural keys that must stay unique across aggregates (one person per ID number, one legal person
 * per credit code). A read model cannot enforce that: two registrations racing each other both see
 * the key free. Instead each key owns a tiny claim stream, `<domain>.<key>-<value>`, and the
 * registration appends its claim there with the expected revision it read. The store lets exactly
 * one of two racing claims through; the other is refused with CONFLICT.
 *
 * A claim is taken before the aggregate's own events are appended; if that append then fails, the
 * caller releases the claim (a released key can be claimed again). A crash between the two leaves
 * the key claimed by an aggregate that does not exist: re-sending the same registration (same
 * owner id) takes it over, since a claim held by the same owner is granted again.
 *
 * Keys become part of a stream id, so they must be ASCII letters, digits and `_.:-` (ID numbers and
 * credit codes are); the store refuses anything else with BAD_USER_INPUT. A personal key (an ID
 * number) names its stream by the store's keyed pseudonym of it instead, where the store has one
 * (`claimStreams`); the claims a store made before that, on the clear-named stream, still hold.
 */
import { z } from 'zod';
import { assertNever, type Decider, type DomainEvent } from '../../events/decider.ts';
import { ConflictError } from '../../events/errors.ts';
import type { EventTypeDefinition } from '../../events/registry.ts';
import type { EventMetadata, EventStore, RecordedEvent } from '../../events/types.ts';
import { handle, type CommandOptions } from './command.ts';

export interface NaturalKeyDefinition {
  /** Stream id prefix before the value, e.g. `population.id-number` → `population.id-number-<value>`. */
  streamPrefix: string;
  /** Event type names, e.g. `IdNumberClaimed` / `IdNumberReleased`. */
  claimedType: string;
  releasedType: string;
  /** How the key is named in messages: "ID number", "credit code". */
  label: string;
  /** How the owner is named in messages: "person", "legal person". */
  ownerLabel: string;
  /** The input field carrying the key, named in errors: `idNumber`, `creditCode`. */
  field: string;
  /**
   * The key is personal data (an ID number): its claim stream is named by the store's keyed
   * pseudonym of it, so the log's stream ids never hold the value. @default false
   */
  personal?: boolean;
}

/** Where a key's claims are decided. */
export interface ClaimStreams {
  /** The stream its claims are appended to. */
  streamId: string;
  /**
   * The clear-named stream of a personal key, where a store written before pseudonyms holds its
   * claims: read as the start of `streamId`, never appended to. Absent when it is `streamId`.
   */
  legacyStreamId?: string;
}

interface ClaimData {
  key: string;
  ownerId: string;
}

type ClaimEvent = DomainEvent<string, ClaimData>;
type ClaimState = { holder: string | null };
export type ClaimCommand = { type: 'claim' | 'release'; key: string; ownerId: string };

export interface NaturalKey {
  definition: NaturalKeyDefinition;
  /** The claim events' types, for the subgraph module's `eventTypes`. */
  eventTypes: readonly EventTypeDefinition[];
  /** The streams a claim of `key` is decided on in `store`: every reader of claim streams names them through this. */
  claimStreams(store: Pick<EventStore, 'pseudonyms'>, key: string): ClaimStreams;
  /** The claim stream's decider, for planning claims in a batch (kit/batchPlan.ts) by the same rule. */
  decider: Decider<ClaimCommand, ClaimEvent, ClaimState>;
  /**
   * Claims `key` for `ownerId`; CONFLICT when another owner holds it. Nothing is appended when the
   * owner already holds it. With the registration's idempotency key, a re-sent registration is
   * answered with the claim it appended the first time (so its positions are the first ones).
   */
  claim(store: EventStore, key: string, ownerId: string, metadata: EventMetadata, options?: CommandOptions): Promise<RecordedEvent[]>;
  /** Gives the key back after the owner's registration failed. */
  release(store: EventStore, key: string, ownerId: string, metadata: EventMetadata): Promise<RecordedEvent[]>;
}

export function defineNaturalKey(definition: NaturalKeyDefinition): NaturalKey {
  const { claimedType, releasedType, label, ownerLabel, streamPrefix } = definition;
  const clearStreamId = (key: string): string => `${streamPrefix}-${key}`;
  const claimStreams = ({ pseudonyms }: Pick<EventStore, 'pseudonyms'>, key: string): ClaimStreams =>
    definition.personal && pseudonyms ? { streamId: `${streamPrefix}-${pseudonyms.of(streamPrefix, key)}`, legacyStreamId: clearStreamId(key) } : { streamId: clearStreamId(key) };

  const decider: Decider<ClaimCommand, ClaimEvent, ClaimState> = {
    initialState: () => ({ holder: null }),
    evolve: (state, event) => (event.type === claimedType ? { holder: event.data.ownerId } : event.type === releasedType ? { holder: null } : state),
    decide(command, state) {
      const data = { key: command.key, ownerId: command.ownerId };
      switch (command.type) {
        case 'claim':
          if (state.holder === command.ownerId) return [];
          if (state.holder !== null) {
            // The holder's id stays out of the error: a writer must not learn whom an ID number belongs to.
            throw new ConflictError(`${label} ${command.key} is already registered to another ${ownerLabel}; one ${ownerLabel} per ${label}`, {
              field: definition.field,
            });
          }
          return [{ type: claimedType, data }];
        case 'release':
          return state.holder === command.ownerId ? [{ type: releasedType, data }] : [];
        default:
          return assertNever(command.type);
      }
    },
  };

  const schema = z.object({ key: z.string().min(1), ownerId: z.string().min(1) });
  const run = async (type: ClaimCommand['type'], store: EventStore, key: string, ownerId: string, metadata: EventMetadata, options: CommandOptions = {}) => {
    const { streamId, legacyStreamId } = claimStreams(store, key);
    const base = legacyStreamId === undefined ? undefined : (await store.aggregate(decider, legacyStreamId)).state;
    const decided = base === undefined ? decider : { ...decider, initialState: () => base };
    return (await handle(decided, () => streamId)(store, { type, key, ownerId }, metadata, claimOptions(options))).events;
  };

  return {
    definition,
    eventTypes: [
      { type: claimedType, schemaVersion: 1, schema },
      { type: releasedType, schemaVersion: 1, schema },
    ],
    claimStreams,
    decider,
    claim: (store, key, ownerId, metadata, options) => run('claim', store, key, ownerId, metadata, options),
    release: (store, key, ownerId, metadata) => run('release', store, key, ownerId, metadata),
  };
}

/**
 * The claim's own key, derived from the registration's: the claim and the registered aggregate are
 * two streams, and one key's event ids may stand in one stream only. A client revision is the
 * aggregate's, never the claim stream's.
 */
function claimOptions({ idempotencyKey }: CommandOptions): CommandOptions {
  return idempotencyKey === undefined ? {} : { idempotencyKey: `${idempotencyKey}\u0000claim` };
}
