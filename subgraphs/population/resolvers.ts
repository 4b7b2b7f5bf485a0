/**
 * Population resolvers. Queries read the registry and division-statistics read models; entity
 * references are batched per request (one `getMany` for any number of persons or households).
 * Streams are folded only for `asOf`, for a mutation's payload (so it shows exactly what was just
 * written) and for an entity the projector has not reached yet.
 */
import { NotFoundError, ValidationError } from '../../events/errors.ts';
import type { RecordedEvent } from '../../events/types.ts';
import { findOne } from '../../projections/findAll.ts';
import type { Where } from '../../projections/types.ts';
import { chinaDateOf } from '../kit/calendar.ts';
import { daysSince, nowForChinaDate } from '../kit/clock.ts';
import { newEntityId, type CommandContext, type Outcome } from '../kit/command.ts';
import { arrayConnection, collectionConnection, type ConnectionArgs } from '../kit/connections.ts';
import { loader, storedDocLoader, type SubgraphContext } from '../kit/context.ts';
import { provenanceResolvers, type FieldSourceMap } from '../kit/fieldProvenance.ts';
import { streamHistory } from '../kit/history.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { mutationCommandContext, type ProvenanceDefaults, type ProvenanceInput } from '../kit/provenance.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import type { TieredBucketDoc, TieredSummaryDoc } from '../kit/tieredCounts.ts';
import { entityViews } from '../kit/entityViews.ts';
import type { AsOfArguments } from '../kit/timeTravel.ts';
import { assertDivision, childrenOf, divisionByCode, divisionCatalog, getDivision, isWithin, storedDivision, type Division, type DivisionLevel } from '../kit/divisions/catalog.ts';
import { divisionField } from '../kit/divisions/division.ts';
import { createPopulationHandlers, POPULATION_SOURCES, survivalSource } from './handlers.ts';
import { householdDecider } from './household/decider.ts';
import { householdStreamId, type LeaveReason, type MemberRelation, type RelationToHead } from './household/events.ts';
import { assertIdNumber, type Gender } from './identity/idNumber.ts';
import { ageBand, bornOnOrBefore } from './models/age.ts';
import { ADULT_AGE, ELDERLY_AGE } from './models/vulnerable.ts';
import { personDecider } from './person/decider.ts';
import { personStreamId, type GuardianRelation, type Residence, type SurvivalProofMethod } from './person/events.ts';
import { AGE_BANDS, AGE_COHORTS, ageBandCounts, atLeast, readCohortDocs, youngerThan } from './readModels/ageCohorts.ts';
import { DIVISION_STATS, DIVISION_STATS_PROJECTION, type DivisionStatsDoc } from './readModels/divisionStats.ts';
import { HOUSEHOLDS, PERSONS, REGISTRY_PROJECTION, type EvidenceRef, type HouseholdDoc, type PersonDoc } from './readModels/registry.ts';
import {
  ageOf,
  householdFromDoc,
  householdFromState,
  personFromDoc,
  personFromState,
  survivalOf,
  type GuardianView,
  type HouseholdView,
  type PersonView,
} from './views.ts';

type Ctx = SubgraphContext;

/** The catalog resource every mutation of this subgraph is granted under. */
const WRITE_RESOURCE = 'population.write';
type Args<T> = T & Record<string, unknown>;

/** Each `Person` field and the register's document fields it is computed from. */
const PERSON_FIELD_SOURCES: FieldSourceMap = {
  id: ['personId'],
  idNumber: ['idNumber'],
  name: ['name'],
  gender: ['gender'],
  birthDate: ['birthDate'],
  age: ['birthDate', 'dateOfDeath'],
  birthYear: ['birthDate'],
  ageBand: ['birthDate', 'dateOfDeath'],
  residence: ['residence'],
  household: ['householdId'],
  relationToHead: ['relationToHead'],
  guardians: ['guardians'],
  status: ['status'],
  dateOfDeath: ['dateOfDeath'],
  survival: ['lastProofOfLifeAt', 'status'],
  revision: ['revision'],
};

const HOUSEHOLD_FIELD_SOURCES: FieldSourceMap = {
  id: ['householdId'],
  head: ['headId'],
  members: ['members'],
  size: ['size'],
  livingMembers: ['livingMembers'],
  address: ['address'],
  division: ['divisionCode'],
  status: ['status'],
  revision: ['revision'],
};

interface PersonFilter {
  divisionCode?: string | null;
  status?: 'REGISTERED' | 'DECEASED' | null;
  nameContains?: string | null;
}

interface WithProvenance {
  provenance?: ProvenanceInput | null;
}

interface WithRevision extends WithProvenance {
  expectedRevision?: number | null;
}

/** A create mutation's input: its key names the entity when re-sent. */
interface WithIdempotencyKey extends WithProvenance {
  idempotencyKey?: string | null;
}

interface NewPersonInput extends WithIdempotencyKey {
  idNumber: string;
  name: string;
  gender: Gender;
  birthDate: string;
}

/** A node of `elderlyLivingAlone` / `childrenInDistress`: the register's document behind the verdict. */
interface ModelCase {
  doc: PersonDoc;
}

function distinctEvidence(refs: readonly (EvidenceRef | null)[]): EvidenceRef[] {
  const byEventId = new Map<string, EvidenceRef>();
  for (const ref of refs) if (ref && !byEventId.has(ref.eventId)) byEventId.set(ref.eventId, ref);
  return [...byEventId.values()];
}

/** The read-model condition selecting everything inside a division of any level. */
function withinDivision(code: string, field = 'divisionCode'): Where {
  const division = assertDivision(code, undefined, field);
  return { [divisionField(division.level)]: division.code };
}

function optional<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

export function createPopulationResolvers(runtime: SubgraphRuntime): SubgraphResolvers<Ctx> {
  const { store, readModels } = runtime;
  const handlers = createPopulationHandlers(store);
  const persons = () => readModels.of(REGISTRY_PROJECTION).collection<PersonDoc>(PERSONS);
  /** The person an ID number names (checked and normalised first: a malformed one is the caller's error). */
  const personWithIdNumber = (idNumber: string) => findOne(persons(), { idNumber: assertIdNumber(idNumber).idNumber });
  const households = () => readModels.of(REGISTRY_PROJECTION).collection<HouseholdDoc>(HOUSEHOLDS);
  const stats = () => readModels.of(DIVISION_STATS_PROJECTION).collection(DIVISION_STATS);
  const today = () => chinaDateOf(nowForChinaDate(runtime).getTime());

  /** The stored document with its per-field sources (for `provenance`); one `getMany` per request. */
  const personStored = (ctx: Ctx, id: string) =>
    storedDocLoader(ctx, 'population.personDoc', persons).load(id);
  const personDoc = async (ctx: Ctx, id: string) => (await personStored(ctx, id))?.doc ?? null;
  const householdStored = (ctx: Ctx, id: string) =>
    storedDocLoader(ctx, 'population.householdDoc', households).load(id);
  const householdDoc = async (ctx: Ctx, id: string) => (await householdStored(ctx, id))?.doc ?? null;
  /** A person or household now (the read model's, or the stream's while the projector has not reached it), in the past, or as just written. */
  const personViews = entityViews({
    store,
    streamIdOf: personStreamId,
    decider: personDecider,
    absent: 'UNREGISTERED',
    doc: personDoc,
    fromDoc: personFromDoc,
    fromState: personFromState,
    unwritten: (id) => `person ${id} has no registration`,
  });
  const householdViews = entityViews({
    store,
    streamIdOf: householdStreamId,
    decider: householdDecider,
    absent: 'UNESTABLISHED',
    doc: householdDoc,
    fromDoc: householdFromDoc,
    fromState: householdFromState,
    unwritten: (id) => `household ${id} is not established`,
  });
  const divisionStats = (ctx: Ctx, code: string) =>
    loader<string, DivisionStatsDoc | null>(ctx, 'population.divisionStats', async (codes) => (await stats().getMany(codes)).map((d) => d?.doc ?? null)).load(code);
  const cohortSummaries = (ctx: Ctx) =>
    loader<string, TieredSummaryDoc | null>(ctx, 'population.cohortYears', async (codes) =>
      (await readModels.of(REGISTRY_PROJECTION).collection<TieredSummaryDoc>(AGE_COHORTS.summaries).getMany(codes)).map((d) => d?.doc ?? null),
    );
  const cohortYears = (ctx: Ctx) =>
    loader<string, TieredBucketDoc | null>(ctx, 'population.cohortDays', async (keys) =>
      (await readModels.of(REGISTRY_PROJECTION).collection<TieredBucketDoc>(AGE_COHORTS.buckets).getMany(keys)).map((d) => d?.doc ?? null),
    );
  const cohortDocs = (ctx: Ctx, code: string, on: string, ages: readonly number[]) =>
    readCohortDocs({ summary: (c) => cohortSummaries(ctx).load(c), year: (key) => cohortYears(ctx).load(key) }, code, on, ages);
  /** The counts of `elderlyWhere` / `distressWhere`, as the registry keeps them (the same conditions). */
  async function elderlyLivingAloneIn(ctx: Ctx, code: string): Promise<number> {
    const on = today();
    return atLeast(await cohortDocs(ctx, code, on, [ELDERLY_AGE]), 'alone', on, ELDERLY_AGE);
  }
  async function childrenInDistressIn(ctx: Ctx, code: string): Promise<number> {
    const on = today();
    return youngerThan(await cohortDocs(ctx, code, on, [ADULT_AGE]), 'unguarded', on, ADULT_AGE);
  }

  const personProvenance = provenanceResolvers<PersonView, Ctx>({
    entity: 'Person',
    store,
    fields: PERSON_FIELD_SOURCES,
    stored: (ctx, person) => personStored(ctx, person.id),
  });
  const householdProvenance = provenanceResolvers<HouseholdView, Ctx>({
    entity: 'Household',
    store,
    fields: HOUSEHOLD_FIELD_SOURCES,
    stored: (ctx, household) => householdStored(ctx, household.id),
  });

  const elderlyWhere = (code: string): Where => ({
    ...withinDivision(code),
    status: 'REGISTERED',
    householdLiving: 1,
    birthDate: { lte: bornOnOrBefore(today(), ELDERLY_AGE) },
  });
  const distressWhere = (code: string): Where => ({
    ...withinDivision(code),
    status: 'REGISTERED',
    livingGuardians: 0,
    birthDate: { gt: bornOnOrBefore(today(), ADULT_AGE) },
  });

  function personWhere(filter: PersonFilter | null | undefined): Where {
    const where: Where = {};
    if (filter?.divisionCode != null) Object.assign(where, withinDivision(filter.divisionCode, 'filter.divisionCode'));
    if (filter?.status != null) where.status = filter.status;
    if (filter?.nameContains != null) {
      const part = filter.nameContains.trim().toLowerCase();
      if (!part) throw new ValidationError('filter.nameContains must contain at least one character', { field: 'filter.nameContains' });
      where.nameFragments = { contains: part };
    }
    return where;
  }

  const positions = (events: readonly RecordedEvent[]) => events.map((e) => e.position);
  const personPayload = (outcome: Outcome) => ({ person: () => personViews.written(outcome.id), revision: outcome.revision, positions: positions(outcome.events) });
  const householdPayload = (outcome: Outcome) => ({ household: () => householdViews.written(outcome.id), revision: outcome.revision, positions: positions(outcome.events) });

  const commandContext = (ctx: Ctx, source: ProvenanceDefaults, input: WithRevision & { idempotencyKey?: string | null }): CommandContext =>
    mutationCommandContext(ctx, WRITE_RESOURCE, source, input, runtime.now().toISOString());

  return {
    Query: {
      person: (_: unknown, args: Args<{ id: string } & AsOfArguments>, ctx: Ctx) => personViews.query(ctx, args),

      personByIdNumber: (_: unknown, { idNumber }: Args<{ idNumber: string }>) =>
        personWithIdNumber(idNumber).then((found) => (found ? personFromDoc(found) : null)),

      persons: (_: unknown, { filter, first, after }: Args<ConnectionArgs & { filter?: PersonFilter | null }>) =>
        collectionConnection({ list: 'population.persons', collection: persons(), where: personWhere(filter), first, after, node: (d) => personFromDoc(d.doc) }),

      household: (_: unknown, args: Args<{ id: string } & AsOfArguments>, ctx: Ctx) => householdViews.query(ctx, args),

      division: (_: unknown, { code }: Args<{ code: string }>) => divisionByCode(code),

      divisions(_: unknown, { parent, level, first, after }: Args<ConnectionArgs & { parent?: string | null; level?: DivisionLevel | null }>) {
        let items: Division[];
        if (parent != null) {
          assertDivision(parent, undefined, 'parent');
          items = level != null ? divisionCatalog.filter((d) => d.level === level && d.code !== parent && isWithin(d.code, parent)) : childrenOf(parent);
        } else {
          items = divisionCatalog.filter((d) => level == null || d.level === level);
        }
        items.sort((a, b) => (a.code < b.code ? -1 : 1));
        return arrayConnection({ list: 'population.divisions', items, key: (d) => d.code, node: (d) => d, first, after });
      },

      elderlyLivingAlone: (_: unknown, { divisionCode, first, after }: Args<ConnectionArgs & { divisionCode: string }>, ctx: Ctx) =>
        collectionConnection<PersonDoc, ModelCase>({
          list: 'population.elderlyLivingAlone',
          collection: persons(),
          where: elderlyWhere(divisionCode),
          sortBy: 'lastActivityAt',
          first,
          after,
          node: (d) => ({ doc: d.doc }),
          totalCount: () => elderlyLivingAloneIn(ctx, divisionCode),
        }),

      childrenInDistress: (_: unknown, { divisionCode, first, after }: Args<ConnectionArgs & { divisionCode: string }>, ctx: Ctx) =>
        collectionConnection<PersonDoc, ModelCase>({
          list: 'population.childrenInDistress',
          collection: persons(),
          where: distressWhere(divisionCode),
          first,
          after,
          node: (d) => ({ doc: d.doc }),
          totalCount: () => childrenInDistressIn(ctx, divisionCode),
        }),

      verifyIdentity: (_: unknown, { idNumber, name }: Args<{ idNumber: string; name: string }>) =>
        personWithIdNumber(idNumber).then((found) => found !== undefined && found.name === name.trim()),

      async verifyAlive(_: unknown, { personId }: Args<{ personId: string }>, ctx: Ctx) {
        const person = await personViews.now(ctx, personId);
        if (!person) throw new NotFoundError(`person ${personId} is not registered`, { personId });
        return person.status === 'REGISTERED';
      },

      async verifyAgeAtLeast(_: unknown, { personId, years }: Args<{ personId: string; years: number }>, ctx: Ctx) {
        if (!Number.isInteger(years) || years < 0 || years > 150) {
          throw new ValidationError(`years must be a whole number from 0 to 150, got ${years}`, { field: 'years' });
        }
        const person = await personViews.now(ctx, personId);
        if (!person) throw new NotFoundError(`person ${personId} is not registered`, { personId });
        return ageOf(person, nowForChinaDate(runtime)) >= years;
      },
    },

    Mutation: {
      async registerResident(_: unknown, { input }: Args<{ input: NewPersonInput & { residence: Residence } }>, ctx: Ctx) {
        const { idNumber, name, gender, birthDate, residence } = input;
        const data = { personId: newEntityId(null, input, ctx.caller, 'registerResident'), idNumber, name, gender, birthDate, residence: { address: residence.address, divisionCode: residence.divisionCode } };
        return personPayload(await handlers.registerResident(data, commandContext(ctx, POPULATION_SOURCES.householdRegistration, input)));
      },

      async registerBirth(
        _: unknown,
        { input }: Args<{ input: NewPersonInput & { parents: { personId: string; relation: 'FATHER' | 'MOTHER' }[]; householdId: string; relationToHead: RelationToHead; residence?: Residence | null } }>,
        ctx: Ctx,
      ) {
        const { idNumber, name, gender, birthDate, householdId, relationToHead, residence } = input;
        const parents = input.parents.map((p) => ({ personId: p.personId, relation: p.relation }));
        const result = await handlers.registerBirth(
          { personId: newEntityId(null, input, ctx.caller, 'registerBirth'), idNumber, name, gender, birthDate, parents, householdId, relationToHead, residence: residence ? { address: residence.address, divisionCode: residence.divisionCode } : null },
          commandContext(ctx, POPULATION_SOURCES.birth, input),
        );
        return {
          person: () => personViews.written(result.person.id),
          household: () => householdViews.written(result.household.id),
          positions: positions([...result.person.events, ...result.household.events]),
        };
      },

      async changeResidence(_: unknown, { input }: Args<{ input: WithRevision & { personId: string; residence: Residence; movedOn: string } }>, ctx: Ctx) {
        const { personId, residence, movedOn } = input;
        const data = { personId, residence: { address: residence.address, divisionCode: residence.divisionCode }, movedOn };
        return personPayload(await handlers.changeResidence(data, commandContext(ctx, POPULATION_SOURCES.householdRegistration, input)));
      },

      async assignGuardian(_: unknown, { input }: Args<{ input: WithRevision & { personId: string; guardianId: string; relation: GuardianRelation } }>, ctx: Ctx) {
        const { personId, guardianId, relation } = input;
        return personPayload(await handlers.assignGuardian({ personId, guardianId, relation }, commandContext(ctx, POPULATION_SOURCES.guardianship, input)));
      },

      async registerDeath(
        _: unknown,
        { input }: Args<{ input: WithRevision & { personId: string; dateOfDeath: string; place?: string | null; certificateNo?: string | null } }>,
        ctx: Ctx,
      ) {
        const { personId, dateOfDeath } = input;
        const place = optional(input.place);
        const certificateNo = optional(input.certificateNo);
        const data = { personId, dateOfDeath, ...(place !== undefined && { place }), ...(certificateNo !== undefined && { certificateNo }) };
        return personPayload(await handlers.registerDeath(data, commandContext(ctx, POPULATION_SOURCES.death, input)));
      },

      async confirmSurvival(
        _: unknown,
        { input }: Args<{ input: WithProvenance & { personId: string; method: SurvivalProofMethod; source: string; confirmedAt: string } }>,
        ctx: Ctx,
      ) {
        const { personId, method, source, confirmedAt } = input;
        return personPayload(await handlers.confirmSurvival({ personId, method, source, confirmedAt }, commandContext(ctx, survivalSource(method), input)));
      },

      async establishHousehold(_: unknown, { input }: Args<{ input: WithIdempotencyKey & { headId: string; address: string; divisionCode: string } }>, ctx: Ctx) {
        const { headId, address, divisionCode } = input;
        const data = { householdId: newEntityId(null, input, ctx.caller, 'establishHousehold'), headId, address, divisionCode };
        return householdPayload(await handlers.establishHousehold(data, commandContext(ctx, POPULATION_SOURCES.householdRegistration, input)));
      },

      async joinHousehold(_: unknown, { input }: Args<{ input: WithRevision & { householdId: string; personId: string; relationToHead: RelationToHead } }>, ctx: Ctx) {
        const { householdId, personId, relationToHead } = input;
        return householdPayload(await handlers.joinHousehold({ householdId, personId, relationToHead }, commandContext(ctx, POPULATION_SOURCES.householdRegistration, input)));
      },

      async leaveHousehold(_: unknown, { input }: Args<{ input: WithRevision & { householdId: string; personId: string; reason: LeaveReason } }>, ctx: Ctx) {
        const { householdId, personId, reason } = input;
        return householdPayload(await handlers.leaveHousehold({ householdId, personId, reason }, commandContext(ctx, POPULATION_SOURCES.householdRegistration, input)));
      },

      async changeHouseholdHead(
        _: unknown,
        { input }: Args<{ input: WithRevision & { householdId: string; headId: string; relationsToHead: MemberRelation[] } }>,
        ctx: Ctx,
      ) {
        const { householdId, headId } = input;
        const relationsToHead = input.relationsToHead.map((r) => ({ personId: r.personId, relationToHead: r.relationToHead }));
        return householdPayload(await handlers.changeHouseholdHead({ householdId, headId, relationsToHead }, commandContext(ctx, POPULATION_SOURCES.householdRegistration, input)));
      },
    },

    Person: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => personViews.now(ctx, ref.id),
      age: (person: PersonView) => ageOf(person, nowForChinaDate(runtime)),
      birthYear: (person: PersonView) => Number(person.birthDate.slice(0, 4)),
      ageBand: (person: PersonView) => ageBand(ageOf(person, nowForChinaDate(runtime))),
      async household(person: PersonView, _: unknown, ctx: Ctx) {
        const householdId = person.householdId === undefined ? ((await personDoc(ctx, person.id))?.householdId ?? null) : person.householdId;
        return householdId === null ? null : householdViews.now(ctx, householdId);
      },
      async relationToHead(person: PersonView, _: unknown, ctx: Ctx) {
        return person.relationToHead === undefined ? ((await personDoc(ctx, person.id))?.relationToHead ?? null) : person.relationToHead;
      },
      survival: (person: PersonView) => survivalOf(person, runtime.now()),
      history: (person: PersonView) => streamHistory(store, personStreamId(person.id), person),
      ...personProvenance,
    },

    Residence: {
      division: (residence: Residence) => storedDivision(residence.divisionCode),
    },

    Guardian: {
      person: (guardian: GuardianView, _: unknown, ctx: Ctx) => personViews.now(ctx, guardian.personId),
      async deceased(guardian: GuardianView, _: unknown, ctx: Ctx) {
        return guardian.deceased ?? (await personViews.now(ctx, guardian.personId))?.status === 'DECEASED';
      },
    },

    Household: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => householdViews.now(ctx, ref.id),
      head: (household: HouseholdView, _: unknown, ctx: Ctx) => personViews.now(ctx, household.headId),
      members: (household: HouseholdView, _: unknown, ctx: Ctx) => Promise.all(household.memberIds.map((id) => personViews.now(ctx, id))),
      size: (household: HouseholdView) => household.memberIds.length,
      async livingMembers(household: HouseholdView, _: unknown, ctx: Ctx) {
        if (household.livingMembers !== undefined) return household.livingMembers;
        const members = await Promise.all(household.memberIds.map((id) => personViews.now(ctx, id)));
        return members.filter((m) => m?.status === 'REGISTERED').length;
      },
      division: (household: HouseholdView) => storedDivision(household.divisionCode),
      history: (household: HouseholdView) => streamHistory(store, householdStreamId(household.id), household),
      ...householdProvenance,
    },

    Division: {
      __resolveReference: (ref: { code: string }) => getDivision(ref.code) ?? null,
      parent: (division: Division) => (division.parentCode === null ? null : storedDivision(division.parentCode)),
      children: (division: Division, { first, after }: Args<ConnectionArgs>) =>
        arrayConnection({ list: 'population.divisions', items: childrenOf(division.code), key: (d) => d.code, node: (d) => d, first, after }),
      population: (division: Division) => division,
    },

    DivisionPopulation: {
      residents: async (division: Division, _: unknown, ctx: Ctx) => (await divisionStats(ctx, division.code))?.residents ?? 0,
      deceased: async (division: Division, _: unknown, ctx: Ctx) => (await divisionStats(ctx, division.code))?.deceased ?? 0,
      households: async (division: Division, _: unknown, ctx: Ctx) => (await divisionStats(ctx, division.code))?.households ?? 0,
      async byAgeBand(division: Division, _: unknown, ctx: Ctx) {
        const on = today();
        return ageBandCounts(await cohortDocs(ctx, division.code, on, AGE_BANDS.map((b) => b.from)), on);
      },
      elderlyLivingAlone: (division: Division, _: unknown, ctx: Ctx) => elderlyLivingAloneIn(ctx, division.code),
      childrenInDistress: (division: Division, _: unknown, ctx: Ctx) => childrenInDistressIn(ctx, division.code),
    },

    ElderlyPersonLivingAlone: {
      person: ({ doc }: ModelCase) => personFromDoc(doc),
      age: ({ doc }: ModelCase) => ageOf(personFromDoc(doc), nowForChinaDate(runtime)),
      lastActivityAt: ({ doc }: ModelCase) => doc.lastActivityAt,
      daysSinceLastActivity: ({ doc }: ModelCase) => daysSince(runtime, doc.lastActivityAt),
      evidence: ({ doc }: ModelCase) => distinctEvidence([doc.registeredBy, doc.householdLivingBy, doc.lastActivityBy]),
    },

    ChildInDistress: {
      person: ({ doc }: ModelCase) => personFromDoc(doc),
      age: ({ doc }: ModelCase) => ageOf(personFromDoc(doc), nowForChinaDate(runtime)),
      guardians: ({ doc }: ModelCase) => personFromDoc(doc).guardians,
      evidence: ({ doc }: ModelCase) => distinctEvidence([doc.registeredBy, ...doc.guardians.map((g) => g.deceasedBy)]),
    },
  };
}
