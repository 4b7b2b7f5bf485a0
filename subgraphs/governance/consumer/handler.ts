/** The consumer's commands (registration, grants, revocations) on the command seam: one stream per consumer. */
import { handle } from '../../kit/command.ts';
import type { ConsumerCommand } from './commands.ts';
import { consumerDecider } from './decider.ts';
import { consumerStreamId } from './events.ts';

export const handleConsumer = handle(consumerDecider, (command: ConsumerCommand) => consumerStreamId(command.data.consumerId));
