/**
 * The legal-person write path: the representative must be a living registered person (the
 * population register's facts, population/facts.ts), the credit code unique across legal persons (a
 * claim stream per code, kit/naturalKey.ts), then the pure decider runs through the command seam.
 * Mutations and the demo seed both come through here.
 */
import { ValidationError } from '../../events/errors.ts';
import type { EventStore } from '../../events/types.ts';
import { handle, idempotencyOnly, type CommandContext, type Outcome } from '../kit/command.ts';
import { defineNaturalKey } from '../kit/naturalKey.ts';
import { outcomeRunner, registerUnderClaim } from '../kit/registerHandlers.ts';
import type { ProvenanceDefaults } from '../kit/provenance.ts';
import { readPersonFacts, type RegisteredPersonFacts } from '../population/facts.ts';
import type {
  ChangeLegalRepresentative,
  ChangeRegisteredAddress,
  DeregisterLegalPerson,
  FileAnnualReport,
  LegalPersonCommand,
  RegisterLegalPerson,
  RevokeLegalPerson,
} from './legalPerson/commands.ts';
import { legalPersonDecider } from './legalPerson/decider.ts';
import { legalPersonStreamId, type LegalPersonRegistered, type LegalPersonType } from './legalPerson/events.ts';

/** One legal person per unified social credit code, enforced by a claim stream per code. */
export const creditCodes = defineNaturalKey({
  streamPrefix: 'legal-person.credit-code',
  claimedType: 'CreditCodeClaimed',
  releasedType: 'CreditCodeReleased',
  label: 'credit code',
  ownerLabel: 'legal person',
  field: 'creditCode',
});

/** The registration authority of each type (GB 32100's first character), as provenance. */
export function registrationSource(type: LegalPersonType): ProvenanceDefaults {
  switch (type) {
    case 'ENTERPRISE':
    case 'INDIVIDUAL_BUSINESS':
      return { department: '市市场监管局', system: '企业登记注册系统' };
    case 'SOCIAL_ORGANIZATION':
      return { department: '市民政局', system: '社会组织登记管理系统' };
    case 'PUBLIC_INSTITUTION':
      return { department: '市委机构编制委员会办公室', system: '事业单位登记管理系统' };
  }
}

/** Changes after registration, annual reports and sanctions are recorded by market regulation. */
export const SUPERVISION_SOURCE: ProvenanceDefaults = { department: '市市场监管局', system: '国家企业信用信息公示系统' };

/** The representative must be a registered person whose death has not been registered. */
export function assertRepresentative(personId: string, person: RegisteredPersonFacts | null): void {
  if (person === null) {
    throw new ValidationError(`legalRepresentativeId ${personId} is not a registered person; register them in the population register first`, {
      field: 'legalRepresentativeId',
      personId,
    });
  }
  if (person.status === 'DECEASED') {
    throw new ValidationError(`legalRepresentativeId ${personId} died on ${person.dateOfDeath}; name a living representative`, {
      field: 'legalRepresentativeId',
    });
  }
}

const handleLegalPerson = handle(legalPersonDecider, (command: LegalPersonCommand) => legalPersonStreamId(command.data.legalPersonId));

export function createLegalPersonHandlers(store: EventStore) {
  async function requireRepresentative(personId: string): Promise<void> {
    assertRepresentative(personId, await readPersonFacts(store, personId));
  }

  const run = outcomeRunner<Exclude<LegalPersonCommand, RegisterLegalPerson>>(store, handleLegalPerson, (data) => data.legalPersonId);

  return {
    async registerLegalPerson(data: RegisterLegalPerson['data'], ctx: CommandContext): Promise<Outcome> {
      const command: RegisterLegalPerson = { type: 'registerLegalPerson', data, metadata: { now: ctx.now } };
      // The dry run refuses a wrong credit code (naming the rule), type, division or date before any claim.
      const [registered] = legalPersonDecider.decide(command, legalPersonDecider.initialState()) as LegalPersonRegistered[];
      if (!registered) throw new Error('registerLegalPerson decided no LegalPersonRegistered event');
      await requireRepresentative(registered.data.legalRepresentativeId);
      const claim = { key: registered.data.creditCode, ownerId: data.legalPersonId };
      return registerUnderClaim(store, creditCodes, claim, ctx, () => handleLegalPerson(store, command, ctx.metadata, idempotencyOnly(ctx)));
    },

    async changeLegalRepresentative(data: ChangeLegalRepresentative['data'], ctx: CommandContext): Promise<Outcome> {
      await requireRepresentative(data.legalRepresentativeId);
      return run('changeLegalRepresentative', data, ctx);
    },

    changeRegisteredAddress: (data: ChangeRegisteredAddress['data'], ctx: CommandContext): Promise<Outcome> => run('changeRegisteredAddress', data, ctx),
    fileAnnualReport: (data: FileAnnualReport['data'], ctx: CommandContext): Promise<Outcome> => run('fileAnnualReport', data, ctx),
    revokeLegalPerson: (data: RevokeLegalPerson['data'], ctx: CommandContext): Promise<Outcome> => run('revokeLegalPerson', data, ctx),
    deregisterLegalPerson: (data: DeregisterLegalPerson['data'], ctx: CommandContext): Promise<Outcome> => run('deregisterLegalPerson', data, ctx),
  };
}

export type LegalPersonHandlers = ReturnType<typeof createLegalPersonHandlers>;
