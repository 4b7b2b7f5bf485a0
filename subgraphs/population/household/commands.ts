import type { Command } from '../../kit/command.ts';
import type { LeaveReason, MemberRelation, RelationToHead } from './events.ts';

/** Opens a household register with its head as the first member. */
export type EstablishHousehold = Command<
  'establishHousehold',
  { householdId: string; headId: string; address: string; /** A COMMUNITY code. */ divisionCode: string }
>;

export type JoinHousehold = Command<
  'joinHousehold',
  { householdId: string; personId: string; /** Anything but `SELF`, which only the head has. */ relationToHead: RelationToHead }
>;

export type LeaveHousehold = Command<'leaveHousehold', { householdId: string; personId: string; reason: LeaveReason }>;

/** Makes another member the head; `relationsToHead` restates every other member's relation to the new head. */
export type ChangeHouseholdHead = Command<
  'changeHouseholdHead',
  { householdId: string; headId: string; relationsToHead: MemberRelation[] }
>;

export type HouseholdCommand = EstablishHousehold | JoinHousehold | LeaveHousehold | ChangeHouseholdHead;
