/**
 * The healthcare write path, read models and PersonDeceased process manager on both SQL backends.
 * Population facts are appended directly as population events (their types registered), as the
 * population subgraph would append them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { CityBrainError } from '../../events/errors.ts';
import { EventRegistry } from '../../events/registry.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import type { EventMetadata, RecordedEvent } from '../../events/types.ts';
import { processManagerProjection, ProcessManagerRuntime } from '../../projections/processManager.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { BACKENDS, freshStorePerTest } from '../../test/helpers/databases.ts';
import { testMetadata, waitForCommitted } from '../../test/helpers/events.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { addDays, chinaDate } from '../kit/calendar.ts';
import { personEventDefinitions, personStreamId } from '../population/person/events.ts';
import type { ClaimFile, ClaimState } from './claim/decider.ts';
import { claimEventDefinitions, claimStreamId } from './claim/events.ts';
import { deceasedManager } from './processes/deceased.ts';
import { healthRecordEventDefinitions, healthRecordStreamId } from './healthRecord/events.ts';
import { runClaimStep, runHealthRecordCommand, settleClaim, submitClaim, type HealthcarePorts, type SubmitClaimInput } from './healthcareCommands.ts';
import { healthcareProjection } from './readModels/projection.ts';
import { CLAIMS, DIVISION_STATS, HEALTHCARE_PROJECTION, HOSPITAL_STATS } from './readModels/views.ts';
import { DEFAULT_SCREENING_LIMITS } from './screening/rules.ts';

const COMMUNITY = '370102001001';
const QILU = 'H37010201';
const PROVINCIAL = 'H37010401';
const ITEMS = [
  { code: '001102000010000', name: '普通门诊诊查费', quantity: 1, unitPriceFen: 1000 },
  { code: 'XJ01CAA040A001010100442', name: '阿莫西林胶囊', quantity: 2, unitPriceFen: 1250 },
];
const metadata: EventMetadata = testMetadata;

function registry(): EventRegistry {
  return new EventRegistry().registerAll([...personEventDefinitions, ...healthRecordEventDefinitions, ...claimEventDefinitions]);
}

const fileOf = (state: ClaimState): ClaimFile => {
  assert.notEqual(state.status, 'EMPTY');
  return state as ClaimFile;
};

for (const open of BACKENDS) {
  describe(`healthcare on ${open.name.replace('Backend', '')}`, () => {
    let store: SqlEventStore;
    let runner: ProjectionRunner;
    let ports: HealthcarePorts;
    const now = () => new Date();
    const today = () => chinaDate(now().toISOString());
    const at = (date: string, time = '10:00:00') => `${date}T${time}+08:00`;

    let db: SqlDatabase;
    freshStorePerTest(open, registry, async (fresh) => {
      ({ db, store } = fresh);
      runner = new ProjectionRunner(db, store, [healthcareProjection, processManagerProjection(deceasedManager)]);
      await runner.catchUp();
      ports = { store, readModels: new SqlReadModels(db, 0) };
      return () => runner.stop();
    });

    async function registerPerson(birthDate = '1949-12-31', idNumber = '11010519491231002X'): Promise<string> {
      const personId = randomUUID();
      await store.append(personStreamId(personId), [
        {
          type: 'PersonRegistered',
          data: { personId, idNumber, name: '张桂兰', gender: 'FEMALE', birthDate, residence: { address: '历下区解放路 1 号', divisionCode: COMMUNITY }, reason: 'HOUSEHOLD_REGISTRATION' },
          metadata,
        },
      ]);
      await runner.catchUp();
      return personId;
    }

    async function registerDeath(personId: string, dateOfDeath: string): Promise<RecordedEvent> {
      const result = await store.append(personStreamId(personId), [{ type: 'PersonDeceased', data: { personId, dateOfDeath }, metadata }]);
      return result.events[0]!;
    }

    async function visit(personId: string, hospitalCode: string, date: string): Promise<RecordedEvent> {
      const result = await runHealthRecordCommand(
        ports,
        (person) => ({
          type: 'recordMedicalVisit',
          data: { personId, person, visitId: randomUUID(), hospitalCode, department: '呼吸内科', diagnoses: ['J18.9'], visitedAt: at(date) },
          metadata: { now: now().toISOString() },
        }),
        personId,
        metadata,
      );
      return result.events[0]!;
    }

    const claimInput = (personId: string, serviceDate: string, overrides: Partial<SubmitClaimInput> = {}): SubmitClaimInput => ({
      claimId: randomUUID(),
      personId,
      hospitalCode: QILU,
      serviceDate,
      items: ITEMS,
      ...overrides,
    });

    const submit = (input: SubmitClaimInput) => submitClaim(ports, input, DEFAULT_SCREENING_LIMITS, { metadata, now: now().toISOString() });

    async function refusedWithoutAppending(code: string, action: () => Promise<unknown>): Promise<void> {
      // The visible head can lag behind transactions open elsewhere on the server: settle it first.
      await waitForCommitted(db, store);
      const head = await store.headPosition();
      await assert.rejects(action, (error: unknown) => {
        assert.ok(error instanceof CityBrainError, String(error));
        assert.equal(error.code, code);
        return true;
      });
      await waitForCommitted(db, store);
      assert.equal(await store.headPosition(), head, 'a refused command appended nothing');
    }

    it('refuses bad input and appends nothing', async () => {
      const personId = await registerPerson();
      await runner.catchUp();
      const stranger = randomUUID();
      const entry = (overrides: Record<string, unknown>) => () =>
        runHealthRecordCommand(
          ports,
          (person) => ({
            type: 'recordMedicalVisit',
            data: { personId, person, visitId: 'v-1', hospitalCode: QILU, department: '内科', diagnoses: ['I10'], visitedAt: at(today(), '00:00:01'), ...overrides },
            metadata: { now: now().toISOString() },
          }),
          (overrides.personId as string | undefined) ?? personId,
          metadata,
        );
      await refusedWithoutAppending('BAD_USER_INPUT', entry({ personId: stranger }));
      await refusedWithoutAppending('BAD_USER_INPUT', entry({ diagnoses: ['J189'] }));
      await refusedWithoutAppending('BAD_USER_INPUT', entry({ hospitalCode: 'H00000000' }));
      await refusedWithoutAppending('BAD_USER_INPUT', entry({ visitedAt: new Date(Date.now() + 3_600_000).toISOString() }));
      await refusedWithoutAppending('BAD_USER_INPUT', () => submit(claimInput(stranger, today())));
      await refusedWithoutAppending('BAD_USER_INPUT', () => submit(claimInput(personId, addDays(today(), 1))));
      await refusedWithoutAppending('BAD_USER_INPUT', () => submit(claimInput(personId, today(), { items: [{ ...ITEMS[0]!, unitPriceFen: 10.5 }] })));
      await refusedWithoutAppending('NOT_FOUND', () => settleClaim(ports, randomUUID(), { metadata, now: now().toISOString() }));
    });

    it('a visit after the registered death is refused; the record is closed by the process manager', async () => {
      const personId = await registerPerson();
      const death = await registerDeath(personId, addDays(today(), -7));
      await runner.catchUp();
      await refusedWithoutAppending('BAD_USER_INPUT', () => visit(personId, QILU, addDays(today(), -2)));
      const pm = new ProcessManagerRuntime({ store, readModels: ports.readModels, now: () => new Date(Date.now() + 1000) }, [deceasedManager]);
      const [report] = await pm.tick();
      assert.deepEqual(report?.issued, [`close:${personId}`]);
      const [closed] = await store.readStream(healthRecordStreamId(personId));
      assert.equal(closed?.type, 'HealthRecordClosed');
      assert.equal((closed?.data as { deathEventId: string }).deathEventId, death.eventId);
      assert.equal(closed?.metadata.causationId, death.eventId);
    });

    it('passes a clean claim, settles it, and holds an identical one as a duplicate of the settled claim', async () => {
      const personId = await registerPerson();
      const day = addDays(today(), -3);
      await visit(personId, QILU, day);
      await runner.catchUp();
      const first = await submit(claimInput(personId, day));
      assert.equal(first.state.status, 'PASSED');
      const settled = await settleClaim(ports, fileOf(first.state).claim.claimId, { metadata, now: now().toISOString() });
      assert.equal(settled.state.status, 'SETTLED');
      assert.equal(fileOf(settled.state).settlement?.amountFen, 3500);
      await runner.catchUp();

      const again = await submit(claimInput(personId, day, { items: [...ITEMS].reverse() }));
      const file = fileOf(again.state);
      assert.equal(file.status, 'HELD');
      assert.deepEqual(file.flags.map((f) => f.ruleId), ['DUPLICATE_OF_SETTLED']);
      assert.deepEqual(
        file.flags[0]!.evidence.map((e) => [e.type, e.eventId]),
        [
          ['ClaimSubmitted', first.events[0]!.eventId],
          ['ClaimSettled', settled.events[0]!.eventId],
        ],
      );
    });

    it('holds claims over the limits and at a hospital not visited that day, citing the visit elsewhere', async () => {
      const personId = await registerPerson();
      const day = addDays(today(), -4);
      const elsewhere = await visit(personId, PROVINCIAL, day);
      await visit(personId, QILU, addDays(day, -1));
      await runner.catchUp();

      const overLimit = fileOf((await submit(claimInput(personId, day, { hospitalCode: PROVINCIAL, items: [{ ...ITEMS[1]!, quantity: 150 }] }))).state);
      assert.deepEqual(overLimit.flags.map((f) => f.ruleId), ['ITEM_QUANTITY_OVER_LIMIT']);
      const expensive = fileOf((await submit(claimInput(personId, day, { hospitalCode: PROVINCIAL, items: [{ ...ITEMS[0]!, unitPriceFen: 6_000_000 }] }))).state);
      assert.deepEqual(expensive.flags.map((f) => f.ruleId), ['CLAIM_TOTAL_OVER_LIMIT']);

      const noVisit = fileOf((await submit(claimInput(personId, day))).state);
      assert.equal(noVisit.status, 'HELD');
      assert.deepEqual(noVisit.flags.map((f) => f.ruleId), ['NO_VISIT_AT_HOSPITAL']);
      assert.deepEqual(noVisit.flags[0]!.evidence, [{ type: 'MedicalVisitRecorded', eventId: elsewhere.eventId, streamId: elsewhere.streamId, position: elsewhere.position }]);

      await runner.catchUp();
      const stats = (await ports.readModels.of(HEALTHCARE_PROJECTION).collection(HOSPITAL_STATS).get(PROVINCIAL))?.doc;
      assert.equal(stats?.claims, 2);
      assert.equal(stats?.heldNow, 2);
      assert.deepEqual(stats?.flagsByRule, { ITEM_QUANTITY_OVER_LIMIT: 1, CLAIM_TOTAL_OVER_LIMIT: 1 });
      const division = (await ports.readModels.of(HEALTHCARE_PROJECTION).collection(DIVISION_STATS).get('370102'))?.doc;
      assert.deepEqual([division?.visits, division?.claims, division?.flaggedClaims, division?.heldClaims], [2, 3, 3, 3]);
    });

    it('a claim for a person whose death was registered the week before is held with the flag and the death event behind it', async () => {
      const personId = await registerPerson();
      await visit(personId, QILU, addDays(today(), -10));
      const death = await registerDeath(personId, addDays(today(), -7));
      await runner.catchUp();
      const result = await submit(claimInput(personId, addDays(today(), -2)));
      const file = fileOf(result.state);
      assert.equal(file.status, 'HELD');
      const flag = file.flags.find((f) => f.ruleId === 'DECEASED_BEFORE_SERVICE');
      assert.ok(flag, 'flagged DECEASED_BEFORE_SERVICE');
      assert.match(flag.explanation, new RegExp(`${addDays(today(), -7)}, before the service date ${addDays(today(), -2)}`));
      assert.deepEqual(flag.evidence, [{ type: 'PersonDeceased', eventId: death.eventId, streamId: death.streamId, position: death.position }]);

      // A reviewer confirms; the claim is rejected and the flags stay on record.
      const claimId = file.claim.claimId;
      const reviewed = await runClaimStep(store, { type: 'reviewClaim', data: { claimId, finding: 'CONFIRMED', reviewer: '稽核员', note: '死亡证明已核实' }, metadata: { now: now().toISOString() } }, metadata);
      assert.equal(reviewed.state.status, 'REVIEWED');
      await refusedWithoutAppending('INVALID_TRANSITION', () => settleClaim(ports, claimId, { metadata, now: now().toISOString() }));
      const rejected = await runClaimStep(store, { type: 'rejectClaim', data: { claimId, reason: '患者已死亡' }, metadata: { now: now().toISOString() } }, metadata);
      assert.equal(rejected.state.status, 'REJECTED');
      await runner.catchUp();
      const doc = (await ports.readModels.of(HEALTHCARE_PROJECTION).collection(CLAIMS).get(claimId))?.doc;
      assert.deepEqual([doc?.status, doc?.flagged, doc?.flagRules], ['REJECTED', true, ['DECEASED_BEFORE_SERVICE', 'NO_VISIT_AT_HOSPITAL']]);
    });

    it('PersonDeceased: open claims dated after the death are held once, earlier and settled ones are left alone', async () => {
      const personId = await registerPerson();
      const [early, late, paid] = [addDays(today(), -6), addDays(today(), -2), addDays(today(), -1)];
      for (const day of [early, late, paid]) await visit(personId, QILU, day);
      await runner.catchUp();
      const before = fileOf((await submit(claimInput(personId, early))).state).claim.claimId;
      const after = fileOf((await submit(claimInput(personId, late))).state).claim.claimId;
      const settled = fileOf((await submit(claimInput(personId, paid))).state).claim.claimId;
      await settleClaim(ports, settled, { metadata, now: now().toISOString() });
      const death = await registerDeath(personId, addDays(today(), -4));
      await runner.catchUp();

      let clock = Date.now() + 1000;
      const pm = new ProcessManagerRuntime({ store, readModels: ports.readModels, now: () => new Date(clock) }, [deceasedManager], { retryAfterMs: 60_000 });
      const [report] = await pm.tick();
      assert.deepEqual([...(report?.issued ?? [])].sort(), [`close:${personId}`, `hold:${after}`].sort());

      const held = await store.readStream(claimStreamId(after));
      const screened = held.at(-1)!;
      assert.equal(screened.type, 'ClaimScreened');
      assert.equal((screened.data as { trigger: string }).trigger, 'PERSON_DECEASED');
      assert.deepEqual((screened.data as { flags: { ruleId: string; evidence: { eventId: string }[] }[] }).flags.map((f) => [f.ruleId, f.evidence[0]?.eventId]), [
        ['DECEASED_BEFORE_SERVICE', death.eventId],
      ]);
      assert.equal(screened.metadata.causationId, death.eventId);
      assert.equal((await store.readStream(claimStreamId(before))).length, 2, 'the claim dated before the death is untouched');
      assert.equal((await store.readStream(claimStreamId(settled))).length, 3, 'the settled claim is untouched');

      // Replays append nothing: the reactions left the schedule through their own events…
      await runner.catchUp();
      clock += 120_000;
      const [second] = await pm.tick();
      assert.deepEqual([second?.issued, second?.replayed, second?.failed], [[], [], []]);
      // …and issuing the same item again is answered from the stream by its idempotency key.
      const again = await deceasedManager.issue(
        {
          id: `hold:${after}`,
          dueAt: death.recordedAt,
          idempotencyKey: `healthcare.deceased:hold:${after}:${death.eventId}`,
          payload: { kind: 'holdClaim', claimId: after, death: { dateOfDeath: addDays(today(), -4), evidence: { type: 'PersonDeceased', eventId: death.eventId, streamId: death.streamId, position: death.position } } },
          cause: { eventId: death.eventId, streamId: death.streamId, position: death.position, correlationId: 'test' },
        },
        { store, now: new Date(clock), metadata },
      );
      assert.equal(again.replayed, true);
      assert.equal((await store.readStream(claimStreamId(after))).length, held.length);
      assert.equal((await store.readStream(healthRecordStreamId(personId))).filter((e) => e.type === 'HealthRecordClosed').length, 1);
    });
  });
}
