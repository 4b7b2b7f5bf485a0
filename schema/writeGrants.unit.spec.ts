/**
 * Every write needs a WRITE grant on its resource: each Mutation field of every subgraph maps to a
 * catalog resource other than `public`, and the kit refuses it (FORBIDDEN, action WRITE) to a
 * consumer holding every other action on every resource, while a WRITE grant on that one resource
 * lets it through to its resolver.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { getDirective } from '@graphql-tools/utils';
import { OperationTypeNode, parse, type GraphQLFieldResolver, type GraphQLResolveInfo } from 'graphql';
import { ForbiddenError } from '../events/errors.ts';
import { CATALOG } from '../subgraphs/governance/catalog.ts';
import { applyAccessControl, type AccessGrant } from '../subgraphs/kit/access.ts';
import type { SubgraphContext } from '../subgraphs/kit/context.ts';
import { testSubgraphContext } from '../test/helpers/subgraphContext.ts';
import { findSubgraphSchemas } from '../scripts/compose.ts';
import { servedTypeDefs } from './accessDescriptions.ts';
import { scalarResolvers } from './scalars.ts';

/**
 * Writes open to any authenticated consumer, each checked by its resolver instead: a data-quality
 * report needs READ on the resource of the field it reports (governance/dataIssue).
 */
const OPEN_WRITES = new Set(['governance:Mutation.reportDataIssue', 'governance:Mutation.resolveDataIssue']);

const REACHED = Symbol('reached the resolver');
const info = { operation: { operation: OperationTypeNode.MUTATION } } as unknown as GraphQLResolveInfo;
const grant = (resources: readonly string[], actions: AccessGrant['actions']): AccessGrant => ({ grantId: `g-${actions.join('+')}`, resources, actions, masked: false, purpose: 'test' });
const allButWrite = grant(CATALOG.map((r) => r.name), ['READ', 'VERIFY', 'SUBSCRIBE']);

describe('every mutation needs a WRITE grant on its resource', () => {
  for (const subgraph of findSubgraphSchemas()) {
    const typeDefs = servedTypeDefs(parse(subgraph.typeDefs as string));
    const bare = buildSubgraphSchema([{ typeDefs }]);
    const fields = Object.keys(bare.getMutationType()?.getFields() ?? {});
    if (!fields.length) continue;
    const resolvers = { ...scalarResolvers, Mutation: Object.fromEntries(fields.map((f) => [f, () => REACHED])) };
    const schema = applyAccessControl(buildSubgraphSchema([{ typeDefs, resolvers }]));
    const mutation = schema.getMutationType()!;

    for (const name of fields) {
      const coordinate = `${subgraph.name}:Mutation.${name}`;
      const field = mutation.getFields()[name]!;
      const directive = (getDirective(schema, field, 'resource')?.[0] ?? getDirective(schema, mutation, 'resource')?.[0]) as { name: string; action?: string } | undefined;
      if (OPEN_WRITES.has(coordinate)) {
        it(`${coordinate} is an open write (its resolver checks the reporter's READ grant)`, () => assert.equal(directive?.name, 'public'));
        continue;
      }
      it(`${coordinate} needs WRITE on ${directive?.name ?? '(none)'}`, async () => {
        assert.ok(directive && directive.name !== 'public', `${coordinate} maps to no resource, or to public`);
        assert.ok(directive.action === undefined || directive.action === 'WRITE', `${coordinate} accepts ${directive.action}, not WRITE`);
        const resolve = field.resolve as GraphQLFieldResolver<unknown, SubgraphContext>;
        await assert.rejects(
          async () => resolve(undefined, {}, testSubgraphContext({ grants: [allButWrite] }), info),
          (error: unknown) => error instanceof ForbiddenError && error.details.action === 'WRITE' && error.details.resource === directive.name,
        );
        assert.equal(await resolve(undefined, {}, testSubgraphContext({ grants: [grant([directive.name], ['WRITE'])] }), info), REACHED);
      });
    }
  }
});
