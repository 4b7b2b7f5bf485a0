/**
 * Crypto-shredding through the gateway: a person with a household, an incident they
 * reported, health records, a claim and a taxpayer record is erased with `erasePersonalData`. From
 * then on no path shows a personal value of theirs — the graph, `history`, `asOf` before the erasure,
 * the log read from position 0 (what the feed serves), projections rebuilt from the log, the raw
 * rows — while another person's data, the counts and the hash chain stay intact. Bad input is refused
 * with nothing written. No ID number stands in the log's stream ids (claims are named by a keyed
 * pseudonym), and an anonymous citizen's report is erased by its incident id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { personalDataReport } from '../cli/personalData.ts';
import { ERASED } from '../events/crypto/personalFields.ts';
import { HashChainer, verifyChain } from '../events/sql/hashChain.ts';
import { START } from '../events/types.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { healthcareModule } from '../subgraphs/healthcare/index.ts';
import { idNumbers } from '../subgraphs/population/handlers.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { taxModule } from '../subgraphs/tax/index.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { openTestRuntime, startTestGraph, type GqlResponse, type TestGraph, type TestRuntime } from './helpers/graph.ts';
import { BACKEND_NAMES } from './helpers/databases.ts';
import { testMetadata } from './helpers/events.ts';
import { INGEST_NOW, kindOf, recordsOf } from './helpers/ingest.ts';

const MODULES = [populationModule, healthcareModule, taxModule, urbanOpsModule, governanceModule];
const COMMUNITY = '370102003001';
const DISTRICT = '370102';
const HELD = 'person-under-legal-hold';

/** Every personal value of the person erased: none may be served or stored in clear. */
const PERSONAL = {
  name: '钱秀英',
  idNumber: makeIdNumber(DISTRICT, '1952-11-20', 44),
  residence: '泉城路 17 号 3 单元 501 室',
  household: '泉城路 17 号 3 单元 501 室（户）',
  reporterName: '钱女士',
  report: '泉城路雨水井盖缺失，邻居钱女士的孙子差点掉进去',
  result: '空腹血糖 7.9 mmol/L',
  item: '二甲双胍缓释片',
};
const OTHER = { name: '孙建国', idNumber: makeIdNumber(DISTRICT, '1960-02-14', 51) };
/** A citizen who reported without an id: their report is keyed by its incident. */
const ANONYMOUS = { name: '周先生', description: '楼道堆满杂物，住 302 的王某某不肯清理，回电 13905310000' };
/** A person an older version registered: the claim on the clear-named stream still holds. */
const LEGACY = { idNumber: makeIdNumber(DISTRICT, '1948-06-30', 27), ownerId: 'person-registered-before-pseudonyms' };

const READS = ['population.basic', 'population.identity', 'population.household', 'healthcare.records', 'healthcare.claims', 'tax.declarations', 'urban.incidents', 'urban.reporters', 'audit.log'];

const PERSON = `query ($id: ID!, $asOf: DateTime) { person(id: $id, asOf: $asOf) { name idNumber birthDate gender status residence { address division { code } } history { type data } } }`;
const HOUSEHOLD = `query ($id: ID!) { household(id: $id) { address size } }`;
const HEALTH = `query ($id: ID!, $asOf: DateTime) { healthRecord(personId: $id, asOf: $asOf) { visits { edges { node { department diagnoses } } } exams { edges { node { examType { code } result } } } } }`;
const CLAIM = `query ($id: ID!) { claim(id: $id) { items { code name quantity } total { fen } status history { type data } } }`;
const TAXPAYER = `query ($id: ID!) { taxpayer(id: $id) { kind name taxpayerNumber } }`;
const INCIDENT = `query ($id: ID!) { incident(id: $id) { category description reporter { kind id name } } }`;

/** Answered from read models only: the gateway's response cache may keep it (gateway/responseCache.ts). */
const KEPT = `query Kept($household: ID!, $taxpayer: ID!) { household(id: $household) { address size } taxpayer(id: $taxpayer) { name taxpayerNumber } }`;
type Kept = { household: { address: string; size: number }; taxpayer: { name: string; taxpayerNumber: string } };

const ERASE = `mutation ($input: ErasePersonalDataInput!) { erasePersonalData(input: $input) { subjectId erasedAt positions } }`;

const data = <Data>(response: GqlResponse<Data>): Data => {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  assert.ok(response.body.data);
  return response.body.data;
};

type IncidentLocation = { longitude: number; latitude: number; address: string };

/** A citizen's report of a missing manhole cover. */
const incidentReport = (description: string, reporter: Record<string, string>, location: IncidentLocation) => ({
  channel: 'HOTLINE_12345',
  category: 'MUNICIPAL_FACILITY',
  subcategory: 'MISSING_MANHOLE_COVER',
  description,
  location,
  divisionCode: COMMUNITY,
  reporter,
  attachments: [],
});

const codesOf = (response: GqlResponse) => response.body.errors?.map((e) => e.extensions?.code);

/** Fails naming the first personal value `text` holds in clear. */
function assertNoPersonalValue(text: string, where: string, values: Record<string, string> = PERSONAL): void {
  for (const [field, value] of Object.entries(values)) assert.ok(!text.includes(value), `${where} holds the erased ${field} "${value}"`);
}

for (const backend of BACKEND_NAMES) describe(`erasing a person's personal data on ${backend}`, () => {
  let base: TestRuntime;
  let graph: TestGraph;
  let writer: string;
  let reader: string;
  let admin: string;
  const ids = { person: '', other: '', household: '', claim: '', taxpayer: '', incident: '', anonymous: '' };
  let beforeErasure = '';
  /** What the graph answered for the erased person right after the erasure (compared after rebuilds). */
  let answered: unknown;

  const mutate = async <T>(name: string, input: Record<string, unknown>, selection: string, token = writer): Promise<T> => {
    const type = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
    return data(await graph.gql<Record<string, T>>(`mutation ($input: ${type}!) { ${name}(input: $input) { ${selection} } }`, { input }, token))[name]!;
  };
  const keptVariables = () => ({ household: ids.household, taxpayer: ids.taxpayer });
  const cacheHits = async () => (await graph.graph.gateway.metrics.responseCacheHits.get()).values[0]?.value ?? 0;
  const ask = async <T>(query: string, variables: Record<string, unknown>) => data(await graph.gql<T>(query, variables, reader));
  const everything = async () => ({
    person: await ask(PERSON, { id: ids.person }),
    household: await ask(HOUSEHOLD, { id: ids.household }),
    health: await ask(HEALTH, { id: ids.person }),
    claim: await ask(CLAIM, { id: ids.claim }),
    taxpayer: await ask(TAXPAYER, { id: ids.taxpayer }),
    incident: await ask(INCIDENT, { id: ids.incident }),
  });
  /** Every row of the log's tables, as a backup of them without the keys would hold it. */
  const rawLog = async () => {
    const { rows } = await base.db.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM es_events e UNION ALL SELECT row_to_json(s)::text FROM es_streams s');
    return rows.map((r) => r.row).join('\n');
  };
  const rowCounts = async () => {
    const { rows } = await base.db.query<{ events: number; keys: number; erased: number }>(
      `SELECT (SELECT count(*)::int FROM es_events) AS events, (SELECT count(*)::int FROM pd_subject_keys) AS keys,
              (SELECT count(*)::int FROM pd_subject_keys WHERE wrapped_key IS NULL) AS erased`,
    );
    return rows[0]!;
  };

  before(async () => {
    base = await openTestRuntime(MODULES, backend, { personalData: { legalHolds: [HELD] } });
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    const writes = ['population.write', 'urban.write', 'tax.declarations'];
    await graph.grant('erasure-writer', [...READS, ...writes], { actions: ['READ', 'WRITE'] });
    await graph.assignJurisdiction('erasure-writer', { divisionCode: DISTRICT });
    await graph.grant('erasure-reader', READS, { actions: ['READ'] });
    await graph.grant('erasure-admin', ['governance.admin'], { actions: ['READ', 'WRITE'] });
    writer = await graph.tokenFor('erasure-writer');
    reader = await graph.tokenFor('erasure-reader', 'auditor');
    admin = await graph.tokenFor('erasure-admin', 'admin');

    const register = (who: { name: string; idNumber: string }, birthDate: string, gender: string, address: string) =>
      mutate<{ person: { id: string } }>('registerResident', { idNumber: who.idNumber, name: who.name, gender, birthDate, residence: { address, divisionCode: COMMUNITY } }, 'person { id }');
    ids.person = (await register(PERSONAL, '1952-11-20', 'FEMALE', PERSONAL.residence)).person.id;
    ids.other = (await register(OTHER, '1960-02-14', 'MALE', '经十路 5 号')).person.id;
    await base.catchUp();
    ids.household = (await mutate<{ household: { id: string } }>('establishHousehold', { headId: ids.person, address: PERSONAL.household, divisionCode: COMMUNITY }, 'household { id }')).household.id;
    const report = async (description: string, reporter: Record<string, string>, location: IncidentLocation) =>
      (await mutate<{ incident: { id: string } }>('reportIncident', incidentReport(description, reporter, location), 'incident { id }')).incident.id;
    ids.incident = await report(PERSONAL.report, { kind: 'CITIZEN', id: ids.person, name: PERSONAL.reporterName }, { longitude: 117.0311, latitude: 36.6551, address: '泉城路 17 号门前' });
    ids.anonymous = await report(ANONYMOUS.description, { kind: 'CITIZEN', name: ANONYMOUS.name }, { longitude: 117.05, latitude: 36.67, address: '经十路 5 号楼道' });
    const visitedAt = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await mutate('recordMedicalVisit', { personId: ids.person, hospitalCode: 'H37010201', department: '内分泌科', diagnoses: ['E11.9'], visitedAt }, 'healthRecord { person { id } }');
    await mutate('recordExamResult', { personId: ids.person, examType: 'CBC', hospitalCode: 'H37010201', result: PERSONAL.result, abnormal: true, performedAt: visitedAt }, 'healthRecord { person { id } }');
    await base.catchUp();
    ids.claim = (
      await mutate<{ claim: { id: string } }>(
        'submitClaim',
        { personId: ids.person, hospitalCode: 'H37010201', serviceDate: visitedAt.slice(0, 10), items: [{ code: 'XA10BAA0000', name: PERSONAL.item, quantity: 2, unitPrice: '31.50' }] },
        'claim { id }',
      )
    ).claim.id;
    ids.taxpayer = (await mutate<{ taxpayer: { id: string } }>('registerTaxpayer', { subject: { kind: 'PERSON', id: ids.person } }, 'taxpayer { id }')).taxpayer.id;
    await base.catchUp();
    beforeErasure = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
  after(async () => {
    await graph?.close();
    await base?.close();
  });

  it('serves the personal data before the erasure, but stores none of it in clear', async () => {
    const before = await everything();
    const text = JSON.stringify(before);
    for (const value of Object.values(PERSONAL)) assert.ok(text.includes(value), `the graph serves ${value} before the erasure`);
    // The raw log, as a backup of the events alone would hold it: no ID number in a stream id either.
    const log = await rawLog();
    assertNoPersonalValue(log, 'the raw log');
    assertNoPersonalValue(log, 'the raw log', { ...OTHER, ...ANONYMOUS });
    assert.equal((await ask<{ incident: { description: string } }>(INCIDENT, { id: ids.anonymous })).incident.description, ANONYMOUS.description, 'operators read the description');
    // Kept by the gateway's response cache: the erasure below must still reach the next identical query.
    const kept = await ask<Kept>(KEPT, keptVariables());
    assert.equal(kept.household.address, PERSONAL.household);
    const hitsBefore = await cacheHits();
    assert.deepEqual(await ask<Kept>(KEPT, keptVariables()), kept);
    assert.equal((await cacheHits()) - hitsBefore, 1, 'the second was served from the cache');
  });

  it('still refuses the ID number of a claim an older version made on the clear-named stream, appending nothing', async () => {
    await base.runtime.store.append(`population.id-number-${LEGACY.idNumber}`, [{ type: 'IdNumberClaimed', data: { key: LEGACY.idNumber, ownerId: LEGACY.ownerId }, metadata: testMetadata }]);
    const counts = await rowCounts();
    const refused = await graph.gql(
      `mutation ($input: RegisterResidentInput!) { registerResident(input: $input) { person { id } } }`,
      { input: { idNumber: LEGACY.idNumber, name: '冒名者', gender: 'MALE', birthDate: '1948-06-30', residence: { address: '某处', divisionCode: COMMUNITY } } },
      writer,
    );
    assert.deepEqual(codesOf(refused), ['CONFLICT']);
    // The register's delivery (the batch path) refuses it too.
    const row = { sourceRecordId: 'L1', idNumber: LEGACY.idNumber, name: '冒名者', gender: 'MALE', birthDate: '1948-06-30', 'residence.address': '某处', 'residence.divisionCode': COMMUNITY };
    const persons = kindOf(populationModule, 'persons');
    const plan = await persons.plan(base.runtime.store, recordsOf(persons, [row]), INGEST_NOW);
    assert.deepEqual([plan.outcomes.map((o) => 'code' in o && o.code), plan.appends], [['CONFLICT'], []]);
    assert.deepEqual(await rowCounts(), counts);
  });

  it('refuses bad erasures with nothing written: missing legal basis, unknown subject, legal hold, not an admin', async () => {
    const counts = await rowCounts();
    const attempt = (input: Record<string, unknown>, token = admin) => graph.gql(ERASE, { input: { legalBasis: 'PIPL art. 47(1)(1)', approver: '数据安全官 李明', ...input } }, token);
    assert.deepEqual(codesOf(await attempt({ subjectId: ids.person, legalBasis: '  ' })), ['BAD_USER_INPUT']);
    assert.deepEqual(codesOf(await attempt({ subjectId: ids.person, approver: '' })), ['BAD_USER_INPUT']);
    assert.deepEqual(codesOf(await attempt({ subjectId: '00000000-0000-4000-8000-000000000000' })), ['NOT_FOUND']);
    // An incident whose reporter gave an id is no pseudonymous subject: its personal data is the reporter's.
    assert.deepEqual(codesOf(await attempt({ subjectId: ids.incident })), ['NOT_FOUND']);
    assert.deepEqual(codesOf(await attempt({ subjectId: 'no such subject!' })), ['BAD_USER_INPUT']);
    // A subject on the legal-hold list: give it a key first, as any person with personal data has.
    await base.runtime.personalData!.keys.forWriting([HELD]);
    const held = await rowCounts();
    assert.deepEqual(codesOf(await attempt({ subjectId: HELD })), ['CONFLICT']);
    assert.deepEqual(await rowCounts(), held);
    // The writer holds every grant but governance.admin; an auditor token without the admin role is refused too.
    assert.deepEqual(codesOf(await attempt({ subjectId: ids.person }, writer)), ['FORBIDDEN']);
    assert.deepEqual({ ...(await rowCounts()), keys: counts.keys }, counts);
    assert.ok(JSON.stringify(await everything()).includes(PERSONAL.name), 'nothing was erased');
  });

  it('refuses a reporter id naming a subject\'s key of a scope (planting data under it), with nothing written', async () => {
    const counts = await rowCounts();
    const input = incidentReport('井盖缺失', { kind: 'CITIZEN', id: `${ids.person}#healthcare.records`, name: '冒名者' }, { longitude: 117.0311, latitude: 36.6551, address: '泉城路' });
    const refused = await graph.gql(`mutation ($input: ReportIncidentInput!) { reportIncident(input: $input) { incident { id } } }`, { input }, writer);
    assert.deepEqual(codesOf(refused), ['BAD_USER_INPUT']);
    assert.match(refused.body.errors![0]!.message, /holds "#"/);
    assert.deepEqual(await rowCounts(), counts);
  });

  it('erases the person once, recording who and why; a second erasure is refused with nothing written', async () => {
    const counts = await rowCounts();
    const erased = data(await graph.gql<{ erasePersonalData: { subjectId: string; positions: string[] } }>(
      ERASE,
      { input: { subjectId: ids.person, legalBasis: 'PIPL art. 47(1)(2): retention period ended', approver: '数据安全官 李明' } },
      admin,
    )).erasePersonalData;
    assert.equal(erased.subjectId, ids.person);
    assert.equal(erased.positions.length, 1);
    const after = await rowCounts();
    // Every key id of the person is tombstoned: their own (ID-number claims) and one per scope, keyed or not.
    assert.deepEqual([after.events - counts.events >= 1, after.erased - counts.erased], [true, 1 + base.runtime.personalData!.scopes.length]);
    const [record] = await base.runtime.store.readAll({ filter: { types: ['PersonalDataErased'] } });
    assert.deepEqual(
      { ...(record!.data as Record<string, unknown>), erasedAt: undefined },
      { subjectId: ids.person, legalBasis: 'PIPL art. 47(1)(2): retention period ended', approver: '数据安全官 李明', erasedBy: 'erasure-admin', erasedAt: undefined },
    );

    const again = await graph.gql(ERASE, { input: { subjectId: ids.person, legalBasis: 'again', approver: 'again' } }, admin);
    assert.deepEqual(codesOf(again), ['CONFLICT']);
    assert.deepEqual(await rowCounts(), after);
  });

  it('shows every personal field of the person as erased in the graph, and everything else intact', async () => {
    await base.catchUp();
    const now = await everything();
    assertNoPersonalValue(JSON.stringify(now), 'the graph');
    const { person } = now.person as { person: { name: string; idNumber: string; birthDate: string; gender: string; status: string; residence: { address: string; division: { code: string } } } };
    assert.deepEqual(
      { name: person.name, idNumber: person.idNumber, address: person.residence.address, division: person.residence.division.code, status: person.status, gender: person.gender },
      { name: ERASED, idNumber: ERASED, address: ERASED, division: COMMUNITY, status: 'REGISTERED', gender: 'FEMALE' },
    );
    assert.deepEqual(now.household, { household: { address: ERASED, size: 1 } });
    assert.deepEqual(now.taxpayer, { taxpayer: { kind: 'PERSON', name: ERASED, taxpayerNumber: ERASED } });
    assert.deepEqual(now.incident, { incident: { category: 'MUNICIPAL_FACILITY', description: ERASED, reporter: { kind: 'CITIZEN', id: ids.person, name: ERASED } } });
    const { claim } = now.claim as { claim: { items: unknown[]; total: { fen: string } } };
    assert.deepEqual([claim.items, claim.total.fen], [[{ code: 'XA10BAA0000', name: ERASED, quantity: 2 }], '6300']);
    const health = JSON.stringify(now.health);
    assert.ok(health.includes('内分泌科') && health.includes(ERASED), health);
    // Another person's data is untouched.
    const other = (await ask<{ person: { name: string; idNumber: string } }>(PERSON, { id: ids.other })).person;
    assert.deepEqual([other.name, other.idNumber], [OTHER.name, OTHER.idNumber]);
    answered = now;
    // The answer the cache kept before the erasure is not served again.
    assert.deepEqual(await ask<Kept>(KEPT, keptVariables()), { household: { address: ERASED, size: 1 }, taxpayer: { name: ERASED, taxpayerNumber: ERASED } });
  });

  it('shows them erased in history and asOf a moment before the erasure', async () => {
    const past = await ask<{ person: { name: string; history: { type: string; data: unknown }[] } }>(PERSON, { id: ids.person, asOf: beforeErasure });
    assert.equal(past.person.name, ERASED);
    assert.ok(past.person.history.length >= 1);
    assertNoPersonalValue(JSON.stringify(past), 'person asOf and history');
    assertNoPersonalValue(JSON.stringify(await ask(HEALTH, { id: ids.person, asOf: beforeErasure })), 'health record asOf');
  });

  it('serves no personal value of theirs from the log read from position 0 (the feed), nor by event id (provenance)', async () => {
    const log = await base.runtime.store.readAll({ fromPosition: START, limit: 100_000 });
    const claims = log.filter((e) => e.type === 'IdNumberClaimed');
    assert.deepEqual(
      claims.map((e) => e.streamId),
      [PERSONAL.idNumber, OTHER.idNumber].map((idNumber) => idNumbers.claimStreams(base.runtime.store, idNumber).streamId).concat(`population.id-number-${LEGACY.idNumber}`),
    );
    assert.deepEqual(claims[0]!.data, { key: ERASED, ownerId: ids.person }, 'the claim no longer reveals the number');
    assertNoPersonalValue(JSON.stringify(log), 'the log from position 0');
    assert.ok(JSON.stringify(log).includes(OTHER.idNumber), 'the other person reads in clear');
    const byId = await base.runtime.store.readEventsById(log.map((e) => e.eventId));
    assertNoPersonalValue(JSON.stringify(byId), 'events by id');
    const subscription = base.runtime.store.subscribe({ fromPosition: START, batchSize: 7 });
    let seen = 0;
    for await (const event of subscription) {
      assertNoPersonalValue(JSON.stringify(event.data), `subscription at ${event.position}`);
      if (++seen === log.length) break;
    }
    await subscription.close();
  });

  it('gives the same answers after every projection is rebuilt from the log', async () => {
    for (const projection of MODULES.flatMap((m) => m.projections)) await base.rebuild(projection.name);
    assert.deepEqual(await everything(), answered);
  });

  it('reports what is encrypted and the keys erased (`npm run cli -- personal-data`)', async () => {
    const report = await personalDataReport({ store: base.runtime.store, db: base.db });
    assert.deepEqual(report.types.find((t) => t.type === 'PersonRegistered'), { type: 'PersonRegistered', encrypted: 2, inClear: 0 });
    // Live: the other person's own key (ID-number claim) and population.basic key, the subject under a legal hold,
    // the holder of the older claim, the anonymous report's; erased: every key id of the person.
    assert.deepEqual(report.keys, { live: 5, erased: 1 + base.runtime.personalData!.scopes.length });
  });

  it('erases an anonymous report by its incident id: the name and description read as erased, the case and the counts intact', async () => {
    const counts = await rowCounts();
    const erased = data(await graph.gql<{ erasePersonalData: { subjectId: string } }>(
      ERASE,
      { input: { subjectId: ids.anonymous, legalBasis: 'PIPL art. 47(1)(1): purpose fulfilled', approver: '数据安全官 李明' } },
      admin,
    )).erasePersonalData;
    assert.equal(erased.subjectId, ids.anonymous);
    assert.equal((await rowCounts()).erased, counts.erased + 1 + base.runtime.personalData!.scopes.length);
    await base.catchUp();
    const expected = { incident: { category: 'MUNICIPAL_FACILITY', description: ERASED, reporter: { kind: 'CITIZEN', id: null, name: ERASED } } };
    assert.deepEqual(await ask(INCIDENT, { id: ids.anonymous }), expected);
    const log = JSON.stringify(await base.runtime.store.readAll({ fromPosition: START, limit: 100_000 }));
    assertNoPersonalValue(log, 'the log from position 0', ANONYMOUS);
    assert.ok(log.includes(OTHER.name), 'another subject reads in clear');
    for (const projection of urbanOpsModule.projections) await base.rebuild(projection.name);
    assert.deepEqual(await ask(INCIDENT, { id: ids.anonymous }), expected, 'a rebuild gives the same');
  });

  it('still verifies the hash chain over the stored log', async () => {
    await new HashChainer(base.db).catchUp();
    const verified = await verifyChain(base.db);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });
});
