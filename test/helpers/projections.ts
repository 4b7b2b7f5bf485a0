/** Projections over the test event types (`test/helpers/events.ts`) for runner tests, and waiting for a runner. */
import type { ProjectionLag } from '../../projections/readModels.ts';
import { sourceOf, type Projection } from '../../projections/types.ts';

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
      const source = sourceOf(event);
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
      await notes.upsert(event.streamId, { stream: event.streamId, texts: [...(current?.doc.texts ?? []), text] }, sourceOf(event));
    },
  };
}

/**
 * Waits until a running projector has applied every event of its projections committed so far (no
 * lag), and fails after `timeoutMs`: on a busy PostgreSQL server readers wait for transactions open
 * anywhere on it (DESIGN §6), so this can take seconds, and a read made before sees old read models.
 */
export async function untilCaughtUp(runner: { lag(): Promise<ProjectionLag[]> }, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const behind = (await runner.lag()).filter((l) => l.events > 0);
    if (behind.length === 0) return;
    if (Date.now() > deadline) throw new Error(`still behind after ${timeoutMs} ms: ${behind.map((l) => `${l.projection} by ${l.events} events`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
