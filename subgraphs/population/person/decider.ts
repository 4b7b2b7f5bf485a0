import { deciderOf, onceCreated, requireStatus } from '../../../events/decider.ts';
import { ConflictError, ValidationError } from '../../../events/errors.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { assertIdNumber } from '../identity/idNumber.ts';
import { assertCalendarDate, chinaDate, parseInstant } from '../../kit/calendar.ts';
import type { NewPerson, PersonCommand, RegisterBirth, RegisterResident } from './commands.ts';
import type { GuardianAssigned, PersonEvent, PersonRegistered, Residence } from './events.ts';

export interface PersonRecord extends NewPerson {
  guardianIds: string[];
  lastProofOfLifeAt: string | null;
}

export type PersonState =
  | { status: 'UNREGISTERED' }
  | { status: 'REGISTERED'; person: PersonRecord }
  | { status: 'DECEASED'; person: PersonRecord; dateOfDeath: string };

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

function checkedResidence(residence: Residence, field: string): Residence {
  assertDivision(residence.divisionCode, 'COMMUNITY', `${field}.divisionCode`);
  return { address: requiredText(residence.address, `${field}.address`), divisionCode: residence.divisionCode };
}

function registration(
  command: RegisterResident | RegisterBirth,
  reason: PersonRegistered['data']['reason'],
): PersonRegistered {
  const { data } = command;
  const today = chinaDate(command.metadata.now);
  assertCalendarDate(data.birthDate, 'birthDate');
  const id = assertIdNumber(data.idNumber, { today, birthDate: data.birthDate });
  if (id.gender !== data.gender) {
    throw new ValidationError(
      `gender ${data.gender} does not match the ID number ${data.idNumber}, whose 17th digit denotes ${id.gender}`,
      { field: 'gender' },
    );
  }
  return {
    type: 'PersonRegistered',
    data: {
      personId: data.personId,
      idNumber: id.idNumber,
      name: requiredText(data.name, 'name'),
      gender: id.gender,
      birthDate: id.birthDate,
      residence: checkedResidence(data.residence, 'residence'),
      reason,
    },
  };
}

function parentGuardians(command: RegisterBirth): GuardianAssigned[] {
  const { personId, parents } = command.data;
  if (parents.length === 0 || parents.length > 2) {
    throw new ValidationError(`a birth is registered with one or two parents, got ${parents.length}`, {
      field: 'parents',
    });
  }
  for (const parent of parents) {
    if (parent.personId === personId) {
      throw new ValidationError('a newborn cannot be their own parent; check the parents’ person ids', {
        field: 'parents',
      });
    }
  }
  if (new Set(parents.map((p) => p.personId)).size < parents.length) {
    throw new ValidationError('the same person is listed twice as a parent', { field: 'parents' });
  }
  if (new Set(parents.map((p) => p.relation)).size < parents.length) {
    throw new ValidationError(`two parents are both listed as ${parents[0]?.relation ?? ''}`, { field: 'parents' });
  }
  return parents.map((p) => ({
    type: 'GuardianAssigned',
    data: { personId, guardianId: p.personId, relation: p.relation },
  }));
}

/** A date in the person's lifetime as of today: not before birth, not after today. */
function dateInLife(value: string, field: string, person: PersonRecord, today: string): string {
  assertCalendarDate(value, field);
  if (value < person.birthDate) {
    throw new ValidationError(`${field} ${value} is before the person's birth date ${person.birthDate}`, { field });
  }
  if (value > today) throw new ValidationError(`${field} ${value} is in the future (today is ${today})`, { field });
  return value;
}

function living(command: Exclude<PersonCommand, RegisterResident | RegisterBirth>, state: PersonState): PersonRecord {
  const { personId } = command.data;
  return requireStatus(command, state, 'REGISTERED', {
    status: 'UNREGISTERED',
    message: `person ${personId} is not registered; register them with registerResident or registerBirth first`,
    details: { personId },
  }).person;
}

const isRegistered = (state: PersonState) => state.status !== 'UNREGISTERED';

function unregistered(command: RegisterResident | RegisterBirth, state: PersonState): void {
  if (state.status !== 'UNREGISTERED') {
    throw new ConflictError(
      `person ${command.data.personId} is already registered (status ${state.status}); use a new person id`,
      { personId: command.data.personId, status: state.status },
    );
  }
}

export const personDecider = deciderOf<PersonCommand, PersonEvent, PersonState>({
  initialState: () => ({ status: 'UNREGISTERED' }),
  decide: {
    registerResident: (command, state) => {
      unregistered(command, state);
      return [registration(command, 'HOUSEHOLD_REGISTRATION')];
    },
    registerBirth: (command, state) => {
      unregistered(command, state);
      return [registration(command, 'BIRTH'), ...parentGuardians(command)];
    },
    changeResidence: (command, state) => {
      const person = living(command, state);
      const today = chinaDate(command.metadata.now);
      const residence = checkedResidence(command.data.residence, 'residence');
      if (residence.address === person.residence.address && residence.divisionCode === person.residence.divisionCode) {
        throw new ValidationError('the new residence is the person’s current residence; nothing to change', {
          field: 'residence',
        });
      }
      const movedOn = dateInLife(command.data.movedOn, 'movedOn', person, today);
      return [
        {
          type: 'ResidenceChanged',
          data: { personId: person.personId, residence, previousResidence: person.residence, movedOn },
        },
      ];
    },
    assignGuardian: (command, state) => {
      const person = living(command, state);
      const { guardianId, relation } = command.data;
      if (guardianId === person.personId) {
        throw new ValidationError('a person cannot be their own guardian; name another person as guardian', {
          field: 'guardianId',
        });
      }
      if (person.guardianIds.includes(guardianId)) {
        throw new ConflictError(`person ${guardianId} is already a guardian of person ${person.personId}`, {
          personId: person.personId,
          guardianId,
        });
      }
      return [{ type: 'GuardianAssigned', data: { personId: person.personId, guardianId, relation } }];
    },
    registerDeath: (command, state) => {
      const person = living(command, state);
      const today = chinaDate(command.metadata.now);
      const { dateOfDeath, place, certificateNo } = command.data;
      return [
        {
          type: 'PersonDeceased',
          data: {
            personId: person.personId,
            dateOfDeath: dateInLife(dateOfDeath, 'dateOfDeath', person, today),
            ...(place === undefined ? {} : { place: requiredText(place, 'place') }),
            ...(certificateNo === undefined ? {} : { certificateNo: requiredText(certificateNo, 'certificateNo') }),
          },
        },
      ];
    },
    confirmSurvival: (command, state) => {
      const person = living(command, state);
      const today = chinaDate(command.metadata.now);
      const { method, source, confirmedAt } = command.data;
      const at = parseInstant(confirmedAt, 'confirmedAt');
      if (at > parseInstant(command.metadata.now, 'now')) {
        throw new ValidationError(`confirmedAt ${confirmedAt} is in the future; a proof of life records a past sighting`, {
          field: 'confirmedAt',
        });
      }
      dateInLife(chinaDate(confirmedAt, 'confirmedAt'), 'confirmedAt', person, today);
      return [
        {
          type: 'SurvivalConfirmed',
          data: { personId: person.personId, method, source: requiredText(source, 'source'), confirmedAt },
        },
      ];
    },
  },
  evolve: {
    PersonRegistered: (event) => {
      const { reason: _reason, ...person } = event.data;
      return { status: 'REGISTERED', person: { ...person, guardianIds: [], lastProofOfLifeAt: null } };
    },
    ResidenceChanged: onceCreated(isRegistered, (event, state) => ({ ...state, person: { ...state.person, residence: event.data.residence } })),
    GuardianAssigned: onceCreated(isRegistered, (event, state) => ({
      ...state,
      person: { ...state.person, guardianIds: [...state.person.guardianIds, event.data.guardianId] },
    })),
    PersonDeceased: onceCreated(isRegistered, (event, { person }) => ({ status: 'DECEASED', person, dateOfDeath: event.data.dateOfDeath })),
    SurvivalConfirmed: onceCreated(isRegistered, (event, state) => {
      const { person } = state;
      // Proofs may be recorded out of order (a hospital reporting late); keep the latest sighting.
      const latest = person.lastProofOfLifeAt;
      const confirmedAt =
        latest !== null && Date.parse(latest) >= Date.parse(event.data.confirmedAt) ? latest : event.data.confirmedAt;
      return { ...state, person: { ...person, lastProofOfLifeAt: confirmedAt } };
    }),
  },
});
