/**
 * The auditor-facing queries of the governance subgraph over HTTP on PGlite and PostgreSQL, with the
 * demo consumers seeded and real access records written by the kit's recorder.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { EventRegistry } from '../../../events/registry.ts';
import type { SqlDatabase } from '../../../events/sql/database.ts';
import { ed25519Signer, HashChainer, sealMessage } from '../../../events/sql/hashChain.ts';
import { SqlEventStore } from '../../../events/sql/sqlEventStore.ts';
import type { RecordedEvent } from '../../../events/types.ts';
import { SqlReadModels } from '../../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../../projections/runner.ts';
import { BACKENDS, type TestBackend } from '../../../test/helpers/databases.ts';
import { testMetadata, waitUntilVisible } from '../../../test/helpers/events.ts';
import { postGraphQL, relayedHeaders, SUBGRAPH_TEST_AUTH } from '../../../test/helpers/subgraphAuth.ts';
import { closeServedSubgraph } from '../../../test/helpers/subgraphHarness.ts';
import type { AccessControl } from '../../kit/access.ts';
import type { SubgraphModule, SubgraphRuntime } from '../../kit/module.ts';
import { createSubgraphServer, type ListeningSubgraph } from '../../kit/server.ts';
import { accessStreamId, type DataAccessed } from '../../kit/dataAccessed.ts';
import type { ConsumerCommand } from '../consumer/commands.ts';
import { handleConsumer } from '../consumer/handler.ts';
import { consumerStreamId } from '../consumer/events.ts';
import { personEventDefinitions, personStreamId } from '../../population/person/events.ts';
import { answeredOnceOnRetry, refusedNaming } from '../../../test/helpers/commandChecks.ts';
import { AUDITOR, createGovernanceAccess, DEMO_CONSUMER_ROLES, governanceModule } from '../index.ts';
import { type Body, only } from '../../../test/helpers/graphqlBody.ts';

const logger = pino({ level: 'silent' });


interface Authorization {
  authorized: boolean;
  evaluatedAt: string;
  access: { id: string; consumerId: string; resources: string[] };
  resources: { resource: string; covered: boolean; public: boolean; grant: { id: string; purpose: string; revokedSince: boolean } | null }[];
}

const AUTHORIZATION = /* GraphQL */ `
  query Authorization($id: ID!) {
    accessAuthorization(accessEventId: $id) {
      authorized evaluatedAt
      access { id consumerId resources }
      resources { resource covered public grant { id purpose revokedSince } }
    }
  }
`;

interface GovernanceServer {
  db: SqlDatabase;
  store: SqlEventStore;
  runtime: SubgraphRuntime;
  runner: ProjectionRunner;
  ask<T>(consumerId: string, query: string, variables?: Record<string, unknown>): Promise<{ requestId: string; body: Body<T> }>;
  close(): Promise<void>;
}

/** The governance subgraph, seeded, on `backend`'s fresh database; its access records really written. */
async function startGovernance(backend: TestBackend, module: SubgraphModule = governanceModule): Promise<GovernanceServer> {
  const db = await backend.fresh();
  // The persons issues are reported on live in the same log.
  const store = await SqlEventStore.open(db, new EventRegistry().registerAll([...module.eventTypes, ...personEventDefinitions]));
  const runtime: SubgraphRuntime = { store, readModels: new SqlReadModels(db, 0), db, now: () => new Date(), logger };
  await module.seed?.(runtime);
  const runner = new ProjectionRunner(db, store, module.projections);
  await runner.catchUp();
  const access: AccessControl = createGovernanceAccess(runtime, { recorder: { maxDelayMs: 5 } });
  const server: ListeningSubgraph = await createSubgraphServer({ name: 'governance', typeDefs: module.typeDefs, resolvers: module.resolvers(runtime), auth: SUBGRAPH_TEST_AUTH, access, logger }).listen(0);
  return {
    db,
    store,
    runtime,
    runner,
    async ask<T>(consumerId: string, query: string, variables?: Record<string, unknown>) {
      const requestId = randomUUID();
      const headers = await relayedHeaders(consumerId, DEMO_CONSUMER_ROLES[consumerId] ?? 'department', { requestId });
      return { requestId, body: (await postGraphQL<T>(server.url, headers, query, variables)).body as Body<T> };
    },
    close: () => closeServedSubgraph({ server, access, runner, store }),
  };
}

/** The access record of one request, once the recorder has flushed it and readers can see it. */
async function accessRecordOf(store: SqlEventStore, requestId: string, timeoutMs = 20_000): Promise<RecordedEvent<'DataAccessed', DataAccessed['data']>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await store.readAll({ filter: { types: ['DataAccessed'] } });
    const found = records.find((e) => (e.data as DataAccessed['data']).requestId === requestId);
    if (found) return found as RecordedEvent<'DataAccessed', DataAccessed['data']>;
    if (Date.now() > deadline) throw new Error(`no access record of request ${requestId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function consumerCommand(store: SqlEventStore, command: ConsumerCommand) {
  return handleConsumer(store, command, testMetadata);
}

/** Appends an access record directly (as the kit's recorder would) and waits until readers see it. */
async function recordAccess(
  store: SqlEventStore,
  access: Pick<DataAccessed['data'], 'consumerId' | 'resources' | 'at'> & Partial<DataAccessed['data']>,
): Promise<RecordedEvent> {
  const data: DataAccessed['data'] = { grantIds: [], operationName: 'Recorded', operationHash: 'a'.repeat(64), subjectIds: [], purpose: 'test', requestId: randomUUID(), subgraph: 'population', ...access };
  const [appended] = (await store.append(accessStreamId(randomUUID()), [{ type: 'DataAccessed', data, metadata: testMetadata }])).events;
  assert.ok(appended);
  await waitUntilVisible(store, appended.position);
  return appended;
}

function auditQueriesSuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let governance: GovernanceServer;

  before(async () => {
    backend = await makeBackend();
    governance = await startGovernance(backend);
  });
  after(async () => {
    await governance?.close();
    await backend?.dispose();
  });

  describe('accessAuthorization', () => {
    it('still names the covering grant after it was revoked', async () => {
      const { store } = governance;
      const consumerId = 'audited-app';
      const now = () => ({ now: new Date().toISOString() });
      await consumerCommand(store, { type: 'registerConsumer', data: { consumerId, name: 'audited app', kind: 'PARTNER_APP', department: '合作企业' }, metadata: now() });
      const grantId = randomUUID();
      const validUntil = new Date(Date.now() + 3_600_000).toISOString();
      await consumerCommand(store, {
        type: 'grantAccess',
        data: { grantId, consumerId, resources: ['audit.log'], actions: ['READ'], purpose: 'reviewing its own records', validFrom: new Date().toISOString(), validUntil, masked: false, approver: 'test-approver' },
        metadata: now(),
      });

      const { requestId, body } = await governance.ask(consumerId, '{ accessLog(first: 1) { edges { node { id } } } }');
      only(body);
      const record = await accessRecordOf(store, requestId);
      assert.deepEqual(record.data.grantIds, [grantId]);
      await consumerCommand(store, { type: 'revokeAccess', data: { consumerId, grantId, reason: 'end of the review', revokedBy: 'test-admin' }, metadata: now() });

      const refused = await governance.ask(consumerId, '{ accessLog(first: 1) { edges { node { id } } } }');
      assert.equal(refused.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', 'the revocation applies to the next request');

      const { accessAuthorization } = only((await governance.ask<{ accessAuthorization: Authorization }>(AUDITOR, AUTHORIZATION, { id: record.eventId })).body);
      assert.equal(accessAuthorization.authorized, true);
      assert.equal(accessAuthorization.evaluatedAt, record.data.at);
      assert.deepEqual(accessAuthorization.access, { id: record.eventId, consumerId, resources: record.data.resources });
      assert.deepEqual(accessAuthorization.resources, [
        { resource: 'audit.log', covered: true, public: false, grant: { id: grantId, purpose: 'reviewing its own records', revokedSince: true } },
      ]);
    });

    it('says an access under no grant was not covered', async () => {
      const { store } = governance;
      // A forged record: the kit never serves a restricted field without a grant, so write one directly.
      const appended = await recordAccess(store, { consumerId: 'partner-app', resources: ['population.identity', 'public', 'tax.risks'], at: new Date().toISOString() });

      const { accessAuthorization } = only((await governance.ask<{ accessAuthorization: Authorization }>(AUDITOR, AUTHORIZATION, { id: appended.eventId })).body);
      assert.equal(accessAuthorization.authorized, false);
      const byResource = new Map(accessAuthorization.resources.map((r) => [r.resource, r]));
      // partner-app's demo grant covers population.identity, so that one is covered; tax.risks is not.
      assert.equal(byResource.get('population.identity')?.covered, true);
      assert.deepEqual(byResource.get('public'), { resource: 'public', covered: true, public: true, grant: null });
      assert.deepEqual(byResource.get('tax.risks'), { resource: 'tax.risks', covered: false, public: false, grant: null });
    });

    it('answers null for an id that is not an access record, like every lookup, and refuses a consumer without audit.log', async () => {
      const unknown = (await governance.ask(AUDITOR, AUTHORIZATION, { id: randomUUID() })).body;
      assert.equal(unknown.errors, undefined, JSON.stringify(unknown));
      assert.deepEqual(unknown.data, { accessAuthorization: null });
      const [registration] = await governance.store.readStream(consumerStreamId(AUDITOR));
      const notAccess = (await governance.ask(AUDITOR, AUTHORIZATION, { id: registration!.eventId })).body;
      assert.equal(notAccess.errors, undefined, JSON.stringify(notAccess));
      assert.deepEqual(notAccess.data, { accessAuthorization: null });
      const refused = (await governance.ask('partner-app', AUTHORIZATION, { id: registration!.eventId })).body;
      assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.match(refused.errors[0]!.message, /audit\.log/);
    });
  });

  describe('a record of one feed delivery to several subscriptions', () => {
    it('answers the access log, accessAuthorization and the usage report as one record per subscription', async () => {
      const { store, runner } = governance;
      const requestIds = [randomUUID(), randomUUID(), randomUUID()];
      const [first, ...others] = requestIds as [string, ...string[]];
      const delivery = { consumerId: 'feed-audited-app', resources: ['events.feed', 'population.basic'], at: '2025-04-02T03:00:00.000Z', subjectIds: ['p-feed-1'], eventIds: [randomUUID()] };
      const appended = await recordAccess(store, { ...delivery, requestId: first, otherRequestIds: others });
      await runner.catchUp();
      const ids = [appended.eventId, `${appended.eventId}/1`, `${appended.eventId}/2`];

      type Log = { accessLog: { totalCount: number; edges: { node: { id: string; requestId: string; subjectIds: string[]; eventIds: string[] } }[] } };
      const LOG = 'query Log($consumer: ID) { accessLog(filter: { consumerId: $consumer }, first: 10) { totalCount edges { node { id requestId subjectIds eventIds } } } }';
      const log = only((await governance.ask<Log>(AUDITOR, LOG, { consumer: delivery.consumerId })).body).accessLog;
      assert.equal(log.totalCount, 3);
      assert.deepEqual(
        log.edges.map((e) => e.node).sort((a, b) => a.id.localeCompare(b.id)),
        ids.map((id, i) => ({ id, requestId: requestIds[i], subjectIds: delivery.subjectIds, eventIds: delivery.eventIds })),
      );
      for (const requestId of requestIds) {
        const byRequest = only((await governance.ask<Log>(AUDITOR, 'query R($r: ID) { accessLog(filter: { requestId: $r }) { totalCount edges { node { requestId } } } }', { r: requestId })).body);
        assert.deepEqual(byRequest.accessLog.edges, [{ node: { requestId } }], 'each subscription finds its own delivery');
      }

      for (const id of ids) {
        const { accessAuthorization } = only((await governance.ask<{ accessAuthorization: Authorization }>(AUDITOR, AUTHORIZATION, { id })).body);
        assert.deepEqual(accessAuthorization.access, { id, consumerId: delivery.consumerId, resources: delivery.resources });
      }
      for (const id of [`${appended.eventId}/3`, `${appended.eventId}/0`, `${appended.eventId}/01`, `${appended.eventId}/x`, `${appended.eventId}/`]) {
        const answer = (await governance.ask(AUDITOR, AUTHORIZATION, { id })).body;
        assert.equal(answer.errors, undefined, JSON.stringify(answer));
        assert.deepEqual(answer.data, { accessAuthorization: null }, `${id} names no subscription of the record`);
      }

      type Report = { usageReport: { rows: { consumer: string; resource: string; calls: number }[] } };
      const REPORT = 'query U { usageReport(department: "public-security", from: "2025-04-02", to: "2025-04-02") { rows { consumer resource calls } } }';
      const report = only((await governance.ask<Report>(AUDITOR, REPORT)).body).usageReport;
      assert.deepEqual(report.rows, [{ consumer: delivery.consumerId, resource: 'population.basic', calls: 3 }], 'one call per subscription');
    });
  });

  describe('usageReport', () => {
    const REPORT = /* GraphQL */ `
      query Usage($department: String!, $from: Date!, $to: Date!) {
        usageReport(department: $department, from: $from, to: $to) { department departmentName from to rows { consumer resource calls } totals { calls consumers resources } }
      }
    `;

    it("counts calls per consumer and resource of a department's resources over China calendar days", async () => {
      const { store, runner } = governance;
      // 2025-03-01T17:00Z is 2025-03-02 01:00 in China: it counts on 2 March.
      const accesses = [
        { consumerId: 'app-a', resources: ['population.basic', 'population.identity', 'public'], at: '2025-03-01T02:00:00.000Z' },
        { consumerId: 'app-a', resources: ['population.basic'], at: '2025-03-01T17:00:00.000Z' },
        { consumerId: 'app-b', resources: ['population.basic', 'tax.risks'], at: '2025-03-03T03:00:00.000Z' },
        { consumerId: 'app-b', resources: ['population.basic'], at: '2025-03-09T03:00:00.000Z' },
      ];
      for (const access of accesses) await recordAccess(store, access);
      await runner.catchUp();

      type Report = { usageReport: { departmentName: string; rows: { consumer: string; resource: string; calls: number }[]; totals: { calls: number; consumers: number; resources: number } } };
      const march = only((await governance.ask<Report>(AUDITOR, REPORT, { department: 'public-security', from: '2025-03-01', to: '2025-03-08' })).body).usageReport;
      assert.equal(march.departmentName, '市公安局');
      assert.deepEqual(march.rows, [
        { consumer: 'app-a', resource: 'population.basic', calls: 2 },
        { consumer: 'app-a', resource: 'population.identity', calls: 1 },
        { consumer: 'app-b', resource: 'population.basic', calls: 1 },
      ]);
      assert.deepEqual(march.totals, { calls: 4, consumers: 2, resources: 2 });

      const secondOnly = only((await governance.ask<Report>(AUDITOR, REPORT, { department: 'public-security', from: '2025-03-02', to: '2025-03-02' })).body).usageReport;
      assert.deepEqual(secondOnly.rows, [{ consumer: 'app-a', resource: 'population.basic', calls: 1 }]);
      const tax = only((await governance.ask<Report>(AUDITOR, REPORT, { department: 'taxation', from: '2025-03-01', to: '2025-03-31' })).body).usageReport;
      assert.deepEqual(tax.rows, [{ consumer: 'app-b', resource: 'tax.risks', calls: 1 }]);
    });

    it('refuses an unknown department or a reversed period with BAD_USER_INPUT', async () => {
      const unknown = (await governance.ask(AUDITOR, REPORT, { department: 'police', from: '2025-03-01', to: '2025-03-02' })).body;
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(unknown.errors[0]!.message, /"police" is not a providing department; use one of big-data-bureau, public-security/);
      const reversed = (await governance.ask(AUDITOR, REPORT, { department: 'taxation', from: '2025-03-02', to: '2025-03-01' })).body;
      assert.equal(reversed.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(reversed.errors[0]!.message, /from 2025-03-02 is after to 2025-03-01/);
    });
  });

  describe('data-quality feedback', () => {
    const REPORT = /* GraphQL */ `
      mutation Report($input: ReportDataIssueInput!) {
        reportDataIssue(input: $input) { positions issue { id entityType entityId field description resource department reportedBy reportedAt status correction } }
      }
    `;
    const RESOLVE = /* GraphQL */ `
      mutation Resolve($input: ResolveDataIssueInput!) {
        resolveDataIssue(input: $input) { positions issue { id status correction resolvedBy resolvedAt reportedAt } }
      }
    `;
    type Issue = { id: string; resource: string; department: string; reportedBy: string; reportedAt: string; status: string; correction: string | null; resolvedBy: string | null; resolvedAt: string | null };
    const personId = randomUUID();
    const personIssue = (description: string) => ({ entityType: 'Person', entityId: personId, field: 'name', description });
    before(async () => {
      await governance.store.append(personStreamId(personId), [
        {
          type: 'PersonRegistered',
          data: { personId, idNumber: '34052419800101001X', name: '李明', gender: 'MALE', birthDate: '1980-01-01', residence: { address: '历下区 1 号', divisionCode: '370102002001' }, reason: 'HOUSEHOLD_REGISTRATION' },
          metadata: testMetadata,
        },
      ]);
    });

    it('takes reports from readers of the field and resolutions from its providing department, with statistics', async () => {
      const { store, runner } = governance;
      const registrar = 'police-registry';
      await consumerCommand(store, { type: 'registerConsumer', data: { consumerId: registrar, name: '户籍科', kind: 'DEPARTMENT', department: '市公安局' }, metadata: { now: new Date().toISOString() } });

      const first = only((await governance.ask<{ reportDataIssue: { positions: string[]; issue: Issue } }>('partner-app', REPORT, { input: personIssue('the name is misspelt') })).body).reportDataIssue;
      assert.equal(first.positions.length, 1);
      assert.deepEqual(
        { resource: first.issue.resource, department: first.issue.department, reportedBy: first.issue.reportedBy, status: first.issue.status, correction: first.issue.correction },
        { resource: 'population.basic', department: 'public-security', reportedBy: 'partner-app', status: 'OPEN', correction: null },
      );
      const [reported] = await store.readStream(`governance.data-issue-${first.issue.id}`);
      assert.equal(reported?.type, 'DataIssueReported');
      only((await governance.ask('partner-app', REPORT, { input: personIssue('the birth date is a placeholder') })).body);

      const byPartner = (await governance.ask('partner-app', RESOLVE, { input: { issueId: first.issue.id, correction: 'fixed' } })).body;
      assert.equal(byPartner.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(byPartner));
      assert.match(byPartner.errors[0]!.message, /only that department \(or an administrator\) resolves it/);

      const resolved = only((await governance.ask<{ resolveDataIssue: { issue: Issue } }>(registrar, RESOLVE, { input: { issueId: first.issue.id, correction: 'name corrected from the paper register' } })).body).resolveDataIssue.issue;
      assert.equal(resolved.status, 'RESOLVED');
      assert.equal(resolved.resolvedBy, registrar);
      assert.equal(resolved.correction, 'name corrected from the paper register');
      const again = (await governance.ask(registrar, RESOLVE, { input: { issueId: first.issue.id, correction: 'again' } })).body;
      assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
      assert.equal((await store.readStream(`governance.data-issue-${first.issue.id}`)).length, 2, 'the refused resolutions appended nothing');

      await waitUntilVisible(store, await store.headPosition());
      await runner.catchUp();
      type Lists = { resolved: { totalCount: number; edges: { node: Issue }[] }; open: { totalCount: number }; dataIssueStatistics: { department: string; open: number; resolved: number; meanHoursToResolve: number | null }[] };
      const lists = only(
        (
          await governance.ask<Lists>(
            AUDITOR,
            `{ resolved: dataIssues(status: RESOLVED, department: "public-security") { totalCount edges { node { id status correction } } }
               open: dataIssues(status: OPEN) { totalCount }
               dataIssueStatistics(department: "public-security") { department open resolved meanHoursToResolve } }`,
          )
        ).body,
      );
      assert.equal(lists.resolved.totalCount, 1);
      assert.equal(lists.resolved.edges[0]?.node.id, first.issue.id);
      assert.equal(lists.open.totalCount, 1);
      const expectedHours = (Date.parse(resolved.resolvedAt!) - Date.parse(resolved.reportedAt)) / 3_600_000;
      assert.deepEqual(lists.dataIssueStatistics, [{ department: 'public-security', open: 1, resolved: 1, meanHoursToResolve: expectedHours }]);
    });

    it('refuses a report on an entity that does not exist as BAD_USER_INPUT naming entityId, appending nothing', async () => {
      const error = await refusedNaming(governance.store, 'entityId', async () => (await governance.ask<Record<string, unknown>>('partner-app', REPORT, { input: { ...personIssue('wrong'), entityId: randomUUID() } })).body);
      assert.match(error.message, /entityId .* is not a registered Person/);
    });

    it('answers a report re-sent with the same idempotency key with its first result, appending nothing', async () => {
      const report = (description: string) => async () =>
        (await governance.ask<{ reportDataIssue: { positions: string[]; issue: { id: string } } }>('partner-app', REPORT, { input: { ...personIssue(description), idempotencyKey: 'issue-1' } })).body;
      const first = await answeredOnceOnRetry(governance.store, report('the name is misspelt'), (d) => ({ positions: d.reportDataIssue.positions, id: d.reportDataIssue.issue.id }));
      // The key names the command, not its content: changed input with the same key answers the first result.
      await answeredOnceOnRetry(governance.store, report('the name is wrong'), (d) => assert.deepEqual({ positions: d.reportDataIssue.positions, id: d.reportDataIssue.issue.id }, first));
    });

    it('refuses a report from a consumer without READ on the field, an unknown entity type, and an unknown issue', async () => {
      const before = (await governance.store.readAll({ filter: { types: ['DataIssueReported', 'DataIssueResolved'] } })).length;
      const noGrant = (await governance.ask('partner-app', REPORT, { input: { entityType: 'TaxRisk', entityId: 'r-1', field: 'level', description: 'wrong level' } })).body;
      assert.equal(noGrant.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(noGrant));
      assert.match(noGrant.errors[0]!.message, /no grant valid now to READ tax\.risks, which TaxRisk\.level belongs to/);
      const unknownType = (await governance.ask('partner-app', REPORT, { input: { entityType: 'Spaceship', entityId: 's-1', field: 'name', description: 'x' } })).body;
      assert.equal(unknownType.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(unknownType.errors[0]!.message, /use one of Person, Household/);
      const emptyDescription = (await governance.ask('partner-app', REPORT, { input: personIssue(' ') })).body;
      assert.equal(emptyDescription.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      const unknownIssue = (await governance.ask('admin', RESOLVE, { input: { issueId: randomUUID(), correction: 'x' } })).body;
      assert.equal(unknownIssue.errors?.[0]?.extensions?.code, 'NOT_FOUND');
      assert.equal((await governance.store.readAll({ filter: { types: ['DataIssueReported', 'DataIssueResolved'] } })).length, before, 'nothing was appended');
    });
  });

  // Last: it alters a stored event, which every later check of this database would report.
  describe('integrity', () => {
    const INTEGRITY = /* GraphQL */ `
      query Integrity($limit: Int) {
        integrity { verifiedThrough verifiedEvents unchainedEvents firstMismatch { position sequence reason } chainHead { position link events } checkedAt seals(limit: $limit) { position ordinal link keyId signature sealedAt } }
      }
    `;
    type IntegrityResult = {
      integrity: {
        verifiedThrough: string | null;
        verifiedEvents: number;
        firstMismatch: { position: string | null; reason: string } | null;
        chainHead: { position: string; link: string; events: number };
        checkedAt: string;
        seals: { position: string; ordinal: number; link: string; keyId: string; signature: string }[];
      };
    };

    it('recomputes the chain and lists the signed seals; a verification is reused for a while; an altered event is named', async () => {
      const { db, store } = governance;
      const signer = ed25519Signer(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      const head = await new HashChainer(db, { signer, blockSize: 5 }).catchUp();
      assert.ok(head.events >= 10, `the seeded consumers and the records above make at least two blocks, got ${head.events}`);

      const first = only((await governance.ask<IntegrityResult>(AUDITOR, INTEGRITY, { limit: 2 })).body).integrity;
      assert.equal(first.firstMismatch, null);
      assert.equal(first.verifiedThrough, head.position);
      assert.deepEqual(first.chainHead, head);
      assert.ok(first.verifiedEvents >= head.events);
      assert.equal(first.seals.length, 2);
      assert.ok(first.seals[0]!.ordinal > first.seals[1]!.ordinal, 'newest first');
      for (const seal of first.seals) {
        assert.equal(seal.keyId, signer.keyId);
        assert.ok(signer.verify(sealMessage(String(seal.ordinal), seal.position.split(':')[1]!, seal.link), seal.signature), 'each seal verifies with the public key');
      }

      const badLimit = (await governance.ask(AUDITOR, INTEGRITY, { limit: 0 })).body;
      assert.equal(badLimit.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(badLimit.errors[0]!.message, /limit must be between 1 and 100/);

      const victim = (await store.readAll({ filter: { types: ['DataAccessed'] } }))[0]!;
      await db.exec(
        `ALTER TABLE es_events DISABLE TRIGGER es_events_append_only; UPDATE es_events SET data = jsonb_set(data, '{purpose}', '"rewritten"') WHERE event_id = '${victim.eventId}'; ALTER TABLE es_events ENABLE TRIGGER es_events_append_only;`,
      );
      const reused = only((await governance.ask<IntegrityResult>(AUDITOR, INTEGRITY)).body).integrity;
      assert.equal(reused.checkedAt, first.checkedAt, 'a verification younger than a minute is reused');

      // A resolver built now verifies afresh and names the altered event.
      const fresh = governanceModule.resolvers(governance.runtime) as { Query: { integrity: () => Promise<{ verifiedThrough: string | null; firstMismatch: { position: string | null; reason: string } | null }> } };
      const report = await fresh.Query.integrity();
      assert.equal(report.verifiedThrough, null);
      assert.equal(report.firstMismatch?.position, victim.position);
      assert.match(report.firstMismatch!.reason, /does not match its link/);
    });
  });
}

for (const makeBackend of BACKENDS) {
  describe(`governance audit queries (${makeBackend.name.replace(/Backend$/, '')})`, () => auditQueriesSuite(makeBackend));
}
