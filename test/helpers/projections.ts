/** A projection over the test event types (`test/helpers/events.ts`), for runner tests. */
import type { Projection } from '../../projections/types.ts';

export interface CounterDoc extends Record<string, unknown> {
  stream: string;
  total: number;
  increments: number;
  lastBy: number | null;
  resetReason?: string;
}

export function counterProjection(version = 1, options: { failOn?: number } = {}): Projection {
  return {
    name: 'test.counters',
    version,
    eventTypes: ['CounterIncremented', 'CounterReset'],
    indexes: [{ collection: 'counters', fields: ['total'] }],
    async apply(event, store) {
      const counters = store.collection<CounterDoc>('counters');
      const source = { position: event.position, eventId: event.eventId };
      const current = await counters.get(event.streamId);
      if (event.type === 'CounterIncremented') {
        const by = (event.data as { by: number }).by;
        if (options.failOn === by) throw new Error(`projection refuses by=${by}`);
        // Version 2 counts in tens, so tests can tell which build answered.
        const weight = version >= 2 ? 10 : 1;
        const total = (current?.doc.total ?? 0) + by * weight;
        await counters.patch(event.streamId, { stream: event.streamId, total, increments: (current?.doc.increments ?? 0) + 1, lastBy: by }, source);
      } else {
        await counters.patch(event.streamId, { total: 0, resetReason: (event.data as { reason: string }).reason }, source);
      }
    },
  };
}

export interface NotesDoc extends Record<string, unknown> {
  stream: string;
  texts: string[];
}

/** A second projection over other event types, for runners that advance several at once. */
export function notesProjection(version = 1): Projection {
  return {
    name: 'test.notes',
    version,
    eventTypes: ['NoteWritten'],
    async apply(event, store) {
      const notes = store.collection<NotesDoc>('notes');
      const current = await notes.get(event.streamId);
      const text = (event.data as { text: string }).text;
      await notes.upsert(event.streamId, { stream: event.streamId, texts: [...(current?.doc.texts ?? []), text] }, { position: event.position, eventId: event.eventId });
    },
  };
}
