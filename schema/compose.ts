/**
 * Federation 2 composition of subgraph SDLs into the supergraph the gateway serves. Used by
 * `scripts/compose.ts` (the checked-in `schema/supergraph.graphql`) and by `bin/graph.ts` composing
 * the modules it starts. Each subgraph is composed from the SDL its server builds: its own schema
 * plus the shared scalars and access-control directives (`withSharedScalars`), each field's
 * description naming the catalog resource that guards it (`servedTypeDefs`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Kind, parse, print, visit, type DocumentNode } from 'graphql';
import { ValidationError } from '../events/errors.ts';
import { servedTypeDefs } from './accessDescriptions.ts';

export interface SubgraphDefinition {
  name: string;
  /** Where the gateway reaches the subgraph's `/graphql` (embedded in the supergraph). */
  url: string;
  typeDefs: DocumentNode | string;
}

interface ServedSubgraph {
  name: string;
  url: string;
  typeDefs: DocumentNode;
}

/** The supergraph SDL; throws a ValidationError listing every composition error. */
export function composeSupergraph(subgraphs: readonly SubgraphDefinition[]): string {
  return composeServed(served(subgraphs));
}

/** Each subgraph as its server serves it. */
function served(subgraphs: readonly SubgraphDefinition[]): ServedSubgraph[] {
  if (subgraphs.length === 0) throw new ValidationError('nothing to compose: no subgraphs were given');
  return subgraphs.map((s) => {
    try {
      const doc = typeof s.typeDefs === 'string' ? parse(s.typeDefs) : s.typeDefs;
      return { name: s.name, url: s.url, typeDefs: servedTypeDefs(doc) };
    } catch (error) {
      throw new ValidationError(`subgraph ${s.name}: its SDL does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** The composition library's version: another version may compose the same SDLs differently. */
const COMPOSITION_VERSION = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@apollo/composition/package.json'), 'utf8')) as { version: string }).version;

/** Where a subgraph's URL stands in a supergraph kept for later runs. */
const urlStandIn = (name: string): string => `http://${name}.subgraph.invalid/graphql`;

/**
 * `composeSupergraph` for subgraphs whose URLs change from run to run (`npm start` hosts them on
 * free ports), kept in `cacheFile`: composed with stand-in URLs once per set of served SDLs (and
 * composition version), and the URLs put in on every run. Composing is most of what starting the
 * graph costs, and what it composes changes only with the code. A missing, unreadable or stale file
 * is composed again and rewritten.
 */
export function composeSupergraphCached(subgraphs: readonly SubgraphDefinition[], cacheFile: string): string {
  const services = served(subgraphs).map((s) => ({ ...s, url: urlStandIn(s.name) }));
  const key = createHash('sha256')
    .update(JSON.stringify([COMPOSITION_VERSION, services.map((s) => [s.name, print(s.typeDefs)])]))
    .digest('hex');
  let sdl: string | undefined;
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key?: unknown; supergraph?: unknown };
    if (cached.key === key && typeof cached.supergraph === 'string') sdl = cached.supergraph;
  } catch {
    // No cache yet, or not one this code wrote: compose.
  }
  if (sdl === undefined) {
    sdl = composeServed(services);
    try {
      // Written aside and renamed: another process starting at the same time never reads half a file.
      const partial = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(partial, JSON.stringify({ key, supergraph: sdl }), { mode: 0o600 });
      renameSync(partial, cacheFile);
    } catch {
      // A read-only directory composes every time.
    }
  }
  let supergraph = sdl;
  for (const s of subgraphs) supergraph = supergraph.replaceAll(JSON.stringify(urlStandIn(s.name)), JSON.stringify(s.url));
  return supergraph;
}

/**
 * The composition library, loaded when something is composed: a start whose supergraph is cached
 * (`composeSupergraphCached`) does not pay for loading it.
 */
const composition = (): typeof import('@apollo/composition') => createRequire(import.meta.url)('@apollo/composition') as typeof import('@apollo/composition');

function composeServed(services: readonly ServedSubgraph[]): string {
  const result = composition().composeServices([...services]);
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
