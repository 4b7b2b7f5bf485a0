/**
 * Claims screening end to end, through the gateway with the real governance, population and
 * healthcare subgraphs: a death registered in the population register holds, a week later, a claim
 * for a service date after it — with the flag and the event it rests on in the answer — while a
 * consumer without `healthcare.claims` sees nothing of the claim, and every served read names the
 * person in its access record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { governanceModule } from '../subgraphs/governance/index.ts';
import type { DataAccessed } from '../subgraphs/kit/dataAccessed.ts';
import { healthcareModule } from '../subgraphs/healthcare/index.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { personStreamId } from '../subgraphs/population/person/events.ts';
import { openTestRuntime, startTestGraph, type TestGraph, type TestRuntime } from './helpers/graph.ts';

const DAY = 24 * 3600_000;
const chinaDate = (instant: Date) => new Date(instant.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

const REGISTER = `mutation ($input: RegisterResidentInput!) { registerResident(input: $input) { person { id } positions } }`;
const DEATH = `mutation ($input: RegisterDeathInput!) { registerDeath(input: $input) { person { status dateOfDeath } positions } }`;
const CLAIM_FIELDS = `id status serviceDate person { id } flags { ruleId explanation evidence { type eventId streamId position } }`;
const SUBMIT = `mutation ($input: SubmitClaimInput!) { submitClaim(input: $input) { claim { ${CLAIM_FIELDS} } positions } }`;
const READ_CLAIM = `query ReadClaim($id: ID!) { claim(id: $id) { ${CLAIM_FIELDS} } }`;

interface Evidence {
  type: string;
  eventId: string;
  streamId: string;
  position: string;
}
interface ClaimView {
  id: string;
  status: string;
  serviceDate: string;
  person: { id: string };
  flags: { ruleId: string; explanation: string; evidence: Evidence[] }[];
}

describe('a claim for a person whose death was registered the week before, through the gateway', () => {
  let base: TestRuntime;
  let graph: TestGraph;
  /** The graph's clock: a week in the past while the death is registered, then the present. */
  let clock: Date | undefined;
  const realNow = new Date();
  const weekAgo = new Date(realNow.getTime() - 7 * DAY);
  const dateOfDeath = chinaDate(weekAgo);
  const serviceDate = chinaDate(new Date(weekAgo.getTime() + 3 * DAY));
  let personId: string;
  let deathPositions: string[];
  let claim: ClaimView;
  let insurer: string;

  before(async () => {
    base = await openTestRuntime([governanceModule, populationModule, healthcareModule]);
    base.runtime.now = () => clock ?? new Date();
    graph = await startTestGraph({ modules: [governanceModule, populationModule, healthcareModule], runtime: base });
    // Grants made in the past must still hold in the present.
    const validity = { validFrom: new Date(weekAgo.getTime() - DAY), validUntil: new Date(realNow.getTime() + DAY) };
    await graph.grant('civil-affairs', ['population.write', 'population.basic'], validity);
    await graph.grant('insurer', ['healthcare.claims', 'healthcare.records', 'population.basic'], validity);
    await graph.grant('records-office', ['healthcare.records', 'population.basic'], validity);
    insurer = await graph.tokenFor('insurer');

    clock = weekAgo;
    const civil = await graph.tokenFor('civil-affairs');
    const registered = await graph.gql<{ registerResident: { person: { id: string } } }>(
      REGISTER,
      { input: { idNumber: makeIdNumber('370102', '1948-03-09', 17), name: '王德顺', gender: 'MALE', birthDate: '1948-03-09', residence: { address: '历下区 泉城路 8 号', divisionCode: '370102002001' } } },
      civil,
    );
    assert.equal(registered.body.errors, undefined, JSON.stringify(registered.body.errors));
    personId = registered.body.data!.registerResident.person.id;
    const death = await graph.gql<{ registerDeath: { person: { status: string; dateOfDeath: string }; positions: string[] } }>(DEATH, { input: { personId, dateOfDeath } }, civil);
    assert.equal(death.body.errors, undefined, JSON.stringify(death.body.errors));
    assert.deepEqual(death.body.data!.registerDeath.person, { status: 'DECEASED', dateOfDeath });
    deathPositions = death.body.data!.registerDeath.positions;

    clock = undefined;
    // Healthcare learns of the death from the population events, through its projection.
    await graph.catchUp();
    const submitted = await graph.gql<{ submitClaim: { claim: ClaimView; positions: string[] } }>(
      SUBMIT,
      { input: { personId, hospitalCode: 'H37010201', serviceDate, items: [{ code: '250101015000000', name: '血常规检查', quantity: 1, unitPrice: '20.00' }] } },
      insurer,
    );
    assert.equal(submitted.body.errors, undefined, JSON.stringify(submitted.body.errors));
    claim = submitted.body.data!.submitClaim.claim;
    await graph.catchUp();
  });

  after(async () => {
    await graph?.close();
    await base?.close();
  });

  it('holds the claim with the deceased flag and the PersonDeceased event behind it', async () => {
    assert.equal(claim.status, 'HELD');
    assert.equal(claim.serviceDate, serviceDate);
    const deceased = claim.flags.find((f) => f.ruleId === 'DECEASED_BEFORE_SERVICE');
    assert.ok(deceased, `flags: ${JSON.stringify(claim.flags)}`);
    assert.match(deceased.explanation, new RegExp(dateOfDeath));
    const deathEvent = (await base.runtime.store.readStream(personStreamId(personId))).find((e) => e.type === 'PersonDeceased');
    assert.ok(deathEvent);
    assert.deepEqual(deceased.evidence, [{ type: 'PersonDeceased', eventId: deathEvent.eventId, streamId: personStreamId(personId), position: deathEvent.position }]);
    assert.ok(deathPositions.includes(deathEvent.position), 'the evidence is the event registerDeath appended');
  });

  it('serves the held claim on a later read, and its access record names the person as subject', async () => {
    const response = await graph.gql<{ claim: ClaimView }>(READ_CLAIM, { id: claim.id }, insurer);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    assert.deepEqual(response.body.data?.claim, claim);

    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId);
    const records = (await base.runtime.store.readAll({ filter: { types: ['DataAccessed'] }, limit: 10_000 }))
      .map((e) => e.data as DataAccessed['data'])
      .filter((r) => r.requestId === requestId);
    const healthcare = records.find((r) => r.subgraph === 'healthcare');
    assert.ok(healthcare, `records: ${JSON.stringify(records)}`);
    assert.equal(healthcare.consumerId, 'insurer');
    assert.deepEqual(healthcare.subjectIds, [personId]);
    assert.ok(healthcare.resources.includes('healthcare.claims'));
  });

  it('refuses a consumer without healthcare.claims with FORBIDDEN and serves no claim data', async () => {
    const token = await graph.tokenFor('records-office');
    const read = await graph.gql<{ claim: ClaimView | null }>(READ_CLAIM, { id: claim.id }, token);
    assert.equal(read.status, 200);
    assert.equal(read.body.data?.claim ?? null, null);
    assert.deepEqual(new Set(read.body.errors?.map((e) => e.extensions?.code)), new Set(['FORBIDDEN']));
    assert.ok(read.body.errors?.every((e) => e.extensions?.resource === 'healthcare.claims'));
    assert.doesNotMatch(JSON.stringify(read.body), new RegExp(`${claim.id}|DECEASED_BEFORE_SERVICE|HELD`));

    const listed = await graph.gql<{ claims: unknown }>(`{ claims(filter: { flagged: true }, first: 5) { edges { node { id status } } } }`, undefined, token);
    assert.equal(listed.body.data?.claims ?? null, null);
    assert.equal(listed.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');

    const head = await base.runtime.store.headPosition();
    const write = await graph.gql(SUBMIT, { input: { personId, hospitalCode: 'H37010201', serviceDate, items: [{ code: '250101015000000', name: '血常规检查', quantity: 1, unitPrice: '20.00' }] } }, token);
    assert.equal(write.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const appended = await base.runtime.store.readAll({ fromPosition: head, filter: { types: ['ClaimSubmitted'] }, limit: 10 });
    assert.deepEqual(appended, [], 'a refused submission appends no claim');
  });
});
