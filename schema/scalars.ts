/**
 * The scalars every subgraph shares (DESIGN §3) and the access-control directives of the contract
 * between subgraph schemas and the kit (`@resource`, `@masked`, `@subject` with their enums): their
 * SDL lives in `scalars.graphql`, the scalars' resolvers here. `withSharedScalars` adds to a
 * subgraph's SDL the definitions it uses but does not declare, so a subgraph's `schema.graphql` just
 * names `DateTime` or `@resource(...)` and both the kit's server and the composition script see the
 * same definition.
 */
import { readFileSync } from 'node:fs';
import {
  GraphQLScalarType,
  Kind,
  parse,
  visit,
  type DefinitionNode,
  type DirectiveDefinitionNode,
  type DocumentNode,
  type EnumTypeDefinitionNode,
  type InputObjectTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ScalarTypeDefinitionNode,
  type ValueNode,
} from 'graphql';
import { z } from 'zod';
import { ValidationError } from '../events/errors.ts';

export const scalarsSdl = readFileSync(new URL('./scalars.graphql', import.meta.url), 'utf8');

type SharedDefinition = ScalarTypeDefinitionNode | EnumTypeDefinitionNode | DirectiveDefinitionNode | ObjectTypeDefinitionNode | InputObjectTypeDefinitionNode;

const sharedDefinitions: readonly SharedDefinition[] = parse(scalarsSdl).definitions.filter(
  (d): d is SharedDefinition =>
    d.kind === Kind.SCALAR_TYPE_DEFINITION ||
    d.kind === Kind.ENUM_TYPE_DEFINITION ||
    d.kind === Kind.DIRECTIVE_DEFINITION ||
    d.kind === Kind.OBJECT_TYPE_DEFINITION ||
    d.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION,
);

export const sharedScalarNames: readonly string[] = sharedDefinitions
  .filter((d) => d.kind === Kind.SCALAR_TYPE_DEFINITION)
  .map((d) => d.name.value);

/** Directives and types live in separate namespaces: `@resource` and a type `resource` may coexist. */
const definitionKey = (d: SharedDefinition): string => (d.kind === Kind.DIRECTIVE_DEFINITION ? `@${d.name.value}` : d.name.value);

const isoInstant = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function toDateTime(value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError('DateTime cannot represent an invalid Date');
    return value.toISOString();
  }
  if (typeof value === 'string' && isoInstant.safeParse(value).success) return value;
  throw new ValidationError(
    `DateTime expects an ISO 8601 date-time with an offset such as 2024-05-01T08:30:00+08:00; got ${describe(value)}`,
  );
}

function toDate(value: unknown): string {
  if (typeof value === 'string' && isoDate.safeParse(value).success) return value;
  throw new ValidationError(`Date expects an ISO 8601 calendar date such as 2024-05-01; got ${describe(value)}`);
}

function jsonLiteral(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => jsonLiteral(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, jsonLiteral(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
  }
}

/** A scalar written as a string, checked by `check` on the way in and out; `example` shows a literal. */
function stringScalar(name: string, check: (value: unknown) => string, example: string): GraphQLScalarType {
  return new GraphQLScalarType({
    name,
    serialize: check,
    parseValue: check,
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) throw new ValidationError(`${name} literals must be strings such as "${example}"`);
      return check(ast.value);
    },
  });
}

export const DateTimeScalar = stringScalar('DateTime', toDateTime, '2024-05-01T08:30:00+08:00');

export const DateScalar = stringScalar('Date', toDate, '2024-05-01');

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => jsonLiteral(ast, variables),
});

export const scalarResolvers: Readonly<Record<string, GraphQLScalarType>> = {
  DateTime: DateTimeScalar,
  Date: DateScalar,
  JSON: JSONScalar,
};

/** Names `node` defines and references (directives as `@name`), added to the two sets. */
function collectNames(node: DocumentNode | SharedDefinition, defined: Set<string>, referenced: Set<string>): void {
  visit(node, {
    ScalarTypeDefinition: (n) => void defined.add(n.name.value),
    EnumTypeDefinition: (n) => void defined.add(n.name.value),
    ObjectTypeDefinition: (n) => void defined.add(n.name.value),
    InputObjectTypeDefinition: (n) => void defined.add(n.name.value),
    InterfaceTypeDefinition: (n) => void defined.add(n.name.value),
    UnionTypeDefinition: (n) => void defined.add(n.name.value),
    DirectiveDefinition: (n) => void defined.add(`@${n.name.value}`),
    NamedType: (n) => void referenced.add(n.name.value),
    Directive: (n) => void referenced.add(`@${n.name.value}`),
  });
}

/**
 * The shared definitions (scalars, access directives and the enums those directives take, and the
 * shared value types such as `HistoryEvent` and `PageInfo`, and inputs such as `ProvenanceInput`) that
 * `typeDefs` references but does not define itself, appended to it.
 */
export function withSharedScalars(typeDefs: DocumentNode): DocumentNode {
  const defined = new Set<string>();
  const referenced = new Set<string>();
  collectNames(typeDefs, defined, referenced);
  const missing: DefinitionNode[] = [];
  // An added directive references its argument enums, which may be missing too: repeat until stable.
  for (let added = true; added; ) {
    added = false;
    for (const d of sharedDefinitions) {
      const key = definitionKey(d);
      if (referenced.has(key) && !defined.has(key)) {
        missing.push(d);
        collectNames(d, defined, referenced);
        added = true;
      }
    }
  }
  return missing.length ? { ...typeDefs, definitions: [...typeDefs.definitions, ...missing] } : typeDefs;
}
