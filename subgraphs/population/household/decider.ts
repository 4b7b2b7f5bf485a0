import { deciderOf, onceCreated, requireStatus } from '../../../events/decider.ts';
import { ConflictError, ValidationError } from '../../../events/errors.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import type { HouseholdCommand } from './commands.ts';
import type { HouseholdEvent, MemberRelation } from './events.ts';

export interface HouseholdRecord {
  householdId: string;
  headId: string;
  address: string;
  divisionCode: string;
  members: MemberRelation[];
}

/** DISSOLVED: its last member (the head) left; a dissolved register is not reopened. */
export type HouseholdState =
  | { status: 'UNESTABLISHED' }
  | { status: 'ACTIVE'; household: HouseholdRecord }
  | { status: 'DISSOLVED'; household: HouseholdRecord };

function active(command: Exclude<HouseholdCommand, { type: 'establishHousehold' }>, state: HouseholdState): HouseholdRecord {
  const { householdId } = command.data;
  return requireStatus(command, state, 'ACTIVE', {
    status: 'UNESTABLISHED',
    message: `household ${householdId} is not established; establish it with establishHousehold first`,
    details: { householdId },
  }).household;
}

function isMember(household: HouseholdRecord, personId: string): boolean {
  return household.members.some((m) => m.personId === personId);
}

const isEstablished = (state: HouseholdState) => state.status !== 'UNESTABLISHED';

export const householdDecider = deciderOf<HouseholdCommand, HouseholdEvent, HouseholdState>({
  initialState: () => ({ status: 'UNESTABLISHED' }),
  decide: {
    establishHousehold: (command, state) => {
      const { householdId, headId, divisionCode } = command.data;
      if (state.status !== 'UNESTABLISHED') {
        throw new ConflictError(`household ${householdId} already exists (status ${state.status}); use a new household id`, {
          householdId,
          status: state.status,
        });
      }
      assertDivision(divisionCode, 'COMMUNITY');
      const address = command.data.address.trim();
      if (!address) throw new ValidationError('address must not be empty', { field: 'address' });
      return [
        { type: 'HouseholdEstablished', data: { householdId, headId, address, divisionCode } },
        { type: 'HouseholdMemberJoined', data: { householdId, personId: headId, relationToHead: 'SELF' } },
      ];
    },
    joinHousehold: (command, state) => {
      const household = active(command, state);
      const { householdId } = household;
      const { personId, relationToHead } = command.data;
      if (relationToHead === 'SELF') {
        throw new ValidationError('relation SELF belongs to the head alone; give the relation to the head', {
          field: 'relationToHead',
        });
      }
      if (isMember(household, personId)) {
        throw new ConflictError(`person ${personId} is already a member of household ${householdId}`, {
          householdId,
          personId,
        });
      }
      return [{ type: 'HouseholdMemberJoined', data: { householdId, personId, relationToHead } }];
    },
    leaveHousehold: (command, state) => {
      const household = active(command, state);
      const { householdId } = household;
      const { personId, reason } = command.data;
      if (!isMember(household, personId)) {
        throw new ValidationError(`person ${personId} is not a member of household ${householdId}, so cannot leave it`, {
          field: 'personId',
        });
      }
      const others = household.members.length - 1;
      if (personId === household.headId && others > 0) {
        throw new ValidationError(
          `person ${personId} is the head of household ${householdId} and ${others} other member(s) remain; ` +
            'make another member head with changeHouseholdHead first',
          { field: 'personId' },
        );
      }
      return [{ type: 'HouseholdMemberLeft', data: { householdId, personId, reason } }];
    },
    changeHouseholdHead: (command, state) => {
      const household = active(command, state);
      const { householdId } = household;
      const { headId, relationsToHead } = command.data;
      if (headId === household.headId) {
        throw new ValidationError(`person ${headId} is already the head of household ${householdId}`, { field: 'headId' });
      }
      if (!isMember(household, headId)) {
        throw new ValidationError(`the new head ${headId} must be a member of household ${householdId}; join them first`, {
          field: 'headId',
        });
      }
      const expected = household.members.map((m) => m.personId).filter((id) => id !== headId);
      const given = relationsToHead.map((r) => r.personId);
      const missing = expected.filter((id) => !given.includes(id));
      const unexpected = given.filter((id, i) => !expected.includes(id) || given.indexOf(id) !== i);
      if (missing.length || unexpected.length) {
        throw new ValidationError(
          `relationsToHead must restate each other member exactly once (${expected.join(', ')})` +
            `${missing.length ? `; missing: ${missing.join(', ')}` : ''}` +
            `${unexpected.length ? `; not members or repeated: ${unexpected.join(', ')}` : ''}`,
          { field: 'relationsToHead' },
        );
      }
      if (relationsToHead.some((r) => r.relationToHead === 'SELF')) {
        throw new ValidationError('only the new head has relation SELF; give the others their relation to the head', {
          field: 'relationsToHead',
        });
      }
      return [
        {
          type: 'HouseholdHeadChanged',
          data: {
            householdId,
            headId,
            previousHeadId: household.headId,
            relationsToHead: relationsToHead.map(({ personId, relationToHead }) => ({ personId, relationToHead })),
          },
        },
      ];
    },
  },
  evolve: {
    HouseholdEstablished: (event) => ({ status: 'ACTIVE', household: { ...event.data, members: [] } }),
    HouseholdMemberJoined: onceCreated(isEstablished, (event, state) => {
      const { household } = state;
      const { personId, relationToHead } = event.data;
      return { ...state, household: { ...household, members: [...household.members, { personId, relationToHead }] } };
    }),
    HouseholdMemberLeft: onceCreated(isEstablished, (event, { household }) => {
      const members = household.members.filter((m) => m.personId !== event.data.personId);
      return { status: members.length ? 'ACTIVE' : 'DISSOLVED', household: { ...household, members } };
    }),
    HouseholdHeadChanged: onceCreated(isEstablished, (event, state) => {
      const { household } = state;
      const { headId, relationsToHead } = event.data;
      const members = household.members.map(
        (m): MemberRelation =>
          m.personId === headId
            ? { personId: headId, relationToHead: 'SELF' }
            : (relationsToHead.find((r) => r.personId === m.personId) ?? m),
      );
      return { ...state, household: { ...household, headId, members } };
    }),
  },
});
