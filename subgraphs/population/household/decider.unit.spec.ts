import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import type { ChangeHouseholdHead, HouseholdCommand } from './commands.ts';
import { householdDecider } from './decider.ts';
import { householdEventDefinitions, type HouseholdEvent, type LeaveReason, type MemberRelation, type RelationToHead } from './events.ts';

const metadata = { now: '2026-03-01T02:00:00.000Z' };
const command = <C extends HouseholdCommand>(type: C['type'], data: C['data']): C =>
  ({ type, data, metadata }) as C;

const address = '济南市历下区解放路 1 号';
const joined = (personId: string, relationToHead: RelationToHead): HouseholdEvent => ({
  type: 'HouseholdMemberJoined',
  data: { householdId: 'h-1', personId, relationToHead },
});
const left = (personId: string, reason: LeaveReason): HouseholdEvent => ({ type: 'HouseholdMemberLeft', data: { householdId: 'h-1', personId, reason } });
const established: HouseholdEvent[] = [
  { type: 'HouseholdEstablished', data: { householdId: 'h-1', headId: 'p-1', address, divisionCode: '370102001001' } },
  joined('p-1', 'SELF'),
];
const spouseJoined = joined('p-2', 'SPOUSE');
const childJoined = joined('p-3', 'CHILD');
const headLeft = left('p-1', 'MOVED_OUT');
/** p-2 (the spouse) becomes head; the former head p-1 is now their spouse. */
const spouseAsHead = {
  householdId: 'h-1',
  headId: 'p-2',
  relationsToHead: [
    { personId: 'p-1', relationToHead: 'SPOUSE' },
    { personId: 'p-3', relationToHead: 'CHILD' },
  ],
} satisfies ChangeHouseholdHead['data'];
const headChanged: HouseholdEvent = { type: 'HouseholdHeadChanged', data: { ...spouseAsHead, previousHeadId: 'p-1' } };

describe('household: establishHousehold', () => {
  it('establishes the household with its head as the first member', () => {
    given(householdDecider)
      .when(
        command('establishHousehold', {
          householdId: 'h-1',
          headId: 'p-1',
          address: ` ${address} `,
          divisionCode: '370102001001',
        }),
      )
      .then(established);
  });

  it('refuses a division that is not a community', () => {
    given(householdDecider)
      .when(command('establishHousehold', { householdId: 'h-1', headId: 'p-1', address, divisionCode: '370102001' }))
      .thenThrows(ValidationError, /370102001 is 解放路街道, a STREET; a COMMUNITY code is required/);
  });

  it('refuses an empty address', () => {
    given(householdDecider)
      .when(command('establishHousehold', { householdId: 'h-1', headId: 'p-1', address: ' ', divisionCode: '370102001001' }))
      .thenThrows(ValidationError, /address must not be empty/);
  });

  it('refuses to establish an existing household', () => {
    given(householdDecider, established)
      .when(command('establishHousehold', { householdId: 'h-1', headId: 'p-9', address, divisionCode: '370102001001' }))
      .thenThrows(ConflictError, /household h-1 already exists \(status ACTIVE\)/);
  });
});

describe('household: joinHousehold', () => {
  it('adds a member with their relation to the head', () => {
    given(householdDecider, established)
      .when(command('joinHousehold', { householdId: 'h-1', personId: 'p-2', relationToHead: 'SPOUSE' }))
      .then([spouseJoined]);
  });

  it('refuses a member who already belongs to the household, including the head', () => {
    given(householdDecider, [...established, spouseJoined])
      .when(command('joinHousehold', { householdId: 'h-1', personId: 'p-2', relationToHead: 'CHILD' }))
      .thenThrows(ConflictError, /person p-2 is already a member of household h-1/);
    given(householdDecider, established)
      .when(command('joinHousehold', { householdId: 'h-1', personId: 'p-1', relationToHead: 'OTHER' }))
      .thenThrows(ConflictError);
  });

  it('refuses relation SELF for anyone but the head', () => {
    given(householdDecider, established)
      .when(command('joinHousehold', { householdId: 'h-1', personId: 'p-2', relationToHead: 'SELF' }))
      .thenThrows(ValidationError, /SELF belongs to the head alone/);
  });

  it('refuses a household that does not exist', () => {
    given(householdDecider)
      .when(command('joinHousehold', { householdId: 'h-1', personId: 'p-2', relationToHead: 'SPOUSE' }))
      .thenThrows(NotFoundError, /household h-1 is not established/);
  });

  it('refuses a dissolved household, naming its status', () => {
    given(householdDecider, [...established, headLeft])
      .when(command('joinHousehold', { householdId: 'h-1', personId: 'p-2', relationToHead: 'SPOUSE' }))
      .thenThrows(InvalidTransitionError, /cannot joinHousehold while the status is DISSOLVED/);
  });
});

describe('household: leaveHousehold', () => {
  it('lets a member leave', () => {
    given(householdDecider, [...established, spouseJoined])
      .when(command('leaveHousehold', { householdId: 'h-1', personId: 'p-2', reason: 'MOVED_OUT' }))
      .then([left('p-2', 'MOVED_OUT')]);
  });

  it('refuses the head while other members remain, and says how to proceed', () => {
    given(householdDecider, [...established, spouseJoined, childJoined])
      .when(command('leaveHousehold', { householdId: 'h-1', personId: 'p-1', reason: 'DECEASED' }))
      .thenThrows(ValidationError, /p-1 is the head of household h-1 and 2 other member\(s\) remain; .*changeHouseholdHead/);
  });

  it('lets the head leave as the last member, which dissolves the household', () => {
    const { state } = given(householdDecider, [...established, headLeft]);
    assert.equal(state.status, 'DISSOLVED');
    given(householdDecider, established)
      .when(command('leaveHousehold', { householdId: 'h-1', personId: 'p-1', reason: 'MOVED_OUT' }))
      .then([headLeft]);
  });

  it('refuses a person who is not a member, including one who already left', () => {
    given(householdDecider, established)
      .when(command('leaveHousehold', { householdId: 'h-1', personId: 'p-7', reason: 'MOVED_OUT' }))
      .thenThrows(ValidationError, /person p-7 is not a member of household h-1/);
    given(householdDecider, [...established, spouseJoined, left('p-2', 'MOVED_OUT')])
      .when(command('leaveHousehold', { householdId: 'h-1', personId: 'p-2', reason: 'OTHER' }))
      .thenThrows(ValidationError, /not a member/);
  });
});

describe('household: changeHouseholdHead', () => {
  const family = [...established, spouseJoined, childJoined];
  const spouseAsHeadWith = (...relationsToHead: MemberRelation[]) => command('changeHouseholdHead', { ...spouseAsHead, relationsToHead });

  it('makes a member head and restates the others’ relations', () => {
    given(householdDecider, family).when(command('changeHouseholdHead', spouseAsHead)).then([headChanged]);
  });

  it('then lets the former head leave', () => {
    given(householdDecider, [...family, headChanged])
      .when(command('leaveHousehold', { householdId: 'h-1', personId: 'p-1', reason: 'DECEASED' }))
      .then([left('p-1', 'DECEASED')]);
  });

  it('refuses the current head, a non-member, or relations that leave out a member', () => {
    given(householdDecider, family)
      .when(command('changeHouseholdHead', { householdId: 'h-1', headId: 'p-1', relationsToHead: [] }))
      .thenThrows(ValidationError, /p-1 is already the head/);
    given(householdDecider, family)
      .when(command('changeHouseholdHead', { householdId: 'h-1', headId: 'p-8', relationsToHead: [] }))
      .thenThrows(ValidationError, /new head p-8 must be a member/);
    given(householdDecider, family)
      .when(spouseAsHeadWith({ personId: 'p-1', relationToHead: 'SPOUSE' }, { personId: 'p-9', relationToHead: 'OTHER' }))
      .thenThrows(ValidationError, /missing: p-3; not members or repeated: p-9/);
  });

  it('refuses SELF for anyone but the new head', () => {
    given(householdDecider, family)
      .when(spouseAsHeadWith({ personId: 'p-1', relationToHead: 'SELF' }, { personId: 'p-3', relationToHead: 'CHILD' }))
      .thenThrows(ValidationError, /only the new head has relation SELF/);
  });
});

describe('household: evolve', () => {
  it('tracks head, members and relations through a head change and departures', () => {
    const { state } = given(householdDecider, [
      ...established,
      spouseJoined,
      childJoined,
      headChanged,
      headLeft,
    ]);
    assert.deepEqual(state, {
      status: 'ACTIVE',
      household: {
        householdId: 'h-1',
        headId: 'p-2',
        address,
        divisionCode: '370102001001',
        members: [
          { personId: 'p-2', relationToHead: 'SELF' },
          { personId: 'p-3', relationToHead: 'CHILD' },
        ],
      },
    });
  });
});

describe('household: event schemas', () => {
  it('accept every event the decider emits', () => {
    const registry = new EventRegistry().registerAll(householdEventDefinitions);
    const events = [
      ...householdDecider.decide(
        command('establishHousehold', { householdId: 'h-1', headId: 'p-1', address, divisionCode: '370102001001' }),
        { status: 'UNESTABLISHED' },
      ),
      spouseJoined,
      headLeft,
    ];
    assertAcceptedAsEmitted(registry, events);
  });
});
