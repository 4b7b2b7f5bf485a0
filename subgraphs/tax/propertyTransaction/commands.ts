import type { Command } from '../../kit/command.ts';
import type { DeedTaxDeclarationMatched, PropertyTransactionRecorded, TaxExemptionRecorded, TaxRiskFlagged } from './events.ts';

export type RecordPropertyTransaction = Command<'recordPropertyTransaction', PropertyTransactionRecorded['data']>;

/** Issued by the deed-tax deadline process once `dueOn` has passed. */
export type FlagDeedTaxRisk = Command<'flagDeedTaxRisk', Pick<TaxRiskFlagged['data'], 'transactionId' | 'dueOn' | 'deadlineDays'>>;

/** Issued by the deadline process when the buyer's deed-tax declaration names the transaction. */
export type MatchDeedTaxDeclaration = Command<'matchDeedTaxDeclaration', DeedTaxDeclarationMatched['data']>;

export type RecordTaxExemption = Command<'recordTaxExemption', Omit<TaxExemptionRecorded['data'], 'recordedAt'>>;

export type PropertyTransactionCommand = RecordPropertyTransaction | FlagDeedTaxRisk | MatchDeedTaxDeclaration | RecordTaxExemption;
