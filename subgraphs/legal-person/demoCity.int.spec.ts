/**
 * The demo city on PGlite and PostgreSQL: the population and legal-person seeds go through the
 * command handlers, are deterministic, and the read models agree with the plan they came from.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { chinaDate } from '../kit/calendar.ts';
import { populationModule } from '../population/index.ts';
import { ageOn } from '../population/models/age.ts';
import { ADULT_AGE, ELDERLY_AGE } from '../population/models/vulnerable.ts';
import { PERSONS, REGISTRY_PROJECTION } from '../population/readModels/registry.ts';
import { planDemoPopulation, seedPopulation, type DemoPopulation } from '../population/seed.ts';
import { DEMO_CHANNEL } from '../kit/demoCity.ts';
import { legalPersonModule } from './index.ts';
import { LEGAL_PERSONS, LEGAL_PERSONS_PROJECTION } from './readModels/legalPersons.ts';
import { planDemoLegalPersons, seedLegalPersons, type DemoLegalPerson } from './seed.ts';

const PEOPLE = 800;
const LEGAL = 60;

function demoCitySuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let population: SubgraphHarness;
  let plan: DemoPopulation;
  let legal: DemoLegalPerson[];

  before(async () => {
    backend = await makeBackend();
    const db = await backend.fresh();
    population = await startSubgraphHarness(db, { module: populationModule, with: [legalPersonModule], grants: { statistician: [grantOf(['population.statistics', 'population.basic'])] } });
    plan = await seedPopulation(population.runtime, { people: PEOPLE });
    legal = await seedLegalPersons(population.runtime, { count: LEGAL, people: PEOPLE });
    await population.catchUp();
  });
  after(async () => {
    await population.close();
    await backend.dispose();
  });

  it('plans the same city every time', () => {
    assert.deepEqual(planDemoPopulation({ people: PEOPLE }), plan);
    assert.deepEqual(planDemoLegalPersons({ count: LEGAL, people: PEOPLE }), legal);
    assert.notDeepEqual(planDemoPopulation({ people: PEOPLE, seed: 7 }).persons[0], plan.persons[0]);
  });

  it('writes everything through the commands, as demo-seed provenance, across the twelve districts', async () => {
    const events = await population.store.readAll({ limit: 100_000 });
    assert.ok(events.length > PEOPLE);
    assert.ok(events.every((e) => e.metadata.provenance.channel === DEMO_CHANNEL && e.metadata.actor.consumerId === 'demo-seed'));
    const types = new Set(events.map((e) => e.type));
    for (const type of ['IdNumberClaimed', 'PersonRegistered', 'HouseholdEstablished', 'HouseholdMemberJoined', 'GuardianAssigned', 'SurvivalConfirmed', 'PersonDeceased', 'CreditCodeClaimed', 'LegalPersonRegistered', 'AnnualReportFiled']) {
      assert.ok(types.has(type), type);
    }
    const districts = new Set(plan.households.map((h) => h.divisionCode.slice(0, 6)));
    assert.equal(districts.size, 12);
  });

  it('builds read models that agree with the plan, the §(五) models included', async () => {
    const today = chinaDate(new Date().toISOString());
    const persons = population.runtime.readModels.of(REGISTRY_PROJECTION).collection(PERSONS);
    const living = (i: number) => plan.persons[i]!.dateOfDeath === null;
    const householdOf = new Map(plan.households.flatMap((h) => h.members.map((m) => [m, h] as const)));
    const expectedAlone = plan.persons.filter((p) => living(p.index) && ageOn(p.birthDate, today) >= ELDERLY_AGE && householdOf.get(p.index)!.members.filter(living).length === 1);
    const expectedInDistress = plan.persons.filter((p) => living(p.index) && ageOn(p.birthDate, today) < ADULT_AGE && p.parents !== null && p.parents.every((g) => !living(g.index)));
    assert.ok(expectedAlone.length > 0 && expectedInDistress.length > 0, 'the plan has cases for both models');

    assert.equal(await persons.count(), plan.persons.length);
    assert.equal(await persons.count({ status: 'DECEASED' }), plan.persons.filter((p) => p.dateOfDeath).length);
    const answer = (await population.ask<{ division: { population: { residents: number; elderlyLivingAlone: number; childrenInDistress: number } } }>(
      'statistician',
      '{ division(code: "370100") { population { residents elderlyLivingAlone childrenInDistress } } }',
    )).data!.division.population;
    assert.deepEqual(answer, {
      residents: plan.persons.filter((p) => p.dateOfDeath === null).length,
      elderlyLivingAlone: expectedAlone.length,
      childrenInDistress: expectedInDistress.length,
    });

    const legalPersons = population.runtime.readModels.of(LEGAL_PERSONS_PROJECTION).collection(LEGAL_PERSONS);
    assert.equal(await legalPersons.count(), LEGAL);
    assert.equal(await legalPersons.count({ status: 'REVOKED' }), legal.filter((l) => l.revocation && !l.deregisteredOn).length);
    assert.ok(legal.every((l) => plan.persons.some((p) => p.personId === l.legalRepresentativeId && p.dateOfDeath === null)));
  });
}

for (const makeBackend of BACKENDS) describe(`demo city on ${makeBackend.name.replace('Backend', '')}`, () => demoCitySuite(makeBackend));
