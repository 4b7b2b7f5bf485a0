/**
 * Federation 2 composition of subgraph SDLs into the supergraph the gateway serves. Used by
 * `scripts/compose.ts` (the checked-in `schema/supergraph.graphql`) and by `bin/graph.ts` composing
 * the modules it starts. Each subgraph is composed from the SDL its server builds: its own schema
 * plus the shared scalars and access-control directives (`withSharedScalars`), each field's
 * description naming the catalog resource that guards it (`servedTypeDefs`).
 */
import { composeServices } from '@apollo/composition';
import { Kind, parse, print, visit, type DocumentNode } from 'graphql';
import { ValidationError } from '../events/errors.ts';
import { servedTypeDefs } from './accessDescriptions.ts';

export interface SubgraphDefinition {
  name: string;
  /** Where the gateway reaches the subgraph's `/graphql` (embedded in the supergraph). */
  url: string;
  typeDefs: DocumentNode | string;
}

/** The supergraph SDL; throws a ValidationError listing every composition error. */
export function composeSupergraph(subgraphs: readonly SubgraphDefinition[]): string {
  if (subgraphs.length === 0) throw new ValidationError('nothing to compose: no subgraphs were given');
  const services = subgraphs.map((s) => {
    try {
      const doc = typeof s.typeDefs === 'string' ? parse(s.typeDefs) : s.typeDefs;
      return { name: s.name, url: s.url, typeDefs: servedTypeDefs(doc) };
    } catch (error) {
      throw new ValidationError(`subgraph ${s.name}: its SDL does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  const result = composeServices(services);
  if (result.errors) {
    const lines = result.errors.map((e) => `  - ${e.message}`);
    throw new ValidationError(`the subgraphs do not compose (${result.errors.length} error(s)):\n${lines.join('\n')}`);
  }
  return withoutTypes(result.supergraphSdl, directiveOnlyEnums(services.map((s) => s.typeDefs)));
}

/**
 * Enums only the subgraph-local directives use (`AccessAction`, `MaskKind` of `@resource` /
 * `@masked`). Those directives are not composed, so composition would publish their argument enums
 * to clients as unused types.
 */
function directiveOnlyEnums(documents: readonly DocumentNode[]): Set<string> {
  const enums = new Set<string>();
  const usedByTypes = new Set<string>();
  for (const document of documents) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.ENUM_TYPE_DEFINITION) enums.add(definition.name.value);
      if (definition.kind === Kind.DIRECTIVE_DEFINITION) continue;
      visit(definition, { NamedType: (node) => void usedByTypes.add(node.name.value) });
    }
  }
  return new Set([...enums].filter((name) => !usedByTypes.has(name)));
}

function withoutTypes(supergraphSdl: string, names: ReadonlySet<string>): string {
  if (names.size === 0) return supergraphSdl;
  const document = parse(supergraphSdl);
  const kept = document.definitions.filter((d) => !(d.kind === Kind.ENUM_TYPE_DEFINITION && names.has(d.name.value)));
  return kept.length === document.definitions.length ? supergraphSdl : print({ ...document, definitions: kept });
}
