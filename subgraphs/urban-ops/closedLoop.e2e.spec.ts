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
import { incidentStreamId } from './incident/events.ts';
import { issueToken } from '../../gateway/tokens.ts';
import { openTestRuntime, startTestGraph, TEST_JWT_SECRET, type GqlResponse, type TestGraph, type TestRuntime } from '../../test/helpers/graph.ts';

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
  /** Tokens of the consumers governance registered for each centre and unit (their jurisdictions). */
  const tokens: Record<string, string> = {};
  const JURISDICTIONS = {
    'community-centre': { divisionCode: COMMUNITY },
    'district-centre': { divisionCode: DISTRICT },
    roads: { divisionCode: DISTRICT, unitId: roads.unitId, unitName: roads.unitName },
    water: { divisionCode: DISTRICT, unitId: water.unitId, unitName: water.unitName },
    // 市中区 for the attacks: its centre, its 市政工程处 (hz-szc) and another of its units.
    'shizhong-centre': { divisionCode: '370103' },
    'hz-szc': { divisionCode: '370103', unitId: 'hz-szc', unitName: '市中区市政工程处' },
    'hz-water': { divisionCode: '370103', unitId: 'hz-water', unitName: '市中区排水管理处' },
  };

  before(async () => {
    base = await openTestRuntime(MODULES);
    base.runtime.now = () => clock;
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    await graph.grant('grid-worker', ['urban.write', 'urban.incidents']);
    await graph.grant('urban-centre', ['urban.write', 'urban.incidents', 'urban.metrics']);
    gridWorker = await graph.tokenFor('grid-worker');
    // The dashboard's consumer has grants but no jurisdiction: it reads, and takes no step of the loop.
    centre = await graph.tokenFor('urban-centre');
    for (const [consumerId, jurisdiction] of Object.entries(JURISDICTIONS)) {
      await graph.grant(consumerId, ['urban.write', 'urban.incidents']);
      await graph.assignJurisdiction(consumerId, jurisdiction);
      tokens[consumerId] = await graph.tokenFor(consumerId);
    }
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
    // The subscription starts at the head once the subgraph has taken it, which a loaded machine may
    // not have done within a fixed wait: report again (far apart) until a change arrives.
    const deadline = Date.now() + 15_000;
    for (let longitude = 117.05; received.length === 0 && Date.now() < deadline; longitude -= 0.02) {
      assert.equal((await report(longitude)).body.errors, undefined);
      const retry = Date.now() + 2000;
      while (received.length === 0 && Date.now() < retry) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(received.length >= 1, 'a change arrives while the grant holds');
    assert.ok(received.every((r) => r.errors === undefined), JSON.stringify(received));
    const beforeRevoked = received.length;
    await graph.revoke('revoked-dashboard', grantId);
    await base.catchUp();
    assert.equal((await report(117.07)).body.errors, undefined);
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the subscription did not end within 15 s')), 15_000))]);
    assert.equal(received.length, beforeRevoked + 1, JSON.stringify(received));
    assert.equal(received.at(-1)!.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(received.at(-1)));
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
    const as = (consumerId: keyof typeof JURISDICTIONS) => tokens[consumerId]!;

    at(2);
    assert.deepEqual((await step(as('community-centre'), 'registerIncident', on({}))).owner, { divisionCode: COMMUNITY });
    at(4);
    const escalated = await step(as('community-centre'), 'escalateIncident', on({ reason: '社区无法处置，需要街道协调' }));
    assert.deepEqual([escalated.status, escalated.level, escalated.owner], ['REGISTERED', 'STREET', { divisionCode: STREET }]);
    at(10); // first dispatch: the clock starts, deadline +130
    assert.equal((await step(as('district-centre'), 'dispatchIncident', on({ unit: roads }))).level, 'DISTRICT');
    at(15);
    assert.equal((await step(as('roads'), 'returnIncident', on({ reason: '排水设施，不属于市政工程处' }))).status, 'REGISTERED');
    // One round of 派遣 → 处置: the district dispatches to the water company, which starts and reports the case handled.
    const roundByWater = async ([dispatchedAt, startedAt, handledAt]: [number, number, number], handled: { evidence: string[]; note: string }) => {
      at(dispatchedAt);
      await step(as('district-centre'), 'dispatchIncident', on({ unit: water }));
      at(startedAt);
      await step(as('water'), 'startHandling', on({}));
      at(handledAt);
      await step(as('water'), 'reportHandled', on(handled));
    };
    await roundByWater([20, 25, 40], { evidence: ['photo://after/1'], note: '已补装井盖' });
    at(45);
    const failed = await step(as('district-centre'), 'verifyIncident', on({ passed: false, reason: '井盖与路面有高差' }));
    assert.equal(failed.status, 'REGISTERED');
    // 返工: the same round again.
    await roundByWater([50, 55, 70], { evidence: ['photo://after/2'], note: '已调平井盖' });
    at(100); // 90 minutes after the first dispatch: on time
    assert.equal((await step(as('district-centre'), 'verifyIncident', on({ passed: true, note: '复核合格' }))).status, 'CLOSED');
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
    // Each step is recorded as the consumer whose token took it.
    assert.deepEqual(read.timeline.map((s) => s.consumerId), [
      'grid-worker',
      'community-centre',
      'community-centre',
      'district-centre',
      'roads',
      'district-centre',
      'water',
      'water',
      'district-centre',
      'district-centre',
      'water',
      'water',
      'district-centre',
      'district-centre',
      'grid-worker',
    ]);
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


  describe('who acts is who is authenticated: attacks on the closed loop', () => {
    const SZ_COMMUNITY = '370103001001';
    const hzSzc = { unitId: 'hz-szc', unitName: '市中区市政工程处', divisionCode: '370103' };
    const as = (consumerId: keyof typeof JURISDICTIONS) => tokens[consumerId]!;
    type Errors = { message: string; extensions?: Record<string, unknown> }[] | undefined;
    const run = async (token: string, name: string, input: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const type = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
      const response = await fetch(graph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify({ query: `mutation ($input: ${type}!) { ${name}(input: $input) { incident { id status } } }`, variables: { input } }),
      });
      const body = (await response.json()) as { data?: Record<string, { incident: { id: string; status: string } } | null> | null; errors?: Errors };
      return { incident: body.data?.[name]?.incident, errors: body.errors };
    };
    const events = async (incidentId: string) => (await base.runtime.store.readStream(incidentStreamId(incidentId))).length;
    /** The step is refused with `code` (the message matching `pattern`) and appends nothing to the incident. */
    const refused = async (incidentId: string, attempt: Promise<{ errors: Errors }>, code: string, pattern: RegExp) => {
      const before = await events(incidentId);
      const { errors } = await attempt;
      assert.equal(errors?.[0]?.extensions?.code, code, JSON.stringify(errors));
      assert.match(errors[0]!.message, pattern);
      assert.equal(await events(incidentId), before, 'nothing appended');
    };
    /** A case of 市中区 reported, registered by its centre and dispatched to hz-szc. */
    const dispatchedToHzSzc = async (longitude: number) => {
      const reported = await run(gridWorker, 'reportIncident', {
        channel: 'GRID_WORKER',
        category: 'MUNICIPAL_FACILITY',
        subcategory: 'MISSING_MANHOLE_COVER',
        description: '井盖缺失',
        location: { longitude, latitude: 36.6, address: '经七路' },
        divisionCode: SZ_COMMUNITY,
        reporter: { kind: 'GRID_WORKER', id: 'gw-9' },
        attachments: ['photo://gw-9'],
      });
      assert.equal(reported.errors, undefined, JSON.stringify(reported.errors));
      const incidentId = reported.incident!.id;
      for (const [token, name, input] of [
        [as('shizhong-centre'), 'registerIncident', {}],
        [as('shizhong-centre'), 'dispatchIncident', { unit: hzSzc }],
      ] as const) {
        const { errors } = await run(token, name, { incidentId, ...input });
        assert.equal(errors, undefined, `${name}: ${JSON.stringify(errors)}`);
      }
      return incidentId;
    };

    it('refuses the reproduced self-certification: the handling unit cannot verify, nor declare itself the centre by input or header', async () => {
      const incidentId = await dispatchedToHzSzc(116.91);
      // A worker of the unit signs in: the token names the person (`uid`) besides the consumer.
      const worker = await issueToken({ consumerId: 'hz-szc', role: 'department', secret: TEST_JWT_SECRET, userId: 'szc-0917' });
      for (const name of ['startHandling', 'reportHandled'] as const) {
        const { errors } = await run(worker, name, { incidentId, ...(name === 'reportHandled' && { evidence: ['photo://done'], note: '已补装' }) });
        assert.equal(errors, undefined, JSON.stringify(errors));
      }
      const [handled] = await base.runtime.store.readStream(incidentStreamId(incidentId), { direction: 'backwards', limit: 1 });
      assert.deepEqual(handled?.metadata.actor, { consumerId: 'hz-szc', userId: 'szc-0917', role: 'department', divisionCode: '370103', unitId: 'hz-szc' });
      await refused(incidentId, run(as('hz-szc'), 'verifyIncident', { incidentId, passed: true }), 'NOT_YOUR_CASE', /unit hz-szc handled this case and may not verify its own work/);
      // The input no longer names who acts: declaring the centre is not even a valid request.
      const before = await events(incidentId);
      const declared = await run(as('hz-szc'), 'verifyIncident', { incidentId, passed: true, actor: { divisionCode: '370103' } });
      assert.match(declared.errors?.[0]?.message ?? '', /"actor" is not defined by type "VerifyIncidentInput"|Field "actor" is not defined/);
      // Nor does a header: the gateway signs the caller, and no header names a division or unit.
      const headed = await run(as('hz-szc'), 'verifyIncident', { incidentId, passed: true }, {
        'x-actor-division': '370103',
        'x-division-code': '370103',
        'x-unit-id': '',
        'x-consumer-id': 'shizhong-centre',
      });
      assert.equal(headed.errors?.[0]?.extensions?.code, 'NOT_YOUR_CASE', JSON.stringify(headed.errors));
      // Acting "on behalf of" is a centre's, and verifying has no such argument at all.
      const onBehalf = await run(as('hz-szc'), 'verifyIncident', { incidentId, passed: true, onBehalfOfUnit: { unitId: 'x', divisionCode: '370103' } });
      assert.ok(onBehalf.errors?.length, 'verifyIncident takes no onBehalfOfUnit');
      assert.equal(await events(incidentId), before, 'nothing appended by any attempt');
      // Another unit of the same division may not verify either; the owning centre does, and closes.
      await refused(incidentId, run(as('hz-water'), 'verifyIncident', { incidentId, passed: true }), 'NOT_YOUR_CASE', /unit hz-water of 370103 may not verify case/);
      await refused(incidentId, run(as('district-centre'), 'verifyIncident', { incidentId, passed: true }), 'NOT_YOUR_CASE', /centre 370102 may not verify case/);
      const closed = await run(as('shizhong-centre'), 'verifyIncident', { incidentId, passed: true });
      assert.equal(closed.incident?.status, 'CLOSED', JSON.stringify(closed.errors));
    });

    it('refuses a unit handling a case dispatched to another unit, and a unit registering or dispatching', async () => {
      const incidentId = await dispatchedToHzSzc(116.93);
      await refused(incidentId, run(as('hz-water'), 'startHandling', { incidentId }), 'NOT_YOUR_CASE', /unit hz-water of 370103 may not start handling this case: the case is dispatched to unit hz-szc/);
      await refused(incidentId, run(as('water'), 'returnIncident', { incidentId, reason: '不归我' }), 'NOT_YOUR_CASE', /unit lixia-water of 370102 may not return this case/);
      await refused(incidentId, run(as('hz-szc'), 'escalateIncident', { incidentId, reason: 'x', onBehalfOfUnit: { unitId: 'hz-water', divisionCode: '370103' } }), 'NOT_YOUR_CASE', /unit hz-szc may not act on behalf of another unit/);
      // The centre that owns the case is not the unit either, unless it says whom it acts for.
      await refused(incidentId, run(as('shizhong-centre'), 'startHandling', { incidentId }), 'NOT_YOUR_CASE', /\(no unit\) may not start handling this case/);
    });

    it('lets a centre act for a unit below it only when it says so, and records both; refuses a centre acting for a unit outside its jurisdiction', async () => {
      const incidentId = await dispatchedToHzSzc(116.95);
      await refused(
        incidentId,
        run(as('district-centre'), 'startHandling', { incidentId, onBehalfOfUnit: { unitId: 'hz-szc', divisionCode: '370103' } }),
        'NOT_YOUR_CASE',
        /the DISTRICT centre 370102 may not act for unit hz-szc of 370103: that division is outside its jurisdiction/,
      );
      await refused(
        incidentId,
        run(as('community-centre'), 'startHandling', { incidentId, onBehalfOfUnit: { unitId: 'hz-szc', divisionCode: '370103' } }),
        'NOT_YOUR_CASE',
        /outside its jurisdiction/,
      );
      const started = await run(as('shizhong-centre'), 'startHandling', { incidentId, onBehalfOfUnit: { unitId: 'hz-szc', divisionCode: '370103' } });
      assert.equal(started.incident?.status, 'HANDLING', JSON.stringify(started.errors));
      const [last] = await base.runtime.store.readStream(incidentStreamId(incidentId), { direction: 'backwards', limit: 1 });
      assert.deepEqual([last?.type, (last?.data as { unitId: string }).unitId], ['IncidentHandlingStarted', 'hz-szc']);
      assert.deepEqual(last?.metadata.actor, { consumerId: 'shizhong-centre', role: 'department', divisionCode: '370103', onBehalfOfUnitId: 'hz-szc' });
      // The history and the access records show the authenticated principal the same way.
      await graph.grant('loop-auditor', ['audit.log', 'urban.incidents'], { actions: ['READ'] });
      const auditor = await graph.tokenFor('loop-auditor', 'auditor');
      await base.catchUp();
      const seen = data(
        await graph.gql<{ incident: { history: { type: string; actor: Record<string, unknown> }[] }; accessLog: { edges: { node: { actor: Record<string, unknown> } }[] } }>(
          `query ($id: ID!) {
             incident(id: $id) { history { type actor { consumerId role divisionCode unitId onBehalfOfUnitId } } }
             accessLog(filter: { consumerId: "hz-szc" }, first: 1) { edges { node { actor { consumerId divisionCode unitId } } } }
           }`,
          { id: incidentId },
          auditor,
        ),
      );
      assert.deepEqual(seen.incident.history.at(-1), {
        type: 'IncidentHandlingStarted',
        actor: { consumerId: 'shizhong-centre', role: 'department', divisionCode: '370103', unitId: null, onBehalfOfUnitId: 'hz-szc' },
      });
      assert.deepEqual(seen.accessLog.edges[0]?.node.actor, { consumerId: 'hz-szc', divisionCode: '370103', unitId: 'hz-szc' });
    });

    it('refuses dispatching to a unit governance never registered, or naming a unit under another division or name, and a centre acting for such a unit', async () => {
      const incidentId = await dispatchedToHzSzc(116.97);
      // Each dispatch below is refused before it is decided: by the unit register, not the case's state.
      const ghost = { unitId: 'hz-ghost', unitName: '市中区不存在的处置单位', divisionCode: '370103' };
      const bad: [unit: Record<string, string>, field: string, pattern: RegExp][] = [
        [ghost, 'unit.unitId', /unit.unitId hz-ghost is not a registered handling unit/],
        [{ ...hzSzc, divisionCode: '370103001' }, 'unit.divisionCode', /unit hz-szc belongs to division 370103, not 370103001/],
        [{ ...hzSzc, unitName: '假冒的市政工程处' }, 'unit.unitName', /unit hz-szc is registered as 市中区市政工程处/],
      ];
      for (const [unit, field, pattern] of bad) {
        const before = await events(incidentId);
        const { errors } = await run(as('shizhong-centre'), 'dispatchIncident', { incidentId, unit });
        assert.deepEqual([errors?.[0]?.extensions?.code, errors?.[0]?.extensions?.field], ['BAD_USER_INPUT', field], JSON.stringify(errors));
        assert.match(errors?.[0]?.message ?? '', pattern);
        assert.equal(await events(incidentId), before, 'nothing appended');
      }
      // Nor may a centre act for a unit that does not exist, even inside its own division.
      const onBehalf = await run(as('shizhong-centre'), 'startHandling', { incidentId, onBehalfOfUnit: { unitId: ghost.unitId, divisionCode: '370103' } });
      assert.deepEqual([onBehalf.errors?.[0]?.extensions?.code, onBehalf.errors?.[0]?.extensions?.field], ['BAD_USER_INPUT', 'onBehalfOfUnit.unitId'], JSON.stringify(onBehalf.errors));
      // Registering the unit (governance assigns a consumer to act as it) is what makes it dispatchable;
      // a unit registered once belongs to its division for good, and a second division is refused, writing nothing.
      const units = (id: string) => base.runtime.store.streamRevision(`governance.unit-${id}`);
      assert.equal(await units('hz-szc'), 0, 'hz-szc was registered once, by its first assignment');
      const consumerEvents = async () => (await base.runtime.store.readStream('governance.consumer-hz-ghost-app')).length;
      await graph.assignJurisdiction('hz-ghost-app', { divisionCode: '370103' });
      const beforeConflict = await consumerEvents();
      await assert.rejects(graph.assignJurisdiction('hz-ghost-app', { ...hzSzc, divisionCode: '370102' }), /unit hz-szc belongs to division 370103, not 370102/);
      assert.equal(await consumerEvents(), beforeConflict, 'no jurisdiction assigned');
      assert.equal(await units('hz-szc'), 0, 'the register is unchanged');
    });

    it('refuses every step of the loop to a consumer with grants but no jurisdiction', async () => {
      const incidentId = await dispatchedToHzSzc(116.97);
      for (const [name, input] of [
        ['registerIncident', {}],
        ['dispatchIncident', { unit: hzSzc }],
        ['startHandling', {}],
        ['startHandling', { onBehalfOfUnit: { unitId: 'hz-szc', divisionCode: '370103' } }],
        ['verifyIncident', { passed: true }],
      ] as const) {
        await refused(incidentId, run(centre, name, { incidentId, ...input }), 'NOT_YOUR_CASE', /consumer urban-centre has no jurisdiction/);
      }
    });
  });

});
