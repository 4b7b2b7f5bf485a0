/**
 * The supergraph `npm start` keeps beside its data directory: the same composition as composing
 * afresh, with this run's URLs put in, and composed again when what is composed changes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'graphql';
import { MODULES } from '../bin/modules.ts';
import { composeSupergraph, composeSupergraphCached } from './compose.ts';

const dir = mkdtempSync(join(tmpdir(), 'cb-compose-cache-'));
const cacheFile = join(dir, 'supergraph.cache.json');
const at = (port: number) => MODULES.map((m, i) => ({ name: m.name, url: `http://127.0.0.1:${port + i}/graphql`, typeDefs: m.typeDefs }));

describe('the supergraph kept for the next start', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the composition of the subgraphs at the URLs of each run', () => {
    assert.equal(composeSupergraphCached(at(5000), cacheFile), composeSupergraph(at(5000)));
    // Read back, with other URLs put in.
    assert.equal(composeSupergraphCached(at(6000), cacheFile), composeSupergraph(at(6000)));
  });

  it('is read from the file while the subgraphs stay the same, and composed again when one changes', () => {
    composeSupergraphCached(at(5000), cacheFile);
    const kept = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; supergraph: string };
    writeFileSync(cacheFile, JSON.stringify({ ...kept, supergraph: `${kept.supergraph}\n# read from the file` }));
    assert.match(composeSupergraphCached(at(5000), cacheFile), /# read from the file$/);

    const [first, ...rest] = at(5000);
    const changed = [{ ...first!, typeDefs: parse(`${readFileSync(new URL('../subgraphs/governance/schema.graphql', import.meta.url), 'utf8')}\nextend type Query { composedAgain: Boolean }`) }, ...rest];
    assert.equal(first!.name, 'governance');
    const supergraph = composeSupergraphCached(changed, cacheFile);
    assert.match(supergraph, /composedAgain/);
    assert.doesNotMatch(supergraph, /# read from the file/);
  });

  it('composes (and writes the file again) when the file is not one it wrote', () => {
    writeFileSync(cacheFile, 'not json');
    assert.equal(composeSupergraphCached(at(5000), cacheFile), composeSupergraph(at(5000)));
    assert.equal(typeof (JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: unknown }).key, 'string');
  });
});
