/** A household register (户) and who belongs to it: the unit of the elderly-living-alone model. */
import { z } from 'zod';
import type { DomainEvent } from '../../../events/decider.ts';
import type { EventTypeDefinition } from '../../../events/registry.ts';

export const RELATIONS_TO_HEAD = [
  'SELF',
  'SPOUSE',
  'CHILD',
  'PARENT',
  'GRANDCHILD',
  'GRANDPARENT',
  'SIBLING',
  'CHILD_IN_LAW',
  'PARENT_IN_LAW',
  'OTHER',
] as const;
/** `SELF` is the head's own entry. */
export type RelationToHead = (typeof RELATIONS_TO_HEAD)[number];

export const LEAVE_REASONS = ['MOVED_OUT', 'DECEASED', 'OTHER'] as const;
export type LeaveReason = (typeof LEAVE_REASONS)[number];

export interface MemberRelation {
  personId: string;
  relationToHead: RelationToHead;
}

/** Always followed by the head's own `HouseholdMemberJoined` (relation `SELF`), so size = joined − left. */
export type HouseholdEstablished = DomainEvent<
  'HouseholdEstablished',
  { householdId: string; headId: string; address: string; /** A COMMUNITY code. */ divisionCode: string }
>;

export type HouseholdMemberJoined = DomainEvent<'HouseholdMemberJoined', { householdId: string } & MemberRelation>;

export type HouseholdMemberLeft = DomainEvent<
  'HouseholdMemberLeft',
  { householdId: string; personId: string; reason: LeaveReason }
>;

/** A new head (户主变更), with every other member's relation restated relative to them. */
export type HouseholdHeadChanged = DomainEvent<
  'HouseholdHeadChanged',
  { householdId: string; headId: string; previousHeadId: string; relationsToHead: MemberRelation[] }
>;

export type HouseholdEvent = HouseholdEstablished | HouseholdMemberJoined | HouseholdMemberLeft | HouseholdHeadChanged;

export const householdStreamId = (householdId: string): string => `population.household-${householdId}`;

const id = z.string().min(1);
const memberRelation = z.object({ personId: id, relationToHead: z.enum(RELATIONS_TO_HEAD) });

const householdEstablished: EventTypeDefinition<HouseholdEstablished['data']> = {
  type: 'HouseholdEstablished',
  schemaVersion: 1,
  schema: z.object({
    householdId: id,
    headId: id,
    address: z.string().trim().min(1),
    divisionCode: z.string().regex(/^\d{12}$/),
  }),
};

const householdMemberJoined: EventTypeDefinition<HouseholdMemberJoined['data']> = {
  type: 'HouseholdMemberJoined',
  schemaVersion: 1,
  schema: memberRelation.extend({ householdId: id }),
};

const householdMemberLeft: EventTypeDefinition<HouseholdMemberLeft['data']> = {
  type: 'HouseholdMemberLeft',
  schemaVersion: 1,
  schema: z.object({ householdId: id, personId: id, reason: z.enum(LEAVE_REASONS) }),
};

const householdHeadChanged: EventTypeDefinition<HouseholdHeadChanged['data']> = {
  type: 'HouseholdHeadChanged',
  schemaVersion: 1,
  schema: z.object({ householdId: id, headId: id, previousHeadId: id, relationsToHead: z.array(memberRelation) }),
};

export const householdEventDefinitions: readonly EventTypeDefinition[] = [
  householdEstablished,
  householdMemberJoined,
  householdMemberLeft,
  householdHeadChanged,
];
