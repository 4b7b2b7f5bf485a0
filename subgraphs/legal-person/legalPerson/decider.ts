import { byType, deciderOf, onceCreated, type HandlersByType } from '../../../events/decider.ts';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { assertCreditCode } from '../identity/creditCode.ts';
import { assertCalendarDate, chinaDate } from '../../kit/calendar.ts';
import type { LegalPersonCommand, RegisterLegalPerson } from './commands.ts';
import type { LegalPersonEvent, LegalPersonRegistered, LegalPersonType, RegisteredAddress } from './events.ts';
import { INDUSTRY_SECTION_LETTERS, isIndustrySection } from './industry.ts';

export type LegalPersonRecord = LegalPersonRegistered['data'] & {
  /** Years whose annual report has been filed, ascending. */
  annualReportYears: number[];
};

export type LegalPersonStatus = 'UNREGISTERED' | 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';

export type LegalPersonState =
  | { status: 'UNREGISTERED' }
  | { status: 'ACTIVE'; legalPerson: LegalPersonRecord }
  | { status: 'REVOKED'; legalPerson: LegalPersonRecord; revokedOn: string; reason: string }
  | { status: 'DEREGISTERED'; legalPerson: LegalPersonRecord; deregisteredOn: string };

type LaterCommand = Exclude<LegalPersonCommand, RegisterLegalPerson>;

/** A revoked licence leaves only deregistration; a deregistered legal person accepts nothing. */
const NEXT_STEPS: Record<Exclude<LegalPersonStatus, 'UNREGISTERED'>, readonly LaterCommand['type'][]> = {
  ACTIVE: [
    'changeLegalRepresentative',
    'changeRegisteredAddress',
    'fileAnnualReport',
    'revokeLegalPerson',
    'deregisterLegalPerson',
  ],
  REVOKED: ['deregisterLegalPerson'],
  DEREGISTERED: [],
};

/** Which credit codes each type carries (GB 32100: authority 9 工商, 5 民政, 1 机构编制; 2nd character the category). */
const CREDIT_CODE_PREFIXES: Record<LegalPersonType, readonly string[]> = {
  ENTERPRISE: ['91', '93'],
  INDIVIDUAL_BUSINESS: ['92'],
  SOCIAL_ORGANIZATION: ['5'],
  PUBLIC_INSTITUTION: ['1'],
};

function requiredText(value: string, field: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ValidationError(`${field} must not be empty`, { field });
  return trimmed;
}

function amount(value: number, field: string, unit: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`${field} must be a whole number of ${unit}, 0 or more, got ${value}`, { field });
  }
  return value;
}

function checkedAddress(address: RegisteredAddress, field: string): RegisteredAddress {
  const division = assertDivision(address.divisionCode, undefined, `${field}.divisionCode`);
  if (division.level === 'CITY') {
    throw new ValidationError(
      `${field}.divisionCode ${division.code} is the whole city; give at least the district of the address`,
      { field: `${field}.divisionCode` },
    );
  }
  return { address: requiredText(address.address, `${field}.address`), divisionCode: division.code };
}

/** A date in the legal person's life as of today: not before it was established, not after today. */
function effectiveDate(value: string, field: string, legalPerson: LegalPersonRecord, today: string): string {
  assertCalendarDate(value, field);
  if (value < legalPerson.establishedOn) {
    throw new ValidationError(`${field} ${value} is before the establishment date ${legalPerson.establishedOn}`, {
      field,
    });
  }
  if (value > today) throw new ValidationError(`${field} ${value} is in the future (today is ${today})`, { field });
  return value;
}

function registration(command: RegisterLegalPerson): LegalPersonRegistered {
  const { data } = command;
  const today = chinaDate(command.metadata.now);
  const { creditCode } = assertCreditCode(data.creditCode);
  const prefixes = CREDIT_CODE_PREFIXES[data.type];
  if (!prefixes.some((p) => creditCode.startsWith(p))) {
    throw new ValidationError(
      `a ${data.type} has a credit code starting with ${prefixes.join(' or ')}, but ${creditCode} starts with ${creditCode.slice(0, 2)}; check the type or the code`,
      { field: 'type' },
    );
  }
  if (!isIndustrySection(data.industry.section)) {
    throw new ValidationError(
      `industry.section ${data.industry.section} is not a GB/T 4754 section; use one of ${INDUSTRY_SECTION_LETTERS.join('')}`,
      { field: 'industry.section' },
    );
  }
  assertCalendarDate(data.establishedOn, 'establishedOn');
  if (data.establishedOn > today) {
    throw new ValidationError(`establishedOn ${data.establishedOn} is in the future (today is ${today})`, {
      field: 'establishedOn',
    });
  }
  return {
    type: 'LegalPersonRegistered',
    data: {
      legalPersonId: data.legalPersonId,
      creditCode,
      name: requiredText(data.name, 'name'),
      type: data.type,
      legalRepresentativeId: requiredText(data.legalRepresentativeId, 'legalRepresentativeId'),
      registeredAddress: checkedAddress(data.registeredAddress, 'registeredAddress'),
      registeredCapitalFen: amount(data.registeredCapitalFen, 'registeredCapitalFen', 'fen'),
      industry: { section: data.industry.section, name: requiredText(data.industry.name, 'industry.name') },
      establishedOn: data.establishedOn,
    },
  };
}

function existing(command: LaterCommand, state: LegalPersonState): LegalPersonRecord {
  if (state.status === 'UNREGISTERED') {
    throw new NotFoundError(
      `legal person ${command.data.legalPersonId} is not registered; register it with registerLegalPerson first`,
      { legalPersonId: command.data.legalPersonId },
    );
  }
  const allowed = NEXT_STEPS[state.status];
  if (!allowed.includes(command.type)) throw new InvalidTransitionError(command.type, state.status, allowed);
  return state.legalPerson;
}

/** What each later step decides, given the registered legal person and today's date in China. */
const LATER_STEPS: HandlersByType<LaterCommand, [legalPerson: LegalPersonRecord, today: string], LegalPersonEvent[]> = {
  changeLegalRepresentative: (command, legalPerson, today) => {
    const { legalPersonId } = legalPerson;
    const legalRepresentativeId = requiredText(command.data.legalRepresentativeId, 'legalRepresentativeId');
    if (legalRepresentativeId === legalPerson.legalRepresentativeId) {
      throw new ValidationError(`person ${legalRepresentativeId} is already the legal representative; nothing to change`, {
        field: 'legalRepresentativeId',
      });
    }
    return [
      {
        type: 'LegalRepresentativeChanged',
        data: {
          legalPersonId,
          legalRepresentativeId,
          previousLegalRepresentativeId: legalPerson.legalRepresentativeId,
          changedOn: effectiveDate(command.data.changedOn, 'changedOn', legalPerson, today),
        },
      },
    ];
  },
  changeRegisteredAddress: (command, legalPerson, today) => {
    const { legalPersonId } = legalPerson;
    const registeredAddress = checkedAddress(command.data.registeredAddress, 'registeredAddress');
    const current = legalPerson.registeredAddress;
    if (registeredAddress.address === current.address && registeredAddress.divisionCode === current.divisionCode) {
      throw new ValidationError('the new registered address is the current one; nothing to change', {
        field: 'registeredAddress',
      });
    }
    return [
      {
        type: 'RegisteredAddressChanged',
        data: {
          legalPersonId,
          registeredAddress,
          previousRegisteredAddress: current,
          changedOn: effectiveDate(command.data.changedOn, 'changedOn', legalPerson, today),
        },
      },
    ];
  },
  fileAnnualReport: (command, legalPerson, today) => {
    const { legalPersonId } = legalPerson;
    const { year } = command.data;
    const currentYear = Number(today.slice(0, 4));
    if (!Number.isInteger(year)) throw new ValidationError(`year must be a whole year, got ${year}`, { field: 'year' });
    if (year >= currentYear) {
      throw new ValidationError(
        `an annual report covers a finished year; the report for ${year} can be filed from ${year + 1}-01-01`,
        { field: 'year' },
      );
    }
    const establishedYear = Number(legalPerson.establishedOn.slice(0, 4));
    if (year < establishedYear) {
      throw new ValidationError(
        `year ${year} is before the legal person was established (${legalPerson.establishedOn})`,
        { field: 'year' },
      );
    }
    if (legalPerson.annualReportYears.includes(year)) {
      throw new ConflictError(`the annual report for ${year} has already been filed for legal person ${legalPersonId}`, {
        legalPersonId,
        year,
      });
    }
    return [
      {
        type: 'AnnualReportFiled',
        data: {
          legalPersonId,
          year,
          employees: amount(command.data.employees, 'employees', 'people'),
          revenueFen: amount(command.data.revenueFen, 'revenueFen', 'fen'),
        },
      },
    ];
  },
  revokeLegalPerson: (command, legalPerson, today) => {
    return [
      {
        type: 'LegalPersonRevoked',
        data: {
          legalPersonId: legalPerson.legalPersonId,
          reason: requiredText(command.data.reason, 'reason'),
          revokedOn: effectiveDate(command.data.revokedOn, 'revokedOn', legalPerson, today),
        },
      },
    ];
  },
  deregisterLegalPerson: (command, legalPerson, today) => {
    return [
      {
        type: 'LegalPersonDeregistered',
        data: {
          legalPersonId: legalPerson.legalPersonId,
          deregisteredOn: effectiveDate(command.data.deregisteredOn, 'deregisteredOn', legalPerson, today),
        },
      },
    ];
  },
};

function laterStep(command: LaterCommand, state: LegalPersonState): LegalPersonEvent[] {
  const legalPerson = existing(command, state);
  return byType(LATER_STEPS, command, legalPerson, chinaDate(command.metadata.now));
}

const isRegistered = (state: LegalPersonState) => state.status !== 'UNREGISTERED';

export const legalPersonDecider = deciderOf<LegalPersonCommand, LegalPersonEvent, LegalPersonState>({
  initialState: () => ({ status: 'UNREGISTERED' }),
  decide: {
    registerLegalPerson: (command, state) => {
      if (state.status !== 'UNREGISTERED') {
        throw new ConflictError(
          `legal person ${command.data.legalPersonId} is already registered (status ${state.status}); use a new id`,
          { legalPersonId: command.data.legalPersonId, status: state.status },
        );
      }
      return [registration(command)];
    },
    changeLegalRepresentative: laterStep,
    changeRegisteredAddress: laterStep,
    fileAnnualReport: laterStep,
    revokeLegalPerson: laterStep,
    deregisterLegalPerson: laterStep,
  },
  evolve: {
    LegalPersonRegistered: (event) => ({ status: 'ACTIVE', legalPerson: { ...event.data, annualReportYears: [] } }),
    LegalRepresentativeChanged: onceCreated(isRegistered, (event, state) => ({
      ...state,
      legalPerson: { ...state.legalPerson, legalRepresentativeId: event.data.legalRepresentativeId },
    })),
    RegisteredAddressChanged: onceCreated(isRegistered, (event, state) => ({
      ...state,
      legalPerson: { ...state.legalPerson, registeredAddress: event.data.registeredAddress },
    })),
    AnnualReportFiled: onceCreated(isRegistered, (event, state) => {
      const annualReportYears = [...state.legalPerson.annualReportYears, event.data.year].sort((a, b) => a - b);
      return { ...state, legalPerson: { ...state.legalPerson, annualReportYears } };
    }),
    LegalPersonRevoked: onceCreated(isRegistered, (event, { legalPerson }) => ({
      status: 'REVOKED',
      legalPerson,
      revokedOn: event.data.revokedOn,
      reason: event.data.reason,
    })),
    LegalPersonDeregistered: onceCreated(isRegistered, (event, { legalPerson }) => ({
      status: 'DEREGISTERED',
      legalPerson,
      deregisteredOn: event.data.deregisteredOn,
    })),
  },
});
