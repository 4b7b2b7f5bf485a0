/** Event types and envelopes for tests of the store and the runner, independent of any domain. */
import { z } from 'zod';
import { EventRegistry, type EventTypeDefinition } from '../../events/registry.ts';
import { comparePositions, encodePosition } from '../../events/position.ts';
import type { SqlExecutor } from '../../events/sql/database.ts';
import type { EventMetadata, EventStore, NewEvent, Position, ReadAllOptions, RecordedEvent } from '../../events/types.ts';

export const testMetadata: EventMetadata = {
  provenance: { department: 'test-department', system: 'test-system', channel: 'test', collectedAt: '2026-01-01T00:00:00.000Z' },
  actor: { consumerId: 'test-consumer', role: 'department' },
  correlationId: 'test-correlation',
};

/** `CounterIncremented` v2 has `by`; v1 stored `amount`, upcast on read. */
export const TEST_EVENT_TYPES: readonly EventTypeDefinition[] = [
  {
    type: 'CounterIncremented',
    schemaVersion: 2,
    schema: z.object({ by: z.number().int() }),
    upcasters: { 1: (data: unknown) => ({ by: (data as { amount: number }).amount }) },
  },
  { type: 'CounterReset', schemaVersion: 1, schema: z.object({ reason: z.string().min(1) }) },
  { type: 'NoteWritten', schemaVersion: 1, schema: z.object({ text: z.string() }) },
  // Fields in an order jsonb does not keep (it stores shorter keys first): a stored payload reads back reordered.
  { type: 'NoteSigned', schemaVersion: 1, schema: z.object({ signature: z.string(), by: z.string(), at: z.object({ place: z.string(), on: z.string() }) }) },
];

export function createTestRegistry(): EventRegistry {
  return new EventRegistry().registerAll(TEST_EVENT_TYPES);
}

export function incremented(by = 1, overrides: Partial<NewEvent> = {}): NewEvent {
  return { type: 'CounterIncremented', data: { by }, metadata: testMetadata, ...overrides };
}

/**
 * Waits until readers can pass `position`. On PostgreSQL the gap-safe read stops at the oldest
 * transaction still open anywhere on the server (DESIGN §6), and parallel test files hold some open.
 */
export async function waitUntilVisible(store: EventStore, position: Position, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (comparePositions(await store.headPosition(), position) < 0) {
    if (Date.now() > deadline) throw new Error(`position ${position} did not become visible within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `readAll` once readers can pass every event committed so far: what a test counting the events a
 * command appended must read, since `readAll` alone stops at the gap-safe head (`waitUntilVisible`).
 */
export async function readCommitted(store: EventStore, options?: ReadAllOptions): Promise<RecordedEvent[]> {
  await waitUntilVisible(store, await store.committedHead());
  return store.readAll(options);
}

/** Waits until readers can pass every event committed so far (see `waitUntilVisible`). */
export async function waitForCommitted(db: SqlExecutor, store: EventStore, timeoutMs = 30_000): Promise<void> {
  const { rows } = await db.query<{ transaction_id: string; global_position: string }>(
    `SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position FROM es_events e
     ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
  );
  if (rows[0]) await waitUntilVisible(store, encodePosition(rows[0].transaction_id, rows[0].global_position), timeoutMs);
}
