/**
 * The demo incidents as `npm start` seeds them: through the command handlers on the write-behind
 * store the platform hands module seeds, spread over channels, levels and outcomes, and idempotent
 * (a second run appends nothing). A fifth of the default size keeps the file fast; every status
 * still appears at least ten times.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { BufferedEventStore } from '../../events/bufferedEventStore.ts';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { incidentStreamId } from './incident/events.ts';
import { urbanOpsModule } from './index.ts';
import { INCIDENTS, INCIDENTS_PROJECTION } from './readModels/incidentsProjection.ts';
import type { IncidentDoc } from './readModels/incidentView.ts';
import { DEMO_INCIDENTS, seedIncidents } from './seed.ts';

const NOW = Date.parse('2026-03-31T04:00:00.000Z');
const SEEDED = DEMO_INCIDENTS / 5;

for (const openBackend of BACKENDS) {
  describe(`urban-ops demo incidents on ${openBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let db: SqlDatabase;
    let store: SqlEventStore;
    const runtimeOn = (on: SqlEventStore | BufferedEventStore): SubgraphRuntime => ({
      store: on,
      readModels: new SqlReadModels(db, 0),
      now: () => new Date(NOW),
      logger: pino({ level: 'silent' }),
    });
    const incidentEvents = async () =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM es_events WHERE stream_id LIKE $1`, [`${incidentStreamId('')}%`])).rows[0]!.n;

    before(async () => {
      backend = await openBackend();
      db = await backend.fresh();
      store = await SqlEventStore.open(db, new EventRegistry().registerAll(urbanOpsModule.eventTypes));
    });
    after(async () => {
      await store?.close();
      await backend.dispose();
    });

    it('seeds incidents through the commands on the write-behind store, over every channel, level and outcome', async () => {
      assert.ok(DEMO_INCIDENTS >= 2000, `the demo city has a few thousand incidents, not ${DEMO_INCIDENTS}`);
      const buffered = new BufferedEventStore(store, { startsEmpty: true });
      await seedIncidents(runtimeOn(buffered), { incidents: SEEDED });
      await buffered.flush();
      const written = await incidentEvents();
      assert.ok(written > 6 * SEEDED, `${written} incident events`);

      const runner = new ProjectionRunner(db, store, urbanOpsModule.projections);
      await runner.catchUp();
      await runner.stop();
      const incidents = runtimeOn(store).readModels.of(INCIDENTS_PROJECTION).collection<IncidentDoc>(INCIDENTS);
      assert.equal(await incidents.count(), SEEDED);
      for (const channel of ['IOT_SENSOR', 'GRID_WORKER', 'CITIZEN_PHOTO', 'HOTLINE_12345', 'APP']) {
        assert.ok((await incidents.count({ channel })) > SEEDED / 10, channel);
      }
      for (const level of ['DISTRICT', 'STREET', 'COMMUNITY']) assert.ok((await incidents.count({ level })) > 0, level);
      for (const status of ['REPORTED', 'REJECTED', 'REGISTERED', 'DISPATCHED', 'HANDLING', 'HANDLED', 'CLOSED']) {
        assert.ok((await incidents.count({ status })) >= 10, status);
      }
      const closed = (await incidents.find({ where: { status: 'CLOSED' }, first: 1000 })).items.map((i) => i.node.doc.view.state);
      const closedCases = closed.flatMap((s) => (s.status === 'CLOSED' ? [s] : []));
      assert.ok(closedCases.some((s) => !s.onTime), 'some closed late');
      assert.ok(closedCases.some((s) => s.caseFile.reworkCount > 0), 'some reworked');
      assert.ok(closedCases.some((s) => s.caseFile.dispatches.some((d) => d.returned !== null)), 'some returned');
      const open = (await incidents.find({ where: { status: { in: ['REGISTERED', 'DISPATCHED', 'HANDLING', 'HANDLED'] } }, first: 1000 })).items;
      assert.ok(open.some((i) => 'caseFile' in i.node.doc.view.state && i.node.doc.view.state.caseFile.supervised), 'some escalated as overdue');

    });

    it('appends nothing when seeded again with the same seed', async () => {
      db = await backend.fresh();
      await store.close();
      store = await SqlEventStore.open(db, new EventRegistry().registerAll(urbanOpsModule.eventTypes));
      const first = new BufferedEventStore(store, { startsEmpty: true });
      await seedIncidents(runtimeOn(first), { incidents: 200 });
      await first.flush();
      const written = await incidentEvents();
      assert.ok(written > 1000, `${written} incident events`);
      // On a store that holds it all already, read back through the buffer: every command is a replay.
      const again = new BufferedEventStore(store);
      await seedIncidents(runtimeOn(again), { incidents: 200 });
      await again.flush();
      assert.equal(await incidentEvents(), written);
      assert.equal(again.eventCount, 0);
    });
  });
}
