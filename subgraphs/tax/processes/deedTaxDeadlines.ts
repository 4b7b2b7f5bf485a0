/**
 * The deed-tax deadline process (契税申报期限): every recorded property transaction expects the
 * buyer's deed-tax declaration within `deadlineDays` days of the contract date. The manager
 * - schedules `flagDeedTaxRisk` for the first instant after the last allowed day (China time);
 * - on a deed-tax declaration naming the transaction, cancels that and schedules
 *   `matchDeedTaxDeclaration` at the declaration's instant, which marks the deed tax declared and
 *   resolves a risk already flagged;
 * - forgets a transaction once it is matched, exempted or flagged.
 * Idempotency keys name the transaction (and the declaration), so each command lands once however
 * often it is issued. A declaration made just before the deadline but not yet seen by the manager
 * when the deadline passes raises a risk that the same declaration resolves moments later: both
 * are in the transaction's history, so the record stays explainable.
 */
import type { ProcessManager } from '../../../projections/processManager.ts';
import { addDays } from '../../kit/calendar.ts';
import type { PropertyTransactionEvent } from '../propertyTransaction/events.ts';
import { runPropertyTransactionCommand } from '../taxCommands.ts';
import type { TaxDeclared } from '../taxpayer/events.ts';
import { sourceOf } from '../../../projections/types.ts';

export type DeedTaxItem =
  | { action: 'flag'; transactionId: string; dueOn: string; deadlineDays: number }
  | { action: 'match'; transactionId: string; taxpayerId: string; declarationId: string; declaredAt: string };

export interface DeedTaxDeadlineOptions {
  /** Days after the contract date within which the buyer declares. @default 30 */
  deadlineDays?: number;
}

export const DEFAULT_DEED_TAX_DEADLINE_DAYS = 30;
export const DEED_TAX_MANAGER = 'tax.deed-tax-deadlines';

/** The last day a declaration is on time. */
export const deedTaxDueOn = (contractDate: string, deadlineDays: number): string => addDays(contractDate, deadlineDays);

/** The first instant after the last allowed day, in China time (UTC+8). */
const overdueFrom = (dueOn: string): string => new Date(`${addDays(dueOn, 1)}T00:00:00+08:00`).toISOString();

export function createDeedTaxDeadlineManager(options: DeedTaxDeadlineOptions = {}): ProcessManager<DeedTaxItem, PropertyTransactionEvent | TaxDeclared> {
  const deadlineDays = options.deadlineDays ?? DEFAULT_DEED_TAX_DEADLINE_DAYS;
  if (!Number.isInteger(deadlineDays) || deadlineDays < 1) throw new RangeError(`deadlineDays must be a whole number of days, 1 or more, got ${deadlineDays}`);
  return {
    name: DEED_TAX_MANAGER,
    // Bump when the default deadline changes, so the schedule is rebuilt with it.
    version: 1,
    department: 'taxation',
    eventTypes: ['PropertyTransactionRecorded', 'TaxDeclared', 'DeedTaxDeclarationMatched', 'TaxExemptionRecorded', 'TaxRiskFlagged'],
    async react(event, ctx) {
      const source = sourceOf(event);
      switch (event.type) {
        case 'PropertyTransactionRecorded': {
          const { transactionId, contractDate } = event.data;
          const dueOn = deedTaxDueOn(contractDate, deadlineDays);
          await ctx.schedule({
            id: `${transactionId}:deadline`,
            dueAt: overdueFrom(dueOn),
            idempotencyKey: `${DEED_TAX_MANAGER}:${transactionId}:flag`,
            payload: { action: 'flag', transactionId, dueOn, deadlineDays },
          });
          return;
        }
        case 'TaxDeclared': {
          const { propertyTransactionId: transactionId, taxType, taxpayerId, declarationId, declaredAt } = event.data;
          if (taxType !== 'DEED_TAX' || transactionId === null || (await ctx.memory.get(transactionId))) return;
          await ctx.cancel(`${transactionId}:deadline`);
          await ctx.schedule({
            id: `${transactionId}:match`,
            dueAt: declaredAt,
            idempotencyKey: `${DEED_TAX_MANAGER}:${transactionId}:match:${declarationId}`,
            payload: { action: 'match', transactionId, taxpayerId, declarationId, declaredAt },
          });
          return;
        }
        case 'DeedTaxDeclarationMatched':
        case 'TaxExemptionRecorded': {
          const { transactionId } = event.data;
          await ctx.cancel(`${transactionId}:deadline`);
          await ctx.cancel(`${transactionId}:match`);
          await ctx.memory.upsert(transactionId, { settledBy: event.type }, source);
          return;
        }
        case 'TaxRiskFlagged':
          await ctx.cancel(`${event.data.transactionId}:deadline`);
          return;
        default:
          return;
      }
    },
    issue(item, ctx) {
      const { payload } = item;
      const metadata = { now: ctx.now.toISOString() };
      return runPropertyTransactionCommand(
        ctx.store,
        payload.action === 'flag'
          ? { type: 'flagDeedTaxRisk', data: { transactionId: payload.transactionId, dueOn: payload.dueOn, deadlineDays: payload.deadlineDays }, metadata }
          : {
              type: 'matchDeedTaxDeclaration',
              data: { transactionId: payload.transactionId, taxpayerId: payload.taxpayerId, declarationId: payload.declarationId, declaredAt: payload.declaredAt },
              metadata,
            },
        ctx.metadata,
        { idempotencyKey: item.idempotencyKey },
      );
    },
  };
}
