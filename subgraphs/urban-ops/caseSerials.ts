/**
 * Case numbers (`<centre>-<YYYYMMDD>-<category code>-<serial>`) need a running serial per
 * registering centre and day that no two registrations share, whichever process serves them. Each
 * centre-day is a tiny stream whose revision is the serial: appending under optimistic concurrency
 * hands out each number once, and the idempotency key (the incident) makes a retried registration
 * get back the serial it was first given. A serial whose registration then fails is a gap, as in
 * any paper register.
 */
import { z } from 'zod';
import type { Decider, DomainEvent } from '../../events/decider.ts';
import { ConcurrencyError } from '../../events/errors.ts';
import type { EventTypeDefinition } from '../../events/registry.ts';
import type { EventMetadata, EventStore } from '../../events/types.ts';
import { chinaDate } from '../kit/calendar.ts';
import { executeCommand } from '../kit/command.ts';

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

/** The serial for `incidentId` at the centre on the China date of `now`. */
export async function allocateCaseSerial(
  store: EventStore,
  input: { centreDivisionCode: string; incidentId: string; now: string; metadata: EventMetadata },
): Promise<number> {
  const day = chinaDate(input.now).replaceAll('-', '');
  const command: AllocateSerial = { centreDivisionCode: input.centreDivisionCode, day, incidentId: input.incidentId };
  for (let attempt = 1; ; attempt++) {
    try {
      const { events } = await executeCommand({
        store,
        streamId: `urban.case-serial-${input.centreDivisionCode}-${day}`,
        decider: serialDecider,
        command,
        metadata: input.metadata,
        idempotencyKey: `urban-ops.case-serial:${input.incidentId}:${input.centreDivisionCode}:${day}`,
      });
      return (events[0]!.data as CaseSerialAllocated['data']).serial;
    } catch (error) {
      // executeCommand retries once; a centre registering many cases at once may need a few more.
      if (!(error instanceof ConcurrencyError) || attempt === ATTEMPTS) throw error;
    }
  }
}
