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

/** Consumers whose folded state is kept between requests; past it the longest-kept is folded again on its next request. */
const MAX_FOLDED_CONSUMERS = 10_000;

/**
 * `readConsumerState` for a process that checks the same consumers again and again: each consumer's
 * state is kept with the revision it was folded through, and each read asks the store only for the
 * events appended after it (none, nearly always) — one indexed lookup per check instead of reading and
 * folding the whole stream, with a grant or revocation committed before the read still seen by it.
 */
function incrementalConsumerStates(store: EventStore): (consumerId: string) => Promise<ConsumerState> {
  const folded = new Map<string, { state: ConsumerState; revision: number }>();
  return async (consumerId) => {
    if (!CONSUMER_ID.test(consumerId)) return consumerDecider.initialState();
    const kept = folded.get(consumerId);
    const from = kept ? { initialState: () => kept.state, evolve: consumerDecider.evolve } : consumerDecider;
    const { state, revision } = await store.aggregate(from, consumerStreamId(consumerId), kept && { fromRevision: kept.revision + 1 });
    if (revision !== undefined) {
      if (!kept && folded.size >= MAX_FOLDED_CONSUMERS) folded.delete(folded.keys().next().value!);
      folded.set(consumerId, { state, revision });
    }
    return state;
  };
}

export function createGovernanceAccess(runtime: SubgraphRuntime, options: GovernanceAccessOptions = {}): AccessControl {
  const audit = options.audit ?? true;
  if (!audit) runtime.logger.warn('the access audit is switched off: requests are served without access records (bench only)');
  // Every subgraph of the process checks the same consumer on each request (four for a screen's
  // overview): those asking together share one read of the stream, issued after each of them asked.
  const consumerState = freshSharedReads(incrementalConsumerStates(runtime.store));
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
