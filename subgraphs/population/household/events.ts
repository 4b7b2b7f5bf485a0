/** A household register (户) and who belongs to it: the unit of the elderly-living-alone model. */
import { z } from 'zod';
import type { EventTypeDefinition } from '../../../events/registry.ts';
import { eventFields, eventType, type EventOf, type EventsOf } from '../../kit/eventTypes.ts';

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

const { id, text, communityCode } = eventFields;
const memberRelation = z.object({ personId: id, relationToHead: z.enum(RELATIONS_TO_HEAD) });
export type MemberRelation = z.infer<typeof memberRelation>;

/** Always followed by the head's own `HouseholdMemberJoined` (relation `SELF`), so size = joined − left. */
const householdEstablished = eventType('HouseholdEstablished', { householdId: id, headId: id, address: text, divisionCode: communityCode });
export type HouseholdEstablished = EventOf<typeof householdEstablished>;

const householdMemberJoined = eventType('HouseholdMemberJoined', memberRelation.extend({ householdId: id }));
export type HouseholdMemberJoined = EventOf<typeof householdMemberJoined>;

const householdMemberLeft = eventType('HouseholdMemberLeft', { householdId: id, personId: id, reason: z.enum(LEAVE_REASONS) });
export type HouseholdMemberLeft = EventOf<typeof householdMemberLeft>;

/** A new head (户主变更), with every other member's relation restated relative to them. */
const householdHeadChanged = eventType('HouseholdHeadChanged', { householdId: id, headId: id, previousHeadId: id, relationsToHead: z.array(memberRelation) });
export type HouseholdHeadChanged = EventOf<typeof householdHeadChanged>;

export const householdStreamId = (householdId: string): string => `population.household-${householdId}`;

export const householdEventDefinitions = [householdEstablished, householdMemberJoined, householdMemberLeft, householdHeadChanged] as const satisfies readonly EventTypeDefinition[];
export type HouseholdEvent = EventsOf<typeof householdEventDefinitions>;
