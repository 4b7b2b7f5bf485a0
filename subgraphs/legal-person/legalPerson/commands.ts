import type { CommandMetadata } from '../../kit/command.ts';
import type { LegalPersonRegistered, RegisteredAddress } from './events.ts';

type Command<Type extends string, Data> = { type: Type; data: Data; metadata: CommandMetadata };

export type RegisterLegalPerson = Command<'registerLegalPerson', LegalPersonRegistered['data']>;

export type ChangeLegalRepresentative = Command<
  'changeLegalRepresentative',
  { legalPersonId: string; legalRepresentativeId: string; /** `YYYY-MM-DD`. */ changedOn: string }
>;

export type ChangeRegisteredAddress = Command<
  'changeRegisteredAddress',
  { legalPersonId: string; registeredAddress: RegisteredAddress; /** `YYYY-MM-DD`. */ changedOn: string }
>;

export type FileAnnualReport = Command<
  'fileAnnualReport',
  { legalPersonId: string; year: number; employees: number; /** In fen. */ revenueFen: number }
>;

export type RevokeLegalPerson = Command<
  'revokeLegalPerson',
  { legalPersonId: string; reason: string; /** `YYYY-MM-DD`. */ revokedOn: string }
>;

export type DeregisterLegalPerson = Command<
  'deregisterLegalPerson',
  { legalPersonId: string; /** `YYYY-MM-DD`. */ deregisteredOn: string }
>;

export type LegalPersonCommand =
  | RegisterLegalPerson
  | ChangeLegalRepresentative
  | ChangeRegisteredAddress
  | FileAnnualReport
  | RevokeLegalPerson
  | DeregisterLegalPerson;
