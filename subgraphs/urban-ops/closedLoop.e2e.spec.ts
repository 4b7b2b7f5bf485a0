/**
 * The four-level closed loop end to end, through the gateway (real HTTP and a graphql-ws client)
 * with the governance, population and urban-ops subgraphs, on a virtual clock: a grid worker reports
 * an incident in a community; the community escalates it to its street; the district above
 * dispatches it to one of its departments, which returns it; re-dispatched to another department,
 * handled, failed verification, reworked, verified, closed and evaluated. The timeline, the
 * district's `Division.urbanOperations` and the `incidentChanged` subscription show exactly that.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import { governanceModule } from '../governance/index.ts';
import { populationModule } from '../population/index.ts';
import { urbanOpsModule } from './index.ts';
import { openTestRuntime, startTestGraph, type GqlResponse, type TestGraph, type TestRuntime } from '../../test/helpers/graph.ts';

const MODULES = [governanceModule, populationModule, urbanOpsModule];
const MINUTE = 60_000;
const COMMUNITY = '370102003001';
const STREET = '370102003';
const DISTRICT = '370102';
const roads = { unitId: 'lixia-municipal', unitName: '历下区市政工程处', divisionCode: DISTRICT };
const water = { unitId: 'lixia-water', unitName: '历下区排水管理处', divisionCode: DISTRICT };

const data = <Data>(response: GqlResponse<Data>): Data => {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  assert.ok(response.body.data);
  return response.body.data;
};

interface Change {
  incidentId: string;
  type: string;
  incident: { status: string };
}

/** Collects every `incidentChanged` of a division until `count` have arrived. */
function collectChanges(client: Client, divisionCode: string, count: number, ms = 30_000): { changes: Promise<Change[]>; stop(): void } {
  let stop = () => {};
  const changes = new Promise<Change[]>((resolve, reject) => {
    const received: Change[] = [];
    const timer = setTimeout(() => reject(new Error(`${received.length} of ${count} changes within ${ms} ms: ${received.map((c) => c.type).join(', ')}`)), ms);
    stop = client.subscribe<{ incidentChanged: Change }>(
      { query: `subscription { incidentChanged(divisionCode: "${divisionCode}") { incidentId type incident { status } } }` },
      {
        next: (value) => {
          if (value.errors) reject(new Error(JSON.stringify(value.errors)));
          if (value.data) received.push(value.data.incidentChanged);
          if (received.length === count) {
            clearTimeout(timer);
            resolve(received);
          }
        },
        error: (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => clearTimeout(timer),
      },
    );
  });
  return { changes, stop: () => stop() };
}

describe('urban-ops: the four-level closed loop through the gateway', () => {
  let base: TestRuntime;
  let graph: TestGraph;
  const start = new Date(Date.UTC(2026, 2, 2, 1, 0));
  let clock = start;
  let gridWorker: string;
  let centre: string;

  before(async () => {
    base = await openTestRuntime(MODULES);
    base.runtime.now = () => clock;
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    await graph.grant('grid-worker', ['urban.write', 'urban.incidents']);
    await graph.grant('urban-centre', ['urban.write', 'urban.incidents', 'urban.metrics']);
    gridWorker = await graph.tokenFor('grid-worker');
    centre = await graph.tokenFor('urban-centre');
  });
  after(async () => {
    await graph?.close();
    await base?.close();
  });

  // First, in another district: a graphql-ws subscription is the gateway's very first operation here
  // (it must have loaded the supergraph before listening), and the loop below keeps its own metrics.
  it('ends a dashboard\'s incidentChanged subscription with FORBIDDEN once its grant is revoked', async () => {
    const grantId = await graph.grant('revoked-dashboard', ['urban.incidents'], { actions: ['SUBSCRIBE'] });
    const token = await graph.tokenFor('revoked-dashboard');
    const received: { data?: unknown; errors?: readonly { extensions?: { code?: unknown } }[] }[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      graph.wsClient(token).subscribe(
        { query: `subscription { incidentChanged(divisionCode: "370103") { incidentId type } }` },
        { next: (value) => received.push(value), error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))), complete: resolve },
      );
    });
    // Far apart, so the second is not linked to the first as a duplicate.
    const report = (longitude: number) =>
      graph.gql(
        `mutation ($input: ReportIncidentInput!) { reportIncident(input: $input) { incident { id } } }`,
        {
          input: {
            channel: 'GRID_WORKER',
            category: 'MUNICIPAL_FACILITY',
            subcategory: 'MISSING_MANHOLE_COVER',
            description: '井盖缺失',
            location: { longitude, latitude: 36.67, address: '解放路' },
            divisionCode: '370103001001',
            reporter: { kind: 'GRID_WORKER', id: 'gw-18' },
            attachments: [],
          },
        },
        gridWorker,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await report(117.05)).body.errors, undefined);
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(received.length, 1, 'the first change arrives while the grant holds');
    await graph.revoke('revoked-dashboard', grantId);
    await base.catchUp();
    assert.equal((await report(117.07)).body.errors, undefined);
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the subscription did not end within 15 s')), 15_000))]);
    assert.equal(received.length, 2, JSON.stringify(received));
    assert.equal(received[1]!.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(received[1]));
  });

  it('reports, escalates, dispatches, returns, re-dispatches, reworks, closes and evaluates, and shows exactly that', async () => {
    // The gateway loads its supergraph on the first request; a subscription before it would find none.
    assert.ok(data(await graph.gql<{ incidentCategories: unknown[] }>('{ incidentCategories { subcategory } }', undefined, centre)).incidentCategories.length > 0);
    // A dashboard of the district: one change for each of the 15 events below.
    const subscription = collectChanges(graph.wsClient(centre), DISTRICT, 15);
    // The subscription starts at the head when the gateway has passed it on: wait for it to be live.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const at = (minutes: number) => {
      clock = new Date(start.getTime() + minutes * MINUTE);
    };
    const step = async (token: string, name: string, input: Record<string, unknown>) => {
      const type = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
      return data(
        await graph.gql<Record<string, { incident: { id: string; status: string; level: string; owner: { divisionCode: string } | null } }>>(
          `mutation ($input: ${type}!) { ${name}(input: $input) { incident { id status level owner { divisionCode } } } }`,
          { input },
          token,
        ),
      )[name]!.incident;
    };

    at(0);
    const reported = await step(gridWorker, 'reportIncident', {
      channel: 'GRID_WORKER',
      category: 'MUNICIPAL_FACILITY',
      subcategory: 'MISSING_MANHOLE_COVER',
      description: '泉城路 100 号雨水井盖缺失',
      location: { longitude: 117.0211, latitude: 36.6651, address: '泉城路 100 号' },
      divisionCode: COMMUNITY,
      reporter: { kind: 'GRID_WORKER', id: 'gw-17', name: '张网格' },
      attachments: ['photo://gw-17/1'],
    });
    const incidentId = reported.id;
    const on = (input: Record<string, unknown>) => ({ incidentId, ...input });
    const communityCentre = { divisionCode: COMMUNITY };
    const districtCentre = { divisionCode: DISTRICT };
    const asUnit = (unit: typeof roads) => ({ divisionCode: unit.divisionCode, unitId: unit.unitId });

    at(2);
    assert.deepEqual((await step(centre, 'registerIncident', on({ actor: communityCentre }))).owner, { divisionCode: COMMUNITY });
    at(4);
    const escalated = await step(centre, 'escalateIncident', on({ reason: '社区无法处置，需要街道协调', actor: communityCentre }));
    assert.deepEqual([escalated.status, escalated.level, escalated.owner], ['REGISTERED', 'STREET', { divisionCode: STREET }]);
    at(10); // first dispatch: the clock starts, deadline +130
    assert.equal((await step(centre, 'dispatchIncident', on({ unit: roads, actor: districtCentre }))).level, 'DISTRICT');
    at(15);
    assert.equal((await step(centre, 'returnIncident', on({ reason: '排水设施，不属于市政工程处', actor: asUnit(roads) }))).status, 'REGISTERED');
    at(20);
    await step(centre, 'dispatchIncident', on({ unit: water, actor: districtCentre }));
    at(25);
    await step(centre, 'startHandling', on({ actor: asUnit(water) }));
    at(40);
    await step(centre, 'reportHandled', on({ evidence: ['photo://after/1'], note: '已补装井盖', actor: asUnit(water) }));
    at(45);
    const failed = await step(centre, 'verifyIncident', on({ passed: false, reason: '井盖与路面有高差', actor: districtCentre }));
    assert.equal(failed.status, 'REGISTERED');
    at(50);
    await step(centre, 'dispatchIncident', on({ unit: water, actor: districtCentre }));
    at(55);
    await step(centre, 'startHandling', on({ actor: asUnit(water) }));
    at(70);
    await step(centre, 'reportHandled', on({ evidence: ['photo://after/2'], note: '已调平井盖', actor: asUnit(water) }));
    at(100); // 90 minutes after the first dispatch: on time
    assert.equal((await step(centre, 'verifyIncident', on({ passed: true, note: '复核合格', actor: districtCentre }))).status, 'CLOSED');
    at(120);
    await step(gridWorker, 'evaluateIncident', on({ satisfaction: 4, comment: '处理及时' }));

    const expectedSteps: [type: string, level: string | null, divisionCode: string | null, unitId: string | null][] = [
      ['IncidentReported', null, null, null],
      ['IncidentRegistered', 'COMMUNITY', COMMUNITY, null],
      ['IncidentEscalated', 'COMMUNITY', COMMUNITY, null],
      ['IncidentDispatched', 'DISTRICT', DISTRICT, null],
      ['IncidentReturned', 'DISTRICT', DISTRICT, roads.unitId],
      ['IncidentDispatched', 'DISTRICT', DISTRICT, null],
      ['IncidentHandlingStarted', 'DISTRICT', DISTRICT, water.unitId],
      ['IncidentHandled', 'DISTRICT', DISTRICT, water.unitId],
      ['IncidentVerificationFailed', 'DISTRICT', DISTRICT, null],
      ['IncidentDispatched', 'DISTRICT', DISTRICT, null],
      ['IncidentHandlingStarted', 'DISTRICT', DISTRICT, water.unitId],
      ['IncidentHandled', 'DISTRICT', DISTRICT, water.unitId],
      ['IncidentVerificationPassed', 'DISTRICT', DISTRICT, null],
      ['IncidentClosed', null, null, null],
      ['IncidentEvaluated', null, null, null],
    ];
    const minutes = [0, 2, 4, 10, 15, 20, 25, 40, 45, 50, 55, 70, 100, 100, 120];

    // Reads come from the read models: bring them up to date (the graph runs no projector of its own).
    await base.catchUp();
    const read = data(
      await graph.gql<{
        incident: {
          status: string;
          reworkCount: number;
          closedOnTime: boolean;
          evaluation: { satisfaction: number };
          dispatches: { unitId: string; returnReason: string | null }[];
          escalations: { trigger: string; fromLevel: string; toLevel: string; toDivisionCode: string }[];
          timeline: { type: string; level: string | null; divisionCode: string | null; unitId: string | null; at: string; consumerId: string; system: string }[];
        };
      }>(
        `query ($id: ID!) { incident(id: $id) {
           status reworkCount closedOnTime evaluation { satisfaction }
           dispatches { unitId returnReason }
           escalations { trigger fromLevel toLevel toDivisionCode }
           timeline { type level divisionCode unitId at consumerId system }
         } }`,
        { id: incidentId },
        centre,
      ),
    ).incident;
    assert.deepEqual(
      read.timeline.map((s) => [s.type, s.level, s.divisionCode, s.unitId]),
      expectedSteps,
    );
    assert.deepEqual(
      read.timeline.map((s) => s.at),
      minutes.map((m) => new Date(start.getTime() + m * MINUTE).toISOString()),
    );
    assert.deepEqual(
      read.timeline.map((s) => s.consumerId),
      ['grid-worker', ...Array<string>(13).fill('urban-centre'), 'grid-worker'],
    );
    assert.deepEqual([read.status, read.reworkCount, read.closedOnTime, read.evaluation.satisfaction], ['CLOSED', 1, true, 4]);
    assert.deepEqual(read.dispatches, [
      { unitId: roads.unitId, returnReason: '排水设施，不属于市政工程处' },
      { unitId: water.unitId, returnReason: null },
      { unitId: water.unitId, returnReason: null },
    ]);
    assert.deepEqual(read.escalations, [{ trigger: 'REQUESTED', fromLevel: 'COMMUNITY', toLevel: 'STREET', toDivisionCode: STREET }]);

    const metricsQuery = `{ division(code: "${DISTRICT}") { code
      all: urbanOperations { reported registered closed closureRate onTimeClosureRate reworkRate meanHoursToClose p90HoursToClose open overdueNow satisfaction }
      district: urbanOperations(level: DISTRICT) { reported closed }
      street: urbanOperations(level: STREET) { reported closed }
    } }`;
    const metrics = data(
      await graph.gql<{ division: { code: string; all: Record<string, number | null>; district: Record<string, number>; street: Record<string, number> } }>(metricsQuery, undefined, centre),
    ).division;
    assert.deepEqual(metrics.all, {
      reported: 1,
      registered: 1,
      closed: 1,
      closureRate: 1,
      onTimeClosureRate: 1,
      reworkRate: 1,
      meanHoursToClose: 1.5,
      p90HoursToClose: 1.5,
      open: 0,
      overdueNow: 0,
      satisfaction: 4,
    });
    // The closed case counts at the level of the unit that handled it.
    assert.deepEqual([metrics.district, metrics.street], [{ reported: 1, closed: 1 }, { reported: 0, closed: 0 }]);

    const changes = await subscription.changes;
    subscription.stop();
    assert.deepEqual(
      changes.map((c) => c.type),
      expectedSteps.map(([type]) => type),
    );
    assert.ok(changes.every((c) => c.incidentId === incidentId));
    assert.deepEqual([changes[0]?.incident.status, changes.at(-1)?.incident.status], ['REPORTED', 'CLOSED']);
  });

});
