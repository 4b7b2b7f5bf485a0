/**
 * The deadline process manager (督办): every dispatched case is scheduled at its deadline; once the
 * deadline has passed and the case is not closed, it issues `markOverdue`, which appends
 * IncidentOverdue, escalates the case one level above its owner and puts it under that level's
 * supervision with a new deadline (the decider's rules). That supervision deadline is scheduled in
 * turn, so a case left open climbs one level per deadline up to the city, where it stops.
 * The idempotency key is the case and the deadline that passed: each deadline marks a case once,
 * however often it is issued (the case's own deadline is fixed at the first dispatch).
 */
import type { ProcessManager } from '../../../projections/processManager.ts';
import type { IncidentEvent } from '../incident/events.ts';
import { runIncidentCommand } from '../incidentCommands.ts';
import { parentCode } from '../levels.ts';
import { sourceOf } from '../../../projections/types.ts';

export type DeadlinePayload = { incidentId: string; deadline: string };

export const deadlineManager: ProcessManager<DeadlinePayload, IncidentEvent> = {
  name: 'urban-ops.deadlines',
  version: 2,
  department: 'urban-ops',
  eventTypes: ['IncidentDispatched', 'IncidentOverdue', 'IncidentSupervised', 'IncidentClosed'],
  async react(event, ctx) {
    const scheduleAt = (incidentId: string, deadline: string) =>
      ctx.schedule({ id: incidentId, dueAt: deadline, idempotencyKey: `urban-ops.deadlines:${incidentId}:${deadline}`, payload: { incidentId, deadline } });
    switch (event.type) {
      case 'IncidentDispatched': {
        const { incidentId, deadline } = event.data;
        // Re-dispatches (after a return or a rework) keep the deadline; past it, supervisors' deadlines count.
        if (await ctx.memory.get(incidentId)) return;
        await scheduleAt(incidentId, deadline);
        return;
      }
      case 'IncidentSupervised': {
        const { incidentId, deadline, divisionCode } = event.data;
        // The city has no level above: its deadline is shown, not watched.
        if (deadline !== undefined && parentCode(divisionCode) !== null) await scheduleAt(incidentId, deadline);
        return;
      }
      case 'IncidentOverdue':
      case 'IncidentClosed': {
        const { incidentId } = event.data;
        await ctx.cancel(incidentId);
        await ctx.memory.upsert(incidentId, { done: event.type }, sourceOf(event));
        return;
      }
      default:
        return;
    }
  },
  issue(item, ctx) {
    return runIncidentCommand(
      ctx.store,
      { type: 'markOverdue', data: { incidentId: item.payload.incidentId }, metadata: { now: ctx.now.toISOString() } },
      ctx.metadata,
      { idempotencyKey: item.idempotencyKey },
    );
  },
};
