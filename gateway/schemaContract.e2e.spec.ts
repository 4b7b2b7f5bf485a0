/**
 * The public schema's promises to frontend teams, through the gateway with every real subgraph:
 * a refused root field does not take the rest of the answer with it (and the access record lists only
 * what was served), `me` tells a caller who it is and what it may see, and every lookup answers an
 * unknown id or code with null and a malformed code with BAD_USER_INPUT.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { DataAccessed } from '../subgraphs/kit/dataAccessed.ts';
import { CATALOG } from '../subgraphs/governance/catalog.ts';
import { environmentModule } from '../subgraphs/environment/index.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { healthcareModule } from '../subgraphs/healthcare/index.ts';
import { makeCreditCode } from '../subgraphs/legal-person/identity/creditCode.ts';
import { legalPersonModule } from '../subgraphs/legal-person/index.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { taxModule } from '../subgraphs/tax/index.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { waitForCommitted } from '../test/helpers/events.ts';
import { startTestGraph, type GqlResponse, type TestGraph } from '../test/helpers/graph.ts';

const MODULES = [governanceModule, populationModule, legalPersonModule, urbanOpsModule, environmentModule, healthcareModule, taxModule];

let graph: TestGraph;
let consumerCount = 0;
const newConsumer = () => `schema-${++consumerCount}-${process.pid}`;

before(async () => {
  graph = await startTestGraph({ modules: MODULES });
});

after(async () => {
  await graph?.close();
});

async function recordsOf(response: GqlResponse<unknown>): Promise<DataAccessed['data'][]> {
  const requestId = response.headers.get('x-request-id');
  assert.ok(requestId, 'the gateway names the request');
  await waitForCommitted(graph.db, graph.runtime.store);
  const events = await graph.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 });
  return events.map((e) => e.data as DataAccessed['data']).filter((d) => d.requestId === requestId);
}

const resourcesBySubgraph = (records: DataAccessed['data'][]) =>
  Object.fromEntries(records.map((r) => [r.subgraph, [...r.resources].sort()]).sort(([a], [b]) => String(a).localeCompare(String(b))));

describe('a refused root field', () => {
  // `level` is population's alone (urban-ops could serve `division { code name }` itself): two subgraphs answer.
  const QUERY = '{ division(code: "370102") { code name level } incidents(first: 1) { totalCount } }';
  interface Data {
    division: { code: string; name: string; level: string } | null;
    incidents: { totalCount: number } | null;
  }

  test('is null with FORBIDDEN at its path; the public division beside it is served, and only it is recorded', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, ['population.basic']);
    const response = await graph.gql<Data>(QUERY, undefined, await graph.tokenFor(consumer));
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.data, { division: { code: '370102', name: '历下区', level: 'DISTRICT' }, incidents: null });
    assert.deepEqual(
      response.body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.resource]),
      [[['incidents'], 'FORBIDDEN', 'urban.incidents']],
    );
    assert.deepEqual(resourcesBySubgraph(await recordsOf(response)), { population: ['public'] });
  });

  test('served under a grant, both fields are answered and both subgraphs record what they served', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, ['urban.incidents']);
    const response = await graph.gql<Data>(QUERY, undefined, await graph.tokenFor(consumer));
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    assert.deepEqual(response.body.data, { division: { code: '370102', name: '历下区', level: 'DISTRICT' }, incidents: { totalCount: 0 } });
    assert.deepEqual(resourcesBySubgraph(await recordsOf(response)), { population: ['public'], 'urban-ops': ['public', 'urban.incidents'] });
  });

  test('a division urban-ops serves alone (one fetch) keeps the same refusals, lookups and access records', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, ['urban.incidents']);
    const token = await graph.tokenFor(consumer);
    const response = await graph.gql<{ division: { name: string; urbanOperations: unknown } | null }>('{ division(code: "370102") { name urbanOperations { open } } }', undefined, token);
    assert.deepEqual(response.body.data, { division: { name: '历下区', urbanOperations: null } });
    assert.deepEqual(
      response.body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.resource]),
      [[['division', 'urbanOperations'], 'FORBIDDEN', 'urban.metrics']],
    );
    assert.deepEqual(resourcesBySubgraph(await recordsOf(response)), { 'urban-ops': ['public'] });
    const unknown = await graph.gql<{ division: unknown }>('{ division(code: "370199") { urbanOperations { open } } }', undefined, token);
    assert.deepEqual(unknown.body, { data: { division: null } });
    const malformed = await graph.gql<{ division: unknown }>('{ division(code: "37-01") { urbanOperations { open } } }', undefined, token);
    assert.equal(malformed.body.data?.division, null);
    assert.deepEqual(malformed.body.errors?.map((e) => e.extensions?.code), ['BAD_USER_INPUT']);
  });

  test('a refused mutation is null at its path with FORBIDDEN, and leaves no access record', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, ['urban.incidents']);
    const response = await graph.gql<{ registerIncident: unknown }>(
      'mutation { registerIncident(input: { incidentId: "x" }) { revision } }',
      undefined,
      await graph.tokenFor(consumer),
    );
    assert.deepEqual(response.body.data, { registerIncident: null });
    assert.deepEqual(response.body.errors?.map((e) => [e.path, e.extensions?.code]), [[['registerIncident'], 'FORBIDDEN']]);
    assert.deepEqual(await recordsOf(response), []);
  });
});

describe('me', () => {
  const ME = `{ me { consumerId role registered name kind department tokenExpiresAt
    grants { id resources { name classification } actions purpose validFrom validUntil masked status } } }`;
  interface Grant {
    id: string;
    resources: { name: string; classification: string }[];
    actions: string[];
    purpose: string;
    validFrom: string;
    validUntil: string;
    masked: boolean;
    status: string;
  }
  interface Me {
    me: { consumerId: string; role: string; registered: boolean; name: string | null; kind: string | null; department: string | null; tokenExpiresAt: string; grants: Grant[] };
  }

  test('tells two consumers apart: each sees its own role and grants, with resources, actions, validity and masking', async () => {
    const dashboard = newConsumer();
    const partner = newConsumer();
    const from = new Date(Date.now() - 60_000);
    const until = new Date(from.getTime() + 3_600_000);
    const clear = await graph.grant(dashboard, ['population.basic', 'urban.incidents'], { actions: ['READ'], purpose: 'city dashboard', validFrom: from, validUntil: until });
    const revoked = await graph.grant(dashboard, ['tax.declarations'], { purpose: 'tax check' });
    await graph.revoke(dashboard, revoked);
    const masked = await graph.grant(partner, ['population.identity'], { actions: ['READ', 'SUBSCRIBE'], masked: true, purpose: 'partner app', validFrom: from, validUntil: until });

    const asDashboard = await graph.gql<Me>(ME, undefined, await graph.tokenFor(dashboard, 'department'));
    assert.equal(asDashboard.body.errors, undefined, JSON.stringify(asDashboard.body.errors));
    const me = asDashboard.body.data?.me;
    assert.deepEqual(
      { consumerId: me?.consumerId, role: me?.role, registered: me?.registered, name: me?.name, kind: me?.kind, department: me?.department },
      { consumerId: dashboard, role: 'department', registered: true, name: dashboard, kind: 'DEPARTMENT', department: 'test-department' },
    );
    assert.ok(Date.parse(me?.tokenExpiresAt ?? '') > Date.now());
    assert.deepEqual(me?.grants, [
      {
        id: clear,
        resources: [
          { name: 'population.basic', classification: 'CONDITIONAL' },
          { name: 'urban.incidents', classification: 'CONDITIONAL' },
        ],
        actions: ['READ'],
        purpose: 'city dashboard',
        validFrom: from.toISOString(),
        validUntil: until.toISOString(),
        masked: false,
        status: 'ACTIVE',
      },
      { ...me!.grants[1]!, id: revoked, resources: [{ name: 'tax.declarations', classification: 'RESTRICTED' }], status: 'REVOKED', purpose: 'tax check' },
    ]);

    const asPartner = await graph.gql<Me>(ME, undefined, await graph.tokenFor(partner, 'partner'));
    assert.equal(asPartner.body.data?.me.consumerId, partner);
    assert.equal(asPartner.body.data?.me.role, 'partner');
    assert.deepEqual(asPartner.body.data?.me.grants.map((g) => [g.id, g.resources.map((r) => r.name), g.actions, g.masked, g.status]), [
      [masked, ['population.identity'], ['READ', 'SUBSCRIBE'], true, 'ACTIVE'],
    ]);
  });

  test('is recorded like any served read', async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, ['population.basic']);
    const response = await graph.gql<Me>('query WhoAmI { me { consumerId } }', undefined, await graph.tokenFor(consumer));
    const records = await recordsOf(response);
    assert.deepEqual(
      records.map((r) => [r.subgraph, r.consumerId, r.resources, r.operationName]),
      [['governance', consumer, ['public'], 'WhoAmI']],
    );
  });

  test('a token naming an unregistered consumer is told so, with no grants', async () => {
    const stranger = newConsumer();
    const response = await graph.gql<Me>(ME, undefined, await graph.tokenFor(stranger, 'partner'));
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    assert.deepEqual(
      { ...response.body.data?.me, tokenExpiresAt: undefined },
      { consumerId: stranger, role: 'partner', registered: false, name: null, kind: null, department: null, grants: [], tokenExpiresAt: undefined },
    );
  });
});

describe('lookups answer the same way', () => {
  let token: string;
  before(async () => {
    const consumer = newConsumer();
    await graph.grant(consumer, CATALOG.map((r) => r.name), { actions: ['READ', 'VERIFY'] });
    token = await graph.tokenFor(consumer, 'admin');
  });

  const unknownId = randomUUID();
  const unknownIdNumber = makeIdNumber('370102', '1990-01-01', 999);
  const unknownCreditCode = makeCreditCode({ divisionCode: '370102', organizationCode: 'MA3Q0Q0Q' });
  const BY_ID = ['person', 'household', 'legalPerson', 'incident', 'station', 'emissionPermit', 'emissionAlarm', 'claim', 'taxpayer', 'propertyTransaction'];
  const UNKNOWN: Record<string, string> = {
    ...Object.fromEntries(BY_ID.map((field) => [field, `${field}(id: "${unknownId}") { id }`])),
    personByIdNumber: `personByIdNumber(idNumber: "${unknownIdNumber}") { id }`,
    division: 'division(code: "379999") { code }',
    legalPersonByCreditCode: `legalPersonByCreditCode(creditCode: "${unknownCreditCode}") { id }`,
    healthRecord: `healthRecord(personId: "${unknownId}") { revision }`,
    consumer: `consumer(id: "no-such-consumer") { id }`,
    accessAuthorization: `accessAuthorization(accessEventId: "${unknownId}") { authorized }`,
    ingestBatch: 'ingestBatch(id: "no-such-batch") { id }',
  };
  const MALFORMED: Record<string, string> = {
    personByIdNumber: 'personByIdNumber(idNumber: "37010219900101") { id }',
    division: 'division(code: "37-01") { code }',
    legalPersonByCreditCode: 'legalPersonByCreditCode(creditCode: "91370102XXXX") { id }',
  };

  for (const [field, selection] of Object.entries(UNKNOWN)) {
    test(`${field}: an unknown id or code is null, without an error`, async () => {
      const response = await graph.gql(`{ ${selection} }`, undefined, token);
      assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
      assert.deepEqual(response.body.data, { [field]: null });
    });
  }

  for (const [field, selection] of Object.entries(MALFORMED)) {
    test(`${field}: a malformed code is BAD_USER_INPUT at its path`, async () => {
      const response = await graph.gql(`{ ${selection} }`, undefined, token);
      assert.deepEqual(response.body.data, { [field]: null });
      assert.deepEqual(response.body.errors?.map((e) => [e.path, e.extensions?.code]), [[[field], 'BAD_USER_INPUT']]);
    });
  }
});
