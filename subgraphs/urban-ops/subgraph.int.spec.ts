/**
 * The urban-ops subgraph served by the kit's server, over HTTP and graphql-ws, with grants and
 * access records from the governance events, on both SQL backends: the closed loop through the
 * mutations, reads of the incident, the list and the division metrics, refusals with their codes,
 * and the division feed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { readCommitted } from '../../test/helpers/events.ts';
import { testGrants } from '../../test/helpers/grants.ts';
import { untilCaughtUp } from '../../test/helpers/projections.ts';
import { relayedHeaders } from '../../test/helpers/subgraphAuth.ts';
import { collectResults } from '../../test/helpers/subscriptions.ts';
import { startSubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { incidentStreamId } from './incident/events.ts';
import { reportData, reportInput } from './incident/fixtures.ts';
import { urbanOpsModule } from './index.ts';

const REPORT = `mutation Report($input: ReportIncidentInput!) {
  reportIncident(input: $input) { incident { id status } positions revision duplicateOf { id } }
}`;
const STEP = (name: string, input: string) => `mutation Step($input: ${input}!) {
  ${name}(input: $input) { incident { id status allowedNextSteps } positions revision replayed }
}`;

/** A citizen's hotline report of a damaged road in `divisionCode`. */
const roadDamageIn = (divisionCode: string) => ({
  channel: 'HOTLINE_12345',
  category: 'ROAD',
  subcategory: 'ROAD_DAMAGE',
  description: '路面坑洼',
  location: { longitude: 117.1, latitude: 36.6, address: '经十路' },
  divisionCode,
  reporter: { kind: 'CITIZEN' },
});

type Errors = { message: string; extensions?: Record<string, unknown> }[] | undefined;

for (const openBackend of BACKENDS) {
  test(`urban-ops subgraph on ${openBackend.name.replace('Backend', '')}`, async (t) => {
    const ask = <D = Record<string, unknown>>(consumerId: string, query: string, variables?: Record<string, unknown>) => harness.ask<D>(consumerId, query, variables);
    const step = async (name: string, inputType: string, input: Record<string, unknown>, consumerId = 'city-centre') => {
      const body = await ask<Record<string, { incident: { status: string }; positions: string[] }>>(consumerId, STEP(name, inputType), { input });
      return { data: body.data?.[name], errors: body.errors as Errors };
    };
    // Who acts is the consumer's jurisdiction, as governance registered it.
    const district = 'lixia-centre';
    const streetUnit = 'lixia-street-office';

    await using backend = await openBackend();
    await using harness = await startSubgraphHarness(await backend.fresh(), { module: urbanOpsModule, grants: 'governance', projector: 'running' });
    const { store, runtime, runner } = harness;
    const grants = testGrants(store, runtime.now);
    await grants.grant('city-centre', ['urban.incidents', 'urban.metrics', 'urban.write', 'audit.log'], { actions: ['READ', 'WRITE', 'SUBSCRIBE'] });
    await grants.grant('dashboard', ['urban.incidents', 'urban.metrics'], { actions: ['READ', 'SUBSCRIBE'] });
    const writer = ['urban.incidents', 'urban.write'];
    for (const [consumerId, jurisdiction] of [
      [district, { divisionCode: '370102' }],
      [streetUnit, { divisionCode: '370102003', unitId: 'u-street', unitName: '泉城路街道城管办' }],
      ['shizhong-centre', { divisionCode: '370103' }],
      ['huaiyin-centre', { divisionCode: '370104' }],
    ] as const) {
      await grants.grant(consumerId, writer, { actions: ['READ', 'WRITE'] });
      await grants.assignJurisdiction(consumerId, jurisdiction);
    }

    /** Waits until the running projector has applied everything committed so far. */
    const caughtUp = () => untilCaughtUp(runner);

    await t.test('runs the closed loop through the mutations and shows it in the incident, the list and the metrics', async () => {
      const reported = await ask<{ reportIncident: { incident: { id: string; status: string } } }>('city-centre', REPORT, { input: reportInput });
      assert.equal(reported.errors, undefined, JSON.stringify(reported.errors));
      const id = reported.data!.reportIncident.incident.id;
      const base = { incidentId: id };
      const steps: [string, string, Record<string, unknown>, string, string?][] = [
        ['registerIncident', 'RegisterIncidentInput', { ...base }, 'REGISTERED', district],
        ['dispatchIncident', 'DispatchIncidentInput', { ...base, unit: { unitId: 'u-street', unitName: '泉城路街道城管办', divisionCode: '370102003' } }, 'DISPATCHED', district],
        ['startHandling', 'StartHandlingInput', { ...base }, 'HANDLING', streetUnit],
        ['reportHandled', 'ReportHandledInput', { ...base, evidence: ['photo://after'], note: '已补装' }, 'HANDLED', streetUnit],
        ['verifyIncident', 'VerifyIncidentInput', { ...base, passed: false, reason: '仍有缝隙' }, 'REGISTERED', district],
        ['dispatchIncident', 'DispatchIncidentInput', { ...base, unit: { unitId: 'u-street', unitName: '泉城路街道城管办', divisionCode: '370102003' } }, 'DISPATCHED', district],
        ['startHandling', 'StartHandlingInput', { ...base }, 'HANDLING', streetUnit],
        ['reportHandled', 'ReportHandledInput', { ...base, evidence: ['photo://after-2'], note: '已更换井盖' }, 'HANDLED', streetUnit],
        ['verifyIncident', 'VerifyIncidentInput', { ...base, passed: true }, 'CLOSED', district],
        ['evaluateIncident', 'EvaluateIncidentInput', { ...base, satisfaction: 5 }, 'CLOSED'],
      ];
      for (const [name, inputType, input, status, consumerId] of steps) {
        const { data, errors } = await step(name, inputType, input, consumerId);
        assert.equal(errors, undefined, `${name}: ${JSON.stringify(errors)}`);
        assert.equal(data?.incident.status, status, name);
        assert.ok((data?.positions.length ?? 0) > 0, name);
      }

      await caughtUp();
      const read = await ask<{
        incident: { status: string; caseNumber: string; reworkCount: number; district: { code: string }; evaluation: { satisfaction: number }; timeline: { type: string; level: string | null }[]; history: { type: string; actor: { consumerId: string; divisionCode?: string | null; unitId?: string | null } }[] };
        incidents: { totalCount: number; edges: { node: { id: string } }[] };
        _entities: { urbanOperations: { reported: number; closed: number; reworkRate: number; satisfaction: number; overdueNow: number } }[];
      }>(
        'city-centre',
        `query Read($id: ID!) {
          incident(id: $id) { status caseNumber reworkCount district { code } evaluation { satisfaction } timeline { type level } history { type actor { consumerId divisionCode unitId } } }
          incidents(filter: { divisionCode: "370102", status: [CLOSED] }, first: 5) { totalCount edges { node { id } } }
          _entities(representations: [{ __typename: "Division", code: "370102" }]) { ... on Division { urbanOperations { reported closed reworkRate satisfaction overdueNow } } }
        }`,
        { id },
      );
      assert.equal(read.errors, undefined, JSON.stringify(read.errors));
      const incident = read.data!.incident;
      assert.equal(incident.status, 'CLOSED');
      assert.match(incident.caseNumber, /^370102-\d{8}-MF-0001$/);
      assert.equal(incident.reworkCount, 1);
      assert.equal(incident.district.code, '370102');
      assert.equal(incident.evaluation.satisfaction, 5);
      assert.equal(incident.timeline.length, 12);
      assert.deepEqual(incident.timeline.filter((s) => s.type === 'IncidentVerificationFailed').map((s) => s.level), ['DISTRICT']);
      assert.equal(incident.history[0]?.actor.consumerId, 'city-centre');
      assert.deepEqual(
        incident.history.filter((e) => e.type === 'IncidentHandled').map((e) => e.actor),
        [{ consumerId: streetUnit, divisionCode: '370102003', unitId: 'u-street' }, { consumerId: streetUnit, divisionCode: '370102003', unitId: 'u-street' }],
        'the event records the authenticated unit',
      );
      assert.deepEqual(read.data!.incidents, { totalCount: 1, edges: [{ node: { id } }] });
      assert.deepEqual(read.data!._entities[0]?.urbanOperations, { reported: 1, closed: 1, reworkRate: 1, satisfaction: 5, overdueNow: 0 });
    });

    await t.test('answers a report re-sent with the same idempotency key and no id with its first result, appending nothing', async () => {
      const input = { ...reportInput, idempotencyKey: 'hotline-call-9' };
      const first = await ask<{ reportIncident: { incident: { id: string }; positions: string[] } }>('city-centre', REPORT, { input });
      assert.equal(first.errors, undefined, JSON.stringify(first.errors));
      // Every request leaves its access record; the domain's own events are what must not grow.
      const incidentEvents = async () => (await readCommitted(harness.store)).filter((e) => e.type !== 'DataAccessed').length;
      const appended = await incidentEvents();
      const again = await ask<{ reportIncident: { incident: { id: string }; positions: string[] } }>('city-centre', REPORT, { input });
      assert.equal(again.errors, undefined, JSON.stringify(again.errors));
      assert.equal(again.data!.reportIncident.incident.id, first.data!.reportIncident.incident.id);
      assert.deepEqual(again.data!.reportIncident.positions, first.data!.reportIncident.positions);
      assert.equal(await incidentEvents(), appended, 'nothing appended');
    });

    await t.test('refuses illegal transitions with INVALID_TRANSITION naming the status and the allowed steps, and writes without a grant with FORBIDDEN', async () => {
      const reported = await ask<{ reportIncident: { incident: { id: string } } }>('city-centre', REPORT, {
        input: roadDamageIn('370103001001'),
      });
      const id = reported.data!.reportIncident.incident.id;
      const before = await store.readStream(incidentStreamId(id));

      const { errors } = await step('verifyIncident', 'VerifyIncidentInput', { incidentId: id, passed: true }, 'shizhong-centre');
      assert.equal(errors?.[0]?.extensions?.code, 'INVALID_TRANSITION');
      assert.equal(errors?.[0]?.extensions?.status, 'REPORTED');
      assert.deepEqual(errors?.[0]?.extensions?.allowed, ['registerIncident', 'rejectIncident']);

      const stale = await step('registerIncident', 'RegisterIncidentInput', { incidentId: id, expectedRevision: 5 }, 'shizhong-centre');
      assert.equal(stale.errors?.[0]?.extensions?.code, 'CONFLICT');

      const forbidden = await step('registerIncident', 'RegisterIncidentInput', { incidentId: id }, 'dashboard');
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');

      const badFilter = await ask('city-centre', '{ incidents(filter: { divisionCode: "12" }) { totalCount } }');
      assert.equal((badFilter.errors as Errors)?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.deepEqual(await store.readStream(incidentStreamId(id)), before);
    });

    await t.test('refuses a report in a division the catalog does not hold, and serves a list holding a stored incident of one, with an error at that field only', async () => {
      const refused = await ask('city-centre', REPORT, {
        input: roadDamageIn('999999999999'),
      });
      assert.equal((refused.errors as Errors)?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal((refused.errors as Errors)?.[0]?.extensions?.field, 'divisionCode');
      assert.equal(refused.data?.reportIncident ?? null, null);

      // Old data: a report recorded before codes were checked, in a community since retired.
      const retired = '370102003999';
      await store.append(incidentStreamId('inc-retired'), [
        {
          type: 'IncidentReported',
          data: { ...reportData, incidentId: 'inc-retired', divisionCode: retired },
          metadata: { provenance: { department: 'test', system: 'test', channel: 'test', collectedAt: reportData.reportedAt }, actor: { consumerId: 'city-centre', role: 'department' }, correlationId: 'old-data' },
        },
      ]);
      await caughtUp();
      const list = await ask<{ incidents: { edges: { node: { id: string; community: { code: string } | null; street: { code: string } | null } }[] } }>(
        'city-centre',
        '{ incidents(filter: { divisionCode: "370102" }, first: 20) { edges { node { id community { code } street { code } } } } }',
      );
      const edges = list.data!.incidents.edges;
      const index = edges.findIndex((e) => e.node.id === 'inc-retired');
      assert.ok(index >= 0 && edges.length > 1, JSON.stringify(list));
      assert.deepEqual(edges[index]!.node, { id: 'inc-retired', community: null, street: { code: '370102003' } });
      assert.ok(edges.every((e, i) => i === index || e.node.community !== null), JSON.stringify(edges));
      const errors = list.errors as (NonNullable<Errors>[number] & { path?: (string | number)[] })[];
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.deepEqual(errors[0]!.path, ['incidents', 'edges', index, 'node', 'community']);
      assert.equal(errors[0]!.extensions?.code, 'NOT_FOUND');
    });

    await t.test('pushes the events of a division\'s incidents to its subscribers, and no others', async () => {
      const client = createClient({ url: harness.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: await relayedHeaders('dashboard') });
      const { received, done, unsubscribe } = collectResults<{ incidentId: string; type: string; incident: { divisionCode: string } }>(
        client,
        'subscription { incidentChanged(divisionCode: "370104") { incidentId type incident { divisionCode status } } }',
        'incidentChanged',
        2,
      );
      try {
        await new Promise((r) => setTimeout(r, 300)); // the subscription starts from the head at subscribing time
        const reported: string[] = [];
        for (const divisionCode of ['370102001001', '370104001001']) {
          const body = await ask<{ reportIncident: { incident: { id: string } } }>('city-centre', REPORT, { input: roadDamageIn(divisionCode) });
          reported.push(body.data!.reportIncident.incident.id);
        }
        const registered = await step('registerIncident', 'RegisterIncidentInput', { incidentId: reported[1] }, 'huaiyin-centre');
        assert.equal(registered.errors, undefined, JSON.stringify(registered.errors));
        // Bounded: on a busy PostgreSQL server delivery waits for transactions open elsewhere (DESIGN §6).
        await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received.length} of 2 events delivered within 60 s`)), 60_000).unref())]);
        assert.deepEqual(
          received.map((r) => [r.type, r.incident.divisionCode]),
          [
            ['IncidentReported', '370104001001'],
            ['IncidentRegistered', '370104001001'],
          ],
        );
      } finally {
        unsubscribe();
        await client.dispose();
      }
    });
  });
}
