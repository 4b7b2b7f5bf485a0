import type { CommandMetadata } from '../../kit/command.ts';
import type { PropertyTransactionRecorded } from './events.ts';

type Command<Type extends string, Data> = { type: Type; data: Data; metadata: CommandMetadata };

export type RecordPropertyTransaction = Command<'recordPropertyTransaction', PropertyTransactionRecorded['data']>;

/** Issued by the deed-tax deadline process once `dueOn` has passed. */
export type FlagDeedTaxRisk = Command<'flagDeedTaxRisk', { transactionId: string; dueOn: string; deadlineDays: number }>;

/** Issued by the deadline process when the buyer's deed-tax declaration names the transaction. */
export type MatchDeedTaxDeclaration = Command<
  'matchDeedTaxDeclaration',
  { transactionId: string; taxpayerId: string; declarationId: string; declaredAt: string }
>;

export type RecordTaxExemption = Command<'recordTaxExemption', { transactionId: string; basis: string; documentNo: string; reason: string }>;

export type PropertyTransactionCommand = RecordPropertyTransaction | FlagDeedTaxRisk | MatchDeedTaxDeclaration | RecordTaxExemption;
