/**
 * The incident write path's fast lane on both SQL backends: commands decided on the fold this
 * process kept, appended through the group commit, and decided again on the stream whenever
 * another writer (another process: here another store object, with its own kept folds) got there
 * first. What is written and what is refused must be exactly what deciding on the stream gives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferedEventStore } from '../../events/bufferedEventStore.ts';
import { CityBrainError, ConcurrencyError } from '../../events/errors.ts';
import { decodePosition } from '../../events/position.ts';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import type { EventMetadata, EventStore } from '../../events/types.ts';
import { BACKENDS, freshStorePerTest } from '../../test/helpers/databases.ts';
import { groupCommitOf } from '../kit/groupCommit.ts';
import type { Actor } from './incident/commands.ts';
import { incidentStreamId } from './incident/events.ts';
import { asUnit, reportData, streetOffice } from './incident/fixtures.ts';
import { registerIncident, runIncidentCommand } from './incidentCommands.ts';
import { urbanOpsModule } from './index.ts';
import { knownStreamsOf } from './knownStreams.ts';

const T0 = Date.parse('2026-03-02T01:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const lixia = { level: 'DISTRICT', divisionCode: '370102' } as const satisfies Actor;
const community = '370102003001';
const asOffice = asUnit(streetOffice);
const metadata: EventMetadata = {
  provenance: { department: 'test-department', system: 'test', channel: 'test', collectedAt: at(0) },
  actor: { consumerId: 'test-consumer', role: 'department' },
  correlationId: 'test-correlation',
};

const report = (store: EventStore, incidentId: string, minutes = 0) =>
  runIncidentCommand(
    store,
    {
      type: 'reportIncident',
      data: { ...reportData, incidentId, divisionCode: community, reportedAt: at(minutes) },
      metadata: { now: at(minutes) },
    },
    metadata,
  );
const dispatch = (store: EventStore, incidentId: string, minutes: number) =>
  runIncidentCommand(store, { type: 'dispatchIncident', data: { incidentId, unit: streetOffice, actor: lixia }, metadata: { now: at(minutes) } }, metadata);
const start = (store: EventStore, incidentId: string, minutes: number) =>
  runIncidentCommand(store, { type: 'startHandling', data: { incidentId, actor: asOffice }, metadata: { now: at(minutes) } }, metadata);
const register = (store: EventStore, incidentId: string, minutes: number, options: { expectedRevision?: number } = {}) =>
  registerIncident(store, { incidentId, actor: lixia }, at(minutes), metadata, options);

/** The stream of a case dispatched and started, whichever process wrote which step. */
const UP_TO_HANDLING = ['IncidentReported', 'IncidentRegistered', 'IncidentDispatched', 'IncidentHandlingStarted'];

const txOf = (position: string) => decodePosition(position).tx;

for (const openBackend of BACKENDS) {
  describe(`urban-ops write path on ${openBackend.name.replace('Backend', '')}`, () => {
    let db: SqlDatabase;
    let store: SqlEventStore;
    /** Another process: its own store object (its own kept folds and group commit), on another pool when there is one. */
    let other: SqlEventStore;
    const registry = () => new EventRegistry().registerAll(urbanOpsModule.eventTypes);
    const types = async (incidentId: string) => (await store.readStream(incidentStreamId(incidentId))).map((e) => e.type);
    /** Case inc-1 reported and registered by this process, which keeps its fold at revision 1. */
    const registeredCase = async () => {
      await report(store, 'inc-1');
      await register(store, 'inc-1', 5);
    };

    freshStorePerTest(openBackend, registry, async (fresh) => {
      ({ db, store } = fresh);
      other = await SqlEventStore.open(fresh.backend.connectAgain?.() ?? db, registry());
      return () => other.close();
    });

    it('decides a command on the fold it kept and appends it without reading the stream, with the same result as the stream gives', async () => {
      await registeredCase();
      const known = knownStreamsOf(store).incidents.get(incidentStreamId('inc-1'));
      assert.equal(known?.revision, 1);
      assert.equal(known?.state.status, 'REGISTERED');
      const dispatched = await dispatch(store, 'inc-1', 10);
      assert.equal(dispatched.revision, 2);
      assert.equal(dispatched.state.status, 'DISPATCHED');
      assert.deepEqual(dispatched.events.map((e) => e.type), ['IncidentDispatched']);
      // The state handed back is the fold of the stream as stored.
      const fresh = await runIncidentCommand(other, { type: 'startHandling', data: { incidentId: 'inc-1', actor: asOffice }, metadata: { now: at(11) } }, metadata);
      assert.equal(fresh.revision, 3);
      assert.deepEqual(await types('inc-1'), UP_TO_HANDLING);
    });

    it('decides again on the stream when another process wrote after the kept fold: the stream allows what the fold refused', async () => {
      await registeredCase();
      // Another process dispatches: this process's fold still says REGISTERED, where startHandling is refused.
      await dispatch(other, 'inc-1', 10);
      const started = await start(store, 'inc-1', 12);
      assert.equal(started.state.status, 'HANDLING');
      assert.equal(started.revision, 3);
      assert.deepEqual(await types('inc-1'), UP_TO_HANDLING);
    });

    it('decides again on the stream when another process wrote after the kept fold: the refusal names the status the stream is in', async () => {
      await registeredCase();
      await dispatch(store, 'inc-1', 10);
      // Another process starts the handling: this process's fold (DISPATCHED) would allow starting again.
      await start(other, 'inc-1', 11);
      await assert.rejects(start(store, 'inc-1', 12), (error: unknown) => {
        assert.ok(error instanceof CityBrainError);
        assert.equal(error.code, 'INVALID_TRANSITION');
        assert.match(error.message, /status is HANDLING/);
        return true;
      });
      assert.deepEqual(await types('inc-1'), UP_TO_HANDLING);
    });

    it('refuses a stale expected revision with CONFLICT whether the fold is kept or not, and appends nothing', async () => {
      await registeredCase();
      await dispatch(other, 'inc-1', 10);
      // This process kept revision 1 and the client decided on it too; the stream is at 2.
      await assert.rejects(
        runIncidentCommand(store, { type: 'escalateIncident', data: { incidentId: 'inc-1', reason: 'x', actor: asOffice }, metadata: { now: at(12) } }, metadata, {
          expectedRevision: 1,
        }),
        (error: unknown) => error instanceof ConcurrencyError,
      );
      await assert.rejects(register(store, 'inc-2', 5, { expectedRevision: 0 }), (error: unknown) => error instanceof ConcurrencyError);
      assert.deepEqual(await types('inc-1'), ['IncidentReported', 'IncidentRegistered', 'IncidentDispatched']);
      assert.deepEqual(await types('inc-2'), []);
    });

    it('refuses a second report of the same incident with CONFLICT, read from the stream', async () => {
      await report(other, 'inc-1');
      await assert.rejects(report(store, 'inc-1', 1), (error: unknown) => {
        assert.ok(error instanceof CityBrainError);
        assert.equal(error.code, 'CONFLICT');
        assert.match(error.message, /already been reported/);
        return true;
      });
      assert.deepEqual(await types('inc-1'), ['IncidentReported']);
    });

    it('writes commands issued at the same moment in shared transactions, each with its own expected revision', async () => {
      const ids = Array.from({ length: 12 }, (_, i) => `inc-${i}`);
      const commit = groupCommitOf(store);
      const before = { ...commit.stats };
      const reported = await Promise.all(ids.map((id) => report(store, id)));
      const batches = commit.stats.batches - before.batches;
      assert.equal(commit.stats.units - before.units, ids.length);
      assert.ok(batches < ids.length, `12 reports written in ${batches} transactions`);
      const transactions = new Set(reported.map((r) => txOf(r.events[0]!.position)));
      assert.equal(transactions.size, batches);
      for (const [i, r] of reported.entries()) {
        assert.equal(r.revision, 0);
        assert.equal(r.events[0]!.streamId, incidentStreamId(ids[i]!));
      }
    });

    it('gives a unit refused in a shared transaction its own refusal, and writes the others of that transaction', async () => {
      const commit = groupCommitOf(store);
      const event = (n: number) => ({ type: 'CaseSerialAllocated', data: { centreDivisionCode: '370102', day: '20260302', serial: n, incidentId: `inc-${n}` }, metadata });
      await store.append('urban.case-serial-370102-20260302', [event(1)], { expectedRevision: 'no_stream' });
      // One batch: the first unit is written, then a stale one (revision 5 does not exist), then a fresh stream.
      const outcomes = await Promise.allSettled([
        commit.write([{ streamId: 'urban.case-serial-370102-20260302', events: [event(2)], options: { expectedRevision: 0 } }]),
        commit.write([{ streamId: 'urban.case-serial-370102-20260302', events: [event(3)], options: { expectedRevision: 5 } }]),
        commit.write([{ streamId: 'urban.case-serial-370103-20260302', events: [{ ...event(1), data: { ...event(1).data, centreDivisionCode: '370103' } }], options: { expectedRevision: 'no_stream' } }]),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal(commit.stats.retriedAlone, 3, 'the three were one transaction, refused, then written one by one');
      assert.ok(outcomes[1]!.status === 'rejected' && outcomes[1]!.reason instanceof ConcurrencyError);
      assert.deepEqual((await store.readStream('urban.case-serial-370102-20260302')).map((e) => (e.data as { serial: number }).serial), [1, 2]);
      assert.equal((await store.readStream('urban.case-serial-370103-20260302')).length, 1);
      assert.throws(() => commit.write([{ streamId: 'urban.case-serial-370104-20260302', events: [event(1)], options: { idempotencyKey: 'k' } }]), /no idempotent appends/);
    });

    it('appends a case serial and its registration in one transaction, and hands out each serial once to concurrent registrations', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `inc-${i}`);
      await Promise.all(ids.map((id) => report(store, id)));
      // Half through this process, half through another one, all at the same centre on the same day.
      const registered = await Promise.all(ids.map((id, i) => register(i % 2 === 0 ? store : other, id, 5)));
      const serialEvents = await store.readStream('urban.case-serial-370102-20260302');
      const serials = serialEvents.map((e) => (e.data as { serial: number }).serial);
      assert.deepEqual(serials, Array.from({ length: 20 }, (_, i) => i + 1));
      const caseNumbers = registered.map((r) => ('caseFile' in r.state ? r.state.caseFile.caseNumber : null));
      assert.equal(new Set(caseNumbers).size, 20);
      for (const [i, r] of registered.entries()) {
        const serialEvent = serialEvents.find((e) => (e.data as { incidentId: string }).incidentId === ids[i]);
        assert.ok(serialEvent, `a serial for ${ids[i]}`);
        assert.equal(txOf(serialEvent.position), txOf(r.events[0]!.position), 'the serial is written with its registration');
        assert.equal(caseNumbers[i], `370102-20260302-MF-${String((serialEvent.data as { serial: number }).serial).padStart(4, '0')}`);
      }
    });

    it('keeps folds per store, so a write-behind buffer decides on its own memory and appends through it', async () => {
      const buffered = new BufferedEventStore(store);
      await report(buffered, 'inc-1');
      await registerIncident(buffered, { incidentId: 'inc-1', actor: lixia }, at(5), metadata);
      await dispatch(buffered, 'inc-1', 10);
      assert.deepEqual(await types('inc-1'), []);
      await buffered.flush();
      assert.deepEqual(await types('inc-1'), ['IncidentReported', 'IncidentRegistered', 'IncidentDispatched']);
      assert.equal(knownStreamsOf(store).incidents.get(incidentStreamId('inc-1')), undefined);
      await assert.rejects(dispatch(store, 'inc-1', 20), /status is DISPATCHED/);
    });
  });
}
