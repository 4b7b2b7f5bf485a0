/**
 * The deadline process manager (督办): every dispatched case is scheduled at its deadline; once the
 * deadline has passed and the case is neither closed nor already marked, it issues `markOverdue`,
 * which appends IncidentOverdue, escalates the case one level above its owner and puts it under
 * that level's supervision (the decider's rules). The idempotency key is the case and its deadline:
 * the deadline is fixed at the first dispatch, so a case is marked once, however often it is issued.
 */
import type { ProcessManager } from '../../projections/processManager.ts';
import { executeCommand } from '../kit/command.ts';
import { incidentDecider } from './incident/decider.ts';
import { incidentStreamId, type IncidentEvent } from './incident/events.ts';

export type DeadlinePayload = { incidentId: string; deadline: string };

export const deadlineManager: ProcessManager<DeadlinePayload> = {
  name: 'urban-ops.deadlines',
  version: 1,
  department: 'urban-ops',
  eventTypes: ['IncidentDispatched', 'IncidentOverdue', 'IncidentClosed'],
  async react(recorded, ctx) {
    const event = recorded as unknown as IncidentEvent;
    switch (event.type) {
      case 'IncidentDispatched': {
        const { incidentId, deadline } = event.data;
        // Re-dispatches (after a return or a rework) keep the deadline; a marked case stays marked.
        if (await ctx.memory.get(incidentId)) return;
        await ctx.schedule({
          id: incidentId,
          dueAt: deadline,
          idempotencyKey: `urban-ops.deadlines:${incidentId}:${deadline}`,
          payload: { incidentId, deadline },
        });
        return;
      }
      case 'IncidentOverdue':
      case 'IncidentClosed': {
        const { incidentId } = event.data;
        await ctx.cancel(incidentId);
        await ctx.memory.upsert(incidentId, { done: event.type }, { position: recorded.position, eventId: recorded.eventId });
        return;
      }
      default:
        return;
    }
  },
  issue(item, ctx) {
    return executeCommand({
      store: ctx.store,
      streamId: incidentStreamId(item.payload.incidentId),
      decider: incidentDecider,
      command: { type: 'markOverdue', data: { incidentId: item.payload.incidentId }, metadata: { now: ctx.now.toISOString() } },
      metadata: ctx.metadata,
      idempotencyKey: item.idempotencyKey,
    });
  },
};
