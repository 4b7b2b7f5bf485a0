/**
 * The public schema's conventions for frontend teams, as checks over a built schema (a subgraph's,
 * with its access directives, or the composed supergraph). `schema/conventions.unit.spec.ts` runs
 * them over every subgraph and the checked-in supergraph, so a change that breaks one fails `npm test`:
 *
 * 1. Descriptions. Every type, field, argument, input field and enum value is described (beyond the
 *    access sentence of rule 2), except the federation machinery (`_`-prefixed names, `join__`,
 *    `link__` and `federation__` definitions) and the introspection types.
 * 2. Resources. Every field mapped to a catalog resource (its own `@resource`, else its type's)
 *    names that resource in its description (added by `withAccessDescriptions`).
 * 3. Refusable root fields are nullable: a root field under a non-public resource can be refused by a
 *    grant, and a refused field is null with a FORBIDDEN error at its path while the rest of the
 *    operation is served. A non-null root field would pass its null up and take the whole answer.
 * 4. Connections are non-null inside (`edges: [XEdge!]!`, `node: X!`, `pageInfo: PageInfo!`), and a
 *    field returning a connection is non-null unless a grant can refuse it (rule 3, or a field whose
 *    own resource is neither public nor its type's).
 * 5. Paging. Every `first` argument defaults to `DEFAULT_PAGE_SIZE`.
 */
import { getDirective } from '@graphql-tools/utils';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  isSpecifiedScalarType,
  OperationTypeNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../subgraphs/kit/connections.ts';
import { PUBLIC_RESOURCE } from '../subgraphs/kit/access.ts';
import { ACCESS_SENTENCE } from './accessDescriptions.ts';

/** Federation and link machinery, not part of the API a client writes queries against. */
export function isMachinery(name: string): boolean {
  return name.startsWith('_') || name.startsWith('join__') || name.startsWith('link__') || name.startsWith('federation__');
}

/**
 * A description written for the field, not only the access sentence `withAccessDescriptions` adds:
 * which grant a field needs does not tell a developer what it holds.
 */
const described = (description: string | null | undefined): boolean => Boolean(description?.replace(ACCESS_SENTENCE, '').trim());

function apiTypes(schema: GraphQLSchema): GraphQLNamedType[] {
  return Object.values(schema.getTypeMap()).filter((t) => !isIntrospectionType(t) && !isSpecifiedScalarType(t) && !isMachinery(t.name));
}

/** Every schema coordinate (`Type`, `Type.field`, `Type.field(arg:)`, `Input.field`, `Enum.VALUE`) without a description. */
export function undescribedCoordinates(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of apiTypes(schema)) {
    if (!described(type.description)) missing.push(type.name);
    if (isObjectType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (isMachinery(field.name)) continue;
        if (!described(field.description)) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) {
          if (!described(arg.description)) missing.push(`${type.name}.${field.name}(${arg.name}:)`);
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) if (!described(value.description)) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

/** The resource a subgraph field is mapped to by the access directives, if any. */
export function resourceOfField(schema: GraphQLSchema, type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): string | undefined {
  const own = getDirective(schema, field, 'resource')?.[0] as { name: string } | undefined;
  const typeLevel = getDirective(schema, type, 'resource')?.[0] as { name: string } | undefined;
  return (own ?? typeLevel)?.name;
}

function objectTypes(schema: GraphQLSchema): GraphQLObjectType[] {
  return apiTypes(schema).filter(isObjectType);
}

function rootTypes(schema: GraphQLSchema): Set<GraphQLObjectType> {
  const roots = [OperationTypeNode.QUERY, OperationTypeNode.MUTATION, OperationTypeNode.SUBSCRIPTION].map((k) => schema.getRootType(k));
  return new Set(roots.filter((t): t is GraphQLObjectType => t !== undefined && t !== null));
}

/** Fields of a subgraph schema whose description does not name the resource that guards them. */
export function resourceDescriptionProblems(schema: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const type of objectTypes(schema)) {
    for (const field of Object.values(type.getFields())) {
      if (isMachinery(field.name)) continue;
      const resource = resourceOfField(schema, type, field);
      if (resource && !field.description?.includes(`\`${resource}\``)) {
        problems.push(`${type.name}.${field.name} is guarded by ${resource} but its description does not name \`${resource}\``);
      }
    }
  }
  return problems;
}

const isConnectionType = (type: GraphQLNamedType): type is GraphQLObjectType => isObjectType(type) && type.name.endsWith('Connection');

/** True when a grant can refuse this field while its parent object is served. */
export function isRefusable(schema: GraphQLSchema, type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): boolean {
  const resource = resourceOfField(schema, type, field);
  if (!resource || resource === PUBLIC_RESOURCE) return false;
  if (rootTypes(schema).has(type)) return true;
  const typeLevel = (getDirective(schema, type, 'resource')?.[0] as { name: string } | undefined)?.name;
  return resource !== typeLevel;
}

/** Nullability of refusable root fields and of connections (rules 3 and 4 above), in a subgraph schema. */
export function nullabilityProblems(schema: GraphQLSchema): string[] {
  const problems: string[] = [];
  const roots = rootTypes(schema);
  for (const type of objectTypes(schema)) {
    for (const field of Object.values(type.getFields())) {
      if (isMachinery(field.name)) continue;
      const coordinate = `${type.name}.${field.name}`;
      const refusable = isRefusable(schema, type, field);
      if (roots.has(type) && refusable && isNonNullType(field.type)) {
        problems.push(`${coordinate} is a root field a grant can refuse: it must be nullable, or a refusal nulls the whole answer`);
      }
      if (isConnectionType(getNamedType(field.type)) && !refusable && !isNonNullType(field.type)) {
        problems.push(`${coordinate} returns a connection no grant can refuse on its own: make it non-null`);
      }
    }
    if (isConnectionType(type)) problems.push(...connectionShapeProblems(type));
  }
  return problems;
}

function connectionShapeProblems(connection: GraphQLObjectType): string[] {
  const problems: string[] = [];
  const { edges, pageInfo } = connection.getFields();
  if (!edges || !isNonNullType(edges.type) || !isListType(edges.type.ofType) || !isNonNullType(edges.type.ofType.ofType)) {
    problems.push(`${connection.name}.edges must be a non-null list of non-null edges`);
  }
  if (!pageInfo || !isNonNullType(pageInfo.type)) problems.push(`${connection.name}.pageInfo must be non-null`);
  const edge = edges && getNamedType(edges.type);
  if (edge && isObjectType(edge)) {
    const { node, cursor } = edge.getFields();
    if (!node || !isNonNullType(node.type)) problems.push(`${edge.name}.node must be non-null`);
    if (!cursor || !isNonNullType(cursor.type)) problems.push(`${edge.name}.cursor must be non-null`);
  }
  return problems;
}

/** `first` arguments whose default is not the shared page size. */
export function pageSizeProblems(schema: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const type of objectTypes(schema)) {
    for (const field of Object.values(type.getFields())) {
      const first = field.args.find((a) => a.name === 'first');
      if (first && first.defaultValue !== DEFAULT_PAGE_SIZE) {
        problems.push(`${type.name}.${field.name}(first:) defaults to ${String(first.defaultValue)}, not DEFAULT_PAGE_SIZE (${DEFAULT_PAGE_SIZE})`);
      }
    }
  }
  return problems;
}
