/**
 * What a client gets through the gateway when part of an answer cannot be served: a stored division
 * code the catalog no longer holds nulls that field only (the rest of the list is served), and an
 * internal error, in a subgraph or in the gateway itself, names the request (`extensions.requestId`)
 * that its log line names too. And read-after-write: `x-min-position` reaches the subgraphs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { composeSupergraph } from '../schema/compose.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { createLegalPersonHandlers } from '../subgraphs/legal-person/handlers.ts';
import { legalPersonModule } from '../subgraphs/legal-person/index.ts';
import { legalPersonStreamId } from '../subgraphs/legal-person/legalPerson/events.ts';
import { LEGAL_PERSONS, LEGAL_PERSONS_PROJECTION } from '../subgraphs/legal-person/readModels/legalPersons.ts';
import { createPopulationHandlers } from '../subgraphs/population/handlers.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { enterpriseRegistration } from '../test/fixtures/legalPersons.ts';
import { testMetadata } from '../test/helpers/events.ts';
import { TEST_ASSERTION_SECRET, TEST_JWT_SECRET, openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from '../test/helpers/graph.ts';
import { createGatewayServer } from './server.ts';

const MODULES = [governanceModule, populationModule, legalPersonModule];
const CONSUMER = 'market-bureau';
const LIST = '{ legalPersons(first: 20) { edges { node { id name registeredAddress { division { code name } } } } } }';

type List = { legalPersons: { edges: { node: { id: string; name: string | null; registeredAddress: { division: { code: string; name: string } | null } } }[] } | null };

describe('errors through the gateway', () => {
  let base: TestRuntime;
  let graph: TestGraph;
  let token: string;
  /** Every log line written at error level, parsed. */
  const logged: Record<string, unknown>[] = [];
  let healthy: string;
  let retired: string;

  before(async () => {
    base = await openTestRuntime(MODULES);
    base.runtime.logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    const ctx = { metadata: testMetadata, now: new Date().toISOString() };
    const residence = { address: '经十路1号', divisionCode: '370102001001' };
    const representative = await createPopulationHandlers(base.runtime.store).registerResident(
      { personId: randomUUID(), idNumber: makeIdNumber('370102', '1980-01-01', 11), name: '张建国', gender: 'MALE', birthDate: '1980-01-01', residence },
      ctx,
    );
    const registration = (organizationCode: string, divisionCode: string) =>
      enterpriseRegistration(representative.id, organizationCode, { registeredAddress: { address: '历下区经十路100号', divisionCode } });
    healthy = (await createLegalPersonHandlers(base.runtime.store).registerLegalPerson(registration('MA3C0001', '370102001'), ctx)).id;
    // Old data: a registration recorded before codes were checked, in a street since retired.
    const old = registration('MA3C0002', '370102999');
    retired = old.legalPersonId;
    await base.runtime.store.append(legalPersonStreamId(retired), [{ type: 'LegalPersonRegistered', data: old, metadata: testMetadata }]);
    await base.catchUp();
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    await graph.grant(CONSUMER, ['legal-person.basic', 'public']);
    token = await graph.tokenFor(CONSUMER);
  });

  after(async () => {
    await graph?.close();
    await base?.close();
  });

  test('a stored division the catalog no longer holds nulls that field only: the list is served, the error is at the item', async () => {
    const { body } = await graph.gql<List>(LIST, undefined, token);
    const edges = body.data?.legalPersons?.edges ?? [];
    const index = edges.findIndex((e) => e.node.id === retired);
    assert.ok(index >= 0 && edges.length === 2, JSON.stringify(body));
    assert.equal(edges[index]!.node.registeredAddress.division, null);
    assert.deepEqual(edges[1 - index]!.node.registeredAddress.division, { code: '370102001', name: '解放路街道' });
    assert.equal(body.errors?.length, 1, JSON.stringify(body.errors));
    assert.deepEqual(body.errors[0]!.path, ['legalPersons', 'edges', index, 'node', 'registeredAddress', 'division']);
    assert.equal(body.errors[0]!.extensions?.code, 'NOT_FOUND');
  });

  test('a query sent with x-min-position waits until the read models have projected the write it names', async () => {
    const representative = (await base.runtime.store.readAll({ filter: { types: ['PersonRegistered'] } }))[0]!.data as { personId: string };
    const written = await createLegalPersonHandlers(base.runtime.store).registerLegalPerson(
      enterpriseRegistration(representative.personId, 'MA3C0003', { name: '济南读写有限公司' }),
      { metadata: testMetadata, now: new Date().toISOString() },
    );
    const position = written.events.at(-1)!.position;
    // Nothing projects until the query has been sent: it is answered only after the catch-up.
    const response = fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-min-position': position },
      body: JSON.stringify({ query: 'query L($id: ID!) { legalPerson(id: $id) { id name } }', variables: { id: written.id } }),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await base.catchUp();
    const body = (await (await response).json()) as { data?: { legalPerson: { id: string; name: string } | null }; errors?: unknown[] };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data?.legalPerson, { id: written.id, name: '济南读写有限公司' });
  });

  test("a subgraph's internal error names the request, and its log line names the same request", async () => {
    // A poisoned read-model row: a name the schema promises is missing.
    const { rows } = await base.db.query<{ table_name: string }>(`SELECT table_name FROM proj_builds WHERE name = $1 AND status = 'active'`, [LEGAL_PERSONS_PROJECTION]);
    await base.db.query(`UPDATE ${rows[0]!.table_name} SET doc = jsonb_set(doc, '{name}', 'null') WHERE collection = $1 AND id = $2`, [LEGAL_PERSONS, healthy]);
    logged.length = 0;
    const { body, headers } = await graph.gql<List>(LIST, undefined, token);
    const internal = body.errors?.find((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');
    assert.ok(internal, JSON.stringify(body));
    assert.equal(internal.message, 'internal error', 'no internals leak');
    const requestId = internal.extensions?.requestId;
    assert.equal(typeof requestId, 'string');
    assert.equal(requestId, headers.get('x-request-id'), 'the id the gateway gave the request');
    const line = logged.find((l) => l.msg === 'internal error while serving a request');
    assert.ok(line, JSON.stringify(logged));
    assert.equal(line.requestId, requestId);
    assert.match(JSON.stringify(line.err), /Cannot return null for non-nullable field/);
  });

  test("the gateway's own internal error names the request, and its log line names the same request", async () => {
    // A legal-person subgraph that answers something that is not GraphQL.
    const broken: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data": {"legalPersons": ');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', () => resolve()));
    const lines: Record<string, unknown>[] = [];
    const gateway = await createGatewayServer({
      supergraph: composeSupergraph(MODULES.map((m) => ({ name: m.name, url: graph.graph.subgraphs[m.name]!, typeDefs: m.typeDefs }))),
      auth: { jwtSecret: TEST_JWT_SECRET, assertionSecret: TEST_ASSERTION_SECRET },
      subgraphUrls: { 'legal-person': `http://127.0.0.1:${(broken.address() as AddressInfo).port}/graphql` },
      logger: pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
    }).listen(0, '127.0.0.1');
    try {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: LIST }),
      });
      const body = (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
      const internal = body.errors?.find((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');
      assert.ok(internal, JSON.stringify(body));
      const requestId = internal.extensions?.requestId;
      assert.equal(typeof requestId, 'string');
      assert.equal(requestId, response.headers.get('x-request-id'));
      const line = lines.find((l) => l.msg === 'internal error while serving a request');
      assert.ok(line, JSON.stringify(lines));
      assert.equal(line.requestId, requestId);
    } finally {
      await gateway.close();
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });
});
