/**
 * What the composition root hands to every subgraph server (`createSubgraphServer({ access })`):
 * the caller's grants valid now and its jurisdiction, folded from the consumer's stream on each request (never from the
 * read model, so a revocation applies to the very next request; requests asking together share a read
 * issued after each of them asked, `kit/freshReads.ts`), and the one access recorder of the
 * process, shared by all its subgraphs so their records commit together.
 */
import type { EventStore } from '../../events/types.ts';
import type { AccessControl } from '../kit/access.ts';
import { AccessRecorder, type AccessRecorderOptions } from '../kit/audit.ts';
import { freshSharedReads } from '../kit/freshReads.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { consumerDecider, grantsValidAt, type ConsumerState } from './consumer/decider.ts';
import { CONSUMER_ID, consumerStreamId, UNIT_ID, unitStreamId } from './consumer/events.ts';
import { unitDecider } from './consumer/unit.ts';

export interface GovernanceAccessOptions {
  /** Write the access records. `false` only for the bench's audit-off comparison. @default true */
  audit?: boolean;
  /** Group-commit tuning. */
  recorder?: Omit<AccessRecorderOptions, 'logger'>;
}

/**
 * The consumer's registration and grants, folded from its stream: what every grant check starts from.
 * A malformed consumer id (a token may name anything) has no stream and is unregistered.
 */
export async function readConsumerState(store: EventStore, consumerId: string): Promise<ConsumerState> {
  if (!CONSUMER_ID.test(consumerId)) return consumerDecider.initialState();
  return (await store.aggregate(consumerDecider, consumerStreamId(consumerId))).state;
}

export function createGovernanceAccess(runtime: SubgraphRuntime, options: GovernanceAccessOptions = {}): AccessControl {
  const audit = options.audit ?? true;
  if (!audit) runtime.logger.warn('the access audit is switched off: requests are served without access records (bench only)');
  // Every subgraph of the process checks the same consumer on each request (four for a screen's
  // overview): those asking together share one read of the stream, issued after each of them asked.
  const consumerState = freshSharedReads((consumerId) => readConsumerState(runtime.store, consumerId));
  return {
    async principalFor(consumerId) {
      const state = await consumerState(consumerId);
      return { grants: grantsValidAt(state, runtime.now()), jurisdiction: state.status === 'REGISTERED' ? state.jurisdiction : null };
    },
    async unit(unitId) {
      if (!UNIT_ID.test(unitId)) return null;
      return (await runtime.store.aggregate(unitDecider, unitStreamId(unitId))).state.unit;
    },
    recorder: audit ? new AccessRecorder(runtime.store, { ...options.recorder, logger: runtime.logger }) : null,
  };
}
