/**
 * The write path every subgraph shares (DESIGN §1): load the aggregate's stream, fold it, run the
 * pure `decide`, append the events with the revision that was read as the expected revision.
 * A concurrent writer is retried once against the fresh state (its decision may differ); a second
 * conflict is reported as `CONFLICT`, never silently overwritten.
 */
import { fold, type Decider, type DomainEvent } from '../../events/decider.ts';
import { ConcurrencyError } from '../../events/errors.ts';
import { deterministicEventId } from '../../events/append.ts';
import type { EventMetadata, EventStore, RecordedEvent } from '../../events/types.ts';

/** What every command carries besides its data: the decider never reads a clock. */
export interface CommandMetadata {
  /** ISO 8601 instant the command is decided at; "today" is its date in China (UTC+8). */
  now: string;
}

export interface ExecuteCommandOptions<Command, Event extends DomainEvent, State> {
  store: EventStore;
  streamId: string;
  decider: Decider<Command, Event, State>;
  command: Command;
  /** Provenance, actor, correlation (and grant) of every event the command appends. */
  metadata: EventMetadata;
  /** Re-sending a command with the same key appends nothing and returns the first result. */
  idempotencyKey?: string;
  /**
   * The revision the client decided on (optimistic concurrency across requests): when the stream
   * has moved past it, the command is refused with CONFLICT instead of being decided again.
   */
  expectedRevision?: number;
}

export interface CommandResult<State> {
  /** The aggregate's state after the command. */
  state: State;
  /** The events appended (empty when the decision was "nothing to do"). */
  events: RecordedEvent[];
  /** The stream's revision after the command; `undefined` when the stream still does not exist. */
  revision: number | undefined;
  /** True when the idempotency key had already been used: nothing new was written. */
  replayed: boolean;
}

export async function executeCommand<Command, Event extends DomainEvent, State>(
  options: ExecuteCommandOptions<Command, Event, State>,
): Promise<CommandResult<State>> {
  const { store, streamId, decider, command, metadata, idempotencyKey, expectedRevision } = options;
  for (let attempt = 1; ; attempt++) {
    const history = await store.readStream(streamId);
    const revision = history.at(-1)?.revision;
    const state = fold(decider, history as unknown as Event[]);
    // A re-sent command is answered from the stream before deciding: deciding again on a state that
    // already holds its events would refuse it (e.g. "already registered") instead of replaying it.
    if (idempotencyKey !== undefined) {
      const first = history.findIndex((e) => e.eventId === deterministicEventId(idempotencyKey, 0));
      if (first >= 0) {
        const prior = history.slice(first).filter((e, i) => e.eventId === deterministicEventId(idempotencyKey, i));
        return { state, events: prior, revision, replayed: true };
      }
    }
    if (expectedRevision !== undefined && expectedRevision !== (revision ?? -1)) {
      throw new ConcurrencyError(streamId, String(expectedRevision), revision);
    }
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, events: [], revision, replayed: false };
    try {
      const result = await store.append(
        streamId,
        decided.map((e) => ({ type: e.type, data: e.data, metadata })),
        { expectedRevision: revision ?? 'no_stream', ...(idempotencyKey !== undefined && { idempotencyKey }) },
      );
      const after = result.replayed ? state : fold(decider, [...history, ...result.events] as unknown as Event[]);
      return { state: after, events: result.events, revision: result.nextExpectedRevision, replayed: result.replayed };
    } catch (error) {
      if (error instanceof ConcurrencyError && attempt === 1 && expectedRevision === undefined) continue;
      throw error;
    }
  }
}
