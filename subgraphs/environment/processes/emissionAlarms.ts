/**
 * The alarm closed loop's two process managers (projections/processManager.ts):
 * - `environment.exceedance-alarms`: an `EmissionObserved` above its permit's limit raises an
 *   `EmissionAlarmRaised`. The alarm's id and the command's idempotency key derive from the
 *   observation's event id, so the alarm is raised once however often the item is issued (a crash
 *   before the projection saw the alarm, a replay, the seed having raised it already).
 * - `environment.alarm-escalation`: an alarm nobody acknowledged by its `acknowledgeBy` is escalated,
 *   once (idempotency key per alarm); acknowledging, escalating or resolving it takes it off the
 *   schedule.
 */
import type { ProcessManager } from '../../../projections/processManager.ts';
import type { Exceedance } from '../emission/commands.ts';
import { exceedance, type EmissionPermit } from '../emission/decider.ts';
import type { EmissionAlarmRaised, EmissionObserved, EmissionPermitIssued } from '../emission/events.ts';
import { alarmIdempotencyKey, alarmIdFor, escalateEmissionAlarm, escalationIdempotencyKey, raiseEmissionAlarm } from '../emission/handlers.ts';
import { sourceOf } from '../../../projections/types.ts';

export const ENVIRONMENT_BUREAU = '市生态环境局';
export const EXCEEDANCE_ALARMS = 'environment.exceedance-alarms';
export const ALARM_ESCALATION = 'environment.alarm-escalation';

type AlarmToRaise = Exceedance & { alarmId: string };

export function exceedanceAlarmManager(options: { acknowledgeWithinMinutes: number }): ProcessManager<AlarmToRaise> {
  return {
    name: EXCEEDANCE_ALARMS,
    version: 1,
    department: ENVIRONMENT_BUREAU,
    eventTypes: ['EmissionPermitIssued', 'EmissionObserved', 'EmissionAlarmRaised'],
    async react(event, ctx) {
      switch (event.type) {
        case 'EmissionPermitIssued': {
          const permit = event.data as EmissionPermitIssued['data'];
          await ctx.memory.upsert(permit.permitId, permit, sourceOf(event));
          return;
        }
        case 'EmissionObserved': {
          const reading = event.data as EmissionObserved['data'];
          const permit = (await ctx.memory.get(reading.permitId))?.doc as EmissionPermit | undefined;
          const found = permit && exceedance(permit, reading);
          if (!found) return;
          const alarmId = alarmIdFor(event.eventId);
          // Due as soon as the reading was taken: raising is never deferred, only retried.
          await ctx.schedule({ id: alarmId, dueAt: reading.observedAt, idempotencyKey: alarmIdempotencyKey(event.eventId), payload: { ...found, alarmId } });
          return;
        }
        case 'EmissionAlarmRaised':
          await ctx.cancel((event.data as EmissionAlarmRaised['data']).alarmId);
          return;
      }
    },
    issue: (item, ctx) =>
      raiseEmissionAlarm(
        { store: ctx.store, metadata: ctx.metadata, now: ctx.now.toISOString() },
        { ...item.payload, acknowledgeWithinMinutes: options.acknowledgeWithinMinutes },
        item.idempotencyKey,
      ),
  };
}

export function alarmEscalationManager(): ProcessManager<{ alarmId: string }> {
  return {
    name: ALARM_ESCALATION,
    version: 1,
    department: ENVIRONMENT_BUREAU,
    eventTypes: ['EmissionAlarmRaised', 'EmissionAlarmAcknowledged', 'EmissionAlarmEscalated', 'EmissionAlarmResolved'],
    async react(event, ctx) {
      const { alarmId } = event.data as { alarmId: string };
      if (event.type !== 'EmissionAlarmRaised') return ctx.cancel(alarmId);
      const { acknowledgeBy } = event.data as EmissionAlarmRaised['data'];
      await ctx.schedule({ id: alarmId, dueAt: acknowledgeBy, idempotencyKey: escalationIdempotencyKey(alarmId), payload: { alarmId } });
    },
    issue: (item, ctx) => escalateEmissionAlarm({ store: ctx.store, metadata: ctx.metadata, now: ctx.now.toISOString() }, item.payload.alarmId),
  };
}
