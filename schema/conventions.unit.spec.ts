import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { buildSchema, parse } from 'graphql';
import { findSubgraphSchemas, SUPERGRAPH_PATH } from '../scripts/compose.ts';
import { servedTypeDefs } from './accessDescriptions.ts';
import { withSharedScalars } from './scalars.ts';
import { nullabilityProblems, pageSizeProblems, resourceDescriptionProblems, undescribedCoordinates } from './conventions.ts';

const subgraphSchema = (sdl: string) => buildSubgraphSchema([{ typeDefs: servedTypeDefs(parse(sdl)) }]);

describe('the public schema follows the conventions for frontend teams', () => {
  const subgraphs = findSubgraphSchemas();

  it('the composed supergraph describes every type, field, argument, input field and enum value', () => {
    const supergraph = buildSchema(readFileSync(SUPERGRAPH_PATH, 'utf8'));
    assert.deepEqual(undescribedCoordinates(supergraph), []);
  });

  for (const subgraph of subgraphs) {
    const schema = () => subgraphSchema(subgraph.typeDefs as string);
    it(`${subgraph.name}: everything is described, and every guarded field names its resource`, () => {
      assert.deepEqual(undescribedCoordinates(schema()), []);
      assert.deepEqual(resourceDescriptionProblems(schema()), []);
    });
    it(`${subgraph.name}: refusable root fields are nullable, connections non-null inside, one default page size`, () => {
      assert.deepEqual(nullabilityProblems(schema()), []);
      assert.deepEqual(pageSizeProblems(schema()), []);
    });
  }
});

describe('the checks catch what they are for', () => {
  const sdl = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
    "Root."
    type Query {
      "Refusable but non-null."
      incidents(first: Int = 5): IncidentConnection! @resource(name: "urban.incidents")
      "Public."
      division: String @resource(name: "public")
    }
    type IncidentConnection {
      edges: [IncidentEdge]
      pageInfo: PageInfo
    }
    "An edge."
    type IncidentEdge {
      "Cursor."
      cursor: String @resource(name: "public")
      "Node."
      node: String @resource(name: "urban.incidents")
    }
  `;
  const schema = subgraphSchema(sdl);

  it('names each undescribed coordinate', () => {
    const missing = undescribedCoordinates(schema);
    for (const c of ['IncidentConnection', 'IncidentConnection.edges', 'Query.incidents(first:)']) assert.ok(missing.includes(c), c);
    assert.ok(!missing.some((c) => c.startsWith('_') || c.includes('._') || c.startsWith('link__')), missing.join(', '));
  });

  it('refuses a non-null refusable root field and loose connections', () => {
    assert.deepEqual(nullabilityProblems(schema).sort(), [
      'IncidentConnection.edges must be a non-null list of non-null edges',
      'IncidentConnection.pageInfo must be non-null',
      'IncidentEdge.cursor must be non-null',
      'IncidentEdge.node must be non-null',
      'Query.incidents is a root field a grant can refuse: it must be nullable, or a refusal nulls the whole answer',
    ]);
  });

  it('refuses a page size other than the shared one', () => {
    assert.deepEqual(pageSizeProblems(schema), ['Query.incidents(first:) defaults to 5, not DEFAULT_PAGE_SIZE (20)']);
  });

  it('finds every guarded field describing its resource once the access sentence is added, and none without it', () => {
    assert.deepEqual(resourceDescriptionProblems(schema), []);
    const bare = buildSubgraphSchema([{ typeDefs: withSharedScalars(parse(sdl)) }]);
    assert.deepEqual(resourceDescriptionProblems(bare).filter((p) => !p.startsWith('PageInfo.')).sort(), [
      'IncidentEdge.cursor is guarded by public but its description does not name `public`',
      'IncidentEdge.node is guarded by urban.incidents but its description does not name `urban.incidents`',
      'Query.division is guarded by public but its description does not name `public`',
      'Query.incidents is guarded by urban.incidents but its description does not name `urban.incidents`',
    ]);
  });
});
