/**
 * Auditors' time travel through the gateway: while a person, a legal person and an
 * incident change, the read model's answers are captured at several moments with the instant and the
 * log's head position; afterwards `asOf: <instant>` and `asOfPosition: <position>` — folded from each
 * stream's prefix by the same `evolve` — must give exactly the captured answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { START } from '../events/types.ts';
import { environmentConfig } from '../subgraphs/environment/config.ts';
import { environmentModule } from '../subgraphs/environment/index.ts';
import { seedEnvironment } from '../subgraphs/environment/seed.ts';
import { stationStreamId } from '../subgraphs/environment/station/events.ts';
import { claimStreamId } from '../subgraphs/healthcare/claim/events.ts';
import { healthRecordStreamId } from '../subgraphs/healthcare/healthRecord/events.ts';
import { healthcareModule } from '../subgraphs/healthcare/index.ts';
import { seedHealthcare } from '../subgraphs/healthcare/seed.ts';
import { makeCreditCode } from '../subgraphs/legal-person/identity/creditCode.ts';
import { legalPersonModule } from '../subgraphs/legal-person/index.ts';
import { seedLegalPersons } from '../subgraphs/legal-person/seed.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { personStreamId } from '../subgraphs/population/person/events.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { seedPopulation } from '../subgraphs/population/seed.ts';
import { taxModule } from '../subgraphs/tax/index.ts';
import { seedTax } from '../subgraphs/tax/seed.ts';
import { taxpayerStreamId } from '../subgraphs/tax/taxpayer/events.ts';
import { incidentStreamId } from '../subgraphs/urban-ops/incident/events.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';
import { openTestRuntime, startTestGraph, type GqlResponse, type TestGraph, type TestRuntime } from './helpers/graph.ts';

const MODULES = [populationModule, legalPersonModule, urbanOpsModule];
const COMMUNITY = '370102003001';
const DISTRICT = '370102';
const roads = { unitId: 'lixia-municipal', unitName: '历下区市政工程处', divisionCode: DISTRICT };

/** What is compared: the same selection now, `asOf` and `asOfPosition`. */
const QUERY = `query ($person: ID!, $legalPerson: ID!, $incident: ID!, $asOf: DateTime, $asOfPosition: String) {
  person(id: $person, asOf: $asOf, asOfPosition: $asOfPosition) {
    name status revision residence { address division { code } } history { revision } asOf asOfPosition
  }
  legalPerson(id: $legalPerson, asOf: $asOf, asOfPosition: $asOfPosition) {
    name status revision legalRepresentative { id } registeredAddress { address } history { revision } asOf asOfPosition
  }
  incident(id: $incident, asOf: $asOf, asOfPosition: $asOfPosition) {
    status level revision owner { divisionCode } history { revision } asOf asOfPosition
  }
}`;

type Point = { asOf: string | null; asOfPosition: string | null };
type Answer = Record<string, (Point & Record<string, unknown>) | null>;

interface Capture {
  at: string;
  position: string;
  answer: Answer;
}

const data = <Data>(response: GqlResponse<Data>): Data => {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  assert.ok(response.body.data);
  return response.body.data;
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The answer without the fields that say which point it is as of. */
const content = (answer: Answer) =>
  Object.fromEntries(Object.entries(answer).map(([key, value]) => [key, value && { ...value, asOf: undefined, asOfPosition: undefined }]));

for (const backend of ['pglite', 'postgres'] as const) describe(`time travel through the gateway on ${backend}: asOf and asOfPosition against the read model captured during a run`, () => {
  let base: TestRuntime;
  let graph: TestGraph;
  let writer: string;
  let auditor: string;
  let ids: { person: string; legalPerson: string; incident: string };
  const captures: Capture[] = [];

  const mutate = async <T>(name: string, input: Record<string, unknown>, selection: string): Promise<T> => {
    const type = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
    return data(await graph.gql<Record<string, T>>(`mutation ($input: ${type}!) { ${name}(input: $input) { ${selection} } }`, { input }, writer))[name]!;
  };
  const ask = (variables: Record<string, unknown>, token = auditor) => graph.gql<Answer>(QUERY, { ...ids, ...variables }, token);

  /** The read model's answer once the projections caught up, with the instant and head position it stands at. */
  async function capture(): Promise<void> {
    await base.catchUp();
    const position = await base.runtime.store.headPosition();
    // Strictly after every event so far (recordedAt has microseconds, an ISO instant milliseconds)…
    await pause(5);
    const at = new Date().toISOString();
    captures.push({ at, position, answer: data(await ask({})) });
    // …and strictly before every later one.
    await pause(5);
  }

  before(async () => {
    base = await openTestRuntime(MODULES, backend);
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    const reads = ['population.basic', 'population.identity', 'legal-person.basic', 'legal-person.identity', 'audit.log', 'urban.incidents'];
    await graph.grant('time-travel-writer', [...reads, 'population.write', 'legal-person.write', 'urban.write'], { actions: ['READ', 'WRITE'] });
    await graph.grant('time-travel-auditor', reads, { actions: ['READ'] });
    // The writer acts for the district's command centre in urban operations.
    await graph.assignJurisdiction('time-travel-writer', { divisionCode: DISTRICT });
    await graph.assignJurisdiction('lixia-roads', roads);
    writer = await graph.tokenFor('time-travel-writer');
    auditor = await graph.tokenFor('time-travel-auditor', 'auditor');

    const person = await mutate<{ person: { id: string } }>(
      'registerResident',
      { idNumber: makeIdNumber(DISTRICT, '1968-05-04', 31), name: '赵卫东', gender: 'MALE', birthDate: '1968-05-04', residence: { address: '泉城路 1 号', divisionCode: COMMUNITY } },
      'person { id }',
    );
    const legalPerson = await mutate<{ legalPerson: { id: string } }>(
      'registerLegalPerson',
      {
        creditCode: makeCreditCode({ divisionCode: DISTRICT, organizationCode: 'MA3T0001' }),
        name: '济南时光测绘有限公司',
        type: 'ENTERPRISE',
        legalRepresentativeId: person.person.id,
        registeredAddress: { address: '经十路 88 号', divisionCode: COMMUNITY },
        registeredCapital: '500000.00',
        industry: { section: 'M', name: '测绘服务' },
        establishedOn: '2012-09-01',
      },
      'legalPerson { id }',
    );
    const incident = await mutate<{ incident: { id: string } }>(
      'reportIncident',
      {
        channel: 'GRID_WORKER',
        category: 'MUNICIPAL_FACILITY',
        subcategory: 'MISSING_MANHOLE_COVER',
        description: '经十路 88 号门前雨水井盖缺失',
        location: { longitude: 117.0311, latitude: 36.6551, address: '经十路 88 号' },
        divisionCode: COMMUNITY,
        reporter: { kind: 'GRID_WORKER', id: 'gw-88' },
        attachments: [],
      },
      'incident { id }',
    );
    ids = { person: person.person.id, legalPerson: legalPerson.legalPerson.id, incident: incident.incident.id };
    const on = { incidentId: ids.incident };

    await capture();
    await mutate('changeResidence', { personId: ids.person, residence: { address: '天桥区 2 号', divisionCode: '370105001001' }, movedOn: '2026-01-10' }, 'revision');
    await mutate('registerIncident', on, 'revision');
    await capture();
    await mutate('changeRegisteredAddress', { legalPersonId: ids.legalPerson, registeredAddress: { address: '历山路 9 号', divisionCode: COMMUNITY }, changedOn: '2026-02-01' }, 'revision');
    await mutate('dispatchIncident', { ...on, unit: roads }, 'revision');
    await capture();
    await mutate('changeResidence', { personId: ids.person, residence: { address: '槐荫区 3 号', divisionCode: '370104001001' }, movedOn: '2026-03-15' }, 'revision');
    await mutate('startHandling', { ...on, onBehalfOfUnit: { unitId: roads.unitId, divisionCode: roads.divisionCode } }, 'revision');
    await capture();
  });
  after(async () => {
    await graph?.close();
    await base?.close();
  });

  it('captured a run in which every entity changed', () => {
    const revisions = (key: keyof Answer) => captures.map((c) => c.answer[key]?.revision);
    assert.deepEqual(revisions('person'), [0, 1, 1, 2]);
    assert.deepEqual(revisions('legalPerson'), [0, 0, 1, 1]);
    assert.deepEqual(revisions('incident'), [0, 1, 2, 3]);
    assert.ok(captures.every((c) => c.answer.person?.asOf === null && c.answer.person.asOfPosition === null));
  });

  it('answers asOf at each captured instant exactly as the read model did then', async () => {
    for (const { at, answer } of captures) {
      const past = data(await ask({ asOf: at }));
      assert.deepEqual(content(past), content(answer), `as of ${at}`);
      for (const entity of Object.values(past)) assert.deepEqual([entity?.asOf, entity?.asOfPosition], [at, null]);
    }
  });

  it('answers asOfPosition at each captured head position exactly as the read model did then', async () => {
    for (const { at, position, answer } of captures) {
      const past = data(await ask({ asOfPosition: position }));
      assert.deepEqual(content(past), content(answer), `as of position ${position}`);
      for (const entity of Object.values(past)) {
        assert.equal(entity?.asOfPosition, position);
        // The instant of a position view is when the event at that position was recorded.
        assert.ok(entity.asOf !== null && entity.asOf < at, `${entity.asOf} before ${at}`);
      }
    }
  });

  it('names the event that last set each field of the incident, from its read-model document', async () => {
    type Provenance = { field: string; type: string; position: string; department: string };
    const query = `query ($id: ID!) { incident(id: $id) {
      provenance { field type position department }
      caseNumber: fieldProvenance(field: "caseNumber") { type }
      reportedAt: fieldProvenance(field: "reportedAt") { type }
      status: fieldProvenance(field: "status") { type position }
      revision: fieldProvenance(field: "revision") { type position }
    } }`;
    const incident = data(await graph.gql<{ incident: { provenance: Provenance[] } & Record<string, Provenance> }>(query, { id: ids.incident }, auditor)).incident;
    const [last] = await base.runtime.store.readStream(incidentStreamId(ids.incident), { direction: 'backwards', limit: 1 });
    assert.deepEqual([incident.caseNumber!.type, incident.reportedAt!.type, incident.status!.type], ['IncidentRegistered', 'IncidentReported', 'IncidentHandlingStarted']);
    assert.deepEqual(incident.revision, { type: last!.type, position: last!.position });
    assert.deepEqual(incident.provenance.find((p) => p.field === 'status'), { field: 'status', type: 'IncidentHandlingStarted', position: incident.status!.position, department: incident.provenance[0]!.department });
    const unknown = await graph.gql(`query ($id: ID!) { incident(id: $id) { fieldProvenance(field: "handling") { type } } }`, { id: ids.incident }, auditor);
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(unknown.body.errors[0]!.message, /Incident has no field "handling"; provenance is kept for channel, .*status/);
    const past = await graph.gql(`query ($id: ID!, $at: DateTime) { incident(id: $id, asOf: $at) { provenance { type } } }`, { id: ids.incident, at: captures[0]!.at }, auditor);
    assert.equal(past.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', 'provenance describes the current record only');
  });

  it('answers null before anything was recorded, and refuses both points at once or an unknown position, changing nothing', async () => {
    assert.deepEqual(data(await ask({ asOfPosition: START })), { person: null, legalPerson: null, incident: null });
    assert.deepEqual(data(await ask({ asOf: '2000-01-01T00:00:00Z' })), { person: null, legalPerson: null, incident: null });
    const both = await ask({ asOf: captures[0]!.at, asOfPosition: captures[0]!.position });
    assert.equal(both.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(both.body.errors));
    assert.match(both.body.errors[0]!.message, /asOf .* or asOfPosition .*, not both/);
    const unknown = await ask({ asOfPosition: '999999999:999999999' });
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(unknown.body.errors[0]!.message, /position 999999999:999999999 does not exist/);
    // Reading the past changes nothing of it, and a refused read leaves no access record.
    const [person] = await base.runtime.store.readStreams([personStreamId(ids.person)]);
    assert.equal(person!.at(-1)!.revision, 2);
    const refusedIds = new Set([both.headers.get('x-request-id'), unknown.headers.get('x-request-id')]);
    assert.equal(refusedIds.size, 2);
    await base.catchUp();
    const records = await base.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 100_000 });
    assert.deepEqual(records.filter((e) => refusedIds.has((e.data as { requestId: string }).requestId)), []);
  });
});

/** The other entities with a stream, in a small seeded city: now, `asOf` now and `asOfPosition` at the head agree. */
const OTHERS = `query ($station: ID!, $record: ID!, $claim: ID!, $taxpayer: ID!, $asOf: DateTime, $asOfPosition: String) {
  station(id: $station, asOf: $asOf, asOfPosition: $asOfPosition) {
    name kind divisionCode latest { observedAt aqi level primaryPollutants corrected } history { revision } asOf asOfPosition
  }
  healthRecord(personId: $record, asOf: $asOf, asOfPosition: $asOfPosition) { closed revision history { revision } asOf asOfPosition }
  claim(id: $claim, asOf: $asOf, asOfPosition: $asOfPosition) { status total { yuan } revision history { revision } asOf asOfPosition }
  taxpayer(id: $taxpayer, asOf: $asOf, asOfPosition: $asOfPosition) { name kind declaredTotal { yuan } history { revision } asOf asOfPosition }
}`;

describe('time travel and provenance through the gateway: stations, households, health records, claims and taxpayers', () => {
  const modules = [populationModule, legalPersonModule, environmentModule, healthcareModule, taxModule];
  let base: TestRuntime;
  let graph: TestGraph;
  let token: string;
  const ids: Record<string, string> = {};

  before(async () => {
    base = await openTestRuntime(modules);
    const { runtime } = base;
    await seedPopulation(runtime, { people: 200 });
    await seedLegalPersons(runtime, { count: 20, people: 200 });
    await seedEnvironment(runtime, environmentConfig({}), { days: 1 });
    await seedHealthcare(runtime, { persons: 10 });
    await seedTax(runtime, { propertyTransactions: 2 });
    await base.catchUp();
    // One of each, straight from the log: the first stream of each kind (told by its prefix and the
    // type of its first event; other streams share some prefixes, e.g. `tax.taxpayer-subject-…`).
    const kinds: Record<string, [prefix: string, firstType: string]> = {
      station: [stationStreamId(''), 'MonitoringStationRegistered'],
      record: [healthRecordStreamId(''), 'MedicalVisitRecorded'],
      claim: [claimStreamId(''), 'ClaimSubmitted'],
      taxpayer: [taxpayerStreamId(''), 'TaxpayerRegistered'],
    };
    for (const event of await runtime.store.readAll({ limit: 100_000 })) {
      for (const [key, [prefix, type]] of Object.entries(kinds)) {
        if (!ids[key] && event.revision === 0 && event.type === type && event.streamId.startsWith(prefix)) ids[key] = event.streamId.slice(prefix.length);
      }
    }
    graph = await startTestGraph({ modules, runtime: base });
    await graph.grant('time-travel-auditor', ['environment.air', 'healthcare.records', 'healthcare.claims', 'tax.declarations', 'audit.log'], { actions: ['READ'] });
    token = await graph.tokenFor('time-travel-auditor', 'auditor');
  });
  after(async () => {
    await graph?.close();
    await base?.close();
  });

  it('answers asOf now and asOfPosition at the head as the read model does, and null before the city existed', async () => {
    assert.deepEqual(Object.keys(ids).sort(), ['claim', 'record', 'station', 'taxpayer']);
    const ask = (variables: Record<string, unknown>) => graph.gql<Answer>(OTHERS, { ...ids, ...variables }, token);
    const position = await base.runtime.store.headPosition();
    await pause(5);
    const at = new Date().toISOString();
    const now = data(await ask({}));
    assert.ok(Object.values(now).every((entity) => entity !== null && entity.asOf === null), JSON.stringify(now));
    assert.ok(now.station && (now.station.history as unknown[]).length > 0 && now.station.latest !== null, 'the station has readings');
    const byInstant = data(await ask({ asOf: at }));
    const byPosition = data(await ask({ asOfPosition: position }));
    assert.deepEqual(content(byInstant), content(now));
    assert.deepEqual(content(byPosition), content(now));
    for (const entity of Object.values(byPosition)) assert.equal(entity?.asOfPosition, position);
    assert.deepEqual(data(await ask({ asOf: '2000-01-01T00:00:00Z' })), { station: null, healthRecord: null, claim: null, taxpayer: null });
  });

  it('names the event that last set the fields of a station and of a household', async () => {
    const [household] = (await base.runtime.store.readAll({ limit: 100_000 })).filter((e) => e.type === 'HouseholdMemberJoined');
    const householdId = (household!.data as { householdId: string }).householdId;
    await graph.grant('time-travel-auditor', ['population.household'], { actions: ['READ'] });
    const query = `query ($station: ID!, $household: ID!) {
      station(id: $station) { name: fieldProvenance(field: "name") { type } latest: fieldProvenance(field: "latest") { type } }
      household(id: $household) { head: fieldProvenance(field: "head") { type } members: fieldProvenance(field: "members") { type } provenance { field } }
    }`;
    type Named = { type: string } | null;
    const answer = data(await graph.gql<{ station: Record<string, Named>; household: Record<string, Named> & { provenance: { field: string }[] } }>(query, { station: ids.station, household: householdId }, token));
    assert.equal(answer.station.name?.type, 'MonitoringStationRegistered');
    assert.match(answer.station.latest?.type ?? '', /^AirQuality(Observed|ObservationCorrected)$/);
    assert.equal(answer.household.head?.type, 'HouseholdEstablished');
    assert.match(answer.household.members?.type ?? '', /^Household(MemberJoined|MemberLeft|HeadChanged)$/);
    assert.ok(answer.household.provenance.some((p) => p.field === 'address'));
  });

  it('names the event that last set the fields of a health record, a claim and a taxpayer', async () => {
    const query = `query ($record: ID!, $claim: ID!, $taxpayer: ID!) {
      healthRecord(personId: $record) { person: fieldProvenance(field: "person") { type } revision: fieldProvenance(field: "revision") { type position } }
      claim(id: $claim) { submittedAt: fieldProvenance(field: "submittedAt") { type } status: fieldProvenance(field: "status") { type } revision: fieldProvenance(field: "revision") { type position } }
      taxpayer(id: $taxpayer) { name: fieldProvenance(field: "name") { type } provenance { field type } }
    }`;
    type Named = { type: string; position?: string } | null;
    const answer = data(
      await graph.gql<{ healthRecord: Record<string, Named>; claim: Record<string, Named>; taxpayer: { name: Named; provenance: { field: string; type: string }[] } }>(query, ids, token),
    );
    const last = async (streamId: string) => (await base.runtime.store.readStream(streamId, { direction: 'backwards', limit: 1 }))[0]!;
    const [recordLast, claimLast] = [await last(healthRecordStreamId(ids.record!)), await last(claimStreamId(ids.claim!))];
    // The first event set the person; the last one the revision.
    assert.equal(answer.healthRecord.person?.type, 'MedicalVisitRecorded');
    assert.deepEqual(answer.healthRecord.revision, { type: recordLast.type, position: recordLast.position });
    assert.equal(answer.claim.submittedAt?.type, 'ClaimSubmitted');
    assert.match(answer.claim.status?.type ?? '', /^Claim(Screened|Reviewed|Settled|Rejected)$/);
    assert.deepEqual(answer.claim.revision, { type: claimLast.type, position: claimLast.position });
    assert.equal(answer.taxpayer.name?.type, 'TaxpayerRegistered');
    const declared = answer.taxpayer.provenance.find((p) => p.field === 'declaredTotal');
    // The demo taxpayer declared: its total was last set by a declaration, not by the registration.
    assert.match(declared?.type ?? '', /^Tax(Declared|DeclarationAmended)$/, JSON.stringify(answer.taxpayer.provenance));
  });
});
