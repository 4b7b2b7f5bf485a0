/**
 * The governance subgraph over HTTP: the catalog, consumers and grants administration, on both
 * backends, with the demo consumers seeded and the kit's enforcement on its own fields.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import type { RecordedEvent } from '../../events/types.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { waitForCommitted } from '../../test/helpers/events.ts';
import { answeredOnceOnRetry } from '../../test/helpers/commandChecks.ts';
import { postGraphQL, relayedHeaders, SUBGRAPH_TEST_AUTH } from '../../test/helpers/subgraphAuth.ts';
import { closeServedSubgraph } from '../../test/helpers/subgraphHarness.ts';
import type { AccessControl } from '../kit/access.ts';
import type { Role } from '../../platform/auth.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { createSubgraphServer, type ListeningSubgraph } from '../kit/server.ts';
import type { DataAccessed } from '../kit/dataAccessed.ts';
import { CATALOG } from './catalog.ts';
import { consumerStreamId } from './consumer/events.ts';
import { ADMIN, AUDITOR, createGovernanceAccess, DEMO_CONSUMER_ROLES, DEMO_DASHBOARD, DEMO_GRANTS, DEMO_OPS_EXAMPLES, governanceModule, PARTNER_APP } from './index.ts';
import { demoOpsConsumers } from '../kit/demoCity.ts';

const logger = pino({ level: 'silent' });

interface GrantNode {
  id: string;
  resources: string[];
  actions: string[];
  masked: boolean;
  status: string;
  revokedBy: string | null;
  revocationReason: string | null;
}

const CONSUMER_GRANTS = /* GraphQL */ `
  query ConsumerGrants($id: ID!, $activeOnly: Boolean) {
    consumer(id: $id) {
      id
      name
      kind
      grants(activeOnly: $activeOnly) {
        totalCount
        edges { node { id resources actions masked status revokedBy revocationReason } }
      }
    }
  }
`;

const GRANT = /* GraphQL */ `
  mutation Grant($input: GrantAccessInput!) {
    grantAccess(input: $input) { positions grant { id consumerId resources actions masked status validUntil approver } }
  }
`;

function governanceSuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let store: SqlEventStore;
  let runtime: SubgraphRuntime;
  let runner: ProjectionRunner;
  let db: SqlDatabase;
  let access: AccessControl;
  let subgraph: ListeningSubgraph;

  async function ask<Data = Record<string, unknown>>(consumerId: string, query: string, variables?: Record<string, unknown>, role?: Role) {
    const requestId = crypto.randomUUID();
    const headers = await relayedHeaders(consumerId, role ?? DEMO_CONSUMER_ROLES[consumerId] ?? 'department', { requestId });
    return { requestId, ...(await postGraphQL<Data>(subgraph.url, headers, query, variables)) };
  }

  before(async () => {
    backend = await makeBackend();
    db = await backend.fresh();
    const registry = new EventRegistry().registerAll(governanceModule.eventTypes);
    store = await SqlEventStore.open(db, registry);
    runtime = { store, readModels: new SqlReadModels(db, 0), now: () => new Date(), logger };
    await governanceModule.seed?.(runtime);
    runner = new ProjectionRunner(db, store, governanceModule.projections);
    await runner.catchUp();
    access = createGovernanceAccess(runtime, { recorder: { maxDelayMs: 5 } });
    subgraph = await createSubgraphServer({
      name: 'governance',
      typeDefs: governanceModule.typeDefs,
      resolvers: governanceModule.resolvers(runtime),
      auth: SUBGRAPH_TEST_AUTH,
      access,
      logger,
    }).listen(0);
  });

  after(async () => {
    await closeServedSubgraph({ server: subgraph, access, runner, store });
    await backend?.dispose();
  });

  it('serves the catalog to any authenticated consumer, page by page', async () => {
    const query = 'query Catalog($after: String) { catalog(first: 20, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name classification department } } } }';
    type Page = { catalog: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: { name: string } }[] } };
    const first = await ask<Page>('stranger', query);
    assert.equal(first.body.errors, undefined);
    assert.equal(first.body.data?.catalog.totalCount, CATALOG.length);
    assert.equal(first.body.data?.catalog.pageInfo.hasNextPage, true);
    const second = await ask<Page>('stranger', query, { after: first.body.data?.catalog.pageInfo.endCursor });
    const names = [...(first.body.data?.catalog.edges ?? []), ...(second.body.data?.catalog.edges ?? [])].map((e) => e.node.name);
    assert.deepEqual(names, CATALOG.map((r) => r.name).sort());
    assert.equal(second.body.data?.catalog.pageInfo.hasNextPage, false);
  });

  it('seeds the demo consumers with their grants, and the closed loop\'s centres and units with their jurisdictions', async () => {
    const { body } = await ask<{ consumers: { totalCount: number; edges: { node: { id: string; kind: string } }[] } }>(
      ADMIN,
      '{ consumers(first: 1) { totalCount edges { node { id kind } } } }',
    );
    const ops = demoOpsConsumers();
    assert.equal(body.data?.consumers.totalCount, 4 + ops.length);
    const kinds = await Promise.all(
      ['admin', 'auditor', 'demo-dashboard', 'partner-app'].map(async (id) => (await ask<{ consumer: { id: string; kind: string } }>(ADMIN, 'query ($id: ID!) { consumer(id: $id) { id kind } }', { id })).body.data?.consumer),
    );
    assert.deepEqual(kinds, [
      { id: 'admin', kind: 'DEPARTMENT' },
      { id: 'auditor', kind: 'AUDITOR' },
      { id: 'demo-dashboard', kind: 'DEPARTMENT' },
      { id: 'partner-app', kind: 'PARTNER_APP' },
    ]);
    const jurisdiction = async (id: string) =>
      (await ask<{ consumer: { jurisdiction: unknown } }>(ADMIN, 'query ($id: ID!) { consumer(id: $id) { jurisdiction { divisionCode level unitId unitName } } }', { id })).body.data?.consumer.jurisdiction;
    assert.deepEqual(await jurisdiction(DEMO_OPS_EXAMPLES.districtCentre), { divisionCode: '370102', level: 'DISTRICT', unitId: null, unitName: null });
    assert.deepEqual(await jurisdiction(DEMO_OPS_EXAMPLES.districtUnit), { divisionCode: '370102', level: 'DISTRICT', unitId: '370102-szgc', unitName: '历下区市政工程处' });
    assert.equal(await jurisdiction(DEMO_DASHBOARD), null);
    const partner = await ask<{ consumer: { grants: { edges: { node: GrantNode }[] } } }>(ADMIN, CONSUMER_GRANTS, { id: PARTNER_APP });
    const population = partner.body.data?.consumer.grants.edges.find((e) => e.node.id === DEMO_GRANTS.partnerPopulation)?.node;
    assert.deepEqual(population, {
      id: DEMO_GRANTS.partnerPopulation,
      resources: ['population.basic', 'population.identity'],
      actions: ['READ'],
      masked: true,
      status: 'ACTIVE',
      revokedBy: null,
      revocationReason: null,
    });
  });

  it('shows a consumer\'s history to a consumer holding governance.admin and audit.log', async () => {
    const { body } = await ask<{ consumer: { history: { type: string; grantId: string | null; actor: { consumerId: string } }[] } }>(
      DEMO_DASHBOARD,
      '{ consumer(id: "auditor") { history { type grantId actor { consumerId } } } }',
    );
    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?.consumer.history.map((e) => e.type), ['ConsumerRegistered', 'AccessGranted']);
    assert.equal(body.data?.consumer.history[0]?.actor.consumerId, ADMIN);
  });

  it('lets an administrator register a consumer, grant and revoke, and enforces the change at once', async () => {
    const registered = await ask<{ registerConsumer: { consumer: { id: string; kind: string }; positions: string[] } }>(
      ADMIN,
      'mutation { registerConsumer(input: { id: "ops-viewer", name: "运行监测", kind: DEPARTMENT, department: "市城市管理局" }) { positions consumer { id kind } } }',
    );
    assert.equal(registered.body.errors, undefined);
    assert.deepEqual(registered.body.data?.registerConsumer.consumer, { id: 'ops-viewer', kind: 'DEPARTMENT' });
    assert.equal(registered.body.data?.registerConsumer.positions.length, 1);

    const validUntil = new Date(Date.now() + 86_400_000).toISOString();
    const granted = await ask<{ grantAccess: { positions: string[]; grant: { id: string } & Record<string, unknown> } }>(ADMIN, GRANT, {
      input: { consumerId: 'ops-viewer', resources: ['governance.admin'], actions: ['READ'], purpose: 'oversight', validUntil, approver: '王主任' },
    });
    assert.equal(granted.body.errors, undefined);
    const grant = granted.body.data!.grantAccess.grant;
    assert.deepEqual({ ...grant, id: undefined }, {
      id: undefined,
      consumerId: 'ops-viewer',
      resources: ['governance.admin'],
      actions: ['READ'],
      masked: true,
      status: 'ACTIVE',
      validUntil,
      approver: '王主任',
    });

    const [, grantedEvent] = await store.readStream(consumerStreamId('ops-viewer'));
    assert.deepEqual(
      { type: grantedEvent?.type, grantId: grantedEvent?.metadata.grantId, actor: grantedEvent?.metadata.actor },
      { type: 'AccessGranted', grantId: DEMO_GRANTS.adminGovernance, actor: { consumerId: ADMIN, role: 'admin' } },
    );

    const query = '{ consumer(id: "admin") { id } }';
    assert.deepEqual((await ask('ops-viewer', query)).body.data, { consumer: { id: 'admin' } });

    const revoked = await ask<{ revokeAccess: { grant: GrantNode } }>(
      ADMIN,
      'mutation Revoke($input: RevokeAccessInput!) { revokeAccess(input: $input) { grant { id status revokedBy revocationReason } } }',
      { input: { consumerId: 'ops-viewer', grantId: grant.id, reason: 'oversight finished' } },
    );
    assert.deepEqual(revoked.body.data?.revokeAccess.grant, { id: grant.id, status: 'REVOKED', revokedBy: ADMIN, revocationReason: 'oversight finished' });

    // Before the read model has caught up: enforcement folds the stream, not the read model.
    const refused = await ask('ops-viewer', query);
    assert.deepEqual(refused.body.data, { consumer: null });
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');

    await runner.catchUp();
    const all = await ask<{ consumer: { grants: { totalCount: number; edges: { node: GrantNode }[] } } }>(ADMIN, CONSUMER_GRANTS, { id: 'ops-viewer' });
    assert.deepEqual(all.body.data?.consumer.grants.edges.map((e) => e.node.status), ['REVOKED']);
    const active = await ask<{ consumer: { grants: { totalCount: number } } }>(ADMIN, CONSUMER_GRANTS, { id: 'ops-viewer', activeOnly: true });
    assert.equal(active.body.data?.consumer.grants.totalCount, 0);
  });

  it('refuses administration to a consumer without the admin role, even with a governance.admin WRITE grant, and writes nothing', async () => {
    const before = await store.streamRevision(consumerStreamId('sneaky'));
    const { body } = await ask(DEMO_DASHBOARD, 'mutation { registerConsumer(input: { id: "sneaky", name: "x", kind: PARTNER_APP, department: "x" }) { consumer { id } } }');
    assert.deepEqual(body.data, { registerConsumer: null });
    assert.equal(body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.match(body.errors?.[0]?.message ?? '', /needs the admin role/);
    assert.equal(await store.streamRevision(consumerStreamId('sneaky')), before);
  });

  it('refuses the consumers list to a consumer without a governance.admin grant, naming the resource', async () => {
    const { body } = await ask(PARTNER_APP, '{ consumers { totalCount } catalog(first: 1) { totalCount } }');
    assert.deepEqual(body.data, { consumers: null, catalog: { totalCount: CATALOG.length } });
    assert.equal(body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(body.errors?.[0]?.extensions?.resource, 'governance.admin');
  });

  it('refuses bad grants with the field named and changes nothing', async () => {
    const revision = await store.streamRevision(consumerStreamId(PARTNER_APP));
    const validUntil = new Date(Date.now() + 86_400_000).toISOString();
    const input = { consumerId: PARTNER_APP, resources: ['population.secrets'], actions: ['READ'], purpose: 'x', validUntil, approver: 'x' };
    const unknownResource = await ask(ADMIN, GRANT, { input });
    assert.equal(unknownResource.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(unknownResource.body.errors?.[0]?.message ?? '', /"population\.secrets" is not in the data catalog/);

    const backwards = await ask(ADMIN, GRANT, { input: { ...input, resources: ['public'], validFrom: validUntil, validUntil: new Date().toISOString() } });
    assert.equal(backwards.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(backwards.body.errors?.[0]?.extensions?.field, 'validUntil');
    assert.equal(await store.streamRevision(consumerStreamId(PARTNER_APP)), revision);

    const nobody = await ask(ADMIN, GRANT, { input: { ...input, consumerId: 'nobody', resources: ['public'] } });
    assert.equal(nobody.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');

    const twice = await ask(ADMIN, 'mutation { registerConsumer(input: { id: "partner-app", name: "x", kind: PARTNER_APP, department: "x" }) { consumer { id } } }');
    assert.equal(twice.body.errors?.[0]?.extensions?.code, 'CONFLICT');

    const revokeUnknown = await ask(ADMIN, 'mutation { revokeAccess(input: { consumerId: "partner-app", grantId: "g-404", reason: "x" }) { grant { id } } }');
    assert.equal(revokeUnknown.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.equal(await store.streamRevision(consumerStreamId(PARTNER_APP)), revision);
  });

  it('assigns a jurisdiction (admin only), refuses a bad one naming the field, and appends nothing then', async () => {
    const ASSIGN = 'mutation A($input: AssignJurisdictionInput!) { assignJurisdiction(input: $input) { positions consumer { id jurisdiction { divisionCode level unitId unitName } } } }';
    const revision = await store.streamRevision(consumerStreamId(PARTNER_APP));
    const refusals: [string, Record<string, unknown>, string, RegExp][] = [
      [ADMIN, { consumerId: PARTNER_APP, divisionCode: '379999' }, 'BAD_USER_INPUT', /divisionCode 379999 is not in the division catalog/],
      [ADMIN, { consumerId: PARTNER_APP, divisionCode: '370102', unitId: 'Bad Unit', unitName: 'x' }, 'BAD_USER_INPUT', /unitId "Bad Unit" must be/],
      [ADMIN, { consumerId: PARTNER_APP, divisionCode: '370102', unitId: 'lixia-new' }, 'BAD_USER_INPUT', /unitName must not be empty/],
      // 370102-szgc is the seeded 市政工程处 of 历下区: a unit belongs to one division.
      [ADMIN, { consumerId: PARTNER_APP, divisionCode: '370103', unitId: '370102-szgc', unitName: '冒名' }, 'CONFLICT', /unit 370102-szgc belongs to division 370102, not 370103/],
      [ADMIN, { consumerId: 'nobody', divisionCode: '370102' }, 'NOT_FOUND', /not registered/],
      [DEMO_DASHBOARD, { consumerId: PARTNER_APP, divisionCode: '370102' }, 'FORBIDDEN', /admin role/],
    ];
    for (const [consumerId, input, code, message] of refusals) {
      const { body } = await ask(consumerId, ASSIGN, { input });
      assert.equal(body.errors?.[0]?.extensions?.code, code, JSON.stringify(body.errors));
      assert.match(body.errors?.[0]?.message ?? '', message);
      assert.equal(await store.streamRevision(consumerStreamId(PARTNER_APP)), revision, 'nothing appended');
    }
    const assigned = await ask<{ assignJurisdiction: { consumer: { jurisdiction: unknown } } }>(ADMIN, ASSIGN, {
      input: { consumerId: PARTNER_APP, divisionCode: '370102001', unitId: 'jfl-volunteers', unitName: '解放路志愿队' },
    });
    assert.equal(assigned.body.errors, undefined, JSON.stringify(assigned.body.errors));
    assert.deepEqual(assigned.body.data?.assignJurisdiction.consumer.jurisdiction, { divisionCode: '370102001', level: 'STREET', unitId: 'jfl-volunteers', unitName: '解放路志愿队' });
    const me = await ask<{ me: { jurisdiction: unknown } }>(PARTNER_APP, '{ me { jurisdiction { divisionCode unitId } } }');
    assert.deepEqual(me.body.data?.me.jurisdiction, { divisionCode: '370102001', unitId: 'jfl-volunteers' });
  });

  it('answers a registration or grant re-sent with the same idempotency key with its first result, appending nothing', async () => {
    const register = (name: string) => async () =>
      (
        await ask<{ registerConsumer: { positions: string[]; consumer: { id: string; name: string } } }>(ADMIN, 'mutation R($input: RegisterConsumerInput!) { registerConsumer(input: $input) { positions consumer { id name } } }', {
          input: { id: 'retry-app', name, kind: 'PARTNER_APP', department: '市大数据局', idempotencyKey: 'consumer-1' },
        })
      ).body;
    const registered = await answeredOnceOnRetry(store, register('重试应用'), (d) => d.registerConsumer);
    // The key names the command, not its content: changed input with the same key answers the first result.
    await answeredOnceOnRetry(store, register('改名应用'), (d) => assert.deepEqual(d.registerConsumer, registered));

    const validUntil = new Date(Date.now() + 86_400_000).toISOString();
    const grant = (purpose: string) => async () =>
      (await ask<{ grantAccess: { positions: string[]; grant: { id: string } } }>(ADMIN, GRANT, {
        input: { consumerId: 'retry-app', resources: ['public'], actions: ['READ'], purpose, validUntil, approver: '王主任', idempotencyKey: 'grant-1' },
      })).body;
    const granted = await answeredOnceOnRetry(store, grant('oversight'), (d) => ({ id: d.grantAccess.grant.id, positions: d.grantAccess.positions }));
    await answeredOnceOnRetry(store, grant('another purpose'), (d) => assert.deepEqual({ id: d.grantAccess.grant.id, positions: d.grantAccess.positions }, granted));
  });

  it('records its own served requests', async () => {
    const { requestId } = await ask(ADMIN, 'query Who { consumer(id: "auditor") { id name } }');
    await waitForCommitted(db, store);
    const records = (await store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 })).filter(
      (e) => (e.data as DataAccessed['data']).requestId === requestId,
    ) as RecordedEvent<'DataAccessed', DataAccessed['data']>[];
    assert.equal(records.length, 1);
    assert.deepEqual(records[0]?.data.resources, ['governance.admin']);
    assert.deepEqual(records[0]?.data.grantIds, [DEMO_GRANTS.adminGovernance]);
    assert.equal(records[0]?.data.subgraph, 'governance');
  });

  it('answers auditors who accessed a subject\'s data, and refuses the log to others', async () => {
    const at = new Date().toISOString();
    const record = {
      consumerId: 'hotline-app',
      grantIds: ['g-hotline'],
      operationName: 'CallerCard',
      operationHash: 'a'.repeat(64),
      resources: ['population.basic'],
      subjectIds: ['person-42', 'person-43'],
      purpose: '12345 hotline',
      requestId: crypto.randomUUID(),
      subgraph: 'population',
      at,
    };
    await access.recorder?.record(record, {
      provenance: { department: 'city-brain', system: 'city-brain/population', channel: 'access-audit', collectedAt: at },
      actor: { consumerId: 'hotline-app', role: 'partner' },
      correlationId: record.requestId,
    });
    await runner.catchUp();
    const query = 'query Who($subject: ID) { accessLog(filter: { subjectId: $subject }) { totalCount edges { node { consumerId subjectIds purpose requestId grantIds } } } }';
    type Log = { accessLog: { totalCount: number; edges: { node: Record<string, unknown> }[] } | null };
    const { body } = await ask<Log>(AUDITOR, query, { subject: 'person-42' });
    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?.accessLog, {
      totalCount: 1,
      edges: [{ node: { consumerId: 'hotline-app', subjectIds: ['person-42', 'person-43'], purpose: '12345 hotline', requestId: record.requestId, grantIds: ['g-hotline'] } }],
    });
    const refused = await ask<Log>(PARTNER_APP, query, { subject: 'person-42' });
    assert.deepEqual(refused.body.data, { accessLog: null });
    assert.equal(refused.body.errors?.[0]?.extensions?.resource, 'audit.log');

    // "Who looked at my data" in a period: from inclusive, to exclusive, any ISO 8601 offset.
    const inPeriod = 'query When($subject: ID, $from: DateTime, $to: DateTime) { accessLog(filter: { subjectId: $subject, from: $from, to: $to }) { totalCount } }';
    const count = async (from?: string, to?: string) => {
      const answer = await ask<{ accessLog: { totalCount: number } }>(AUDITOR, inPeriod, { subject: 'person-42', from, to });
      assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
      return answer.body.data!.accessLog.totalCount;
    };
    const later = new Date(Date.parse(at) + 1).toISOString();
    // `later` written in Beijing time.
    const inChina = new Date(Date.parse(later) + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
    assert.deepEqual(
      [await count(at), await count(undefined, at), await count(undefined, later), await count(later), await count('2000-01-01T08:00:00+08:00', inChina)],
      [1, 0, 1, 0, 1],
    );
    for (const [from, to, message] of [
      ['last week', undefined, /DateTime expects an ISO 8601 date-time/],
      [later, at, /filter\.from .* must be before filter\.to/],
    ] as const) {
      const bad = await ask(AUDITOR, inPeriod, { subject: 'person-42', from, to });
      assert.equal(bad.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(bad.body.errors));
      assert.match(bad.body.errors[0]!.message, message);
      // A refused read served nothing, so it leaves no access record.
      await waitForCommitted(db, store);
      const recorded = (await store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 })).filter((e) => (e.data as DataAccessed['data']).requestId === bad.requestId);
      assert.deepEqual(recorded, []);
    }
  });
}

for (const makeBackend of BACKENDS) {
  describe(`governance subgraph (${makeBackend.name.replace('Backend', '')})`, () => governanceSuite(makeBackend));
}
