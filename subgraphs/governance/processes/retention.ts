/**
 * The retention process manager (PIPL art. 47(1)(2)): a registered death (PersonDeceased) schedules,
 * for each configured rule (`PERSONAL_DATA_RETENTION`), the expiry of that resource's personal data
 * of the person at the end of its period (death + N). Due, it issues `expirePersonalData`, which
 * records `PersonalDataExpired` and destroys the person's key of that scope only.
 *
 * - A legal hold refuses the expiry: the item stays scheduled and is issued again after the runtime's
 *   retry period, so the hold postpones it until lifted, never drops it.
 * - The expiry's own record (or the person's full erasure) takes the item off the schedule; a
 *   replay, a restart or a second process decides nothing new on the erasure stream.
 * - The schedule is the fold of the log under the configured rules: its version is derived from
 *   them, so a change of the rules rebuilds it (deaths registered before a new rule are scheduled).
 */
import { createHash } from 'node:crypto';
import { retentionEndsAt, type RetentionRule } from '../../../events/crypto/retentionRules.ts';
import type { ProcessManager } from '../../../projections/processManager.ts';
import type { PersonDeceased } from '../../population/person/events.ts';
import { expirePersonalData } from '../erasure/erase.ts';
import { PERSONAL_DATA_ERASED, PERSONAL_DATA_EXPIRED, type ErasureEvent } from '../erasure/events.ts';
import { sourceOf } from '../../../projections/types.ts';

export type RetentionPayload = { subjectId: string; resource: string; dueAt: string };

export const RETENTION_MANAGER = 'governance.retention';

const itemId = (subjectId: string, resource: string): string => `${subjectId}#${resource}`;
const erasedKey = (subjectId: string): string => `erased:${subjectId}`;

/** A projection version (a positive 31-bit integer) that changes with the rules. */
function versionOf(rules: readonly RetentionRule[]): number {
  const digest = createHash('sha256').update(rules.map((r) => r.text).sort().join(',')).digest();
  return (digest.readUInt32BE(0) & 0x7fffffff) || 1;
}

export function retentionManager(rules: readonly RetentionRule[]): ProcessManager<RetentionPayload, PersonDeceased | ErasureEvent> {
  return {
    name: RETENTION_MANAGER,
    version: versionOf(rules),
    department: 'big-data-bureau',
    eventTypes: ['PersonDeceased', PERSONAL_DATA_EXPIRED, PERSONAL_DATA_ERASED],
    async react(event, ctx) {
      switch (event.type) {
        case 'PersonDeceased': {
          const { personId, dateOfDeath } = event.data;
          // A person erased before their death was registered has nothing left to expire.
          if (await ctx.memory.get(erasedKey(personId))) return;
          for (const rule of rules) {
            const dueAt = retentionEndsAt(rule, dateOfDeath);
            await ctx.schedule({
              id: itemId(personId, rule.resource),
              dueAt,
              idempotencyKey: `${RETENTION_MANAGER}:${personId}:${rule.resource}`,
              payload: { subjectId: personId, resource: rule.resource, dueAt },
            });
          }
          return;
        }
        case PERSONAL_DATA_EXPIRED:
          await ctx.cancel(itemId(event.data.subjectId, event.data.scope));
          return;
        case PERSONAL_DATA_ERASED: {
          const { subjectId } = event.data;
          for (const rule of rules) await ctx.cancel(itemId(subjectId, rule.resource));
          await ctx.memory.upsert(erasedKey(subjectId), { erasedAt: event.data.erasedAt }, sourceOf(event));
          return;
        }
        default:
          return;
      }
    },
    issue(item, ctx) {
      const { subjectId, resource, dueAt } = item.payload;
      if (!ctx.personalData) throw new Error(`${RETENTION_MANAGER}: this process holds no personal-data keys (PERSONAL_DATA_KEY_FILE): run the retention process where they are`);
      const rule = rules.find((r) => r.resource === resource);
      // The schedule is rebuilt when the rules change: a rule gone since is not enforced.
      if (!rule) return Promise.resolve({ events: [], replayed: false });
      return expirePersonalData(ctx.store, ctx.personalData, { subjectId, rule, dueAt }, ctx.metadata, ctx.now);
    },
  };
}
