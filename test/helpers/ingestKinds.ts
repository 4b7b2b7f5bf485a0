/**
 * A small real ingest kind for the channel's tests until the domains publish theirs: `test-notes`
 * writes one note per `noteId` (`test.note-<noteId>`, `NoteWritten` of the test registry) through a
 * real decider with a domain rule, planned the way a domain kind plans (one read of the chunk's
 * streams, later records seeing earlier ones, idempotency keys as event ids).
 */
import { z } from 'zod';
import { deterministicEventId } from '../../events/append.ts';
import type { Decider } from '../../events/decider.ts';
import { CityBrainError, ValidationError } from '../../events/errors.ts';
import type { NewEvent, StreamAppend } from '../../events/types.ts';
import type { IngestKind, RecordOutcome } from '../../subgraphs/kit/ingest.ts';
import { MODULES } from '../../bin/modules.ts';
import { registryOf } from '../../bin/platform.ts';
import { TEST_EVENT_TYPES } from './events.ts';

type WriteNote = { type: 'writeNote'; data: { text: string } };
type NoteWritten = { type: 'NoteWritten'; data: { text: string } };
type NoteState = { text: string | null };

export const noteDecider: Decider<WriteNote, NoteWritten, NoteState> = {
  initialState: () => ({ text: null }),
  decide(command, state) {
    if (command.data.text.startsWith('forbidden')) throw new ValidationError('text must not start with "forbidden"', { field: 'text' });
    return state.text === command.data.text ? [] : [{ type: 'NoteWritten', data: { text: command.data.text } }];
  },
  evolve: (_state, event) => ({ text: event.data.text }),
};

export const noteStreamId = (noteId: string): string => `test.note-${noteId}`;

const noteSchema = z.object({ noteId: z.string().regex(/^[A-Za-z0-9-]+$/, 'noteId must be letters, digits and dashes'), text: z.string().min(1).max(500) });

export const testNotesKind: IngestKind<z.infer<typeof noteSchema>> = {
  name: 'test-notes',
  title: '测试便笺 test notes',
  resource: 'environment.write',
  department: 'ecology-environment',
  system: 'test-notes-system',
  schema: noteSchema,
  async plan(store, records) {
    const streamIds = [...new Set(records.map((r) => noteStreamId(r.data.noteId)))];
    const histories = await store.readStreams<NoteWritten>(streamIds);
    const streams = new Map(
      streamIds.map((id, i) => {
        const history = histories[i]!;
        const state = history.reduce(noteDecider.evolve, noteDecider.initialState());
        return [id, { state, revision: history.length - 1, eventIds: new Set(history.map((e) => e.eventId)), events: [] as NewEvent[] }];
      }),
    );
    const outcomes = records.map((record): RecordOutcome => {
      const stream = streams.get(noteStreamId(record.data.noteId))!;
      const eventId = deterministicEventId(record.idempotencyKey, 0);
      if (stream.eventIds.has(eventId)) return { status: 'alreadyPresent' };
      try {
        const decided = noteDecider.decide({ type: 'writeNote', data: { text: record.data.text } }, stream.state);
        if (decided.length === 0) return { status: 'unchanged' };
        const created = stream.state.text === null;
        for (const [i, e] of decided.entries()) {
          stream.events.push({ ...e, metadata: record.metadata, eventId: deterministicEventId(record.idempotencyKey, i) });
          stream.state = noteDecider.evolve(stream.state, e);
        }
        stream.eventIds.add(eventId);
        return { status: created ? 'created' : 'changed' };
      } catch (error) {
        if (!(error instanceof CityBrainError)) throw error;
        const field = typeof error.details.field === 'string' ? error.details.field : undefined;
        return { status: 'rejected', code: error.code, message: error.message, ...(field && { field }) };
      }
    });
    const appends: StreamAppend[] = [...streams]
      .filter(([, s]) => s.events.length > 0)
      .map(([streamId, s]) => ({ streamId, events: s.events, options: { expectedRevision: s.revision < 0 ? 'no_stream' : s.revision } }));
    return { outcomes, appends };
  },
};

/** The event types of every module plus the test ones (`NoteWritten`). */
export const ingestTestRegistry = () => registryOf(MODULES).registerAll(TEST_EVENT_TYPES);
