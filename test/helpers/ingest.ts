/**
 * Delivering records to a domain's ingest kinds in tests, as the channel (ingest/) does: parse with
 * the kind's schema, give each record its metadata and idempotency key, plan on a store, commit the
 * plan with `appendMany`. Plus a store per test on each backend with the modules' event types.
 */
import assert from 'node:assert/strict';
import { CityBrainError } from '../../events/errors.ts';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import type { EventMetadata } from '../../events/types.ts';
import { ingestKeyOf, type IngestKind, type IngestPlan, type IngestRecord } from '../../subgraphs/kit/ingest.ts';
import type { SubgraphModule } from '../../subgraphs/kit/module.ts';
import { freshStorePerTest, type TestBackend } from './databases.ts';

export const INGEST_NOW = '2026-03-02T04:00:00.000Z';

export function ingestMetadata(kind: IngestKind, sourceRecordId: string, department = kind.department): EventMetadata {
  return {
    provenance: { department, system: kind.system, channel: 'import', batchId: 'test-batch', sourceRecordId, collectedAt: '2026-03-01T02:00:00.000Z' },
    actor: { consumerId: 'test-department', role: 'department' },
    correlationId: 'test-batch',
  };
}

/** Rows as a department delivers them (NDJSON objects or CSV rows), parsed by the kind's schema; a row the schema refuses fails the test. */
export function recordsOf(kind: IngestKind, rows: readonly Record<string, unknown>[], department = kind.department): IngestRecord<unknown>[] {
  return rows.map((row, i) => {
    const parsed = kind.schema.safeParse(row);
    if (!parsed.success) assert.fail(`row ${i + 1} does not parse as ${kind.name}: ${parsed.error.message}`);
    const data = parsed.data as { sourceRecordId: string };
    return { line: i + 1, sourceRecordId: data.sourceRecordId, data, metadata: ingestMetadata(kind, data.sourceRecordId, department), idempotencyKey: ingestKeyOf(department, kind.name, data.sourceRecordId, data) };
  });
}

/** Plans the rows and commits the plan as the channel would; returns the plan. */
export async function deliver(store: SqlEventStore, kind: IngestKind, rows: readonly Record<string, unknown>[], now = INGEST_NOW): Promise<IngestPlan> {
  const plan = await kind.plan(store, recordsOf(kind, rows), now);
  if (plan.appends.length > 0) await store.appendMany(plan.appends);
  return plan;
}

export const statuses = (plan: IngestPlan): string[] => plan.outcomes.map((o) => o.status);

/** A fresh store per test with the event types of `modules`, on one backend per file. */
export function storePerTest(openBackend: () => Promise<TestBackend>, modules: readonly SubgraphModule[]): () => SqlEventStore {
  let store: SqlEventStore | undefined;
  freshStorePerTest(
    openBackend,
    () => new EventRegistry().registerAll(modules.flatMap((m) => m.eventTypes)),
    (fresh) => {
      store = fresh.store;
    },
  );
  return () => store!;
}

/** The kind a module publishes under `name`. */
export function kindOf(module: SubgraphModule, name: string): IngestKind {
  const kind = module.ingestKinds?.find((k) => k.name === name);
  if (!kind) assert.fail(`${module.name} publishes no ingest kind ${name}`);
  return kind;
}

/** What the mutation's handler throws for the same input. */
export async function refusalOf(run: () => Promise<unknown>): Promise<{ code: string; message: string; field?: string }> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof CityBrainError, String(error));
    const field = error.details.field;
    return { code: error.code, message: error.message, ...(typeof field === 'string' && { field }) };
  }
  return assert.fail('the mutation accepted what the ingest refused');
}

