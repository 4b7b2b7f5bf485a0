import assert from 'node:assert/strict';
import { partialWithErrorAt, type Body } from './graphqlBody.ts';

type Located = { id: string } & Record<string, { division: { code: string } | null } | string>;
type Listed = Record<string, { edges: { node: Located }[] }>;

/**
 * Lists two entities of which `id` was stored with a division the catalog no longer has: its
 * `<place>.division` is null with one NOT_FOUND error at that path, and the other still resolves to `otherCode`.
 */
export async function assertDivisionGone(
  ask: (query: string) => Promise<Body<Listed>>,
  list: string,
  place: string,
  id: string,
  otherCode: string,
): Promise<void> {
  const body = await ask(`{ ${list}(first: 20) { edges { node { id ${place} { division { code } } } } } }`);
  const edges = body.data?.[list]?.edges ?? [];
  const index = edges.findIndex((e) => e.node.id === id);
  assert.ok(index >= 0 && edges.length === 2, JSON.stringify(body));
  partialWithErrorAt(body, [list, 'edges', index, 'node', place, 'division']);
  const divisionOf = (node: Located) => (node[place] as { division: { code: string } | null }).division;
  assert.equal(divisionOf(edges[index]!.node), null);
  assert.deepEqual(divisionOf(edges[1 - index]!.node), { code: otherCode });
}
