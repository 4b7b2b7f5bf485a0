import type { Command } from '../../kit/command.ts';
import type {
  AnnualReportFiled,
  LegalPersonDeregistered,
  LegalPersonRegistered,
  LegalPersonRevoked,
  LegalRepresentativeChanged,
  RegisteredAddressChanged,
} from './events.ts';

export type RegisterLegalPerson = Command<'registerLegalPerson', LegalPersonRegistered['data']>;

export type ChangeLegalRepresentative = Command<'changeLegalRepresentative', Omit<LegalRepresentativeChanged['data'], 'previousLegalRepresentativeId'>>;
export type ChangeRegisteredAddress = Command<'changeRegisteredAddress', Omit<RegisteredAddressChanged['data'], 'previousRegisteredAddress'>>;
export type FileAnnualReport = Command<'fileAnnualReport', AnnualReportFiled['data']>;
export type RevokeLegalPerson = Command<'revokeLegalPerson', LegalPersonRevoked['data']>;
export type DeregisterLegalPerson = Command<'deregisterLegalPerson', LegalPersonDeregistered['data']>;

export type LegalPersonCommand = RegisterLegalPerson | ChangeLegalRepresentative | ChangeRegisteredAddress | FileAnnualReport | RevokeLegalPerson | DeregisterLegalPerson;
