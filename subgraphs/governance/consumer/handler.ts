/** The consumer's commands (registration, grants, revocations) on the command seam: one stream per consumer. */
import type { EventMetadata, EventStore } from '../../../events/types.ts';
import { handle, type CommandOptions, type CommandResult } from '../../kit/command.ts';
import type { AssignJurisdiction, ConsumerCommand } from './commands.ts';
import { consumerDecider, type ConsumerState } from './decider.ts';
import { consumerStreamId, type ConsumerEvent } from './events.ts';
import { handleUnit } from './unit.ts';

export const handleConsumer = handle(consumerDecider, (command: ConsumerCommand) => consumerStreamId(command.data.consumerId));

/**
 * Sets what a consumer acts for. A unit is entered in the unit register first (consumer/unit.ts),
 * which refuses a unit already registered under another division; the consumer's decision is tried
 * on its stream before that, so a refused assignment registers no unit.
 */
export async function assignJurisdiction(
  store: EventStore,
  command: AssignJurisdiction,
  metadata: EventMetadata,
  options: CommandOptions = {},
): Promise<CommandResult<ConsumerState, ConsumerEvent>> {
  const { data } = command;
  consumerDecider.decide(command, (await store.aggregate(consumerDecider, consumerStreamId(data.consumerId))).state);
  const unitId = data.unitId?.trim();
  if (unitId) {
    const unitCommand = { type: 'registerUnit' as const, data: { unitId, unitName: data.unitName ?? '', divisionCode: data.divisionCode, registeredBy: data.assignedBy }, metadata: command.metadata };
    // The unit's stream takes its own key: one key's event ids stand in one stream only.
    await handleUnit(store, unitCommand, metadata, options.idempotencyKey === undefined ? {} : { idempotencyKey: `${options.idempotencyKey}\u0000unit` });
  }
  return handleConsumer(store, command, metadata, options);
}
