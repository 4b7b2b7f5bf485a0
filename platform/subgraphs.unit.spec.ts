/** Which subgraphs a supergraph routes to, read from its `join__Graph` enum alone. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultSubgraphUrl, SUBGRAPH_NAMES, supergraphSubgraphs } from './subgraphs.ts';

const SUPERGRAPH = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');

describe('supergraphSubgraphs', () => {
  it('lists every subgraph of the checked-in supergraph with the URL composed into it', () => {
    const found = supergraphSubgraphs(SUPERGRAPH);
    assert.deepEqual(
      found.map((s) => s.name).sort(),
      [...SUBGRAPH_NAMES].sort(),
    );
    for (const { name, url } of found) assert.equal(url, defaultSubgraphUrl(name as (typeof SUBGRAPH_NAMES)[number]));
  });

  it('finds the enum wherever it stands, and nothing in a supergraph without one', () => {
    const enumAt = SUPERGRAPH.search(/^enum join__Graph\b/m);
    const block = SUPERGRAPH.slice(enumAt, SUPERGRAPH.indexOf('}', enumAt) + 1);
    const moved = `${SUPERGRAPH.replace(block, '')}\n${block}\n`;
    assert.deepEqual(supergraphSubgraphs(moved), supergraphSubgraphs(SUPERGRAPH));
    assert.deepEqual(supergraphSubgraphs('type Query { a: Int }'), []);
  });
});
