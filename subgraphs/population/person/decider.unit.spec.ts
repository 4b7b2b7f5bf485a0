import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import { makeIdNumber } from '../identity/idNumber.ts';
import type { ChangeResidence, NewPerson, PersonCommand, RegisterBirth, RegisterResident } from './commands.ts';
import { personDecider } from './decider.ts';
import { personEventDefinitions, type PersonEvent, type PersonRegistered, type Residence } from './events.ts';

const metadata = { now: '2026-03-01T02:00:00.000Z' }; // 2026-03-01 10:00 in Jinan
const home = { address: '济南市历下区解放路 1 号', divisionCode: '370102001001' };
const newHome = { address: '济南市市中区大观园 8 号', divisionCode: '370103001001' };
const idNumber = makeIdNumber('370102', '1990-03-07', 106); // a woman; check character X

const resident: NewPerson = { personId: 'p-1', idNumber, name: '李娜', gender: 'FEMALE', birthDate: '1990-03-07', residence: home };
const registerResident = (data: Partial<NewPerson> = {}): RegisterResident => ({
  type: 'registerResident',
  data: { ...resident, ...data },
  metadata,
});

const registered: PersonRegistered = { type: 'PersonRegistered', data: { ...resident, reason: 'HOUSEHOLD_REGISTRATION' } };
const deceased: PersonEvent = { type: 'PersonDeceased', data: { personId: 'p-1', dateOfDeath: '2026-02-01' } };

const newbornId = makeIdNumber('370102', '2026-02-20', 12); // a girl
const newborn: NewPerson = { personId: 'baby-1', idNumber: newbornId, name: '张小雨', gender: 'FEMALE', birthDate: '2026-02-20', residence: home };
const registerBirth = (data: Partial<RegisterBirth['data']> = {}, now = metadata.now): RegisterBirth => ({
  type: 'registerBirth',
  data: {
    ...newborn,
    parents: [
      { personId: 'p-2', relation: 'FATHER' },
      { personId: 'p-1', relation: 'MOTHER' },
    ],
    ...data,
  },
  metadata: { now },
});

const command = <C extends PersonCommand>(type: C['type'], data: C['data']): C =>
  ({ type, data, metadata }) as C;

describe('person: registerResident', () => {
  it('registers a resident with the normalised ID number, trimmed name and reason HOUSEHOLD_REGISTRATION', () => {
    assert.ok(idNumber.endsWith('X'));
    given(personDecider)
      .when(registerResident({ idNumber: idNumber.toLowerCase(), name: ' 李娜 ' }))
      .then([registered]);
  });

  const refusals: [string, Partial<NewPerson>, RegExp][] = [
    ['an ID number with a wrong check character', { idNumber: `${idNumber.slice(0, 17)}1` }, /idNumber .* is invalid: check character should be X, got 1/],
    ['a birth date that differs from the one in the ID number', { birthDate: '1990-03-08' }, /1990-03-08 does not match the birth date 1990-03-07/],
    ['a gender that contradicts the ID number', { gender: 'MALE' }, /gender MALE does not match .* denotes FEMALE/],
    ['a birth date written in another format', { birthDate: '1990/03/07' }, /birthDate must be a real calendar date/],
    [
      'a residence that is not a community of the catalog',
      { residence: { address: '历下区', divisionCode: '370102' } },
      /residence.divisionCode 370102 is 历下区, a DISTRICT; a COMMUNITY code is required/,
    ],
    ['an empty name', { name: '  ' }, /name must not be empty/],
  ];
  for (const [what, data, message] of refusals) {
    it(`refuses ${what}`, () => {
      given(personDecider).when(registerResident(data)).thenThrows(ValidationError, message);
    });
  }

  it('refuses to register an existing person, living or deceased', () => {
    given(personDecider, [registered]).when(registerResident()).thenThrows(ConflictError, /already registered/);
    given(personDecider, [registered, deceased])
      .when(registerResident())
      .thenThrows(ConflictError, /already registered \(status DECEASED\)/);
  });
});

describe('person: registerBirth', () => {
  it('registers the newborn and makes each parent a guardian', () => {
    given(personDecider)
      .when(registerBirth())
      .then([
        { type: 'PersonRegistered', data: { ...newborn, reason: 'BIRTH' } },
        { type: 'GuardianAssigned', data: { personId: 'baby-1', guardianId: 'p-2', relation: 'FATHER' } },
        { type: 'GuardianAssigned', data: { personId: 'baby-1', guardianId: 'p-1', relation: 'MOTHER' } },
      ]);
  });

  it('accepts a single parent', () => {
    const events = personDecider.decide(registerBirth({ parents: [{ personId: 'p-1', relation: 'MOTHER' }] }), {
      status: 'UNREGISTERED',
    });
    assert.deepEqual(
      events.map((e) => e.type),
      ['PersonRegistered', 'GuardianAssigned'],
    );
  });

  it('reads "today" in China time: a birth on 2 March is accepted at 01:00 Beijing time, 17:00 UTC the day before', () => {
    const bornToday = makeIdNumber('370102', '2026-03-02', 12);
    const birth = registerBirth({ idNumber: bornToday, birthDate: '2026-03-02' }, '2026-03-01T17:00:00Z');
    assert.equal(personDecider.decide(birth, { status: 'UNREGISTERED' }).length, 3);
    given(personDecider)
      .when(registerBirth({ idNumber: bornToday, birthDate: '2026-03-02' }, '2026-03-01T15:59:59Z'))
      .thenThrows(ValidationError, /in the future \(today is 2026-03-01\)/);
  });

  const father = (personId: string) => ({ personId, relation: 'FATHER' as const });
  const mother = (personId: string) => ({ personId, relation: 'MOTHER' as const });
  const invalidParents: [string, RegisterBirth['data']['parents'], RegExp][] = [
    ['a birth without parents', [], /one or two parents, got 0/],
    ['a birth with more than two parents', [father('p-1'), mother('p-2'), mother('p-3')], /got 3/],
    ['the newborn as their own parent', [mother('baby-1')], /own parent/],
    ['the same parent twice', [father('p-1'), mother('p-1')], /same person is listed twice/],
    ['two parents with one relation', [mother('p-1'), mother('p-2')], /both listed as MOTHER/],
  ];
  for (const [what, parents, message] of invalidParents) {
    it(`refuses ${what}`, () => {
      given(personDecider).when(registerBirth({ parents })).thenThrows(ValidationError, message);
    });
  }

  it('refuses to register a birth for an existing person', () => {
    given(personDecider, [registered]).when(registerBirth({ personId: 'p-1' })).thenThrows(ConflictError);
  });
});

describe('person: changeResidence', () => {
  const move = (residence: Residence, movedOn = '2026-02-28'): ChangeResidence => command('changeResidence', { personId: 'p-1', residence, movedOn });

  it('moves the person and records the previous residence', () => {
    given(personDecider, [registered])
      .when(move(newHome))
      .then([{ type: 'ResidenceChanged', data: { ...move(newHome).data, previousResidence: home } }]);
  });

  it('refuses a move to the current residence', () => {
    given(personDecider, [registered])
      .when(move(home))
      .thenThrows(ValidationError, /current residence; nothing to change/);
  });

  it('refuses a move dated in the future or before birth', () => {
    given(personDecider, [registered])
      .when(move(newHome, '2026-03-02'))
      .thenThrows(ValidationError, /movedOn 2026-03-02 is in the future/);
    given(personDecider, [registered])
      .when(move(newHome, '1980-01-01'))
      .thenThrows(ValidationError, /before the person's birth date 1990-03-07/);
  });

  it('refuses a person who is not registered', () => {
    given(personDecider)
      .when(move(newHome))
      .thenThrows(NotFoundError, /person p-1 is not registered/);
  });

  it('refuses a deceased person, naming the status', () => {
    given(personDecider, [registered, deceased])
      .when(move(newHome, '2026-01-28'))
      .thenThrows(InvalidTransitionError, /cannot changeResidence while the status is DECEASED; allowed next steps: none/);
  });
});

describe('person: assignGuardian', () => {
  it('assigns a guardian', () => {
    given(personDecider, [registered])
      .when(command('assignGuardian', { personId: 'p-1', guardianId: 'p-9', relation: 'SIBLING' }))
      .then([{ type: 'GuardianAssigned', data: { personId: 'p-1', guardianId: 'p-9', relation: 'SIBLING' } }]);
  });

  it('refuses the person as their own guardian', () => {
    given(personDecider, [registered])
      .when(command('assignGuardian', { personId: 'p-1', guardianId: 'p-1', relation: 'OTHER' }))
      .thenThrows(ValidationError, /cannot be their own guardian/);
  });

  it('refuses a guardian who is already assigned', () => {
    const assigned: PersonEvent = {
      type: 'GuardianAssigned',
      data: { personId: 'p-1', guardianId: 'p-9', relation: 'SIBLING' },
    };
    given(personDecider, [registered, assigned])
      .when(command('assignGuardian', { personId: 'p-1', guardianId: 'p-9', relation: 'OTHER_RELATIVE' }))
      .thenThrows(ConflictError, /p-9 is already a guardian of person p-1/);
  });

  it('refuses a deceased person', () => {
    given(personDecider, [registered, deceased])
      .when(command('assignGuardian', { personId: 'p-1', guardianId: 'p-9', relation: 'OTHER' }))
      .thenThrows(InvalidTransitionError, /status is DECEASED/);
  });
});

describe('person: registerDeath', () => {
  it('records the death with its place and certificate', () => {
    given(personDecider, [registered])
      .when(
        command('registerDeath', {
          personId: 'p-1',
          dateOfDeath: '2026-03-01',
          place: '山东省立医院',
          certificateNo: 'SD2026-000123',
        }),
      )
      .then([
        {
          type: 'PersonDeceased',
          data: { personId: 'p-1', dateOfDeath: '2026-03-01', place: '山东省立医院', certificateNo: 'SD2026-000123' },
        },
      ]);
  });

  it('leaves out place and certificate when they are not known', () => {
    given(personDecider, [registered])
      .when(command('registerDeath', { personId: 'p-1', dateOfDeath: '2026-02-01' }))
      .then([deceased]);
  });

  it('refuses a date of death before birth or in the future', () => {
    given(personDecider, [registered])
      .when(command('registerDeath', { personId: 'p-1', dateOfDeath: '1990-03-06' }))
      .thenThrows(ValidationError, /dateOfDeath 1990-03-06 is before the person's birth date/);
    given(personDecider, [registered])
      .when(command('registerDeath', { personId: 'p-1', dateOfDeath: '2026-03-02' }))
      .thenThrows(ValidationError, /dateOfDeath 2026-03-02 is in the future \(today is 2026-03-01\)/);
  });

  it('refuses a second death registration', () => {
    given(personDecider, [registered, deceased])
      .when(command('registerDeath', { personId: 'p-1', dateOfDeath: '2026-02-01' }))
      .thenThrows(InvalidTransitionError, /cannot registerDeath while the status is DECEASED/);
  });

  it('refuses an unregistered person', () => {
    given(personDecider)
      .when(command('registerDeath', { personId: 'p-1', dateOfDeath: '2026-02-01' }))
      .thenThrows(NotFoundError);
  });
});

describe('person: confirmSurvival', () => {
  const proof = { personId: 'p-1', method: 'PENSION_FACE_CHECK', source: '济南市社会保险事业中心' } as const;

  it('records a proof of life', () => {
    given(personDecider, [registered])
      .when(command('confirmSurvival', { ...proof, confirmedAt: '2026-02-15T08:00:00+08:00' }))
      .then([{ type: 'SurvivalConfirmed', data: { ...proof, confirmedAt: '2026-02-15T08:00:00+08:00' } }]);
  });

  it('refuses a proof dated after now, or before the person was born', () => {
    given(personDecider, [registered])
      .when(command('confirmSurvival', { ...proof, confirmedAt: '2026-03-01T02:00:01Z' }))
      .thenThrows(ValidationError, /confirmedAt .* is in the future/);
    given(personDecider, [registered])
      .when(command('confirmSurvival', { ...proof, confirmedAt: '1989-01-01T00:00:00Z' }))
      .thenThrows(ValidationError, /before the person's birth date/);
  });

  it('refuses a confirmedAt that is not an instant', () => {
    given(personDecider, [registered])
      .when(command('confirmSurvival', { ...proof, confirmedAt: 'yesterday' }))
      .thenThrows(ValidationError, /confirmedAt must be an ISO 8601 instant/);
  });

  it('refuses a proof of life for a deceased person', () => {
    given(personDecider, [registered, deceased])
      .when(command('confirmSurvival', { ...proof, confirmedAt: '2026-02-15T08:00:00+08:00' }))
      .thenThrows(InvalidTransitionError, /cannot confirmSurvival while the status is DECEASED/);
  });
});

describe('person: evolve', () => {
  it('folds the person’s history into their current record', () => {
    const { state } = given(personDecider, [
      registered,
      { type: 'ResidenceChanged', data: { personId: 'p-1', residence: newHome, previousResidence: home, movedOn: '2025-01-01' } },
      { type: 'GuardianAssigned', data: { personId: 'p-1', guardianId: 'p-9', relation: 'SIBLING' } },
      { type: 'SurvivalConfirmed', data: { personId: 'p-1', method: 'MEDICAL_VISIT', source: 'h', confirmedAt: '2026-02-01T00:00:00Z' } },
      // reported late, with an older sighting: the latest sighting stays
      { type: 'SurvivalConfirmed', data: { personId: 'p-1', method: 'OTHER', source: 'c', confirmedAt: '2026-01-01T00:00:00Z' } },
    ]);
    assert.deepEqual(state, {
      status: 'REGISTERED',
      person: {
        personId: 'p-1',
        idNumber,
        name: '李娜',
        gender: 'FEMALE',
        birthDate: '1990-03-07',
        residence: newHome,
        guardianIds: ['p-9'],
        lastProofOfLifeAt: '2026-02-01T00:00:00Z',
      },
    });
  });

  it('keeps the record and the date of death once deceased', () => {
    const { state } = given(personDecider, [registered, deceased]);
    assert.equal(state.status, 'DECEASED');
    assert.ok(state.status === 'DECEASED' && state.dateOfDeath === '2026-02-01' && state.person.name === '李娜');
  });
});

describe('person: event schemas', () => {
  const registry = new EventRegistry().registerAll(personEventDefinitions);

  it('accept every event the decider emits', () => {
    const birth = personDecider.decide(registerBirth(), { status: 'UNREGISTERED' });
    const state = { status: 'REGISTERED' as const, person: { ...registered.data, guardianIds: [], lastProofOfLifeAt: null } };
    const later: PersonCommand[] = [
      command('changeResidence', { personId: 'p-1', residence: newHome, movedOn: '2026-02-28' }),
      command('confirmSurvival', { personId: 'p-1', method: 'COMMUNITY_VISIT', source: '解放路街道', confirmedAt: '2026-02-15T08:00:00+08:00' }),
      command('registerDeath', { personId: 'p-1', dateOfDeath: '2026-02-01', place: '家中' }),
    ];
    const events = [...birth, ...later.flatMap((c) => personDecider.decide(c, state))];
    assert.equal(events.length, 6);
    assertAcceptedAsEmitted(registry, events);
  });

  it('refuse an ID number with a wrong check character', () => {
    const data = { ...registered.data, idNumber: `${idNumber.slice(0, 17)}0` };
    assert.throws(() => registry.validateForAppend('PersonRegistered', data, testMetadata), /idNumber/);
  });
});
