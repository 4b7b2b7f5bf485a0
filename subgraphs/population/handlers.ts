/**
 * The population write path: each handler validates what only the store can tell (does the
 * guardian exist, is the household open), then runs the pure decider through the command seam.
 * Mutations and the demo seed both come through here, so demo data obeys every rule real data does.
 *
 * Registrations are checked in full before anything is appended (the decider runs once as a dry
 * run), so a refused registration leaves no trace; then the ID number is claimed (see
 * kit/naturalKey.ts), then the person's stream is written.
 */
import { ValidationError } from '../../events/errors.ts';
import type { EventStore } from '../../events/types.ts';
import { handle, idempotencyOnly, type CommandContext, type Outcome } from '../kit/command.ts';
import { defineNaturalKey } from '../kit/naturalKey.ts';
import { outcomeRunner, registerUnderClaim } from '../kit/registerHandlers.ts';
import type { ProvenanceDefaults } from '../kit/provenance.ts';
import type { ChangeHouseholdHead, EstablishHousehold, HouseholdCommand, JoinHousehold, LeaveHousehold } from './household/commands.ts';
import { householdDecider } from './household/decider.ts';
import { householdStreamId, type RelationToHead } from './household/events.ts';
import type { AssignGuardian, ChangeResidence, ConfirmSurvival, PersonCommand, RegisterBirth, RegisterDeath, RegisterResident } from './person/commands.ts';
import { personDecider, type PersonRecord, type PersonState } from './person/decider.ts';
import { personStreamId, type PersonRegistered, type Residence, type SurvivalProofMethod } from './person/events.ts';

/** One person per resident ID number, enforced by a claim stream per number (named by its pseudonym: the number is personal). */
export const idNumbers = defineNaturalKey({
  streamPrefix: 'population.id-number',
  claimedType: 'IdNumberClaimed',
  releasedType: 'IdNumberReleased',
  label: 'ID number',
  ownerLabel: 'person',
  field: 'idNumber',
  personal: true,
});

/** The departments that usually record each kind of fact (provenance when the caller states none). */
export const POPULATION_SOURCES = {
  householdRegistration: { department: '市公安局', system: '人口信息管理系统' },
  birth: { department: '市卫生健康委员会', system: '出生医学证明管理系统' },
  death: { department: '市民政局', system: '殡葬管理信息系统' },
  guardianship: { department: '市民政局', system: '民政业务系统' },
} as const satisfies Record<string, ProvenanceDefaults>;

/** A proof of life comes from whoever saw the person. */
export function survivalSource(method: SurvivalProofMethod): ProvenanceDefaults {
  switch (method) {
    case 'PENSION_FACE_CHECK':
      return { department: '市人力资源社会保障局', system: '社会保险资格认证系统' };
    case 'MEDICAL_VISIT':
      return { department: '市卫生健康委员会', system: '全民健康信息平台' };
    case 'COMMUNITY_VISIT':
    case 'OTHER':
      return { department: '市民政局', system: '民政业务系统' };
  }
}

/** The birth, the household the newborn joins, and (by default the household's) residence. */
export type RegisterBirthData = Omit<RegisterBirth['data'], 'residence'> & { householdId: string; relationToHead: RelationToHead; residence?: Residence | null };

/** A person a command names (a guardian, a household's head) must be registered, and for most commands alive. */
export function requirePerson(state: PersonState, personId: string, field: string, options: { alive: boolean }): PersonRecord {
  if (state.status === 'UNREGISTERED') {
    // A person the command names (not the one it is about) is the caller's input: BAD_USER_INPUT.
    throw new ValidationError(`${field} ${personId} is not a registered person; register them first or name another`, { field, personId });
  }
  if (options.alive && state.status === 'DECEASED') {
    throw new ValidationError(`${field} ${personId} died on ${state.dateOfDeath}; name a living person`, { field, personId });
  }
  return state.person;
}

const handlePerson = handle(personDecider, (command: PersonCommand) => personStreamId(command.data.personId));
const handleHousehold = handle(householdDecider, (command: HouseholdCommand) => householdStreamId(command.data.householdId));

export function createPopulationHandlers(store: EventStore) {
  async function person(personId: string, field: string, options: { alive: boolean }): Promise<PersonRecord> {
    const { state } = await store.aggregate(personDecider, personStreamId(personId));
    return requirePerson(state, personId, field, options);
  }

  const runPerson = outcomeRunner<Exclude<PersonCommand, RegisterResident | RegisterBirth>>(store, handlePerson, (data) => data.personId);
  const runHousehold = outcomeRunner<HouseholdCommand>(store, handleHousehold, (data) => data.householdId);

  async function registerPerson(command: RegisterResident | RegisterBirth, ctx: CommandContext): Promise<Outcome> {
    const { personId } = command.data;
    // The dry run refuses a wrong ID number (naming the rule), a bad division or date before any claim is taken.
    const registered = personDecider.decide(command, personDecider.initialState()).find((e): e is PersonRegistered => e.type === 'PersonRegistered');
    if (!registered) throw new Error(`${command.type} decided no PersonRegistered event`);
    const claim = { key: registered.data.idNumber, ownerId: personId };
    return registerUnderClaim(store, idNumbers, claim, ctx, () => handlePerson(store, command, ctx.metadata, idempotencyOnly(ctx)));
  }

  return {
    registerResident(data: RegisterResident['data'], ctx: CommandContext): Promise<Outcome> {
      return registerPerson({ type: 'registerResident', data, metadata: { now: ctx.now } }, ctx);
    },

    /** 出生登记 as one command: the person (with the parents as guardians), then the household membership. */
    async registerBirth(data: RegisterBirthData, ctx: CommandContext): Promise<{ person: Outcome; household: Outcome }> {
      const { householdId, relationToHead, residence, ...rest } = data;
      const join: JoinHousehold = { type: 'joinHousehold', data: { householdId, personId: data.personId, relationToHead }, metadata: { now: ctx.now } };
      const { state: householdState } = await store.aggregate(householdDecider, householdStreamId(householdId));
      // A re-sent birth (its person id derives from its key) finds the newborn registered and a member
      // already: it is answered from the streams below instead of being refused by the checks.
      const resent = ctx.idempotencyKey !== undefined && (await store.streamRevision(personStreamId(data.personId))) !== undefined;
      // The household a newborn joins is a reference of the birth, as its parents are.
      if (householdState.status === 'UNESTABLISHED') {
        throw new ValidationError(`householdId ${householdId} is not an established household; establish it first or name another`, { field: 'householdId' });
      }
      if (!resent) householdDecider.decide(join, householdState);
      for (const [i, parent] of data.parents.entries()) await person(parent.personId, `parents[${i}].personId`, { alive: false });
      const home = residence ?? { address: householdState.household.address, divisionCode: householdState.household.divisionCode };
      // A birth starts the person's stream and joins the household as it is: no client revision applies.
      const registration = { metadata: ctx.metadata, now: ctx.now, ...idempotencyOnly(ctx) };
      const registered = await registerPerson({ type: 'registerBirth', data: { ...rest, residence: home }, metadata: { now: ctx.now } }, registration);
      // Checked above; only a household dissolved in the meantime refuses the join now. The join is
      // a second stream, so it takes its own key derived from the birth's.
      const joinOptions = ctx.idempotencyKey === undefined ? {} : { idempotencyKey: `${ctx.idempotencyKey}\u0000joinHousehold` };
      const joined = await runHousehold('joinHousehold', join.data, { metadata: ctx.metadata, now: ctx.now, ...joinOptions });
      return { person: registered, household: joined };
    },

    changeResidence: (data: ChangeResidence['data'], ctx: CommandContext): Promise<Outcome> => runPerson('changeResidence', data, ctx),

    async assignGuardian(data: AssignGuardian['data'], ctx: CommandContext): Promise<Outcome> {
      await person(data.guardianId, 'guardianId', { alive: true });
      return runPerson('assignGuardian', data, ctx);
    },

    registerDeath: (data: RegisterDeath['data'], ctx: CommandContext): Promise<Outcome> => runPerson('registerDeath', data, ctx),

    confirmSurvival: (data: ConfirmSurvival['data'], ctx: CommandContext): Promise<Outcome> => runPerson('confirmSurvival', data, ctx),

    async establishHousehold(data: EstablishHousehold['data'], ctx: CommandContext): Promise<Outcome> {
      await person(data.headId, 'headId', { alive: true });
      return runHousehold('establishHousehold', data, ctx);
    },

    async joinHousehold(data: JoinHousehold['data'], ctx: CommandContext): Promise<Outcome> {
      await person(data.personId, 'personId', { alive: true });
      return runHousehold('joinHousehold', data, ctx);
    },

    leaveHousehold: (data: LeaveHousehold['data'], ctx: CommandContext): Promise<Outcome> => runHousehold('leaveHousehold', data, ctx),

    async changeHouseholdHead(data: ChangeHouseholdHead['data'], ctx: CommandContext): Promise<Outcome> {
      await person(data.headId, 'headId', { alive: true });
      return runHousehold('changeHouseholdHead', data, ctx);
    },
  };
}

export type PopulationHandlers = ReturnType<typeof createPopulationHandlers>;
