import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { ValidationError } from '../../events/errors.ts';
import { withSharedScalars } from '../../schema/scalars.ts';
import { findSubgraphSchemas } from '../../scripts/compose.ts';
import { accessMapping, PUBLIC_RESOURCE } from '../kit/access.ts';
import { assertCataloged, CATALOG, catalogResource, DEPARTMENTS } from './catalog.ts';

/** The resource names of the access-control contract (directives.md). */
const CONTRACT_RESOURCES = [
  'public',
  'population.basic',
  'population.identity',
  'population.household',
  'population.statistics',
  'population.verify',
  'population.write',
  'legal-person.basic',
  'legal-person.identity',
  'legal-person.write',
  'urban.incidents',
  'urban.reporters',
  'urban.metrics',
  'urban.write',
  'environment.air',
  'environment.emissions',
  'environment.write',
  'healthcare.records',
  'healthcare.claims',
  'tax.declarations',
  'tax.risks',
  'audit.log',
  'governance.admin',
  'events.feed',
];

describe('the data catalog', () => {
  it('holds exactly the resources of the contract, each once', () => {
    assert.deepEqual(CATALOG.map((r) => r.name).sort(), [...CONTRACT_RESOURCES].sort());
  });

  it('names a known department for every resource, and classifies `public` as PUBLIC', () => {
    for (const r of CATALOG) assert.ok(r.department in DEPARTMENTS, `${r.name}: unknown department ${r.department}`);
    assert.equal(catalogResource(PUBLIC_RESOURCE)?.classification, 'PUBLIC');
  });

  it('classifies identity and sensitive data as RESTRICTED', () => {
    for (const name of ['population.identity', 'healthcare.records', 'healthcare.claims', 'tax.declarations', 'audit.log']) {
      assert.equal(catalogResource(name)?.classification, 'RESTRICTED', name);
    }
  });

  it('refuses names it does not hold, listing each', () => {
    assert.throws(
      () => assertCataloged(['population.basic', 'x.y', 'z'], 'resources'),
      (error: unknown) => error instanceof ValidationError && /"x\.y", "z" are not in the data catalog/.test(error.message),
    );
  });
});

describe('every subgraph schema maps every field to a cataloged resource', () => {
  const subgraphs = findSubgraphSchemas();

  it('finds the subgraph schemas (governance at least)', () => {
    assert.ok(subgraphs.some((s) => s.name === 'governance'), `found: ${subgraphs.map((s) => s.name).join(', ')}`);
  });

  for (const subgraph of subgraphs) {
    it(`${subgraph.name}: no unmapped root or leaf field, only cataloged resources`, () => {
      const typeDefs = typeof subgraph.typeDefs === 'string' ? parse(subgraph.typeDefs) : subgraph.typeDefs;
      const { problems, resources } = accessMapping(buildSubgraphSchema([{ typeDefs: withSharedScalars(typeDefs) }]));
      assert.deepEqual(problems, []);
      assert.deepEqual(resources.filter((r) => !catalogResource(r)), [], 'resources named in the schema but missing from the catalog');
    });
  }
});
