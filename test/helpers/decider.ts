import assert from 'node:assert/strict';
import { fold, type Decider, type DomainEvent } from '../../events/decider.ts';
import type { EventRegistry } from '../../events/registry.ts';
import { testMetadata } from './events.ts';

/**
 * Given/when/then for a pure decider:
 *   given(decider, [...past events]).when(command).then([...new events])
 *   given(decider, [...]).when(command).thenThrows(ErrorClass, /message/)
 */
export function given<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, events: E[] = []) {
  const state = fold(decider, events);
  return {
    when(command: C) {
      return {
        then(expected: E[]) {
          assert.deepEqual(decider.decide(command, state), expected);
        },
        thenThrows(errorClass: new (...args: never[]) => Error, message?: RegExp) {
          assert.throws(
            () => decider.decide(command, state),
            (err: unknown) => {
              assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${String(err)}`);
              if (message) assert.match((err as Error).message, message);
              return true;
            },
          );
        },
      };
    },
    /** The folded state, for assertions on `evolve`. */
    state,
  };
}

/** Asserts that the registry accepts each event exactly as its decider emitted it: its schema neither refuses nor rewrites it. */
export function assertAcceptedAsEmitted(registry: EventRegistry, events: readonly DomainEvent[]): void {
  for (const event of events) {
    assert.deepEqual(registry.validateForAppend(event.type, event.data, testMetadata).data, event.data, event.type);
  }
}
