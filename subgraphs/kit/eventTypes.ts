/**
 * An event type declared once: its zod schema validates what the store appends and is also where
 * its TypeScript type comes from (`EventOf`), so the two cannot drift apart.
 */
import { z } from 'zod';
import type { DomainEvent } from '../../events/decider.ts';
import type { EventTypeDefinition } from '../../events/registry.ts';

export interface DefinedEventType<Type extends string, Schema extends z.ZodType> extends EventTypeDefinition<z.output<Schema>> {
  type: Type;
  schema: Schema & z.ZodType<z.output<Schema>>;
}

/**
 * A version-1 event type; a later version adds its upcasters to the returned definition. Its data
 * is given as the object's fields, or as a schema where a rule spans fields (`.refine`).
 */
export function eventType<Type extends string, Schema extends z.ZodType>(type: Type, schema: Schema): DefinedEventType<Type, Schema>;
export function eventType<Type extends string, Shape extends z.ZodRawShape>(type: Type, fields: Shape): DefinedEventType<Type, z.ZodObject<Shape>>;
export function eventType(type: string, schemaOrFields: z.ZodType | z.ZodRawShape): DefinedEventType<string, z.ZodType> {
  return { type, schemaVersion: 1, schema: schemaOrFields instanceof z.ZodType ? schemaOrFields : z.object(schemaOrFields) };
}

/** The domain event a definition made by `eventType` describes. */
export type EventOf<Definition> =
  Definition extends DefinedEventType<infer Type, infer Schema> ? DomainEvent<Type, z.output<Schema>> : never;

/** The domain events of a list of definitions: an aggregate lists its definitions once, and its event union is that list's. */
export type EventsOf<Definitions extends readonly unknown[]> = EventOf<Definitions[number]>;

/** The fields most event schemas share. */
export const eventFields = {
  /** An aggregate or reference id. */
  id: z.string().min(1),
  /** Free text that must say something. */
  text: z.string().trim().min(1),
  /** `YYYY-MM-DD`. */
  date: z.iso.date(),
  /** An ISO 8601 instant with its offset. */
  instant: z.iso.datetime({ offset: true }),
  /** Money in fen (0.01 yuan), an integer: money is never a float. */
  fen: z.int().nonnegative(),
  /** A division code of the catalog at city, district, street or community level. */
  divisionCode: z.string().regex(/^\d{6}(\d{3}){0,2}$/),
  /** A COMMUNITY code of the division catalog. */
  communityCode: z.string().regex(/^\d{12}$/),
};
