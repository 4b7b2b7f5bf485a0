/**
 * The urban-ops write and read paths on both SQL backends, in virtual time: the whole closed loop
 * through the command path, refusals that change nothing, the metrics read model against metrics
 * recomputed from the raw events, the deadline process manager, and the division subscription.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { CityBrainError } from '../../events/errors.ts';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { waitForCommitted } from '../../test/helpers/events.ts';
import type { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import type { EventMetadata, Recorded, RecordedEvent } from '../../events/types.ts';
import { ProcessManagerRuntime } from '../../projections/processManager.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { BACKENDS, freshStorePerTest } from '../../test/helpers/databases.ts';
import { testSubgraphContext } from '../../test/helpers/subgraphContext.ts';
import type { SubgraphContext } from '../kit/context.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { deadlineManager } from './processes/deadlines.ts';
import type { Actor, UnitRef } from './incident/commands.ts';
import { incidentStreamId, type IncidentEvent } from './incident/events.ts';
import { reportData } from './incident/fixtures.ts';
import { registerIncident, reportIncident, runIncidentCommand, type IncidentResult } from './incidentCommands.ts';
import { urbanOpsModule } from './index.ts';
import { ancestorsOf, LEVELS, type Level } from './levels.ts';
import { computeMetrics, type IncidentMetrics } from './metrics.ts';
import { INCIDENTS, INCIDENTS_PROJECTION } from './readModels/incidentsProjection.ts';
import { evolveView, type IncidentDoc, type IncidentView } from './readModels/incidentView.ts';
import { addFunnel, emptyFunnel, FUNNEL_PERIODS, FUNNEL_STAGES, funnelStagesOf, periodDates, reportDayOf, type FunnelPeriod, type IncidentFunnel } from './readModels/funnel.ts';
import { urbanOpsResolvers, type IncidentNode } from './resolvers.ts';
import { seedIncidents } from './seed.ts';

const T0 = Date.parse('2026-03-02T01:00:00.000Z');
const MINUTE = 60_000;

const lixia = { level: 'DISTRICT', divisionCode: '370102' } as const satisfies Actor;
const lixiaStreet = '370102003';
const community = '370102003001';
const streetOffice: UnitRef = { unitId: 'u-street', unitName: '泉城路街道城管办', divisionCode: lixiaStreet };
const communityTeam: UnitRef = { unitId: 'u-community', unitName: '院前社区网格站', divisionCode: community };
const shizhongDepartment: UnitRef = { unitId: 'u-shizhong', unitName: '市中区市政工程处', divisionCode: '370103' };
const asUnit = (unit: UnitRef): Actor => ({ level: unit.divisionCode.length === 9 ? 'STREET' : 'COMMUNITY', divisionCode: unit.divisionCode, unitId: unit.unitId });

const metadata: EventMetadata = {
  provenance: { department: 'test-department', system: 'test', channel: 'test', collectedAt: new Date(T0).toISOString() },
  actor: { consumerId: 'test-consumer', role: 'department' },
  correlationId: 'test-correlation',
};

function expectError(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof CityBrainError, `expected a CityBrainError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

for (const openBackend of BACKENDS) {
  describe(`urban-ops incidents on ${openBackend.name.replace('Backend', '')}`, () => {
    let db: SqlDatabase;
    let store: SqlEventStore;
    let runtime: SubgraphRuntime;
    let clock: number;

    const at = (minutes: number): string => new Date(T0 + minutes * MINUTE).toISOString();
    const project = async (): Promise<void> => {
      const runner = new ProjectionRunner(db, store, urbanOpsModule.projections);
      await runner.catchUp();
      await runner.stop();
    };
    /** A manhole report in 泉城路街道's community at `minutes`. */
    const report = (incidentId: string, minutes = 0, divisionCode = community) =>
      reportIncident(
        runtime,
        {
          type: 'reportIncident',
          data: { ...reportData, incidentId, divisionCode, reportedAt: at(minutes) },
          metadata: { now: at(minutes) },
        },
        metadata,
        { duplicates: null },
      );
    const register = (incidentId: string, minutes: number, actor: Actor = lixia, expectedRevision?: number) =>
      registerIncident(store, { incidentId, actor }, at(minutes), metadata, expectedRevision === undefined ? {} : { expectedRevision });
    const dispatch = (incidentId: string, unit: UnitRef, minutes: number, actor: Actor = lixia) =>
      runIncidentCommand(store, { type: 'dispatchIncident', data: { incidentId, unit, actor }, metadata: { now: at(minutes) } }, metadata);
    const work = async (incidentId: string, unit: UnitRef, minutes: number): Promise<IncidentResult> => {
      await runIncidentCommand(store, { type: 'startHandling', data: { incidentId, actor: asUnit(unit) }, metadata: { now: at(minutes) } }, metadata);
      return runIncidentCommand(
        store,
        { type: 'reportHandled', data: { incidentId, evidence: ['photo://after'], note: '已补装', actor: asUnit(unit) }, metadata: { now: at(minutes + 5) } },
        metadata,
      );
    };
    const verify = (incidentId: string, passed: boolean, minutes: number) =>
      runIncidentCommand(
        store,
        { type: 'verifyIncident', data: { incidentId, passed, ...(!passed && { reason: '井盖仍有缝隙' }), actor: lixia }, metadata: { now: at(minutes) } },
        metadata,
      );
    const types = async (incidentId: string): Promise<string[]> => (await store.readStream(incidentStreamId(incidentId))).map((e) => e.type);

    freshStorePerTest(openBackend, () => new EventRegistry().registerAll(urbanOpsModule.eventTypes), (fresh) => {
      ({ db, store } = fresh);
      clock = T0;
      runtime = { store, readModels: new SqlReadModels(db, 0), now: () => new Date(clock), logger: pino({ level: 'silent' }) };
    });

    it('runs the whole loop through the command path: report → … → failed verification → rework → closure → evaluation', async () => {
      await report('inc-1');
      const registered = await register('inc-1', 5);
      assert.equal(registered.state.status, 'REGISTERED');
      assert.equal('caseFile' in registered.state && registered.state.caseFile.caseNumber, '370102-20260302-MF-0001');
      await dispatch('inc-1', streetOffice, 10);
      await work('inc-1', streetOffice, 20);
      assert.equal((await verify('inc-1', false, 40)).state.status, 'REGISTERED');
      await dispatch('inc-1', streetOffice, 45);
      await work('inc-1', streetOffice, 50);
      const closed = await verify('inc-1', true, 70);
      assert.equal(closed.state.status, 'CLOSED');
      await runIncidentCommand(store, { type: 'evaluateIncident', data: { incidentId: 'inc-1', satisfaction: 4 }, metadata: { now: at(200) } }, metadata);

      assert.deepEqual(await types('inc-1'), [
        'IncidentReported',
        'IncidentRegistered',
        'IncidentDispatched',
        'IncidentHandlingStarted',
        'IncidentHandled',
        'IncidentVerificationFailed',
        'IncidentDispatched',
        'IncidentHandlingStarted',
        'IncidentHandled',
        'IncidentVerificationPassed',
        'IncidentClosed',
        'IncidentEvaluated',
      ]);
      await project();
      const doc = (await runtime.readModels.of(INCIDENTS_PROJECTION).collection<IncidentDoc>(INCIDENTS).get('inc-1'))?.doc;
      assert.equal(doc?.status, 'CLOSED');
      assert.equal(doc?.level, 'STREET');
      const state = doc?.view.state;
      assert.ok(state?.status === 'CLOSED');
      assert.equal(state.caseFile.reworkCount, 1);
      assert.equal(state.onTime, true);
      assert.equal(state.evaluation?.satisfaction, 4);
      assert.equal(doc?.view.revision, 11);

      const resolvers = urbanOpsResolvers(runtime);
      const incidentField = (resolvers.Incident as Record<string, (n: IncidentNode) => unknown>)!;
      const steps = (await incidentField.timeline!({ view: doc!.view, asOf: null })) as { type: string; level: string | null; unitId: string | null }[];
      assert.deepEqual(
        steps.filter((s) => s.type === 'IncidentHandled').map((s) => [s.level, s.unitId]),
        [['STREET', 'u-street'], ['STREET', 'u-street']],
      );
    });

    it('refuses illegal steps, dispatches outside the dispatcher\'s division and stale revisions, and appends nothing', async () => {
      await report('inc-1');
      // Registration refused before any case serial is drawn: nothing at all is appended.
      await waitForCommitted(db, store);
      const head = await store.headPosition();
      await assert.rejects(register('inc-1', 5, { level: 'DISTRICT', divisionCode: '370103' }), expectError('NOT_YOUR_CASE', /outside its division/));
      await assert.rejects(register('inc-1', 5, lixia, 3), expectError('CONFLICT'));
      await waitForCommitted(db, store);
      assert.equal(await store.headPosition(), head);

      await register('inc-1', 5);
      await assert.rejects(
        verify('inc-1', true, 6),
        (error: unknown) =>
          expectError('INVALID_TRANSITION', /status is REGISTERED; allowed next steps: dispatchIncident/)(error) &&
          (error as CityBrainError).details.status === 'REGISTERED',
      );
      await assert.rejects(dispatch('inc-1', shizhongDepartment, 7), expectError('NOT_YOUR_CASE', /dispatches only to/));
      await dispatch('inc-1', streetOffice, 10);
      await assert.rejects(
        runIncidentCommand(store, { type: 'startHandling', data: { incidentId: 'inc-1', actor: asUnit(communityTeam) }, metadata: { now: at(11) } }, metadata),
        expectError('NOT_YOUR_CASE', /dispatched to unit u-street/),
      );
      await assert.rejects(
        runIncidentCommand(
          store,
          { type: 'escalateIncident', data: { incidentId: 'inc-1', reason: 'x', actor: asUnit(streetOffice) }, metadata: { now: at(12) } },
          metadata,
          { expectedRevision: 1 },
        ),
        expectError('CONFLICT'),
      );
      assert.deepEqual(await types('inc-1'), ['IncidentReported', 'IncidentRegistered', 'IncidentDispatched']);
      assert.equal((await store.readStream('urban.case-serial-370102-20260302')).length, 1);
    });

    it('refuses a report or a dispatch naming a division the catalog does not hold, naming the field, and appends nothing', async () => {
      const unknownField = (field: string) => (error: unknown) =>
        expectError('BAD_USER_INPUT', /not in the division catalog/)(error) && (error as CityBrainError).details.field === field;
      await assert.rejects(report('inc-ghost', 0, '999999999999'), unknownField('divisionCode'));
      assert.equal(await store.streamRevision(incidentStreamId('inc-ghost')), undefined);

      await report('inc-1');
      await register('inc-1', 5);
      await waitForCommitted(db, store);
      const head = await store.headPosition();
      const ghostTeam: UnitRef = { unitId: 'u-ghost', unitName: '不存在社区网格站', divisionCode: `${lixiaStreet}999` };
      await assert.rejects(dispatch('inc-1', ghostTeam, 10), unknownField('unit.divisionCode'));
      await assert.rejects(dispatch('inc-1', streetOffice, 10, { level: 'DISTRICT', divisionCode: '370199' }), unknownField('actor.divisionCode'));
      await waitForCommitted(db, store);
      assert.equal(await store.headPosition(), head);
      assert.deepEqual(await types('inc-1'), ['IncidentReported', 'IncidentRegistered']);
    });

    it('links a report repeating an open case nearby to it instead of opening a second case', async () => {
      await report('inc-1');
      await register('inc-1', 5);
      await project();
      const { duplicateOfId, result } = await reportIncident(
        runtime,
        {
          type: 'reportIncident',
          data: {
            incidentId: 'inc-2',
            channel: 'HOTLINE_12345',
            category: 'MUNICIPAL_FACILITY',
            subcategory: 'MISSING_MANHOLE_COVER',
            description: '井盖没了',
            location: { longitude: 117.0212, latitude: 36.6651, address: '泉城路 100 号附近' },
            divisionCode: community,
            reporter: { kind: 'CITIZEN' },
            attachments: [],
            reportedAt: at(30),
          },
          metadata: { now: at(30) },
        },
        metadata,
        { duplicates: { radiusMeters: 50, windowMinutes: 120 } },
      );
      assert.equal(duplicateOfId, 'inc-1');
      assert.equal(result.state.status, 'REJECTED');
      assert.deepEqual(await types('inc-2'), ['IncidentReported', 'IncidentRejected']);
    });

    it('keeps metrics in the read model equal to metrics recomputed from the raw events, as time passes', async () => {
      clock = T0 + 40 * 24 * 60 * MINUTE;
      await seedIncidents(runtime, { incidents: 150, seed: 7 });
      await project();
      const events = (await store.readAll({ filter: { streamPrefixes: [incidentStreamId('')] }, limit: 100_000 })) as unknown as IncidentEvent[];
      const resolvers = urbanOpsResolvers(runtime);
      const division = resolvers.Division as unknown as {
        urbanOperations(d: { code: string }, args: { level: Level | null }, ctx: SubgraphContext): Promise<Record<string, number | null>>;
      };
      const compare = async (code: string, level: Level | null, expected: IncidentMetrics) => {
        const actual = await division.urbanOperations({ code }, { level }, testSubgraphContext());
        for (const key of ['reported', 'rejected', 'pendingRegistration', 'registered', 'open', 'dueForClosure', 'closed', 'closedOnTime', 'reworked', 'overdueNow', 'evaluated'] as const) {
          assert.equal(actual[key], expected[key], `${code} ${level ?? 'ALL'} ${key}`);
        }
        for (const [key, value] of [
          ['closureRate', expected.closureRate],
          ['onTimeClosureRate', expected.onTimeClosureRate],
          ['reworkRate', expected.reworkRate],
          ['satisfaction', expected.meanSatisfaction],
          ['meanHoursToClose', expected.meanTimeToCloseMinutes === null ? null : expected.meanTimeToCloseMinutes / 60],
          ['p90HoursToClose', expected.p90TimeToCloseMinutes === null ? null : expected.p90TimeToCloseMinutes / 60],
        ] as const) {
          if (value === null) assert.equal(actual[key], null, `${code} ${key}`);
          else assert.ok(Math.abs((actual[key] ?? Number.NaN) - value) < 1e-9, `${code} ${key}: ${actual[key]} ≠ ${value}`);
        }
      };
      for (const later of [0, 3 * 24 * 60 * MINUTE]) {
        clock += later;
        const expected = computeMetrics(events, new Date(clock).toISOString());
        assert.equal(expected.divisions.find((d) => d.divisionCode === '370100')?.reported, 150);
        for (const d of expected.divisions.filter((d) => d.level !== 'COMMUNITY')) await compare(d.divisionCode, null, d);
        for (const level of LEVELS) await compare('370100', level, expected.levels[level]);
      }
      const city = await division.urbanOperations({ code: '370100' }, { level: null }, testSubgraphContext());
      assert.ok((city.reworked ?? 0) > 0 && (city.overdueNow ?? 0) > 0 && (city.rejected ?? 0) > 0, JSON.stringify(city));
    });

    it('keeps the funnel of each period equal to the stages recounted from the raw events, per report day in China', async () => {
      clock = T0 + 40 * 24 * 60 * MINUTE;
      await seedIncidents(runtime, { incidents: 150, seed: 7 });
      await project();
      const events = await store.readAll({ filter: { streamPrefixes: [incidentStreamId('')] }, limit: 100_000 });
      const views = new Map<string, IncidentView>();
      for (const event of events as Recorded<IncidentEvent>[]) {
        const view = evolveView(views.get(event.data.incidentId), event);
        if (view) views.set(event.data.incidentId, view);
      }
      const division = urbanOpsResolvers(runtime).Division as unknown as {
        incidentFunnel(d: { code: string }, args: { period: FunnelPeriod }, ctx: SubgraphContext): Promise<IncidentFunnel>;
      };
      let counted = 0;
      for (const period of Object.keys(FUNNEL_PERIODS) as FunnelPeriod[]) {
        const dates = new Set(periodDates(period, new Date(clock).toISOString()));
        for (const code of ['370100', '370102', lixiaStreet, community]) {
          const expected = emptyFunnel();
          for (const view of views.values()) {
            if (dates.has(reportDayOf(view)) && ancestorsOf(view.state.report.divisionCode).includes(code)) addFunnel(expected, funnelStagesOf(view.state));
          }
          const actual = await division.incidentFunnel({ code }, { period }, testSubgraphContext());
          for (const stage of FUNNEL_STAGES) assert.equal(actual[stage], expected[stage], `${period} ${code} ${stage}`);
          if (code === '370100') counted += actual.reported;
        }
      }
      assert.ok(counted > 0, 'the seeded incidents fall in the periods');
      await assert.rejects(division.incidentFunnel({ code: '37010' }, { period: 'TODAY' }, testSubgraphContext()), expectError('BAD_USER_INPUT'));
    });

    it('escalates a case left overdue one level per deadline up to the city, in virtual time, each step once', async () => {
      await report('inc-1');
      await register('inc-1', 5, { level: 'STREET', divisionCode: lixiaStreet });
      await dispatch('inc-1', communityTeam, 10, { level: 'STREET', divisionCode: lixiaStreet }); // manhole: deadline +130
      await report('inc-2');
      await register('inc-2', 5);
      await dispatch('inc-2', streetOffice, 20); // deadline +140
      await project();
      const pm = () => new ProcessManagerRuntime(runtime, [deadlineManager]);
      const overdueSteps = async (incidentId: string) =>
        (await store.readStream(incidentStreamId(incidentId)))
          .filter((e) => e.type === 'IncidentEscalated' || e.type === 'IncidentSupervised')
          .map((e) => ({ ...(e.data as Record<string, unknown>), note: undefined, reason: undefined }));

      clock = T0 + 130 * MINUTE;
      assert.deepEqual((await pm().tick())[0]?.issued, []);
      clock = T0 + 131 * MINUTE;
      assert.deepEqual((await pm().tick())[0]?.issued, ['inc-1']);
      const escalated = (await store.readStream(incidentStreamId('inc-1'))).slice(-3);
      assert.deepEqual(
        escalated.map((e) => e.type),
        ['IncidentOverdue', 'IncidentEscalated', 'IncidentSupervised'],
      );
      const toDistrict = [
        { incidentId: 'inc-1', trigger: 'OVERDUE', fromLevel: 'STREET', fromDivisionCode: lixiaStreet, toLevel: 'DISTRICT', toDivisionCode: '370102', escalatedAt: at(131), note: undefined, reason: undefined },
        // The district's own deadline: the category's limit (120 min) from the escalation.
        { incidentId: 'inc-1', level: 'DISTRICT', divisionCode: '370102', supervisedAt: at(131), deadline: at(251), note: undefined, reason: undefined },
      ];
      assert.deepEqual(await overdueSteps('inc-1'), toDistrict);
      assert.equal(escalated[0]?.metadata.actor.consumerId, 'process-manager:urban-ops.deadlines');

      // A restarted process, before the projector has seen the marks: nothing is appended twice.
      clock = T0 + 200 * MINUTE;
      const [restarted] = await pm().tick();
      assert.deepEqual(restarted?.replayed, ['inc-1']);
      assert.deepEqual(restarted?.issued, ['inc-2']);
      const district = (await store.readStream(incidentStreamId('inc-2'))).slice(-2).map((e) => e.data as { toLevel?: string; level?: string });
      assert.equal(district[0]?.toLevel, 'CITY');
      assert.equal(district[1]?.level, 'CITY');

      // Still open at the district's deadline: the city takes it over, with a deadline of its own.
      await project();
      clock = T0 + 251 * MINUTE;
      assert.deepEqual((await pm().tick())[0]?.issued, []);
      clock = T0 + 252 * MINUTE;
      assert.deepEqual((await pm().tick())[0]?.issued, ['inc-1']);
      assert.deepEqual(await overdueSteps('inc-1'), [
        ...toDistrict,
        { incidentId: 'inc-1', trigger: 'OVERDUE', fromLevel: 'DISTRICT', fromDivisionCode: '370102', toLevel: 'CITY', toDivisionCode: '370100', escalatedAt: at(252), note: undefined, reason: undefined },
        { incidentId: 'inc-1', level: 'CITY', divisionCode: '370100', supervisedAt: at(252), deadline: at(372), note: undefined, reason: undefined },
      ]);

      // The city has no level above: nothing more, however late.
      await project();
      clock = T0 + 10_000 * MINUTE;
      const [last] = await pm().tick();
      assert.deepEqual([last?.issued, last?.failed], [[], []]);
      assert.equal((await types('inc-1')).filter((t) => t === 'IncidentOverdue').length, 2);
      assert.equal((await types('inc-2')).filter((t) => t === 'IncidentOverdue').length, 1);
      const incidents = runtime.readModels.of(INCIDENTS_PROJECTION).collection<IncidentDoc>(INCIDENTS);
      for (const id of ['inc-1', 'inc-2']) {
        const doc = (await incidents.get(id))?.doc;
        assert.ok(doc && 'caseFile' in doc.view.state, id);
        const { caseFile } = doc.view.state;
        assert.deepEqual([caseFile.owner.level, caseFile.supervisedBy?.level, caseFile.overdue], ['CITY', 'CITY', true], id);
      }
      assert.equal((await incidents.get('inc-1'))?.doc.view.state.status, 'DISPATCHED');
    });

    it('delivers to a division\'s subscribers the events of its incidents only, from the moment of subscribing', async () => {
      await report('before');
      const resolvers = urbanOpsResolvers(runtime);
      const subscription = (resolvers.Subscription as unknown as {
        incidentChanged: { subscribe(root: unknown, args: { divisionCode: string }): Promise<AsyncIterableIterator<{ incidentChanged: RecordedEvent }>> };
      }).incidentChanged;
      await assert.rejects(subscription.subscribe(undefined, { divisionCode: '999999' }), expectError('BAD_USER_INPUT'));
      const street = await subscription.subscribe(undefined, { divisionCode: lixiaStreet });
      await report('elsewhere', 1, '370103001001');
      await report('inc-1', 2);
      await register('inc-1', 5);
      await register('before', 6);
      const received: string[] = [];
      for (let i = 0; i < 3; i++) {
        const next = await street.next();
        received.push(`${(next.value.incidentChanged.data as { incidentId: string }).incidentId}:${next.value.incidentChanged.type}`);
      }
      assert.deepEqual(received, ['inc-1:IncidentReported', 'inc-1:IncidentRegistered', 'before:IncidentRegistered']);
      assert.deepEqual(await street.return!(), { value: undefined, done: true });
    });
  });
}
