/**
 * How every backend hands out a domain's events: the one place a stored envelope is taken for an
 * event of the union its reader names. The store cannot check the union itself (it knows event
 * types, not domains); what makes the reading sound is that a stream id's prefix belongs to one
 * domain, that every event was validated against its registered schema when appended, and that it
 * is upcast to the current schema version when read.
 */
import { fold, type DomainEvent } from './decider.ts';
import type { Aggregate, Evolver, ReadStreamOptions, Recorded, RecordedEvent } from './types.ts';

export function asRecorded<E extends DomainEvent>(events: readonly RecordedEvent[]): Recorded<E>[] {
  return events as Recorded<E>[];
}

/** `aggregate` for any backend, on its own `readStream`. */
export async function aggregateStream<E extends DomainEvent, State>(
  readStream: (streamId: string, options?: ReadStreamOptions) => Promise<RecordedEvent[]>,
  decider: Evolver<E, State>,
  streamId: string,
  options?: ReadStreamOptions,
): Promise<Aggregate<E, State>> {
  const events = asRecorded<E>(await readStream(streamId, options));
  return { state: fold(decider, events), revision: events.at(-1)?.revision, events };
}

/**
 * Whether a stored event is one of `types` (names of `E`'s members): narrows it to `E`'s envelope.
 * For readers of the whole log (projections, process managers) that take several domains' events.
 */
export function isEventOf<E extends DomainEvent>(types: ReadonlySet<string> | readonly string[], event: RecordedEvent): event is Recorded<E> {
  return 'has' in types ? types.has(event.type) : types.includes(event.type);
}
