/**
 * Through the gateway, a query joining LegalPerson → legalRepresentative (Person, population
 * subgraph) → household → members costs the same number of store round trips for 100 legal
 * persons as for 10: every hop is one batched read, whatever the list length.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from '../../test/helpers/graph.ts';
import { populationModule } from '../population/index.ts';
import { seedPopulation } from '../population/seed.ts';
import { legalPersonModule } from './index.ts';
import { seedLegalPersons } from './seed.ts';

const JOIN = (first: number) => `{ legalPersons(first: ${first}) { edges { node { name legalRepresentative { name household { members { name } } } } } } }`;

interface Join {
  legalPersons: { edges: { node: { name: string; legalRepresentative: { name: string; household: { members: { name: string }[] } | null } } }[] };
}

describe('the population and legal-person subgraphs behind the gateway', () => {
  let base: TestRuntime;
  let graph: TestGraph;
  let token: string;
  let queries = 0;

  before(async () => {
    const modules = [populationModule, legalPersonModule];
    base = await openTestRuntime(modules);
    await seedPopulation(base.runtime, { people: 400 });
    await seedLegalPersons(base.runtime, { count: 120, people: 400 });
    await base.catchUp();
    const query = base.db.query.bind(base.db);
    base.db.query = (sql, params) => {
      queries++;
      return query(sql, params);
    };
    graph = await startTestGraph({ modules, runtime: base });
    await graph.grant('analyst', ['legal-person.basic', 'population.basic', 'population.household'], { actions: ['READ'] });
    token = await graph.tokenFor('analyst');
  });
  after(async () => {
    await graph?.close();
    await base?.close();
  });

  async function roundTrips(first: number): Promise<number> {
    const before = queries;
    const { status, body } = await graph.gql<Join>(JOIN(first), undefined, token);
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const edges = body.data!.legalPersons.edges;
    assert.equal(edges.length, first);
    assert.ok(edges.every((e) => e.node.legalRepresentative.name && e.node.legalRepresentative.household!.members.length > 0));
    return queries - before;
  }

  it('joins LegalPerson → Person → Household → members in a constant number of store round trips', async () => {
    await roundTrips(5);
    const ten = await roundTrips(10);
    const hundred = await roundTrips(100);
    assert.equal(hundred, ten, `10 legal persons took ${ten} round trips, 100 took ${hundred}`);
  });
});
