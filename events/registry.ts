/**
 * Every event type the store accepts is registered here with a zod schema for its current version
 * and upcasters from older versions. `append` refuses unregistered types and invalid data; reads
 * upcast old events to the current shape (stored events never change).
 */
import { z } from 'zod';
import { ValidationError } from './errors.ts';
import type { EventMetadata } from './types.ts';

export interface EventTypeDefinition<Data = unknown> {
  type: string;
  /** The current schema version; new events are written with it. */
  schemaVersion: number;
  schema: z.ZodType<Data>;
  /** `upcasters[v]` turns data of version `v` into version `v + 1`. */
  upcasters?: Record<number, (data: unknown) => unknown>;
}

const isoInstant = z.iso.datetime({ offset: true });

export const metadataSchema: z.ZodType<EventMetadata> = z.object({
  provenance: z.object({
    department: z.string().min(1),
    system: z.string().min(1),
    channel: z.string().min(1),
    collectedAt: isoInstant,
    sourceRecordId: z.string().min(1).optional(),
    batchId: z.string().min(1).optional(),
  }),
  actor: z.object({
    consumerId: z.string().min(1),
    userId: z.string().min(1).optional(),
    role: z.string().min(1),
    divisionCode: z.string().min(1).optional(),
    unitId: z.string().min(1).optional(),
    onBehalfOfUnitId: z.string().min(1).optional(),
  }),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).optional(),
  grantId: z.string().min(1).optional(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

export class EventRegistry {
  private readonly definitions = new Map<string, EventTypeDefinition>();

  register<Data>(definition: EventTypeDefinition<Data>): this {
    if (this.definitions.has(definition.type)) {
      throw new Error(`event type ${definition.type} is registered twice`);
    }
    this.definitions.set(definition.type, definition as EventTypeDefinition);
    return this;
  }

  registerAll(definitions: readonly EventTypeDefinition[]): this {
    for (const d of definitions) this.register(d as EventTypeDefinition);
    return this;
  }

  has(type: string): boolean {
    return this.definitions.has(type);
  }

  types(): string[] {
    return [...this.definitions.keys()];
  }

  /** The schema of the current version of `type`'s data; `undefined` for an unregistered type. */
  schemaOf(type: string): z.ZodType | undefined {
    return this.definitions.get(type)?.schema;
  }

  /** Validates an event about to be written; returns its parsed data and schema version. */
  validateForAppend(type: string, data: unknown, metadata: unknown): { data: unknown; schemaVersion: number } {
    const def = this.definitions.get(type);
    if (!def) throw new ValidationError(`event type ${type} is not registered`, { type });
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) {
      throw new ValidationError(`invalid ${type} data: ${describeIssues(parsed.error)}`, {
        type,
        fields: parsed.error.issues.map((i) => i.path.join('.')),
      });
    }
    const meta = metadataSchema.safeParse(metadata);
    if (!meta.success) {
      throw new ValidationError(`invalid ${type} metadata: ${describeIssues(meta.error)}`, {
        type,
        fields: meta.error.issues.map((i) => `metadata.${i.path.join('.')}`),
      });
    }
    return { data: parsed.data, schemaVersion: def.schemaVersion };
  }

  /** Brings stored data up to the current version of its type (unknown types pass through). */
  upcast(type: string, schemaVersion: number, data: unknown): unknown {
    const def = this.definitions.get(type);
    if (!def) return data;
    let current = data;
    for (let v = schemaVersion; v < def.schemaVersion; v++) {
      const up = def.upcasters?.[v];
      if (!up) throw new Error(`no upcaster for ${type} from version ${v} to ${v + 1}`);
      current = up(current);
    }
    return current;
  }
}
