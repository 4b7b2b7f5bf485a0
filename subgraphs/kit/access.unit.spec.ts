import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import { ForbiddenError } from '../../events/errors.ts';
import { scalarResolvers, withSharedScalars } from '../../schema/scalars.ts';
import { accessMapping, applyAccessControl, maskIdNumber, maskName, maskPhone, RequestAccess, type AccessGrant, type Principal } from './access.ts';
import type { SubgraphContext } from './context.ts';

const logger = pino({ level: 'silent' });

const sdl = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query {
    person(id: ID!): Person @resource(name: "population.basic")
    people: [Person!]! @resource(name: "population.basic")
    verifyAlive(personId: ID!): Boolean @resource(name: "population.verify", action: VERIFY)
    divisionNames: [String!]! @resource(name: "public")
  }
  type Mutation {
    renamePerson(id: ID!, name: String!): RenamePersonPayload @resource(name: "population.write")
  }
  type Subscription {
    personChanged: Person @resource(name: "population.basic")
  }
  type RenamePersonPayload @resource(name: "population.write") {
    person: Person
    position: String!
  }
  type Person @key(fields: "id") @resource(name: "population.basic") @subject(kind: "person") {
    id: ID!
    name: String @masked(kind: NAME)
    idNumber: String @resource(name: "population.identity") @masked(kind: ID_NUMBER)
    phone: String @resource(name: "population.identity") @masked(kind: PHONE)
  }
`;

interface PersonSource {
  id: string;
  name: string;
  idNumber: string;
  phone: string;
}

const people: PersonSource[] = [
  { id: 'p-1', name: '李娜', idNumber: '37010219900307123X', phone: '13812345678' },
  { id: 'p-2', name: '欧阳明', idNumber: '11010519491231002X', phone: '13987654321' },
];

const schema: GraphQLSchema = applyAccessControl(
  buildSubgraphSchema([
    {
      typeDefs: withSharedScalars(parse(sdl)),
      resolvers: {
        ...scalarResolvers,
        Query: {
          person: (_: unknown, args: { id: string }) => people.find((p) => p.id === args.id) ?? null,
          people: async () => people,
          verifyAlive: () => true,
          divisionNames: () => ['历下区', '市中区'],
        },
        Mutation: {
          renamePerson: (_: unknown, args: { id: string; name: string }) => ({
            person: { ...people.find((p) => p.id === args.id), name: args.name },
            position: '1:42',
          }),
        },
        Subscription: {
          personChanged: {
            async *subscribe() {
              yield { personChanged: people[0] };
            },
          },
        },
      },
    },
  ]),
);

const grant = (resources: string[], actions: AccessGrant['actions'], options: Partial<AccessGrant> = {}): AccessGrant => ({
  grantId: options.grantId ?? `g-${resources.join('+')}-${actions.join('+')}`,
  resources,
  actions,
  masked: false,
  purpose: 'testing',
  ...options,
});

function contextWith(grants: AccessGrant[]): { ctx: SubgraphContext; loads: () => number } {
  let loads = 0;
  const access = new RequestAccess(async () => {
    loads++;
    return { grants, jurisdiction: null };
  }, logger);
  const ctx: SubgraphContext = {
    caller: { consumerId: 'partner-app', role: 'partner', tokenId: 't-1', expiresAt: new Date(Date.now() + 3600_000) },
    requestId: 'r-1',
    loaders: new Map(),
    logger,
    access,
  };
  return { ctx, loads: () => loads };
}

/** graphql-js builds results from null-prototype objects; compare them as the JSON a client gets. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

async function run(source: string, grants: AccessGrant[]) {
  const { ctx, loads } = contextWith(grants);
  const result = await graphql({ schema, source, contextValue: ctx });
  return { result, data: plain(result.data), served: ctx.access.served, loads: loads(), ctx };
}

function forbidden(result: ExecutionResult): { path: string; resource: unknown; action: unknown }[] {
  return (result.errors ?? []).map((e) => {
    assert.ok(e.originalError instanceof ForbiddenError, `expected FORBIDDEN, got ${e.message}`);
    return { path: (e.path ?? []).join('.'), resource: e.originalError.details.resource, action: e.originalError.details.action };
  });
}

describe('access control: grants field by field', () => {
  it('refuses a consumer without grants every non-public field, naming the resource, and serves the public rest', async () => {
    const { result, data, served } = await run('{ person(id: "p-1") { name } divisionNames }', []);
    assert.deepEqual(data, { person: null, divisionNames: ['历下区', '市中区'] });
    assert.deepEqual(forbidden(result), [{ path: 'person', resource: 'population.basic', action: 'READ' }]);
    assert.match(result.errors?.[0]?.message ?? '', /partner-app has no grant valid now to READ population\.basic \(field Query\.person\)/);
    assert.deepEqual([...served.resources], ['public']);
    assert.deepEqual([...served.subjectIds], []);
  });

  it('serves granted fields and nulls the others of the same entity', async () => {
    const basic = grant(['population.basic'], ['READ'], { grantId: 'g-basic' });
    const { result, data, served } = await run('{ person(id: "p-1") { id name idNumber } }', [basic]);
    assert.deepEqual(data, { person: { id: 'p-1', name: '李娜', idNumber: null } });
    assert.deepEqual(forbidden(result), [{ path: 'person.idNumber', resource: 'population.identity', action: 'READ' }]);
    assert.deepEqual([...served.resources], ['population.basic']);
    assert.deepEqual([...served.grantIds], ['g-basic']);
    assert.deepEqual([...served.subjectIds], ['p-1']);
  });

  it('masks identity fields when every covering grant says masked', async () => {
    const masked = grant(['population.basic', 'population.identity'], ['READ'], { masked: true });
    const { result, data } = await run('{ people { name idNumber phone } }', [masked]);
    assert.equal(result.errors, undefined);
    assert.deepEqual(data, {
      people: [
        { name: '李*', idNumber: '3701**********123X', phone: '138****5678' },
        { name: '欧*', idNumber: '1101**********002X', phone: '139****4321' },
      ],
    });
  });

  it('serves in clear when one covering grant is unmasked, and records only that grant', async () => {
    const masked = grant(['population.identity'], ['READ'], { grantId: 'g-masked', masked: true });
    const clear = grant(['population.identity', 'population.basic'], ['READ'], { grantId: 'g-clear' });
    const { data, served } = await run('{ person(id: "p-2") { idNumber } }', [masked, clear]);
    assert.deepEqual(data, { person: { idNumber: '11010519491231002X' } });
    assert.deepEqual([...served.grantIds], ['g-clear']);
  });

  it('loads the grants once per request, and not at all for public data', async () => {
    const all = grant(['population.basic', 'population.identity'], ['READ']);
    assert.equal((await run('{ people { id name idNumber phone } }', [all])).loads, 1);
    assert.equal((await run('{ divisionNames }', [all])).loads, 0);
  });

  it('records the subjects of every entity served, once each', async () => {
    const basic = grant(['population.basic'], ['READ']);
    const { served } = await run('{ people { id name } again: people { name } }', [basic]);
    assert.deepEqual([...served.subjectIds].sort(), ['p-1', 'p-2']);
  });

  it('accepts only VERIFY on a verify-only field', async () => {
    const read = await run('{ verifyAlive(personId: "p-1") }', [grant(['population.verify'], ['READ'])]);
    assert.deepEqual(forbidden(read.result), [{ path: 'verifyAlive', resource: 'population.verify', action: 'VERIFY' }]);
    const verify = await run('{ verifyAlive(personId: "p-1") }', [grant(['population.verify'], ['VERIFY'])]);
    assert.deepEqual(verify.data, { verifyAlive: true });
  });

  it('needs WRITE for a mutation, and WRITE or READ for its payload', async () => {
    const mutation = 'mutation { renamePerson(id: "p-1", name: "李娜娜") { position person { name idNumber } } }';
    const readOnly = await run(mutation, [grant(['population.write', 'population.basic'], ['READ'])]);
    assert.deepEqual(readOnly.data, { renamePerson: null });
    assert.deepEqual(forbidden(readOnly.result), [{ path: 'renamePerson', resource: 'population.write', action: 'WRITE' }]);

    const writer = await run(mutation, [grant(['population.write'], ['WRITE']), grant(['population.basic'], ['READ'])]);
    assert.deepEqual(writer.data, { renamePerson: { position: '1:42', person: { name: '李娜娜', idNumber: null } } });
    assert.deepEqual(forbidden(writer.result), [{ path: 'renamePerson.person.idNumber', resource: 'population.identity', action: 'WRITE' }]);
  });

  it('needs SUBSCRIBE to start a subscription, and SUBSCRIBE or READ for each event', async () => {
    const refused = contextWith([grant(['population.basic'], ['READ'])]);
    const notStarted = (await subscribe({ schema, document: parse('subscription { personChanged { name } }'), contextValue: refused.ctx })) as ExecutionResult;
    assert.deepEqual(forbidden(notStarted), [{ path: 'personChanged', resource: 'population.basic', action: 'SUBSCRIBE' }]);

    const allowed = contextWith([grant(['population.basic'], ['SUBSCRIBE']), grant(['population.identity'], ['READ'], { masked: true })]);
    const events = (await subscribe({ schema, document: parse('subscription { personChanged { name idNumber } }'), contextValue: allowed.ctx })) as AsyncGenerator<ExecutionResult>;
    const first = await events.next();
    assert.deepEqual(plain(first.value), { data: { personChanged: { name: '李娜', idNumber: '3701**********123X' } } });
    assert.deepEqual([...allowed.ctx.access.served.resources].sort(), ['population.basic', 'population.identity']);
    // The start-up check and the event each loaded the grants: the event was checked against grants valid when it came.
    assert.equal(allowed.loads(), 2);
    await events.return(undefined);
  });

  it('forgets the grants and what was served on reset', async () => {
    const { ctx, loads } = contextWith([grant(['population.basic'], ['READ'])]);
    await graphql({ schema, source: '{ person(id: "p-1") { name } }', contextValue: ctx });
    ctx.access.reset();
    assert.equal(ctx.access.servedAnything, false);
    await graphql({ schema, source: '{ person(id: "p-1") { name } }', contextValue: ctx });
    assert.equal(loads(), 2);
  });

  it('checks against supplied grants without loading any, and forgets coverage worked out from earlier ones', async () => {
    const { ctx, loads } = contextWith([grant(['population.basic'], ['READ'])]);
    const unmasked = await graphql({ schema, source: '{ person(id: "p-1") { name } }', contextValue: ctx });
    assert.deepEqual(plain(unmasked.data), { person: { name: '李娜' } });
    ctx.access.reset();
    ctx.access.useGrants([grant(['population.basic'], ['READ'], { masked: true })]);
    const masked = await graphql({ schema, source: '{ person(id: "p-1") { name } }', contextValue: ctx });
    assert.deepEqual(plain(masked.data), { person: { name: '李*' } });
    ctx.access.useGrants([]);
    const refused = await graphql({ schema, source: '{ person(id: "p-1") { name } }', contextValue: ctx });
    assert.deepEqual(forbidden(refused), [{ path: 'person', resource: 'population.basic', action: 'READ' }]);
    assert.equal(loads(), 1, 'only the first request loaded grants');
  });

  it('keeps supplied grants when a load already in flight lands afterwards', async () => {
    let release = (_: Principal) => {};
    const access = new RequestAccess(() => new Promise<Principal>((resolve) => (release = resolve)), logger);
    const pending = access.cover('population.basic', ['READ'], 'population.basic\u0000READ');
    access.useGrants([]);
    release({ grants: [grant(['population.basic'], ['READ'])], jurisdiction: null });
    assert.equal(await pending, null, 'the supplied (empty) grants decide, not the stale load');
  });
});

describe('access control: the principal', () => {
  it('loads the jurisdiction with the grants, once per request, and again after a reset', async () => {
    let loads = 0;
    const jurisdiction = { divisionCode: '370102', unitId: 'lixia-water', unitName: '排水处' };
    const access = new RequestAccess(async () => {
      loads++;
      return { grants: [grant(['urban.write'], ['WRITE'])], jurisdiction };
    }, logger);
    assert.equal(access.knownJurisdiction, undefined, 'nothing loaded before the first check');
    assert.ok(await access.cover('urban.write', ['WRITE'], 'urban.write\u0000WRITE'));
    assert.deepEqual(access.knownJurisdiction, jurisdiction, 'known synchronously once the grants are');
    assert.deepEqual(await access.jurisdiction(), jurisdiction);
    assert.equal(loads, 1);
    access.reset();
    assert.equal(access.knownJurisdiction, undefined);
    assert.deepEqual(await access.jurisdiction(), jurisdiction);
    assert.equal(loads, 2);
  });

  it('loads the jurisdiction itself when the grants were supplied (the feed), keeping the supplied grants', async () => {
    const access = new RequestAccess(async () => ({ grants: [grant(['population.basic'], ['READ'])], jurisdiction: { divisionCode: '370102' } }), logger);
    access.useGrants([]);
    assert.deepEqual(await access.jurisdiction(), { divisionCode: '370102' });
    assert.equal(await access.cover('population.basic', ['READ'], 'population.basic\u0000READ'), null, 'the supplied (empty) grants still decide');
  });
});

describe('access control: the mapping rules', () => {
  const mappingOf = (typeDefs: string) => accessMapping(buildSubgraphSchema([{ typeDefs: withSharedScalars(parse(typeDefs)) }]));

  it('lists unmapped root and leaf fields and masks on non-strings; structural fields need nothing', () => {
    const { problems, resources } = mappingOf(`
      type Query { open: Int  things: ThingConnection }
      type ThingConnection { edges: [Thing!]!  totalCount: Int! }
      type Thing @resource(name: "urban.incidents") { id: ID!  count: Int @masked(kind: PHONE) }
    `);
    assert.deepEqual(problems, [
      'Query.open is a root field mapped to no resource: add @resource(name: "…") to it or to type Query',
      'Query.things is a root field mapped to no resource: add @resource(name: "…") to it or to type Query',
      'ThingConnection.totalCount is a leaf field mapped to no resource: add @resource(name: "…") to it or to type ThingConnection',
      'Thing.count is @masked but returns Int: only String and ID fields can be masked',
    ]);
    assert.deepEqual(resources, ['urban.incidents']);
  });

  it('refuses to build a server schema that breaks the contract', () => {
    const broken = buildSubgraphSchema([{ typeDefs: withSharedScalars(parse('type Query { open: Int }')) }]);
    assert.throws(() => applyAccessControl(broken), /Query\.open is a root field mapped to no resource/);
  });
});

describe('masking', () => {
  it('keeps the first and last 4 characters of an ID number', () => {
    assert.equal(maskIdNumber('37010219900307123X'), '3701**********123X');
    assert.equal(maskIdNumber('1234567'), '*******');
  });

  it('keeps the first 3 and last 4 digits of a phone number', () => {
    assert.equal(maskPhone('13812345678'), '138****5678');
  });

  it('keeps the first character of a name', () => {
    assert.equal(maskName('欧阳明'), '欧*');
    assert.equal(maskName('Li Na'), 'L*');
    assert.equal(maskName(''), '');
  });
});
