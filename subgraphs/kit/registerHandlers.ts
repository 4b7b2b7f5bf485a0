/**
 * The steps the register-style handlers (population, legal-person) share: running a command on an
 * aggregate's stream for an `Outcome`, and appending a registration under its natural key's claim.
 */
import type { EventStore } from '../../events/types.ts';
import { outcomeOf, type CommandContext, type CommandHandler, type CommandMetadata, type CommandResult, type Outcome } from './command.ts';
import type { NaturalKey } from './naturalKey.ts';

type AnyCommand = { type: string; data: unknown; metadata: CommandMetadata };

/** Runs a command of `type` with `data` through `handler`, decided at `ctx.now`; the outcome names the aggregate `idOf(data)`. */
export function outcomeRunner<Command extends AnyCommand>(store: EventStore, handler: CommandHandler<Command, unknown>, idOf: (data: Command['data']) => string) {
  return async <C extends Command>(type: C['type'], data: C['data'], ctx: CommandContext): Promise<Outcome> =>
    outcomeOf(idOf(data), await handler(store, { type, data, metadata: { now: ctx.now } } as C, ctx.metadata, ctx));
}

/**
 * Claims `key` for `ownerId`, then appends what `register` writes. When that fails the key is given
 * back so a corrected registration can take it; should even that fail, the claim stays with the
 * unused owner id and re-sending with the same id takes it over.
 */
export async function registerUnderClaim(
  store: EventStore,
  naturalKey: NaturalKey,
  claim: { key: string; ownerId: string },
  ctx: CommandContext,
  register: () => Promise<CommandResult<unknown>>,
): Promise<Outcome> {
  const claimed = await naturalKey.claim(store, claim.key, claim.ownerId, ctx.metadata, ctx);
  try {
    return outcomeOf(claim.ownerId, await register(), claimed);
  } catch (error) {
    await naturalKey.release(store, claim.key, claim.ownerId, ctx.metadata).catch(() => undefined);
    throw error;
  }
}
