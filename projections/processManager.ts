/**
 * Process managers (DESIGN §1): react to events by issuing commands, themselves checkpointed.
 *
 * A process manager has two halves:
 * - `react(event, ctx)` runs as a projection (`processManagerProjection`) under the ordinary
 *   `ProjectionRunner`: it keeps the manager's *schedule* — what to issue, when, under which
 *   idempotency key — and any memory it needs, as read-model documents. The schedule is therefore
 *   the fold of the log: checkpointed with it, rebuilt from it, never applied twice or skipped.
 *   `react` does no I/O besides its documents (issuing a command inside the runner's transaction
 *   could not be rolled back with it, and on PGlite would wait on that very transaction).
 * - `ProcessManagerRuntime.tick()` reads the items whose `dueAt` has passed at `now()` and calls
 *   `issue(item, ctx)` for each; `issue` appends through the command seam (kit `handle`) with the item's
 *   idempotency key.
 *
 * Guarantees:
 * - Exactly-once in effect. The idempotency key is derived from the triggering event or deadline,
 *   so issuing an item again — after a crash between the append and the projection catching up, on
 *   a restart, or from a second process ticking at the same moment — appends nothing new.
 * - An item leaves the schedule only through events: the command's own events (or others, such
 *   as a closure) reach `react`, which cancels it. Until then a tick skips an item it issued less
 *   than `retryAfterMs` ago (virtual time); after that it issues it again, which is a replay.
 * - A refused command (a CityBrainError: the read model lagging behind the aggregate, say) or a
 *   failed one is reported in the tick's result, logged, and retried after `retryAfterMs`.
 * - Time is `ports.now()`: tests move a virtual clock and call `tick()`; `start()` ticks on a
 *   real timer. An item is due once `now` is strictly past its `dueAt`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { CityBrainError, NotFoundError } from '../events/errors.ts';
import type { PersonalDataPort } from '../events/crypto/personalDataStore.ts';
import type { DomainEvent } from '../events/decider.ts';
import type { EventMetadata, EventStore, Position, Recorded } from '../events/types.ts';
import type { ReadModels } from './readModels.ts';
import { sourceOf, type Collection, type Doc, type Projection } from './types.ts';

/** The event that caused an item, carried into the issued command's metadata. */
export interface ItemCause {
  eventId: string;
  streamId: string;
  position: Position;
  correlationId: string;
}

export interface ScheduledItem<Payload extends Doc = Doc> extends Doc {
  /** One item per id: scheduling the same id again replaces it. */
  id: string;
  /** ISO 8601 instant (UTC); the item is issued once `now` is past it. */
  dueAt: string;
  /** The command is appended with this key; derive it from the trigger, never at random. */
  idempotencyKey: string;
  payload: Payload;
  cause: ItemCause;
}

export interface ScheduleRequest<Payload extends Doc> {
  id: string;
  dueAt: string;
  idempotencyKey: string;
  payload: Payload;
}

/** What `react` may do: keep the schedule, and remember facts about earlier events. */
export interface ReactionContext<Payload extends Doc> {
  schedule(request: ScheduleRequest<Payload>): Promise<void>;
  cancel(id: string): Promise<void>;
  scheduled(id: string): Promise<ScheduledItem<Payload> | undefined>;
  /** The manager's own documents (e.g. "this case was already marked overdue"). */
  memory: Collection;
}

export interface IssueContext {
  store: EventStore;
  /** The personal-data keys, where this process may erase them (governance's retention). */
  personalData?: PersonalDataPort;
  /** The instant the command is decided at (the runtime's clock). */
  now: Date;
  /** Provenance and actor of the manager, correlated with and caused by the item's trigger. */
  metadata: EventMetadata;
}

/** What `issue` reports: a command handler's result satisfies it. */
export interface IssueResult {
  events: readonly unknown[];
  replayed: boolean;
}

/** `E`: the domain events of `eventTypes` (the runner delivers no others), so `react` takes them typed. */
export interface ProcessManager<Payload extends Doc = Doc, E extends DomainEvent = DomainEvent> {
  /** Stable name, e.g. `urban-ops.deadlines`; also the name of its projection. */
  name: string;
  /** Bump to rebuild the schedule from the log. */
  version: number;
  /** The department answering for the manager's commands (provenance). */
  department: string;
  eventTypes: readonly string[];
  react(event: Recorded<E>, ctx: ReactionContext<Payload>): Promise<void>;
  issue(item: ScheduledItem<Payload>, ctx: IssueContext): Promise<IssueResult>;
}

const SCHEDULE = 'schedule';
const MEMORY = 'memory';

/** The projection that keeps a manager's schedule; register it with the projection runner. */
export function processManagerProjection<Payload extends Doc>(manager: ProcessManager<Payload>): Projection {
  return {
    name: manager.name,
    version: manager.version,
    eventTypes: manager.eventTypes,
    indexes: [{ collection: SCHEDULE, fields: ['dueAt'] }],
    async apply(event, store) {
      const schedule = store.collection<ScheduledItem<Payload>>(SCHEDULE);
      const source = sourceOf(event);
      const cause: ItemCause = {
        eventId: event.eventId,
        streamId: event.streamId,
        position: event.position,
        correlationId: event.metadata.correlationId,
      };
      await manager.react(event, {
        async schedule(request) {
          const dueAt = new Date(request.dueAt);
          if (Number.isNaN(dueAt.getTime())) throw new Error(`${manager.name}: dueAt "${request.dueAt}" is not an instant`);
          await schedule.upsert(request.id, { ...request, dueAt: dueAt.toISOString(), cause }, source);
        },
        cancel: (id) => schedule.delete(id),
        async scheduled(id) {
          return (await schedule.get(id))?.doc;
        },
        memory: store.collection(MEMORY),
      });
    },
  };
}

export interface ProcessManagerPorts {
  store: EventStore;
  personalData?: PersonalDataPort;
  readModels: ReadModels;
  now: () => Date;
  logger?: Logger;
}

export interface ProcessManagerRuntimeOptions {
  /** Due items read per page. @default 200 */
  batchSize?: number;
  /** How long (by `now()`) an issued, refused or failed item is left alone before it is issued again. @default 60000 */
  retryAfterMs?: number;
  /** Real-time interval between ticks after `start()`. @default 1000 */
  intervalMs?: number;
}

export interface TickReport {
  manager: string;
  /** Items whose command appended events. */
  issued: string[];
  /** Items whose command had already been appended (same idempotency key): nothing new. */
  replayed: string[];
  /** Items whose command decided that nothing was to be done. */
  unchanged: string[];
  /** Items whose command was refused or failed; retried after `retryAfterMs`. */
  failed: { id: string; error: string }[];
  /** Due items left alone because they were handled less than `retryAfterMs` ago. */
  deferred: number;
}

export class ProcessManagerRuntime {
  private readonly batchSize: number;
  private readonly retryAfterMs: number;
  private readonly intervalMs: number;
  /** idempotency key → instant (ms, by `now()`) before which the item is not issued again. */
  private readonly quietUntil = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly ports: ProcessManagerPorts,
    private readonly managers: readonly ProcessManager[],
    options: ProcessManagerRuntimeOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.retryAfterMs = options.retryAfterMs ?? 60_000;
    this.intervalMs = options.intervalMs ?? 1000;
  }

  /** Issues every due item of every manager once, at `now()`. */
  async tick(): Promise<TickReport[]> {
    const reports: TickReport[] = [];
    for (const manager of this.managers) reports.push(await this.tickOne(manager));
    return reports;
  }

  /** Ticks every `intervalMs` until `stop()`; a failing tick is logged and the next one runs. */
  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = (async () => {
      while (!controller.signal.aborted) {
        try {
          await this.tick();
        } catch (error) {
          this.ports.logger?.error({ err: error }, 'process manager tick failed');
        }
        // Node's abortable timer removes its abort listener when it fires: no listener piles up per tick.
        await sleep(this.intervalMs, undefined, { signal: controller.signal }).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async tickOne(manager: ProcessManager): Promise<TickReport> {
    const report: TickReport = { manager: manager.name, issued: [], replayed: [], unchanged: [], failed: [], deferred: 0 };
    const now = this.ports.now();
    const nowMs = now.getTime();
    const schedule = this.ports.readModels.of(manager.name).collection<ScheduledItem>(SCHEDULE);
    let after: string | undefined;
    for (;;) {
      let page;
      try {
        page = await schedule.find({
          where: { dueAt: { lt: now.toISOString() } },
          sortBy: 'dueAt',
          first: this.batchSize,
          ...(after !== undefined && { after }),
        });
      } catch (error) {
        // Not built yet: the projector has not caught up since the manager was added.
        if (error instanceof NotFoundError) return report;
        throw error;
      }
      for (const { node } of page.items) await this.issueOne(manager, node.doc, now, nowMs, report);
      if (!page.hasNextPage || page.endCursor === null) return report;
      after = page.endCursor;
    }
  }

  private async issueOne(manager: ProcessManager, item: ScheduledItem, now: Date, nowMs: number, report: TickReport): Promise<void> {
    const quiet = this.quietUntil.get(item.idempotencyKey);
    if (quiet !== undefined && quiet > nowMs) {
      report.deferred++;
      return;
    }
    this.quietUntil.set(item.idempotencyKey, nowMs + this.retryAfterMs);
    const metadata: EventMetadata = {
      provenance: { department: manager.department, system: manager.name, channel: 'process-manager', collectedAt: now.toISOString() },
      actor: { consumerId: `process-manager:${manager.name}`, role: 'system' },
      correlationId: item.cause.correlationId,
      causationId: item.cause.eventId,
    };
    try {
      const { store, personalData } = this.ports;
      const result = await manager.issue(item, { store, ...(personalData && { personalData }), now, metadata });
      if (result.replayed) report.replayed.push(item.id);
      else if (result.events.length === 0) report.unchanged.push(item.id);
      else report.issued.push(item.id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.failed.push({ id: item.id, error: message });
      const log = { manager: manager.name, item: item.id, err: error };
      if (error instanceof CityBrainError) this.ports.logger?.warn(log, 'process manager command refused; retried later');
      else this.ports.logger?.error(log, 'process manager command failed; retried later');
    }
    // Forget keys whose quiet period is over, so the map stays as small as the live schedule.
    if (this.quietUntil.size > 10_000) {
      for (const [key, until] of this.quietUntil) if (until <= nowMs) this.quietUntil.delete(key);
    }
  }
}
