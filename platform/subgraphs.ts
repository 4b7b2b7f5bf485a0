/**
 * The subgraphs of the graph, their default local ports, and where to find them. The composed
 * supergraph embeds the local defaults; a deployment overrides each URL with
 * `SUBGRAPH_<NAME>_URL` (e.g. `SUBGRAPH_LEGAL_PERSON_URL`) and the gateway routes there at runtime.
 */
import { Kind, parse } from 'graphql';

export const SUBGRAPHS = [
  { name: 'population', port: 4101 },
  { name: 'legal-person', port: 4102 },
  { name: 'urban-ops', port: 4103 },
  { name: 'environment', port: 4104 },
  { name: 'healthcare', port: 4105 },
  { name: 'tax', port: 4106 },
  { name: 'governance', port: 4107 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

export const SUBGRAPH_NAMES: readonly SubgraphName[] = SUBGRAPHS.map((s) => s.name);

export function isSubgraphName(name: string): name is SubgraphName {
  return (SUBGRAPH_NAMES as readonly string[]).includes(name);
}

/** Where the first projector process serves `/healthz`, `/readyz` and `/metrics`; the next ones take the following ports. */
export const FIRST_PROJECTOR_PORT = 4108;

export function defaultSubgraphPort(name: SubgraphName): number {
  const entry = SUBGRAPHS.find((s) => s.name === name);
  if (!entry) throw new RangeError(`unknown subgraph ${name}`);
  return entry.port;
}

export function defaultSubgraphUrl(name: SubgraphName, host = '127.0.0.1'): string {
  return `http://${host}:${defaultSubgraphPort(name)}/graphql`;
}

/** `legal-person` → `SUBGRAPH_LEGAL_PERSON_URL` */
export function subgraphUrlVariable(name: SubgraphName): string {
  return `SUBGRAPH_${name.toUpperCase().replace(/-/g, '_')}_URL`;
}

/** Every subgraph's URL: its `SUBGRAPH_<NAME>_URL` when set, else the local default. */
export function subgraphUrls(env: Record<string, string | undefined> = process.env): Record<SubgraphName, string> {
  return Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, env[subgraphUrlVariable(name)] || defaultSubgraphUrl(name)])) as Record<
    SubgraphName,
    string
  >;
}

/**
 * The subgraphs a supergraph routes to (its `join__Graph` values), with the URLs composed into it.
 * Only that enum's definition is parsed (its values hold no braces): parsing the whole supergraph
 * here cost a start a third of a second, for a few lines of it.
 */
export function supergraphSubgraphs(supergraphSdl: string): { name: string; url: string }[] {
  const found: { name: string; url: string }[] = [];
  const start = supergraphSdl.search(/^enum join__Graph\b/m);
  const graphs = start < 0 ? '' : supergraphSdl.slice(start, supergraphSdl.indexOf('}', start) + 1);
  for (const definition of graphs ? parse(graphs).definitions : []) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const directive = value.directives?.find((d) => d.name.value === 'join__graph');
      const argument = (name: string) => {
        const node = directive?.arguments?.find((a) => a.name.value === name)?.value;
        return node?.kind === Kind.STRING ? node.value : undefined;
      };
      const name = argument('name');
      const url = argument('url');
      if (name !== undefined && url !== undefined) found.push({ name, url });
    }
  }
  return found;
}
