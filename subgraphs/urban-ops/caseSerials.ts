/**
 * Case numbers (`<centre>-<YYYYMMDD>-<category code>-<serial>`) need a running serial per
 * registering centre and day that no two registrations share, whichever process serves them. Each
 * centre-day is a tiny stream whose revision is the serial: appending under optimistic concurrency
 * hands out each number once.
 *
 * Two ways to draw one:
 * - {@link reserveCaseSerial} (registrations without an idempotency key): the next serial after the
 *   last this process knows of the register (its last event, read once), appended by the caller in
 *   the same transaction as the registration (incidentCommands.ts), so a refused registration
 *   consumes no serial; a register another process has moved on is refused by its expected revision
 *   and read again.
 * - {@link allocateCaseSerial} (idempotent registrations): a command of its own on the register, whose
 *   idempotency key (the incident) makes a retried registration get back the serial it was first
 *   given. A serial whose registration then fails is a gap, as in any paper register.
 */
import { z } from 'zod';
import type { Decider, DomainEvent } from '../../events/decider.ts';
import { ConcurrencyError } from '../../events/errors.ts';
import type { EventTypeDefinition } from '../../events/registry.ts';
import type { EventMetadata, EventStore, StreamAppend } from '../../events/types.ts';
import { chinaDate } from '../kit/calendar.ts';
import { handle } from '../kit/command.ts';
import { knownStreamsOf } from './knownStreams.ts';

export type CaseSerialAllocated = DomainEvent<
  'CaseSerialAllocated',
  { centreDivisionCode: string; day: string; serial: number; incidentId: string }
>;

type AllocateSerial = { centreDivisionCode: string; day: string; incidentId: string };

const serialDecider: Decider<AllocateSerial, CaseSerialAllocated, { last: number }> = {
  initialState: () => ({ last: 0 }),
  decide: (command, state) => [{ type: 'CaseSerialAllocated', data: { ...command, serial: state.last + 1 } }],
  evolve: (_state, event) => ({ last: event.data.serial }),
};

/** The register of a centre-day. */
const registerStreamId = (centreDivisionCode: string, day: string) => `urban.case-serial-${centreDivisionCode}-${day}`;

const handleSerial = handle(serialDecider, (command) => registerStreamId(command.centreDivisionCode, command.day));

export const caseSerialAllocated: EventTypeDefinition<CaseSerialAllocated['data']> = {
  type: 'CaseSerialAllocated',
  schemaVersion: 1,
  schema: z.object({
    centreDivisionCode: z.string().regex(/^\d{6}(\d{3}){0,2}$/),
    day: z.string().regex(/^\d{8}$/),
    serial: z.int().positive(),
    incidentId: z.string().min(1),
  }),
};

const ATTEMPTS = 5;

/** The register of the centre on the China date of `now`. */
export function caseSerialStreamId(centreDivisionCode: string, now: string): { streamId: string; day: string } {
  const day = chinaDate(now).replaceAll('-', '');
  return { streamId: registerStreamId(centreDivisionCode, day), day };
}

/** Idempotent allocations in this process, one at a time per register, so they do not conflict with each other. */
const allocatingByStore = new WeakMap<EventStore, Map<string, Promise<number>>>();

/** The serial for `incidentId` at the centre on the China date of `now`, drawn by a command of its own. */
export async function allocateCaseSerial(
  store: EventStore,
  input: { centreDivisionCode: string; incidentId: string; now: string; metadata: EventMetadata },
): Promise<number> {
  const { streamId, day } = caseSerialStreamId(input.centreDivisionCode, input.now);
  const command: AllocateSerial = { centreDivisionCode: input.centreDivisionCode, day, incidentId: input.incidentId };
  const allocate = async (): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const { events } = await handleSerial(store, command, input.metadata, {
          idempotencyKey: `urban-ops.case-serial:${input.incidentId}:${input.centreDivisionCode}:${day}`,
        });
        return events[0]!.data.serial;
      } catch (error) {
        // The seam retries once; another process registering many cases at once may need a few more.
        if (!(error instanceof ConcurrencyError) || attempt === ATTEMPTS) throw error;
      } finally {
        // What reservations knew of this register is now behind it.
        knownStreamsOf(store).serials.delete(streamId);
      }
    }
  };
  let allocating = allocatingByStore.get(store);
  if (!allocating) {
    allocating = new Map();
    allocatingByStore.set(store, allocating);
  }
  const previous = allocating.get(streamId) ?? Promise.resolve(0);
  const mine = previous.catch(() => undefined).then(allocate);
  allocating.set(streamId, mine);
  try {
    return await mine;
  } finally {
    if (allocating.get(streamId) === mine) allocating.delete(streamId);
  }
}

/** A serial drawn by {@link reserveCaseSerial}: the caller appends `append` with its registration. */
export interface ReservedSerial {
  serial: number;
  streamId: string;
  append: StreamAppend;
  /** Forgets what this process knew of the register: call it when `append` was not written. */
  release(): void;
}

/**
 * The next serial of the register, for a registration that appends `append` in its own transaction.
 * Reservations made before the previous one is written take the numbers after it, each appended with
 * the revision before it, so a process registering many cases at one centre does not conflict with
 * itself; the first refused one (another writer took that number) makes the next read the register again.
 */
export async function reserveCaseSerial(
  store: EventStore,
  input: { centreDivisionCode: string; incidentId: string; now: string; metadata: EventMetadata },
): Promise<ReservedSerial> {
  const { streamId, day } = caseSerialStreamId(input.centreDivisionCode, input.now);
  const { serials } = knownStreamsOf(store);
  let known = serials.get(streamId);
  if (!known) {
    const [last] = await store.readStream<CaseSerialAllocated>(streamId, { direction: 'backwards', limit: 1 });
    // Another reservation may have read the register meanwhile: continue after it.
    known = serials.get(streamId) ?? {
      state: { last: last ? last.data.serial : 0, reading: ++readings },
      revision: last?.revision ?? -1,
    };
  }
  const { reading } = known.state;
  const expected = known.revision;
  const serial = known.state.last + 1;
  serials.set(streamId, { state: { last: serial, reading }, revision: expected + 1 });
  const data: CaseSerialAllocated['data'] = { centreDivisionCode: input.centreDivisionCode, day, serial, incidentId: input.incidentId };
  return {
    serial,
    streamId,
    append: {
      streamId,
      events: [{ type: 'CaseSerialAllocated', data, metadata: input.metadata }],
      options: { expectedRevision: expected < 0 ? 'no_stream' : expected },
    },
    // Only what followed from the same reading is behind the register: a newer reading stays.
    release: () => {
      if (serials.get(streamId)?.state.reading === reading) serials.delete(streamId);
    },
  };
}

/** Numbers the readings of registers, so a refused reservation forgets only the reading it came from. */
let readings = 0;
