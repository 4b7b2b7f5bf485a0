/**
 * The demo city's people: synthetic residents of Jinan in households across the twelve districts,
 * with valid ID numbers, newborns registered with their parents (一件事), proofs of life, a few
 * deaths — so every §(五) model has cases: elderly living alone (some widowed by a registered
 * death), children in distress (both parents deceased), unconfirmed survival.
 *
 * `planDemoPopulation` is pure and deterministic (a seeded PRNG and a fixed reference date), so
 * every start builds the same people with the same ids, and the legal-person seed can pick its
 * representatives from the same plan. Seeding goes through the population command handlers.
 */
import { addDays } from '../kit/calendar.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import type { ProvenanceDefaults } from '../kit/provenance.ts';
import { divisionCatalog, type Division } from '../kit/divisions/catalog.ts';
import { seededRandom } from '../kit/random.ts';
import { createPopulationHandlers, POPULATION_SOURCES, survivalSource, type PopulationHandlers } from './handlers.ts';
import type { RelationToHead } from './household/events.ts';
import { makeIdNumber, type Gender } from './identity/idNumber.ts';
import { ageOn } from './models/age.ts';
import { DEFAULT_DEMO_CITY, DEMO_REFERENCE_DATE, demoId, demoMetadata, inParallel } from '../kit/demoCity.ts';

/** Households seeded at the same time (each household's commands run in order). */
const PARALLEL_HOUSEHOLDS = 12;

export interface DemoPerson {
  index: number;
  personId: string;
  idNumber: string;
  name: string;
  gender: Gender;
  birthDate: string;
  relationToHead: RelationToHead;
  /** Registered at birth with these parents (indexes into `persons`), else as a resident. */
  parents: { index: number; relation: 'FATHER' | 'MOTHER' }[] | null;
  dateOfDeath: string | null;
  /** Days before the seeding instant of each proof of life. */
  proofsOfLifeDaysAgo: number[];
  /** Days before the seeding instant the registration was collected (never before birth). */
  registeredDaysAgo: number;
}

export interface DemoHousehold {
  index: number;
  householdId: string;
  address: string;
  divisionCode: string;
  /** The head first. */
  members: number[];
}

export interface DemoPopulation {
  persons: DemoPerson[];
  households: DemoHousehold[];
}

const SURNAMES = [...'王张李刘陈杨孙赵徐高马于周吴郭胡朱林何罗梁宋郑谢韩唐冯董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶'];
const GIVEN = {
  MALE: [...'伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林峰建国庆志文'],
  FEMALE: [...'芳娜敏静丽艳娟霞秀英玲桂兰洁红梅琳雪倩婷慧颖莹晶佳悦萱怡雨彤'],
} as const;
/** Birthplaces of residents who moved to Jinan (real GB/T 2260 codes). */
const ELSEWHERE = ['370202', '370303', '370602', '371302', '370811', '371402', '110105', '410102', '130102'];
const COMMUNITIES: readonly Division[] = divisionCatalog.filter((d) => d.level === 'COMMUNITY');

export function planDemoPopulation(options: { people?: number; seed?: number } = {}): DemoPopulation {
  const target = options.people ?? DEFAULT_DEMO_CITY.people;
  const { next: random, int, pick } = seededRandom(options.seed ?? 2022);
  const usedIdNumbers = new Set<string>();
  const persons: DemoPerson[] = [];
  const households: DemoHousehold[] = [];

  function person(household: DemoHousehold, spec: { gender: Gender; age: number; relationToHead: RelationToHead; surname?: string; parents?: DemoPerson['parents'] }): DemoPerson {
    const birthDate = addDays(DEMO_REFERENCE_DATE, -(spec.age * 365 + int(0, 364)));
    const bornHere = spec.parents !== undefined || random() < 0.8;
    const prefix = bornHere ? household.divisionCode.slice(0, 6) : pick(ELSEWHERE);
    let idNumber: string;
    do {
      idNumber = makeIdNumber(prefix, birthDate, int(0, 499) * 2 + (spec.gender === 'MALE' ? 1 : 0));
    } while (usedIdNumbers.has(idNumber));
    usedIdNumbers.add(idNumber);
    const name = `${spec.surname ?? pick(SURNAMES)}${pick(GIVEN[spec.gender])}${random() < 0.6 ? pick(GIVEN[spec.gender]) : ''}`;
    const age = ageOn(birthDate, DEMO_REFERENCE_DATE);
    const proofs = age >= 60 ? Array.from({ length: int(0, 3) }, () => int(3, 520)) : random() < 0.3 ? [int(1, 300)] : [];
    const index = persons.length;
    const created: DemoPerson = {
      index,
      personId: demoId('person', index),
      idNumber,
      name,
      gender: spec.gender,
      birthDate,
      relationToHead: spec.relationToHead,
      parents: spec.parents ?? null,
      dateOfDeath: null,
      proofsOfLifeDaysAgo: proofs,
      registeredDaysAgo: Math.min(int(30, 3_000), age * 365),
    };
    persons.push(created);
    household.members.push(index);
    return created;
  }

  const die = (p: DemoPerson) => {
    p.dateOfDeath = addDays(DEMO_REFERENCE_DATE, -int(10, 330));
    p.proofsOfLifeDaysAgo = [];
  };

  while (persons.length < target) {
    const community = pick(COMMUNITIES);
    const index = households.length;
    const household: DemoHousehold = {
      index,
      householdId: demoId('household', index),
      address: `${community.name}${int(1, 30)}号楼${int(1, 6)}单元${int(1, 18)}0${int(1, 4)}室`,
      divisionCode: community.code,
      members: [],
    };
    households.push(household);
    const kind = random();
    const surname = pick(SURNAMES);
    if (kind < 0.1) {
      person(household, { gender: random() < 0.6 ? 'FEMALE' : 'MALE', age: int(70, 92), relationToHead: 'SELF' });
    } else if (kind < 0.18) {
      const husband = person(household, { gender: 'MALE', age: int(66, 88), relationToHead: 'SELF', surname });
      const wife = person(household, { gender: 'FEMALE', age: int(65, 86), relationToHead: 'SPOUSE' });
      if (random() < 0.3) die(random() < 0.6 ? husband : wife);
    } else if (kind < 0.6) {
      const father = person(household, { gender: 'MALE', age: int(28, 48), relationToHead: 'SELF', surname });
      const mother = person(household, { gender: 'FEMALE', age: int(26, 46), relationToHead: 'SPOUSE' });
      const parents: DemoPerson['parents'] = [
        { index: father.index, relation: 'FATHER' },
        { index: mother.index, relation: 'MOTHER' },
      ];
      for (let c = int(1, 2); c > 0; c--) {
        person(household, { gender: random() < 0.5 ? 'MALE' : 'FEMALE', age: int(1, 16), relationToHead: 'CHILD', surname, parents });
      }
      // 困境儿童: both parents' deaths are registered.
      if (random() < 0.025) {
        die(father);
        die(mother);
      }
    } else if (kind < 0.78) {
      const grandparent = person(household, { gender: random() < 0.5 ? 'MALE' : 'FEMALE', age: int(62, 85), relationToHead: 'SELF', surname });
      const son = person(household, { gender: 'MALE', age: int(30, 50), relationToHead: 'CHILD', surname });
      const daughterInLaw = person(household, { gender: 'FEMALE', age: int(28, 48), relationToHead: 'CHILD_IN_LAW' });
      const parents: DemoPerson['parents'] = [
        { index: son.index, relation: 'FATHER' },
        { index: daughterInLaw.index, relation: 'MOTHER' },
      ];
      person(household, { gender: random() < 0.5 ? 'MALE' : 'FEMALE', age: int(1, 15), relationToHead: 'GRANDCHILD', surname, parents });
      if (random() < 0.1) die(grandparent);
    } else {
      person(household, { gender: random() < 0.5 ? 'MALE' : 'FEMALE', age: int(22, 60), relationToHead: 'SELF' });
      if (random() < 0.5) person(household, { gender: random() < 0.5 ? 'MALE' : 'FEMALE', age: int(22, 60), relationToHead: 'SPOUSE' });
    }
  }
  return { persons, households };
}

async function seedHousehold(handlers: PopulationHandlers, plan: DemoPopulation, household: DemoHousehold, now: Date): Promise<void> {
  const at = now.toISOString();
  const correlationId = `demo-seed:household:${household.index}`;
  const ctx = (source: ProvenanceDefaults, daysAgo: number) => ({ metadata: demoMetadata(source, now, daysAgo, correlationId), now: at });
  const residence = { address: household.address, divisionCode: household.divisionCode };
  const [head, ...others] = household.members.map((i) => plan.persons[i]!);
  if (!head) return;
  const registration = (p: DemoPerson) => ctx(POPULATION_SOURCES.householdRegistration, p.registeredDaysAgo);
  const { personId, idNumber, name, gender, birthDate } = head;
  await handlers.registerResident({ personId, idNumber, name, gender, birthDate, residence }, registration(head));
  await handlers.establishHousehold({ householdId: household.householdId, headId: head.personId, ...residence }, registration(head));
  for (const member of others) {
    const { personId, idNumber, name, gender, birthDate, relationToHead } = member;
    if (member.parents) {
      const parents = member.parents.map((p) => ({ personId: plan.persons[p.index]!.personId, relation: p.relation }));
      await handlers.registerBirth(
        { personId, idNumber, name, gender, birthDate, parents, householdId: household.householdId, relationToHead },
        ctx(POPULATION_SOURCES.birth, member.registeredDaysAgo),
      );
    } else {
      await handlers.registerResident({ personId, idNumber, name, gender, birthDate, residence }, registration(member));
      await handlers.joinHousehold({ householdId: household.householdId, personId, relationToHead }, registration(member));
    }
  }
  for (const member of [head, ...others]) {
    for (const daysAgo of member.proofsOfLifeDaysAgo) {
      const method = daysAgo % 3 === 0 ? 'MEDICAL_VISIT' : 'PENSION_FACE_CHECK';
      const confirmedAt = new Date(now.getTime() - daysAgo * 86_400_000).toISOString();
      const source = method === 'MEDICAL_VISIT' ? '济南市中心医院' : '社保待遇资格认证';
      await handlers.confirmSurvival({ personId: member.personId, method, source, confirmedAt }, ctx(survivalSource(method), daysAgo));
    }
  }
  for (const member of [head, ...others]) {
    if (member.dateOfDeath) {
      await handlers.registerDeath({ personId: member.personId, dateOfDeath: member.dateOfDeath }, ctx(POPULATION_SOURCES.death, 2));
    }
  }
}

/** Seeds the planned people through the command handlers; returns the plan it seeded. */
export async function seedPopulation(runtime: SubgraphRuntime, options: { people?: number } = {}): Promise<DemoPopulation> {
  const plan = planDemoPopulation(options);
  const handlers = createPopulationHandlers(runtime.store);
  const now = runtime.now();
  const started = Date.now();
  await inParallel(plan.households, PARALLEL_HOUSEHOLDS, (household) => seedHousehold(handlers, plan, household, now));
  runtime.logger.info({ persons: plan.persons.length, households: plan.households.length, ms: Date.now() - started }, 'seeded the demo population');
  return plan;
}
