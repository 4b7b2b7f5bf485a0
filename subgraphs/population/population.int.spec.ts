/**
 * The population subgraph end to end over HTTP on PGlite and PostgreSQL: the command path
 * (validation, uniqueness under concurrency, transitions, optimistic concurrency), the read models
 * against the events they come from, connections, `asOf`, verify-only answers and the access
 * directives of its schema.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { assertDivisionGone } from '../../test/helpers/divisionGone.ts';
import { backendForSuite } from '../../test/helpers/suiteBackend.ts';
import { readCommitted } from '../../test/helpers/events.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { chinaDate } from '../kit/calendar.ts';
import { idNumberCheckCharacter, makeIdNumber } from './identity/idNumber.ts';
import { idNumbers } from './handlers.ts';
import { populationModule } from './index.ts';
import { personStreamId } from './person/events.ts';
import { DIVISION_STATS, DIVISION_STATS_PROJECTION } from './readModels/divisionStats.ts';
import { PERSONS, REGISTRY_PROJECTION, type PersonDoc } from './readModels/registry.ts';
import { personDecider } from './person/decider.ts';
import { personFromDoc, personFromState } from './views.ts';
import { viewFromEvents } from '../kit/entityViews.ts';
import { type Body, failure, only } from '../../test/helpers/graphqlBody.ts';
import { refusedNaming } from '../../test/helpers/commandChecks.ts';

const LIXIA = '370102';
const COMMUNITY = '370102001001';
const OTHER_COMMUNITY = '370103001001';
const ALL_POPULATION = ['population.basic', 'population.identity', 'population.household', 'population.statistics', 'population.verify', 'population.write', 'audit.log'];

const GRANTS = {
  registrar: [grantOf(ALL_POPULATION, ['READ', 'WRITE', 'VERIFY'])],
  registrar2: [grantOf(ALL_POPULATION, ['READ', 'WRITE', 'VERIFY'])],
  verifier: [grantOf(['population.verify'], ['VERIFY'])],
  // VERIFY on every population resource, and identity only masked: still no natural-key lookup.
  'verify-everything': [grantOf(ALL_POPULATION, ['VERIFY']), grantOf(['population.basic']), grantOf(['population.identity'], ['READ'], true)],
  reader: [grantOf(['population.basic'])],
  masked: [grantOf(['population.basic']), grantOf(['population.identity'], ['READ'], true)],
};


const PERSON_FIELDS = 'id idNumber name gender birthDate age status revision residence { address division { code name level } }';
const REGISTER = `mutation Register($input: RegisterResidentInput!) { registerResident(input: $input) { revision positions person { ${PERSON_FIELDS} } } }`;

interface PersonResult {
  id: string;
  idNumber: string;
  name: string;
  age: number;
  status: string;
  revision: number;
  residence: { address: string; division: { code: string } };
}

function resident(idNumber: string, name: string, birthDate: string, gender: 'MALE' | 'FEMALE', divisionCode = COMMUNITY) {
  return { idNumber, name, gender, birthDate, residence: { address: `${name}家`, divisionCode } };
}

/** A valid ID number for a birth date and sequence (odd: men, even: women). */
const idFor = (birthDate: string, sequence: number, division = LIXIA) => makeIdNumber(division, birthDate, sequence);

function populationSuite(makeBackend: () => Promise<TestBackend>): void {
  const backend = backendForSuite(makeBackend);
  let db: SqlDatabase;
  let harness: SubgraphHarness;
  let queries = 0;

  const ask = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, consumer = 'registrar') =>
    harness.ask<T>(consumer, query, variables) as Promise<Body<T>>;

  async function register(input: ReturnType<typeof resident> & { provenance?: Record<string, string> }): Promise<PersonResult> {
    return only(await ask<{ registerResident: { person: PersonResult } }>(REGISTER, { input })).registerResident.person;
  }

  async function mutate<T = Record<string, unknown>>(name: string, inputType: string, input: Record<string, unknown>, selection: string): Promise<Body<T>> {
    return ask<T>(`mutation M($input: ${inputType}!) { ${name}(input: $input) { ${selection} } }`, { input });
  }

  beforeEach(async () => {
    const fresh = await backend.fresh();
    // Counts round trips, for the batching test.
    db = { ...fresh, query: (sql, params) => (queries++, fresh.query(sql, params)) } as SqlDatabase;
    harness = await startSubgraphHarness(db, { module: populationModule, grants: GRANTS });
  });
  afterEach(async () => {
    await harness.close();
  });

  describe('the command path', () => {
    it('registers a resident with provenance and the caller as actor, claiming the ID number', async () => {
      const idNumber = idFor('1990-03-07', 123);
      const body = only(await ask<{ registerResident: { revision: number; positions: string[]; person: PersonResult } }>(REGISTER, { input: resident(idNumber, '李娜', '1990-03-07', 'MALE') }));
      const { person, revision, positions } = body.registerResident;
      assert.equal(person.idNumber, idNumber);
      assert.equal(person.status, 'REGISTERED');
      assert.equal(person.residence.division.code, COMMUNITY);
      assert.equal(person.age, Number(chinaDate(new Date().toISOString()).slice(0, 4)) - 1990 - (chinaDate(new Date().toISOString()).slice(5) < '03-07' ? 1 : 0));
      assert.equal(revision, 0);
      assert.equal(positions.length, 2, 'the ID number claim and the registration');

      const [registered] = await harness.store.readStream(personStreamId(person.id));
      assert.equal(registered?.type, 'PersonRegistered');
      assert.equal(registered.metadata.provenance.department, '市公安局');
      assert.equal(registered.metadata.provenance.channel, 'graphql');
      assert.equal(registered.metadata.actor.consumerId, 'registrar');
      assert.equal(registered.metadata.grantId, GRANTS.registrar[0]!.grantId, 'the write grant is named');
      // Without a personal-data master key the claim stream keeps the number in its id (docs/privacy.md).
      assert.deepEqual(idNumbers.claimStreams(harness.store, idNumber), { streamId: `population.id-number-${idNumber}` });
      const [claim] = await harness.store.readStream(idNumbers.claimStreams(harness.store, idNumber).streamId);
      assert.deepEqual(claim?.data, { key: idNumber, ownerId: person.id });
    });

    it('refuses a wrong ID number naming the rule that failed, and appends nothing', async () => {
      const valid = idFor('1990-03-07', 123);
      const wrongCheck = valid.slice(0, 17) + (valid.endsWith('0') ? '1' : '0');
      const impossibleDate = `37010219900230123`;
      const cases: [ReturnType<typeof resident>, string][] = [
        [resident(wrongCheck, '甲', '1990-03-07', 'MALE'), 'CHECK_CHARACTER'],
        [resident(impossibleDate + idNumberCheckCharacter(impossibleDate), '乙', '1990-02-28', 'MALE'), 'BIRTH_DATE'],
        [resident(valid, '丙', '1990-03-08', 'MALE'), 'BIRTH_DATE_MISMATCH'],
        [resident(`99${valid.slice(2, 17)}${idNumberCheckCharacter(`99${valid.slice(2, 17)}`)}`, '丁', '1990-03-07', 'MALE'), 'DIVISION'],
        [resident(valid.slice(0, 17), '戊', '1990-03-07', 'MALE'), 'LENGTH'],
      ];
      for (const [input, rule] of cases) {
        const error = failure(await ask(REGISTER, { input }), 'BAD_USER_INPUT');
        assert.equal(error.extensions?.rule, rule, error.message);
        assert.match(error.message, /idNumber .* is invalid/);
      }
      const wrongGender = failure(await ask(REGISTER, { input: resident(valid, '己', '1990-03-07', 'FEMALE') }), 'BAD_USER_INPUT');
      assert.match(wrongGender.message, /17th digit denotes MALE/);
      assert.deepEqual(await readCommitted(harness.store), []);
    });

    it('refuses every reference to a person, household or division that does not exist as BAD_USER_INPUT naming the field, appending nothing', async () => {
      const head = await register(resident(idFor('1980-01-01', 11), '户主', '1980-01-01', 'MALE'));
      const household = only(await mutate<{ establishHousehold: { household: { id: string } } }>('establishHousehold', 'EstablishHouseholdInput', { headId: head.id, address: '一号', divisionCode: COMMUNITY }, 'household { id }'));
      const householdId = household.establishHousehold.household.id;
      const nobody = '00000000-0000-4000-8000-0000000000aa';
      const unknownCommunity = '370102001999';
      const birth = (overrides: Record<string, unknown>) => ({
        idNumber: idFor('2024-05-01', 12),
        name: '新生',
        gender: 'FEMALE',
        birthDate: '2024-05-01',
        parents: [{ personId: head.id, relation: 'FATHER' }],
        householdId,
        relationToHead: 'CHILD',
        ...overrides,
      });
      const cases: [field: string, send: () => Promise<Body>][] = [
        ['residence.divisionCode', () => ask(REGISTER, { input: resident(idFor('1990-01-01', 13), '甲', '1990-01-01', 'MALE', unknownCommunity) })],
        ['parents[0].personId', () => mutate('registerBirth', 'RegisterBirthInput', birth({ parents: [{ personId: nobody, relation: 'FATHER' }] }), 'positions')],
        ['householdId', () => mutate('registerBirth', 'RegisterBirthInput', birth({ householdId: nobody }), 'positions')],
        ['residence.divisionCode', () => mutate('registerBirth', 'RegisterBirthInput', birth({ residence: { address: '二号', divisionCode: unknownCommunity } }), 'positions')],
        ['residence.divisionCode', () => mutate('changeResidence', 'ChangeResidenceInput', { personId: head.id, residence: { address: '二号', divisionCode: unknownCommunity }, movedOn: '2025-01-01' }, 'revision')],
        ['guardianId', () => mutate('assignGuardian', 'AssignGuardianInput', { personId: head.id, guardianId: nobody, relation: 'OTHER' }, 'revision')],
        ['headId', () => mutate('establishHousehold', 'EstablishHouseholdInput', { headId: nobody, address: '三号', divisionCode: COMMUNITY }, 'positions')],
        ['divisionCode', () => mutate('establishHousehold', 'EstablishHouseholdInput', { headId: head.id, address: '三号', divisionCode: unknownCommunity }, 'positions')],
        ['personId', () => mutate('joinHousehold', 'JoinHouseholdInput', { householdId, personId: nobody, relationToHead: 'CHILD' }, 'revision')],
        ['headId', () => mutate('changeHouseholdHead', 'ChangeHouseholdHeadInput', { householdId, headId: nobody, relationsToHead: [] }, 'revision')],
      ];
      for (const [field, send] of cases) await refusedNaming(harness.store, field, send);
      // The mutation's own target is another matter: an unknown person moved is NOT_FOUND.
      failure(await mutate('changeResidence', 'ChangeResidenceInput', { personId: nobody, residence: { address: '二号', divisionCode: COMMUNITY }, movedOn: '2025-01-01' }, 'revision'), 'NOT_FOUND');
    });

    it('refuses a second person with the same ID number as a CONFLICT, also when registrations race', async () => {
      const idNumber = idFor('1985-06-01', 222);
      await register(resident(idNumber, '王芳', '1985-06-01', 'FEMALE'));
      const again = failure(await ask(REGISTER, { input: resident(idNumber, '王芳', '1985-06-01', 'FEMALE') }), 'CONFLICT');
      assert.match(again.message, /already registered to another person/);
      assert.equal(again.extensions?.holderId, undefined, 'the holder is not revealed');

      const racing = idFor('1988-09-09', 331);
      const results = await Promise.all(Array.from({ length: 6 }, () => ask(REGISTER, { input: resident(racing, '赵强', '1988-09-09', 'MALE') })));
      assert.equal(results.filter((r) => !r.errors).length, 1);
      for (const r of results.filter((r) => r.errors)) failure(r, 'CONFLICT');
      const registrations = (await readCommitted(harness.store, { filter: { types: ['PersonRegistered'] } })).filter((e) => (e.data as { idNumber: string }).idNumber === racing);
      assert.equal(registrations.length, 1);
    });

    it('refuses what a deceased person cannot do with INVALID_TRANSITION, appending nothing', async () => {
      const person = await register(resident(idFor('1940-01-01', 11), '孙刚', '1940-01-01', 'MALE'));
      only(await mutate('registerDeath', 'RegisterDeathInput', { personId: person.id, dateOfDeath: '2025-01-02', place: '济南市中心医院' }, 'revision person { status dateOfDeath survival { status deceasedOn } }'));
      const moved = failure(
        await mutate('changeResidence', 'ChangeResidenceInput', { personId: person.id, residence: { address: '新家', divisionCode: OTHER_COMMUNITY }, movedOn: '2025-01-01' }, 'revision'),
        'INVALID_TRANSITION',
      );
      assert.equal(moved.extensions?.status, 'DECEASED');
      const proof = failure(await mutate('confirmSurvival', 'ConfirmSurvivalInput', { personId: person.id, method: 'COMMUNITY_VISIT', source: '社区', confirmedAt: new Date().toISOString() }, 'revision'), 'INVALID_TRANSITION');
      assert.match(proof.message, /cannot confirmSurvival while the status is DECEASED/);
      assert.equal(await harness.store.streamRevision(personStreamId(person.id)), 1);
      failure(await mutate('registerDeath', 'RegisterDeathInput', { personId: '00000000-0000-4000-8000-000000000000', dateOfDeath: '2025-01-02' }, 'revision'), 'NOT_FOUND');
    });

    it('refuses a change decided on a stale revision with CONFLICT', async () => {
      const person = await register(resident(idFor('1970-05-05', 55), '周敏', '1970-05-05', 'MALE'));
      const move = (address: string, expectedRevision: number) =>
        mutate<{ changeResidence: { revision: number; person: { residence: { address: string } } } }>(
          'changeResidence',
          'ChangeResidenceInput',
          { personId: person.id, residence: { address, divisionCode: OTHER_COMMUNITY }, movedOn: '2025-05-05', expectedRevision },
          'revision person { residence { address } }',
        );
      const first = only(await move('经十路1号', 0));
      assert.equal(first.changeResidence.revision, 1);
      assert.equal(first.changeResidence.person.residence.address, '经十路1号');
      const stale = failure(await move('经十路2号', 0), 'CONFLICT');
      assert.equal(stale.extensions?.actualRevision, 1);
      assert.equal(await harness.store.streamRevision(personStreamId(person.id)), 1);
    });

    it('answers every create re-sent with the same idempotency key with its first result, appending nothing', async () => {
      const head = async () => (await readCommitted(harness.store)).length;
      const twice = async <T,>(name: string, inputType: string, input: Record<string, unknown>, selection: string): Promise<T[]> => {
        const first = only(await mutate<Record<string, T>>(name, inputType, input, selection))[name]!;
        const before = await head();
        const again = only(await mutate<Record<string, T>>(name, inputType, input, selection))[name]!;
        assert.equal(await head(), before, `a re-sent ${name} appends nothing`);
        assert.deepEqual(again, first, `a re-sent ${name} returns the first result`);
        return [first, again];
      };
      const [father] = await twice<{ positions: string[]; person: { id: string } }>(
        'registerResident', 'RegisterResidentInput', { ...resident(idFor('1990-01-01', 101), '陈伟', '1990-01-01', 'MALE'), idempotencyKey: 'father' }, 'positions person { id }',
      );
      assert.equal(father!.positions.length, 2, 'the ID number claim and the registration, both times');
      const [home] = await twice<{ positions: string[]; household: { id: string } }>(
        'establishHousehold', 'EstablishHouseholdInput', { headId: father!.person.id, address: '历下区解放路8号', divisionCode: COMMUNITY, idempotencyKey: 'home' }, 'positions household { id }',
      );
      const birth = { idNumber: idFor('2024-05-20', 300), name: '陈悦', gender: 'FEMALE', birthDate: '2024-05-20', parents: [{ personId: father!.person.id, relation: 'FATHER' }], householdId: home!.household.id, relationToHead: 'CHILD', idempotencyKey: 'birth' };
      const [born] = await twice<{ positions: string[]; person: { id: string } }>('registerBirth', 'RegisterBirthInput', birth, 'positions person { id }');
      assert.equal(born!.positions.length, 4, 'claim, registration, guardian, membership');

      // Another consumer's equal key is its own: a second person, not the first one's result.
      const other = only(await ask<{ registerResident: { person: { id: string } } }>(REGISTER, { input: { ...resident(idFor('1991-02-02', 102), '林静', '1991-02-02', 'FEMALE'), idempotencyKey: 'father' } }, 'registrar2'));
      assert.notEqual(other.registerResident.person.id, father!.person.id);

      // The same key with another ID number is refused: the key names the first registration.
      const before = await head();
      const reused = failure(await ask(REGISTER, { input: { ...resident(idFor('1992-03-03', 104), '王芳', '1992-03-03', 'FEMALE'), idempotencyKey: 'father' } }), 'CONFLICT');
      assert.match(reused.message, /idempotency key/);
      assert.equal(await head(), before, 'nothing appended');
    });

    it('registers a birth as one command: the person, the parents as guardians, the household membership', async () => {
      const father = await register(resident(idFor('1990-01-01', 101), '陈伟', '1990-01-01', 'MALE'));
      const mother = await register(resident(idFor('1991-02-02', 102), '林静', '1991-02-02', 'FEMALE'));
      const established = only(
        await mutate<{ establishHousehold: { household: { id: string } } }>('establishHousehold', 'EstablishHouseholdInput', { headId: father.id, address: '历下区解放路8号', divisionCode: COMMUNITY }, 'household { id }'),
      );
      const householdId = established.establishHousehold.household.id;
      only(await mutate('joinHousehold', 'JoinHouseholdInput', { householdId, personId: mother.id, relationToHead: 'SPOUSE' }, 'revision'));
      const born = only(
        await mutate<{ registerBirth: { positions: string[]; person: { id: string; residence: { address: string }; guardians: { relation: string; person: { id: string } }[] }; household: { size: number; members: { id: string }[] } } }>(
          'registerBirth',
          'RegisterBirthInput',
          {
            idNumber: idFor('2024-05-20', 300),
            name: '陈悦',
            gender: 'FEMALE',
            birthDate: '2024-05-20',
            parents: [
              { personId: father.id, relation: 'FATHER' },
              { personId: mother.id, relation: 'MOTHER' },
            ],
            householdId,
            relationToHead: 'CHILD',
          },
          'positions person { id residence { address } guardians { relation person { id } } } household { size members { id } }',
        ),
      ).registerBirth;
      assert.equal(born.positions.length, 5, 'claim, registration, two guardians, membership');
      assert.equal(born.person.residence.address, '历下区解放路8号', 'the household address by default');
      assert.deepEqual(born.person.guardians.map((g) => [g.relation, g.person.id]), [
        ['FATHER', father.id],
        ['MOTHER', mother.id],
      ]);
      assert.equal(born.household.size, 3);
      assert.ok(born.household.members.some((m) => m.id === born.person.id));
      const [registration] = await harness.store.readStream(personStreamId(born.person.id));
      assert.equal(registration?.metadata.provenance.department, '市卫生健康委员会');

      await harness.catchUp();
      const read = only(await ask<{ person: { relationToHead: string; household: { id: string; livingMembers: number } } }>('query($id: ID!) { person(id: $id) { relationToHead household { id livingMembers } } }', { id: born.person.id }));
      assert.deepEqual(read.person, { relationToHead: 'CHILD', household: { id: householdId, livingMembers: 3 } });
      const unknownParent = failure(
        await mutate('registerBirth', 'RegisterBirthInput', {
          idNumber: idFor('2024-06-01', 302),
          name: '陈乐',
          gender: 'FEMALE',
          birthDate: '2024-06-01',
          parents: [{ personId: '00000000-0000-4000-8000-000000000001', relation: 'FATHER' }],
          householdId,
          relationToHead: 'CHILD',
        }, 'positions'),
        'BAD_USER_INPUT',
      );
      assert.match(unknownParent.message, /parents\[0\]\.personId .* is not a registered person/);
      assert.equal(unknownParent.extensions?.field, 'parents[0].personId');
      assert.equal(await harness.store.streamRevision(idNumbers.claimStreams(harness.store, idFor('2024-06-01', 302)).streamId), undefined, 'nothing was claimed');
    });
  });

  describe('read models and the §(五) models', () => {
    it('keeps the register equal to what the events say, and explains each verdict by its events', async () => {
      // Collected a month ago, so the proof of life three days ago is her latest activity.
      const provenance = { collectedAt: new Date(Date.now() - 30 * 86_400_000).toISOString(), sourceRecordId: 'HJ-2025-0001' };
      const husband = await register(resident(idFor('1940-02-02', 41), '刘建国', '1940-02-02', 'MALE'));
      const wife = await register({ ...resident(idFor('1944-03-03', 42), '吴秀英', '1944-03-03', 'FEMALE'), provenance });
      const couple = only(await mutate<{ establishHousehold: { household: { id: string } } }>('establishHousehold', 'EstablishHouseholdInput', { headId: husband.id, address: '和平小区1号', divisionCode: COMMUNITY }, 'household { id }'));
      const coupleHousehold = couple.establishHousehold.household.id;
      only(await mutate('joinHousehold', 'JoinHouseholdInput', { householdId: coupleHousehold, personId: wife.id, relationToHead: 'SPOUSE', provenance }, 'revision'));
      only(await mutate('confirmSurvival', 'ConfirmSurvivalInput', { personId: wife.id, method: 'PENSION_FACE_CHECK', source: '社保待遇资格认证', confirmedAt: new Date(Date.now() - 3 * 86_400_000).toISOString() }, 'revision'));
      const widowed = only(await mutate<{ registerDeath: { positions: string[] } }>('registerDeath', 'RegisterDeathInput', { personId: husband.id, dateOfDeath: '2025-03-01' }, 'positions'));

      const father = await register(resident(idFor('1985-01-01', 51), '马涛', '1985-01-01', 'MALE'));
      const mother = await register(resident(idFor('1986-01-01', 52), '郑丽', '1986-01-01', 'FEMALE'));
      const family = only(await mutate<{ establishHousehold: { household: { id: string } } }>('establishHousehold', 'EstablishHouseholdInput', { headId: father.id, address: '阳光花园2号', divisionCode: COMMUNITY }, 'household { id }'));
      const child = only(
        await mutate<{ registerBirth: { person: { id: string } } }>('registerBirth', 'RegisterBirthInput', {
          idNumber: idFor('2016-07-07', 61),
          name: '马小飞',
          gender: 'MALE',
          birthDate: '2016-07-07',
          parents: [{ personId: father.id, relation: 'FATHER' }, { personId: mother.id, relation: 'MOTHER' }],
          householdId: family.establishHousehold.household.id,
          relationToHead: 'CHILD',
        }, 'person { id }'),
      ).registerBirth.person;
      const deaths = [];
      for (const parent of [father, mother]) {
        deaths.push(only(await mutate<{ registerDeath: { positions: string[] } }>('registerDeath', 'RegisterDeathInput', { personId: parent.id, dateOfDeath: '2025-04-01' }, 'positions')).registerDeath.positions[0]);
      }
      await register(resident(idFor('2000-01-01', 71), '不相干', '2000-01-01', 'MALE', OTHER_COMMUNITY));
      await harness.catchUp();

      const persons = harness.runtime.readModels.of(REGISTRY_PROJECTION).collection<PersonDoc>(PERSONS);
      for (const id of [husband.id, wife.id, father.id, mother.id, child.id]) {
        const doc = await persons.get(id);
        assert.ok(doc, id);
        const fromEvents = viewFromEvents({ decider: personDecider, absent: 'UNREGISTERED', fromState: personFromState }, await harness.store.readStream(personStreamId(id)), null);
        const { householdId: _h, relationToHead: _r, guardians, ...readModel } = personFromDoc(doc.doc);
        const { householdId: _h2, relationToHead: _r2, guardians: folded, ...events } = fromEvents!;
        assert.deepEqual(readModel, events, `person ${id}`);
        assert.deepEqual(guardians.map((g) => [g.personId, g.relation]), folded.map((g) => [g.personId, g.relation]));
      }
      const wifeDoc = (await persons.get(wife.id))!.doc;
      assert.equal(wifeDoc.householdLiving, 1);
      assert.equal(wifeDoc.householdLivingBy?.position, widowed.registerDeath.positions[0], 'the husband’s death left her alone');
      const stats = harness.runtime.readModels.of(DIVISION_STATS_PROJECTION).collection(DIVISION_STATS);
      assert.deepEqual((await stats.get(COMMUNITY))?.doc, { code: COMMUNITY, residents: 2, deceased: 3, births: 1, households: 2 });
      assert.equal((await stats.get('370100'))?.doc.residents, 3);

      const answer = only(
        await ask<{
          elderlyLivingAlone: { totalCount: number; edges: { node: { person: { id: string }; age: number; daysSinceLastActivity: number; evidence: { type: string; position: string }[] } }[] };
          childrenInDistress: { totalCount: number; edges: { node: { person: { id: string }; guardians: { deceased: boolean }[]; evidence: { type: string; position: string }[] } }[] };
          division: { population: { residents: number; deceased: number; households: number; elderlyLivingAlone: number; childrenInDistress: number; byAgeBand: { band: string; count: number }[] } };
        }>(
          `{ elderlyLivingAlone(divisionCode: "${LIXIA}") { totalCount edges { node { person { id } age daysSinceLastActivity evidence { type position } } } }
             childrenInDistress(divisionCode: "${COMMUNITY}") { totalCount edges { node { person { id } guardians { deceased } evidence { type position } } } }
             division(code: "${LIXIA}") { population { residents deceased households elderlyLivingAlone childrenInDistress byAgeBand { band count } } } }`,
        ),
      );
      const [alone] = answer.elderlyLivingAlone.edges;
      assert.equal(answer.elderlyLivingAlone.totalCount, 1);
      assert.equal(alone?.node.person.id, wife.id);
      assert.equal(alone.node.daysSinceLastActivity, 3, 'the proof of life three days ago');
      assert.deepEqual(alone.node.evidence.map((e) => e.type), ['PersonRegistered', 'PersonDeceased', 'SurvivalConfirmed']);
      const [orphan] = answer.childrenInDistress.edges;
      assert.equal(answer.childrenInDistress.totalCount, 1);
      assert.equal(orphan?.node.person.id, child.id);
      assert.deepEqual(orphan.node.guardians, [{ deceased: true }, { deceased: true }]);
      assert.deepEqual(orphan.node.evidence.filter((e) => e.type === 'PersonDeceased').map((e) => e.position), deaths);
      const population = answer.division.population;
      assert.deepEqual({ ...population, byAgeBand: undefined }, { residents: 2, deceased: 3, households: 2, elderlyLivingAlone: 1, childrenInDistress: 1, byAgeBand: undefined });
      assert.equal(population.byAgeBand.reduce((sum, b) => sum + b.count, 0), population.residents);
      assert.deepEqual(population.byAgeBand.filter((b) => b.count > 0).map((b) => b.band), ['0-17', '80+']);
    });
  });

  describe('queries', () => {
    it('serves a list holding a person recorded in a division the catalog no longer holds, with an error at that field only', async () => {
      await register(resident(idFor('1970-01-01', 81), '甲', '1970-01-01', 'MALE'));
      // Old data: a registration recorded before codes were checked, in a community since retired.
      const personId = '00000000-0000-4000-8000-0000000000ff';
      await harness.store.append(personStreamId(personId), [
        {
          type: 'PersonRegistered',
          data: { personId, idNumber: idFor('1971-01-01', 83), name: '乙', gender: 'MALE', birthDate: '1971-01-01', residence: { address: '旧址', divisionCode: '370102001999' }, reason: 'HOUSEHOLD_REGISTRATION' },
          metadata: { provenance: { department: 'test', system: 'test', channel: 'test', collectedAt: new Date().toISOString() }, actor: { consumerId: 'registrar', role: 'department' }, correlationId: 'old-data' },
        },
      ]);
      await harness.catchUp();
      await assertDivisionGone(ask, 'persons', 'residence', personId, COMMUNITY);
    });

    it('pages through persons with keyset cursors, filters and a total count', async () => {
      const names = ['张伟', '张敏', '李强', '张磊', '王芳', '张静', '刘洋'];
      for (const [i, name] of names.entries()) await register(resident(idFor('1980-01-01', 400 + i * 2 + 1), name, '1980-01-01', 'MALE'));
      for (let i = 0; i < 3; i++) await register(resident(idFor('1981-01-01', 500 + i * 2 + 1, '370103'), `外区${i}`, '1981-01-01', 'MALE', OTHER_COMMUNITY));
      await harness.catchUp();
      type Page = { persons: { totalCount: number; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null }; edges: { cursor: string; node: { id: string; name: string } }[] } };
      const page = (variables: Record<string, unknown>) =>
        ask<Page>('query($filter: PersonFilter, $first: Int, $after: String) { persons(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id name } } } }', variables);

      const seen: string[] = [];
      let after: string | null = null;
      const sizes: number[] = [];
      do {
        const { persons }: Page = only(await page({ filter: { divisionCode: LIXIA }, first: 3, after }));
        assert.equal(persons.totalCount, 7);
        assert.equal(persons.pageInfo.hasPreviousPage, after !== null);
        sizes.push(persons.edges.length);
        seen.push(...persons.edges.map((e) => e.node.id));
        after = persons.pageInfo.hasNextPage ? persons.pageInfo.endCursor : null;
      } while (after);
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.equal(new Set(seen).size, 7);
      assert.deepEqual(seen, [...seen].sort());

      const zhang = only(await page({ filter: { divisionCode: COMMUNITY, nameContains: '张' }, first: 10 })).persons;
      assert.deepEqual(zhang.edges.map((e) => e.node.name).sort(), ['张伟', '张敏', '张磊', '张静'].sort());
      assert.equal(only(await page({ filter: { nameContains: '外区' }, first: 10 })).persons.totalCount, 3);
      assert.equal(only(await page({ filter: { status: 'DECEASED' } })).persons.totalCount, 0);

      assert.match(failure(await page({ first: 101 }), 'BAD_USER_INPUT').message, /at most 100/);
      assert.match(failure(await page({ first: 2, after: 'not-a-cursor' }), 'BAD_USER_INPUT').message, /not a cursor this service issued/);
      const divisionCursor = only(await ask<{ divisions: { pageInfo: { endCursor: string } } }>('{ divisions(level: DISTRICT, first: 1) { pageInfo { endCursor } } }')).divisions.pageInfo.endCursor;
      assert.match(failure(await page({ after: divisionCursor }), 'BAD_USER_INPUT').message, /belongs to another list/);
      assert.match(failure(await page({ filter: { divisionCode: '370199' } }), 'BAD_USER_INPUT').message, /not in the division catalog/);
    });

    it('answers asOf from the stream’s prefix and lists the history with provenance', async () => {
      const person = await register(resident(idFor('1975-10-10', 77), '黄明', '1975-10-10', 'MALE'));
      await new Promise((r) => setTimeout(r, 30));
      const between = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 30));
      only(await mutate('changeResidence', 'ChangeResidenceInput', { personId: person.id, residence: { address: '天桥区新居', divisionCode: '370105001001' }, movedOn: '2025-06-01' }, 'revision'));
      const query = 'query($id: ID!, $asOf: DateTime) { person(id: $id, asOf: $asOf) { revision asOf residence { address } history { type revision provenance { department channel } actor { consumerId } } } }';
      type Answer = { person: { revision: number; asOf: string | null; residence: { address: string }; history: { type: string; revision: number; provenance: { department: string; channel: string }; actor: { consumerId: string } }[] } | null };
      const then = only(await ask<Answer>(query, { id: person.id, asOf: between })).person;
      assert.equal(then?.residence.address, '黄明家');
      assert.equal(then.revision, 0);
      assert.equal(then.asOf, between);
      assert.deepEqual(then.history.map((e) => e.type), ['PersonRegistered']);
      const now = only(await ask<Answer>(query, { id: person.id })).person;
      assert.equal(now?.residence.address, '天桥区新居');
      assert.deepEqual(now.history.map((e) => [e.type, e.revision, e.provenance.department, e.provenance.channel, e.actor.consumerId]), [
        ['PersonRegistered', 0, '市公安局', 'graphql', 'registrar'],
        ['ResidenceChanged', 1, '市公安局', 'graphql', 'registrar'],
      ]);
      assert.equal(only(await ask<Answer>(query, { id: person.id, asOf: '2000-01-01T00:00:00Z' })).person, null);
      failure(await ask(query, { id: person.id, asOf: 'yesterday' }), 'BAD_USER_INPUT');
    });

    it('answers verify-only questions with booleans and serves nothing else to a verify-only consumer', async () => {
      const idNumber = idFor('2010-04-04', 88);
      const person = await register(resident(idNumber, '何雨彤', '2010-04-04', 'FEMALE'));
      await harness.catchUp();
      const verify = (query: string) => ask<Record<string, boolean>>(query, undefined, 'verifier');
      assert.deepEqual(only(await verify(`{ yes: verifyIdentity(idNumber: "${idNumber}", name: "何雨彤") no: verifyIdentity(idNumber: "${idNumber}", name: "何雨") }`)), { yes: true, no: false });
      assert.deepEqual(only(await verify(`{ alive: verifyAlive(personId: "${person.id}") adult: verifyAgeAtLeast(personId: "${person.id}", years: 18) child: verifyAgeAtLeast(personId: "${person.id}", years: 10) }`)), {
        alive: true,
        adult: false,
        child: true,
      });
      failure(await verify(`{ verifyIdentity(idNumber: "${idNumber.slice(0, 17)}", name: "x") }`), 'BAD_USER_INPUT');
      failure(await verify(`{ verifyAgeAtLeast(personId: "${person.id}", years: -1) }`), 'BAD_USER_INPUT');
      // A VERIFY grant answers yes or no; it never unlocks a lookup by the natural key, however broad.
      for (const consumer of ['verifier', 'verify-everything']) {
        const lookup = await ask<{ personByIdNumber: unknown }>(`{ personByIdNumber(idNumber: "${idNumber}") { id name } }`, undefined, consumer);
        assert.equal(lookup.data?.personByIdNumber, null, consumer);
        assert.match(failure(lookup, 'FORBIDDEN').message, /population\.identity/);
      }
      const refused = await ask<{ person: unknown }>(`{ person(id: "${person.id}") { name } }`, undefined, 'verifier');
      assert.equal(refused.data?.person, null);
      assert.match(failure(refused, 'FORBIDDEN').message, /population.basic/);
      only(await mutate('registerDeath', 'RegisterDeathInput', { personId: person.id, dateOfDeath: chinaDate(new Date().toISOString()) }, 'revision'));
      await harness.catchUp();
      assert.deepEqual(only(await verify(`{ verifyAlive(personId: "${person.id}") }`)), { verifyAlive: false });
    });

    it('serves the ID number only under population.identity, masked when the grant says so', async () => {
      const idNumber = idFor('1992-12-12', 93);
      const person = await register(resident(idNumber, '罗娟', '1992-12-12', 'MALE'));
      await harness.catchUp();
      const card = `{ person(id: "${person.id}") { name idNumber } }`;
      const reader = await ask<{ person: { name: string; idNumber: string | null } }>(card, undefined, 'reader');
      assert.deepEqual(reader.data?.person, { name: '罗娟', idNumber: null });
      assert.match(failure(reader, 'FORBIDDEN').message, /population.identity/);
      const masked = only(await ask<{ person: { idNumber: string } }>(card, undefined, 'masked'));
      assert.equal(masked.person.idNumber, `${idNumber.slice(0, 4)}**********${idNumber.slice(-4)}`);
      const forbiddenWrite = await ask(REGISTER, { input: resident(idFor('1993-01-01', 95), '无权', '1993-01-01', 'MALE') }, 'reader');
      failure(forbiddenWrite, 'FORBIDDEN');
      assert.equal(await harness.store.streamRevision(idNumbers.claimStreams(harness.store, idFor('1993-01-01', 95)).streamId), undefined);
    });

    it('lets no masked ID number be rebuilt: the birth date and age are generalised, and lookups by ID number need the identity in clear', async () => {
      const idNumber = idFor('1997-03-02', 308);
      const person = await register(resident(idNumber, '孙丽', '1997-03-02', 'FEMALE'));
      await harness.catchUp();
      const card = `{ person(id: "${person.id}") { idNumber birthDate birthYear age ageBand gender } }`;
      type Card = { person: { idNumber: string; birthDate: string | null; birthYear: number; age: number | null; ageBand: string; gender: string } };
      const seen = only(await ask<Card>(card, undefined, 'masked')).person;
      assert.deepEqual({ ...seen, idNumber: undefined }, { idNumber: undefined, birthDate: null, birthYear: 1997, age: null, ageBand: seen.ageBand, gender: 'FEMALE' });
      const clear = only(await ask<Card>(card)).person;
      assert.equal(clear.birthDate, '1997-03-02', 'the identity in clear: the exact birth date');
      assert.equal(typeof clear.age, 'number');
      assert.equal(clear.ageBand, seen.ageBand);

      // The attack: fill the masked digits from what is served, keep the fillings that pass the check digit, confirm one by lookup.
      const [head, tail] = [seen.idNumber.slice(0, 4), seen.idNumber.slice(14)];
      const candidates: string[] = [];
      for (let region = 0; region < 100; region++) {
        for (let day = new Date(Date.UTC(seen.birthYear, 0, 1)); day.getUTCFullYear() === seen.birthYear; day = new Date(day.getTime() + 86_400_000)) {
          const filled = `${head}${String(region).padStart(2, '0')}${day.toISOString().slice(0, 10).replaceAll('-', '')}${tail}`;
          if (idNumberCheckCharacter(filled.slice(0, 17)) === filled[17]) candidates.push(filled);
        }
      }
      assert.ok(candidates.includes(idNumber));
      assert.ok(candidates.length > 1000, `${candidates.length} fillings pass the check digit`);
      const wrong = candidates.find((c) => c !== idNumber)!;
      const lookup = (id: string) => ask<{ personByIdNumber: unknown }>(`{ personByIdNumber(idNumber: "${id}") { id } }`, undefined, 'masked');
      const [right, other] = [await lookup(idNumber), await lookup(wrong)];
      for (const answer of [right, other]) {
        assert.equal(answer.data?.personByIdNumber, null);
        assert.match(failure(answer, 'FORBIDDEN').message, /population\.identity in clear/);
      }
      assert.equal(right.errors![0]!.message, other.errors![0]!.message, 'the refusal does not depend on the number asked');
      failure(await ask(`{ verifyIdentity(idNumber: "${idNumber}", name: "孙丽") }`, undefined, 'masked'), 'FORBIDDEN');
      // Nor is the whole record, which holds the ID number unmasked in its events.
      assert.match(failure(await ask(`{ person(id: "${person.id}") { history { data } } }`, undefined, 'masked'), 'FORBIDDEN').message, /population\.identity in clear/);
      // The identity in clear still looks persons up by ID number.
      assert.deepEqual(only(await ask<{ personByIdNumber: { id: string } }>(`{ personByIdNumber(idNumber: "${idNumber}") { id } }`)).personByIdNumber, { id: person.id });
    });

    it('navigates Jinan’s divisions: the twelve districts and counties, streets and communities', async () => {
      type Divisions = { divisions: { totalCount: number; edges: { node: { code: string; name: string; level: string } }[] } };
      const districts = only(await ask<Divisions>('{ divisions(level: DISTRICT, first: 100) { totalCount edges { node { code name level } } } }')).divisions;
      assert.deepEqual(districts.edges.map((e) => e.node.code), ['370102', '370103', '370104', '370105', '370112', '370113', '370114', '370115', '370116', '370117', '370124', '370126']);
      assert.equal(districts.edges[0]?.node.name, '历下区');
      const lixia = only(
        await ask<{ division: { name: string; level: string; parent: { code: string }; children: { totalCount: number; edges: { node: { code: string; level: string } }[] } } }>(
          `{ division(code: "${LIXIA}") { name level parent { code } children(first: 100) { totalCount edges { node { code level } } } } }`,
        ),
      ).division;
      assert.equal(lixia.parent.code, '370100');
      assert.ok(lixia.children.edges.every((e) => e.node.level === 'STREET' && /^370102\d{3}$/.test(e.node.code)));
      const communities = only(await ask<Divisions>(`{ divisions(parent: "${LIXIA}", level: COMMUNITY, first: 100) { totalCount edges { node { code level } } } }`)).divisions;
      assert.ok(communities.totalCount > lixia.children.totalCount);
      assert.ok(communities.edges.every((e) => /^370102\d{6}$/.test(e.node.code)));
      assert.equal(only(await ask<{ division: null }>('{ division(code: "370199") { name } }')).division, null);
      failure(await ask('{ division(code: "37") { name } }'), 'BAD_USER_INPUT');
    });

    it('resolves entity references in one batch: the same round trips for three persons as for ten', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await register(resident(idFor('1995-01-01', 600 + i * 2 + 1), `批量${i}`, '1995-01-01', 'MALE'))).id);
      await harness.catchUp();
      const entities = async (some: string[]) => {
        const representations = some.map((id) => ({ __typename: 'Person', id }));
        const before = queries;
        const body = only(await ask<{ _entities: ({ id: string; name: string } | null)[] }>('query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id name } } }', { r: representations }));
        return { found: body._entities, roundTrips: queries - before };
      };
      const three = await entities(ids.slice(0, 3));
      const ten = await entities([...ids, '00000000-0000-4000-8000-000000000009']);
      assert.deepEqual(three.found.map((p) => p?.id), ids.slice(0, 3));
      assert.equal(ten.found.length, 11);
      assert.equal(ten.found[10], null, 'an unknown person resolves to null');
      // The unknown id costs its own stream read (the projector may not have reached it yet).
      assert.equal(ten.roundTrips, three.roundTrips + 1);
    });
  });
}

for (const makeBackend of BACKENDS) describe(`population subgraph on ${makeBackend.name.replace('Backend', '')}`, () => populationSuite(makeBackend));
