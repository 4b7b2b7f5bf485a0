import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import { makeCreditCode } from '../identity/creditCode.ts';
import type { ChangeRegisteredAddress, LegalPersonCommand, RegisterLegalPerson } from './commands.ts';
import { legalPersonDecider } from './decider.ts';
import { legalPersonEventDefinitions, type LegalPersonEvent, type LegalPersonRegistered, type RegisteredAddress } from './events.ts';

const metadata = { now: '2026-03-01T02:00:00.000Z' }; // 2026-03-01 in Jinan
const command = <C extends LegalPersonCommand>(type: C['type'], data: C['data']): C =>
  ({ type, data, metadata }) as C;

const creditCode = makeCreditCode({ divisionCode: '370102', organizationCode: 'MA3C1234' });
const office = { address: '济南市历下区泉城路 180 号', divisionCode: '370102004001' };
const newOffice = { address: '济南市历城区华山街道 6 号', divisionCode: '370112005' };

const registration: LegalPersonRegistered['data'] = {
  legalPersonId: 'lp-1',
  creditCode,
  name: '济南泉城软件有限公司',
  type: 'ENTERPRISE',
  legalRepresentativeId: 'p-1',
  registeredAddress: office,
  registeredCapitalFen: 100_000_000,
  industry: { section: 'I', name: '软件开发' },
  establishedOn: '2021-06-18',
};
const register = (data: Partial<RegisterLegalPerson['data']> = {}): RegisterLegalPerson =>
  command('registerLegalPerson', { ...registration, ...data });

const registered: LegalPersonEvent = { type: 'LegalPersonRegistered', data: registration };
const revoked: LegalPersonEvent = {
  type: 'LegalPersonRevoked',
  data: { legalPersonId: 'lp-1', reason: '连续六个月未开业', revokedOn: '2025-12-01' },
};
const deregistered: LegalPersonEvent = {
  type: 'LegalPersonDeregistered',
  data: { legalPersonId: 'lp-1', deregisteredOn: '2026-01-10' },
};
const report2024: LegalPersonEvent = {
  type: 'AnnualReportFiled',
  data: { legalPersonId: 'lp-1', year: 2024, employees: 12, revenueFen: 360_000_000 },
};

describe('legal person: registerLegalPerson', () => {
  it('registers the legal person with its normalised credit code and trimmed name', () => {
    given(legalPersonDecider)
      .when(register({ creditCode: creditCode.toLowerCase(), name: ` ${registration.name} ` }))
      .then([registered]);
  });

  it('accepts each type with its own kind of credit code', () => {
    const cases = [
      ['INDIVIDUAL_BUSINESS', '9', '2'],
      ['SOCIAL_ORGANIZATION', '5', '1'],
      ['PUBLIC_INSTITUTION', '1', '2'],
    ] as const;
    for (const [type, registrationAuthority, institutionType] of cases) {
      const code = makeCreditCode({ registrationAuthority, institutionType, divisionCode: '370102', organizationCode: 'MA3C1234' });
      const [event] = legalPersonDecider.decide(register({ type, creditCode: code }), { status: 'UNREGISTERED' });
      assert.equal(event?.type === 'LegalPersonRegistered' && event.data.type, type);
    }
  });

  const refusals: [string, Partial<RegisterLegalPerson['data']>, RegExp][] = [
    ['an invalid credit code, naming the failed rule', { creditCode: '91350100M000100Y44' }, /creditCode .* is invalid: check character should be 3, got 4/],
    ['a social organisation with an enterprise credit code', { type: 'SOCIAL_ORGANIZATION' }, /a SOCIAL_ORGANIZATION has a credit code starting with 5, but .* starts with 91/],
    ['an individual business with an enterprise credit code', { type: 'INDIVIDUAL_BUSINESS' }, /starting with 92/],
    // Money is counted in whole fen.
    ['fractional registered capital', { registeredCapitalFen: 1000.5 }, /registeredCapitalFen must be a whole number of fen, 0 or more, got 1000.5/],
    ['negative registered capital', { registeredCapitalFen: -1 }, /registeredCapitalFen must be a whole number of fen, 0 or more, got -1/],
    ['an industry section outside A–T', { industry: { section: 'U' as 'A', name: '其他' } }, /industry.section U is not a GB\/T 4754 section; use one of ABCDEFGHIJKLMNOPQRST/],
    ['an establishment date in the future', { establishedOn: '2026-03-02' }, /establishedOn 2026-03-02 is in the future/],
    ['an establishment date that is not a date', { establishedOn: '2021-02-29' }, /establishedOn must be a real calendar date/],
    ['an address outside the division catalog', { registeredAddress: { address: '某地', divisionCode: '440101' } }, /registeredAddress.divisionCode 440101 is not in the division catalog/],
    ['an address given only as the city', { registeredAddress: { address: '济南市', divisionCode: '370100' } }, /is the whole city; give at least the district/],
    ['an empty name', { name: ' ' }, /name must not be empty/],
    ['an empty legal representative', { legalRepresentativeId: '' }, /legalRepresentativeId must not be empty/],
  ];
  for (const [what, data, message] of refusals) {
    it(`refuses ${what}`, () => {
      given(legalPersonDecider).when(register(data)).thenThrows(ValidationError, message);
    });
  }

  it('refuses to register an existing legal person', () => {
    given(legalPersonDecider, [registered]).when(register()).thenThrows(ConflictError, /already registered \(status ACTIVE\)/);
  });
});

describe('legal person: changeLegalRepresentative', () => {
  it('records the new and the previous representative', () => {
    given(legalPersonDecider, [registered])
      .when(command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', changedOn: '2026-02-01' }))
      .then([
        {
          type: 'LegalRepresentativeChanged',
          data: { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', previousLegalRepresentativeId: 'p-1', changedOn: '2026-02-01' },
        },
      ]);
  });

  it('refuses the current representative', () => {
    given(legalPersonDecider, [registered])
      .when(command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-1', changedOn: '2026-02-01' }))
      .thenThrows(ValidationError, /already the legal representative/);
  });

  it('refuses a change dated before establishment or in the future', () => {
    given(legalPersonDecider, [registered])
      .when(command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', changedOn: '2021-06-17' }))
      .thenThrows(ValidationError, /changedOn 2021-06-17 is before the establishment date 2021-06-18/);
    given(legalPersonDecider, [registered])
      .when(command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', changedOn: '2026-03-02' }))
      .thenThrows(ValidationError, /in the future \(today is 2026-03-01\)/);
  });

  it('refuses an unregistered legal person', () => {
    given(legalPersonDecider)
      .when(command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', changedOn: '2026-02-01' }))
      .thenThrows(NotFoundError, /legal person lp-1 is not registered/);
  });

  it('refuses a revoked legal person, naming what is still allowed', () => {
    given(legalPersonDecider, [registered, revoked])
      .when(command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', changedOn: '2026-02-01' }))
      .thenThrows(
        InvalidTransitionError,
        /cannot changeLegalRepresentative while the status is REVOKED; allowed next steps: deregisterLegalPerson/,
      );
  });
});

describe('legal person: changeRegisteredAddress', () => {
  const move = (registeredAddress: RegisteredAddress): ChangeRegisteredAddress =>
    command('changeRegisteredAddress', { legalPersonId: 'lp-1', registeredAddress, changedOn: '2026-01-05' });

  it('records the new and the previous address', () => {
    given(legalPersonDecider, [registered])
      .when(move(newOffice))
      .then([{ type: 'RegisteredAddressChanged', data: { ...move(newOffice).data, previousRegisteredAddress: office } }]);
  });

  it('refuses the current address', () => {
    given(legalPersonDecider, [registered]).when(move(office)).thenThrows(ValidationError, /is the current one; nothing to change/);
  });

  it('refuses an address outside the catalog', () => {
    given(legalPersonDecider, [registered])
      .when(move({ address: 'x', divisionCode: '37-01' }))
      .thenThrows(ValidationError, /is not a division code/);
  });
});

describe('legal person: fileAnnualReport', () => {
  const report = (year: number) =>
    command('fileAnnualReport', { legalPersonId: 'lp-1', year, employees: 12, revenueFen: 360_000_000 });

  it('files the report for a finished year', () => {
    given(legalPersonDecider, [registered])
      .when(report(2024))
      .then([report2024]);
  });

  it('refuses a second report for the same year', () => {
    given(legalPersonDecider, [registered, report2024])
      .when(report(2024))
      .thenThrows(ConflictError, /annual report for 2024 has already been filed/);
  });

  it('refuses a report for a future year, and for the year still running', () => {
    given(legalPersonDecider, [registered])
      .when(report(2027))
      .thenThrows(ValidationError, /covers a finished year; the report for 2027 can be filed from 2028-01-01/);
    given(legalPersonDecider, [registered])
      .when(report(2026))
      .thenThrows(ValidationError, /the report for 2026 can be filed from 2027-01-01/);
  });

  it('refuses a year before the legal person was established', () => {
    given(legalPersonDecider, [registered])
      .when(report(2020))
      .thenThrows(ValidationError, /year 2020 is before the legal person was established \(2021-06-18\)/);
  });

  it('refuses fractional or negative employees and revenue', () => {
    given(legalPersonDecider, [registered])
      .when(command('fileAnnualReport', { legalPersonId: 'lp-1', year: 2025, employees: -1, revenueFen: 0 }))
      .thenThrows(ValidationError, /employees must be a whole number of people/);
    given(legalPersonDecider, [registered])
      .when(command('fileAnnualReport', { legalPersonId: 'lp-1', year: 2025, employees: 0, revenueFen: 0.5 }))
      .thenThrows(ValidationError, /revenueFen must be a whole number of fen/);
  });

  it('refuses a revoked legal person', () => {
    given(legalPersonDecider, [registered, revoked])
      .when(report(2025))
      .thenThrows(InvalidTransitionError, /cannot fileAnnualReport while the status is REVOKED/);
  });
});

describe('legal person: revokeLegalPerson and deregisterLegalPerson', () => {
  it('revokes an active legal person with its reason', () => {
    given(legalPersonDecider, [registered])
      .when(command('revokeLegalPerson', { legalPersonId: 'lp-1', reason: ' 连续六个月未开业 ', revokedOn: '2025-12-01' }))
      .then([revoked]);
  });

  it('refuses a revocation without a reason', () => {
    given(legalPersonDecider, [registered])
      .when(command('revokeLegalPerson', { legalPersonId: 'lp-1', reason: '', revokedOn: '2025-12-01' }))
      .thenThrows(ValidationError, /reason must not be empty/);
  });

  it('deregisters an active legal person', () => {
    given(legalPersonDecider, [registered])
      .when(command('deregisterLegalPerson', { legalPersonId: 'lp-1', deregisteredOn: '2026-01-10' }))
      .then([deregistered]);
  });

  it('deregisters a revoked legal person', () => {
    given(legalPersonDecider, [registered, revoked])
      .when(command('deregisterLegalPerson', { legalPersonId: 'lp-1', deregisteredOn: '2026-01-10' }))
      .then([deregistered]);
  });

  it('refuses to revoke twice', () => {
    given(legalPersonDecider, [registered, revoked])
      .when(command('revokeLegalPerson', { legalPersonId: 'lp-1', reason: '再次', revokedOn: '2026-01-01' }))
      .thenThrows(InvalidTransitionError, /cannot revokeLegalPerson while the status is REVOKED/);
  });

  it('refuses every change to a deregistered legal person', () => {
    const after: LegalPersonCommand[] = [
      command('changeLegalRepresentative', { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', changedOn: '2026-02-01' }),
      command('changeRegisteredAddress', { legalPersonId: 'lp-1', registeredAddress: newOffice, changedOn: '2026-02-01' }),
      command('fileAnnualReport', { legalPersonId: 'lp-1', year: 2025, employees: 0, revenueFen: 0 }),
      command('revokeLegalPerson', { legalPersonId: 'lp-1', reason: '违法', revokedOn: '2026-02-01' }),
      command('deregisterLegalPerson', { legalPersonId: 'lp-1', deregisteredOn: '2026-02-01' }),
    ];
    for (const cmd of after) {
      given(legalPersonDecider, [registered, deregistered])
        .when(cmd)
        .thenThrows(InvalidTransitionError, new RegExp(`cannot ${cmd.type} while the status is DEREGISTERED; allowed next steps: none`));
    }
  });

  it('refuses a deregistration dated in the future', () => {
    given(legalPersonDecider, [registered])
      .when(command('deregisterLegalPerson', { legalPersonId: 'lp-1', deregisteredOn: '2026-03-02' }))
      .thenThrows(ValidationError, /deregisteredOn 2026-03-02 is in the future/);
  });
});

describe('legal person: evolve', () => {
  it('folds changes and reports into the current record', () => {
    const { state } = given(legalPersonDecider, [
      registered,
      {
        type: 'LegalRepresentativeChanged',
        data: { legalPersonId: 'lp-1', legalRepresentativeId: 'p-2', previousLegalRepresentativeId: 'p-1', changedOn: '2026-02-01' },
      },
      {
        type: 'RegisteredAddressChanged',
        data: { legalPersonId: 'lp-1', registeredAddress: newOffice, previousRegisteredAddress: office, changedOn: '2026-02-01' },
      },
      { type: 'AnnualReportFiled', data: { legalPersonId: 'lp-1', year: 2025, employees: 3, revenueFen: 0 } },
      report2024,
    ]);
    assert.deepEqual(state, {
      status: 'ACTIVE',
      legalPerson: {
        ...registration,
        legalRepresentativeId: 'p-2',
        registeredAddress: newOffice,
        annualReportYears: [2024, 2025],
      },
    });
  });

  it('keeps the record through revocation and deregistration', () => {
    const { state } = given(legalPersonDecider, [registered, revoked, deregistered]);
    assert.deepEqual(state, {
      status: 'DEREGISTERED',
      legalPerson: { ...registration, annualReportYears: [] },
      deregisteredOn: '2026-01-10',
    });
  });
});

describe('legal person: event schemas', () => {
  const registry = new EventRegistry().registerAll(legalPersonEventDefinitions);

  it('accept every event the decider emits', () => {
    const events: LegalPersonEvent[] = [
      ...legalPersonDecider.decide(register(), { status: 'UNREGISTERED' }),
      report2024,
      revoked,
      deregistered,
      {
        type: 'RegisteredAddressChanged',
        data: { legalPersonId: 'lp-1', registeredAddress: newOffice, previousRegisteredAddress: office, changedOn: '2026-02-01' },
      },
    ];
    assertAcceptedAsEmitted(registry, events);
  });

  it('refuse money as a fraction and an invalid credit code', () => {
    assert.throws(
      () => registry.validateForAppend('AnnualReportFiled', { ...report2024.data, revenueFen: 1.5 }, testMetadata),
      /revenueFen/,
    );
    assert.throws(
      () => registry.validateForAppend('LegalPersonRegistered', { ...registration, creditCode: '91350100M000100Y44' }, testMetadata),
      /creditCode/,
    );
  });
});
