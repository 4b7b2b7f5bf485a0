/**
 * Retention rules through the gateway erase personal data when its period ends: with `healthcare.claims=10y after death,
 * healthcare.records=30y after death`, a deceased person's claim item names and then their health
 * record's diagnoses and results read `[erased]` once the runtime clock passes death + N, on every
 * path (graph, `asOf`, the log read from position 0, rebuilt projections), while their population
 * fields stay. Before the date nothing changes; a subject under a legal hold keeps everything until
 * the hold is lifted (postponed, not dropped); a second process, a replay and a rebuilt schedule
 * append nothing twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERASED, keyIdOf } from '../events/crypto/personalFields.ts';
import { parseRetentionRules } from '../events/crypto/retentionRules.ts';
import { START } from '../events/types.ts';
import { ProcessManagerRuntime, type IssueContext, type TickReport } from '../projections/processManager.ts';
import { createGovernanceModule } from '../subgraphs/governance/index.ts';
import { RETENTION_MANAGER } from '../subgraphs/governance/processes/retention.ts';
import { healthcareModule } from '../subgraphs/healthcare/index.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { BACKEND_NAMES } from './helpers/databases.ts';
import { openTestRuntime, startTestGraph, type GqlResponse, type TestGraph, type TestRuntime } from './helpers/graph.ts';

const { rules } = parseRetentionRules('healthcare.claims=10y after death, healthcare.records=30y after death');
const governance = createGovernanceModule({ retention: rules });
const MODULES = [populationModule, healthcareModule, governance];
const COMMUNITY = '370102003001';
const DISTRICT = '370102';
const DEATH = '2020-03-01';
/** The start of 1 March in China, N years on: the rules' ends. */
const CLAIMS_END = '2030-02-28T16:00:00.000Z';
const RECORDS_END = '2050-02-28T16:00:00.000Z';

const PERSON_DATA = { name: '周桂兰', idNumber: makeIdNumber(DISTRICT, '1938-04-12', 28), residence: '大明湖路 9 号', household: '大明湖路 9 号（户）' };
const HEALTH_DATA = { result: '糖化血红蛋白 8.4%', item: '格列美脲片' };
const HELD = { name: '吴德海', idNumber: makeIdNumber(DISTRICT, '1941-09-30', 32), result: '肌酐 132 μmol/L', item: '氨氯地平片' };

const PERSON = `query ($id: ID!, $asOf: DateTime) { person(id: $id, asOf: $asOf) { name idNumber residence { address } history { type data } } }`;
const HOUSEHOLD = `query ($id: ID!) { household(id: $id) { address } }`;
const HEALTH = `query ($id: ID!, $asOf: DateTime) { healthRecord(personId: $id, asOf: $asOf) { visits { edges { node { department diagnoses } } } exams { edges { node { result } } } } }`;
const CLAIM = `query ($id: ID!) { claim(id: $id) { items { code name quantity } total { fen } } }`;
const READS = ['population.basic', 'population.identity', 'population.household', 'healthcare.records', 'healthcare.claims', 'audit.log'];

const data = <Data>(response: GqlResponse<Data>): Data => {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  assert.ok(response.body.data);
  return response.body.data;
};

type PersonAnswer = { name: string; idNumber: string; residence: { address: string } };

const retentionReport = (reports: TickReport[]): TickReport => reports.find((r) => r.manager === RETENTION_MANAGER)!;

for (const backend of BACKEND_NAMES) describe(`retention rules on ${backend}`, () => {
  let base: TestRuntime;
  let graph: TestGraph;
  let writer: string;
  let reader: string;
  const ids = { person: '', held: '', household: '', claim: '', heldClaim: '' };
  let clock = new Date();
  /** The retention process manager of this process, and of another one on the same database. */
  let managers: ProcessManagerRuntime;
  let secondProcess: ProcessManagerRuntime;
  let beforeRecordsExpired = '';
  let answered: unknown;

  const mutate = async <T>(name: string, input: Record<string, unknown>, selection: string): Promise<T> => {
    const type = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
    return data(await graph.gql<Record<string, T>>(`mutation ($input: ${type}!) { ${name}(input: $input) { ${selection} } }`, { input }, writer))[name]!;
  };
  const ask = <T>(query: string, variables: Record<string, unknown>) => graph.gql<T>(query, variables, reader).then(data);
  const tickAt = async (instant: string, runtime = managers): Promise<TickReport> => {
    clock = new Date(instant);
    const report = retentionReport(await runtime.tick());
    await base.catchUp();
    return report;
  };
  /** This process and a second one tick at the same instant, before either's expiry reaches the schedule. */
  const tickBothAt = async (instant: string): Promise<TickReport> => {
    clock = new Date(instant);
    const [one, two] = (await Promise.all([managers.tick(), secondProcess.tick()])).map(retentionReport) as [TickReport, TickReport];
    await base.catchUp();
    // The loser (either one) decided nothing, or was refused on the stream's revision and retries later (then deciding nothing).
    const lostRace = (f: { error: string }) => /expected revision/i.test(f.error);
    return { ...one, issued: [...one.issued, ...two.issued], failed: [...one.failed, ...two.failed].filter((f) => !lostRace(f)) };
  };
  const expiries = async () => (await base.runtime.store.readAll({ filter: { types: ['PersonalDataExpired'] } })).map((e) => e.data as Record<string, string>);
  const everything = async (personId: string, claimId: string) => ({
    person: await ask(PERSON, { id: personId }),
    health: await ask(HEALTH, { id: personId }),
    claim: await ask(CLAIM, { id: claimId }),
  });

  before(async () => {
    base = await openTestRuntime(MODULES, backend, { personalData: { legalHolds: [] } });
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    await graph.grant('retention-writer', [...READS, 'population.write'], { actions: ['READ', 'WRITE'] });
    await graph.assignJurisdiction('retention-writer', { divisionCode: DISTRICT });
    await graph.grant('retention-reader', READS, { actions: ['READ'] });
    writer = await graph.tokenFor('retention-writer');
    reader = await graph.tokenFor('retention-reader', 'auditor');
    const register = (who: { name: string; idNumber: string }, birthDate: string, address: string) =>
      mutate<{ person: { id: string } }>('registerResident', { idNumber: who.idNumber, name: who.name, gender: 'FEMALE', birthDate, residence: { address, divisionCode: COMMUNITY } }, 'person { id }');
    ids.person = (await register(PERSON_DATA, '1938-04-12', PERSON_DATA.residence)).person.id;
    ids.held = (await register(HELD, '1941-09-30', '经七路 3 号')).person.id;
    await base.catchUp();
    ids.household = (await mutate<{ household: { id: string } }>('establishHousehold', { headId: ids.person, address: PERSON_DATA.household, divisionCode: COMMUNITY }, 'household { id }')).household.id;
    const visitedAt = '2019-06-01T02:00:00.000Z';
    for (const [personId, result] of [[ids.person, HEALTH_DATA.result], [ids.held, HELD.result]] as const) {
      await mutate('recordMedicalVisit', { personId, hospitalCode: 'H37010201', department: '内分泌科', diagnoses: ['E11.9'], visitedAt }, 'healthRecord { person { id } }');
      await mutate('recordExamResult', { personId, examType: 'CBC', hospitalCode: 'H37010201', result, abnormal: true, performedAt: visitedAt }, 'healthRecord { person { id } }');
    }
    await base.catchUp();
    const submit = (personId: string, name: string) =>
      mutate<{ claim: { id: string } }>('submitClaim', { personId, hospitalCode: 'H37010201', serviceDate: '2019-06-01', items: [{ code: 'A10BB12', name, quantity: 1, unitPrice: '25.00' }] }, 'claim { id }');
    ids.claim = (await submit(ids.person, HEALTH_DATA.item)).claim.id;
    ids.heldClaim = (await submit(ids.held, HELD.item)).claim.id;
    for (const personId of [ids.person, ids.held]) await mutate('registerDeath', { personId, dateOfDeath: DEATH, place: '济南市中心医院' }, 'person { id }');
    await base.catchUp();

    const ports = { ...base.runtime, now: () => clock };
    const heldPorts = { ...ports, personalData: { ...base.runtime.personalData!, legalHolds: new Set([ids.held]) } };
    managers = new ProcessManagerRuntime(heldPorts, governance.processManagers!);
    // Ticks at the same virtual instants, without the first one's memory of what it issued.
    secondProcess = new ProcessManagerRuntime(heldPorts, governance.processManagers!);
  });
  after(async () => {
    await graph?.close();
    await base?.close();
  });

  it('changes nothing before the first period ends', async () => {
    const report = await tickAt('2030-02-28T15:59:59.000Z');
    assert.deepEqual([report.issued, report.failed], [[], []]);
    assert.deepEqual(await expiries(), []);
    const text = JSON.stringify(await everything(ids.person, ids.claim));
    for (const value of [PERSON_DATA.name, HEALTH_DATA.result, HEALTH_DATA.item]) assert.ok(text.includes(value), `${value} is served before its period ends`);
  });

  it('erases the claims of the deceased person once their period ends, and nothing else; the held subject waits', async () => {
    const report = await tickBothAt('2030-03-02T00:00:00.000Z');
    assert.deepEqual(report.issued, [`${ids.person}#healthcare.claims`]);
    assert.deepEqual([...new Set(report.failed.map((f) => f.id))], [`${ids.held}#healthcare.claims`]);
    assert.match(report.failed[0]!.error, /legal hold/);
    const [expiry, ...more] = await expiries();
    assert.deepEqual(more, []);
    assert.deepEqual(
      { ...expiry, erasedAt: undefined },
      {
        subjectId: ids.person,
        scope: 'healthcare.claims',
        rule: 'healthcare.claims=10y after death',
        dueAt: CLAIMS_END,
        legalBasis: 'PIPL art. 47(1)(2): retention period ended',
        approver: 'PERSONAL_DATA_RETENTION: healthcare.claims=10y after death',
        erasedBy: `process-manager:${RETENTION_MANAGER}`,
        erasedAt: undefined,
      },
    );
    const now = (await everything(ids.person, ids.claim)) as { claim: { claim: { items: unknown[]; total: { fen: string } } }; person: { person: PersonAnswer }; health: unknown };
    assert.deepEqual([now.claim.claim.items, now.claim.claim.total.fen], [[{ code: 'A10BB12', name: ERASED, quantity: 1 }], '2500']);
    const { person } = now.person;
    assert.deepEqual([person.name, person.idNumber, person.residence.address], [PERSON_DATA.name, PERSON_DATA.idNumber, PERSON_DATA.residence]);
    assert.ok(JSON.stringify(now.health).includes(HEALTH_DATA.result), 'the health record is kept');
    assert.ok(JSON.stringify(await ask(CLAIM, { id: ids.heldClaim })).includes(HELD.item), 'the held subject keeps its claim');
  });

  it('appends nothing when a done expiry is issued again (a restart before the schedule caught up)', async () => {
    const count = (await expiries()).length;
    const [manager] = governance.processManagers!;
    const [expiry] = await base.runtime.store.readAll({ filter: { types: ['PersonalDataExpired'] } });
    const ctx: IssueContext = { store: base.runtime.store, personalData: base.runtime.personalData!, now: clock, metadata: expiry!.metadata };
    const payload = { subjectId: ids.person, resource: 'healthcare.claims', dueAt: CLAIMS_END };
    const cause = { eventId: expiry!.eventId, streamId: expiry!.streamId, position: expiry!.position, correlationId: expiry!.metadata.correlationId };
    const again = await manager!.issue({ id: `${ids.person}#healthcare.claims`, dueAt: CLAIMS_END, idempotencyKey: 'replay', payload, cause }, ctx);
    assert.deepEqual(again.events, []);
    assert.equal((await expiries()).length, count);
    assert.deepEqual((await tickAt('2030-03-03T00:05:00.000Z')).issued, []);
  });

  it('erases the health record at death + 30 years, keeping the population fields and the household', async () => {
    beforeRecordsExpired = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const report = await tickBothAt('2050-03-02T00:00:00.000Z');
    assert.deepEqual(report.issued, [`${ids.person}#healthcare.records`]);
    assert.deepEqual([...new Set(report.failed.map((f) => f.id))].sort(), [`${ids.held}#healthcare.claims`, `${ids.held}#healthcare.records`].sort());
    assert.deepEqual((await expiries()).map((e) => [e.scope, e.dueAt]), [['healthcare.claims', CLAIMS_END], ['healthcare.records', RECORDS_END]]);

    const now = await everything(ids.person, ids.claim);
    const health = JSON.stringify(now.health);
    assert.ok(!health.includes(HEALTH_DATA.result) && !health.includes('E11.9') && health.includes(ERASED) && health.includes('内分泌科'), health);
    const { person } = now.person as { person: PersonAnswer };
    assert.deepEqual([person.name, person.idNumber, person.residence.address], [PERSON_DATA.name, PERSON_DATA.idNumber, PERSON_DATA.residence]);
    assert.deepEqual(await ask(HOUSEHOLD, { id: ids.household }), { household: { address: PERSON_DATA.household } });
    const held = JSON.stringify(await everything(ids.held, ids.heldClaim));
    for (const value of [HELD.result, HELD.item]) assert.ok(held.includes(value), `the held subject keeps ${value}`);
    answered = now;
  });

  it('shows the expired scope erased in history, asOf before the expiry, the log from position 0 and a subscription', async () => {
    assert.ok(!JSON.stringify(await ask(HEALTH, { id: ids.person, asOf: beforeRecordsExpired })).includes(HEALTH_DATA.result));
    const past = JSON.stringify(await ask(PERSON, { id: ids.person, asOf: beforeRecordsExpired }));
    assert.ok(past.includes(PERSON_DATA.name), 'population history is kept');
    const events = await base.runtime.store.readAll({ fromPosition: START, limit: 100_000 });
    const log = JSON.stringify(events);
    for (const value of [HEALTH_DATA.result, HEALTH_DATA.item]) assert.ok(!log.includes(value), `the log serves the expired ${value}`);
    for (const value of [PERSON_DATA.name, PERSON_DATA.household, HELD.result, HELD.item]) assert.ok(log.includes(value), `the log keeps ${value}`);
    // The feed's live path: a subscription from position 0 opens each event as it passes.
    const subscription = base.runtime.store.subscribe({ fromPosition: START, batchSize: 5 });
    const streamed: unknown[] = [];
    for await (const event of subscription) if (streamed.push(event.data) === events.length) break;
    await subscription.close();
    assert.equal(JSON.stringify(streamed), JSON.stringify(events.map((e) => e.data)));
    const { rows } = await base.db.query<{ subject_id: string; live: boolean }>('SELECT subject_id, wrapped_key IS NOT NULL AS live FROM pd_subject_keys WHERE subject_id LIKE $1', [`${ids.person}%`]);
    const live = Object.fromEntries(rows.map((r) => [r.subject_id, r.live]));
    assert.deepEqual(
      [live[keyIdOf(ids.person, 'healthcare.records')], live[keyIdOf(ids.person, 'healthcare.claims')], live[keyIdOf(ids.person, 'population.basic')]],
      [false, false, true],
    );
  });

  it('gives the same answers after every projection, the retention schedule included, is rebuilt from the log', async () => {
    for (const projection of MODULES.flatMap((m) => m.projections)) await base.rebuild(projection.name);
    assert.deepEqual(await everything(ids.person, ids.claim), answered);
    // The rebuilt schedule holds only the held subject's expiries (this person's are done), issued by
    // a process started without the hold: lifted.
    const report = await tickAt('2050-03-03T00:00:00.000Z', new ProcessManagerRuntime({ ...base.runtime, now: () => clock }, governance.processManagers!));
    assert.deepEqual(report.issued.sort(), [`${ids.held}#healthcare.claims`, `${ids.held}#healthcare.records`].sort());
  });

  it('expires the held subject once the hold is lifted (postponed, not dropped)', async () => {
    const expired = (await expiries()).filter((e) => e.subjectId === ids.held).map((e) => e.scope);
    assert.deepEqual(expired.sort(), ['healthcare.claims', 'healthcare.records']);
    const held = JSON.stringify(await everything(ids.held, ids.heldClaim));
    for (const value of [HELD.result, HELD.item]) assert.ok(!held.includes(value), `${value} is erased`);
    assert.ok(held.includes(HELD.name), 'population fields stay');
  });
});
