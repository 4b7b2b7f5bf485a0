/**
 * The retention process manager's configuration and schedule: a malformed rule or an unknown
 * resource stops the start; a registered death schedules each rule at death + N; an erasure or an
 * expiry takes its items off; a person erased before their death is registered gets none.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../events/errors.ts';
import { parseRetentionRules } from '../../../events/crypto/retentionRules.ts';
import type { Recorded } from '../../../events/types.ts';
import type { ReactionContext, ScheduleRequest } from '../../../projections/processManager.ts';
import type { Collection } from '../../../projections/types.ts';
import { governanceConfig } from '../index.ts';
import type { ErasureEvent } from '../erasure/events.ts';
import type { PersonDeceased } from '../../population/person/events.ts';
import { retentionManager, type RetentionPayload } from './retention.ts';

const { rules } = parseRetentionRules('healthcare.records=30y after death, healthcare.claims=10y after death');

/** A schedule and memory in memory, recording what `react` does. */
function fakeContext() {
  const schedule = new Map<string, ScheduleRequest<RetentionPayload>>();
  const memory = new Map<string, unknown>();
  const ctx = {
    schedule: async (request: ScheduleRequest<RetentionPayload>) => void schedule.set(request.id, request),
    cancel: async (id: string) => void schedule.delete(id),
    scheduled: async () => undefined,
    memory: {
      get: async (id: string) => (memory.has(id) ? { doc: memory.get(id) } : undefined),
      upsert: async (id: string, doc: unknown) => void memory.set(id, doc),
    } as unknown as Collection,
  } satisfies ReactionContext<RetentionPayload>;
  return { ctx, schedule };
}

let position = 0;
const recorded = <E extends PersonDeceased | ErasureEvent>(type: E['type'], data: E['data']) =>
  ({ type, data, eventId: `e-${++position}`, position: `${position}:0`, streamId: 's', revision: 0, recordedAt: '2026-01-01T00:00:00Z', metadata: { correlationId: 'c' } }) as unknown as Recorded<E>;
const death = (personId: string) => recorded<PersonDeceased>('PersonDeceased', { personId, dateOfDeath: '2020-03-01' });

describe('retention configuration', () => {
  it('reads PERSONAL_DATA_RETENTION, and stops the start on a malformed rule or an unknown resource', () => {
    assert.deepEqual(governanceConfig({ PERSONAL_DATA_RETENTION: 'healthcare.records=30y after death' }).retention.map((r) => r.text), ['healthcare.records=30y after death']);
    assert.deepEqual(governanceConfig({}).retention, []);
    assert.throws(() => governanceConfig({ PERSONAL_DATA_RETENTION: 'healthcare.records after 30 years' }), (e: unknown) => e instanceof ValidationError && /PERSONAL_DATA_RETENTION: "healthcare.records after 30 years" is not a retention rule/.test(e.message));
    assert.throws(() => governanceConfig({ PERSONAL_DATA_RETENTION: 'healthcare.healthRecords=30y after death' }), (e: unknown) => e instanceof ValidationError && /unknown resource "healthcare.healthRecords"/.test(e.message));
  });
});

describe('the retention schedule', () => {
  const manager = retentionManager(rules);

  it('schedules each rule at the end of its period after a registered death', async () => {
    const { ctx, schedule } = fakeContext();
    await manager.react(death('p-1'), ctx);
    assert.deepEqual([...schedule.values()].map((r) => [r.id, r.dueAt, r.idempotencyKey]), [
      ['p-1#healthcare.records', '2050-02-28T16:00:00.000Z', 'governance.retention:p-1:healthcare.records'],
      ['p-1#healthcare.claims', '2030-02-28T16:00:00.000Z', 'governance.retention:p-1:healthcare.claims'],
    ]);
  });

  it('takes an expired resource off, and every resource of an erased person; schedules nothing for a person erased before their death', async () => {
    const { ctx, schedule } = fakeContext();
    await manager.react(death('p-1'), ctx);
    const expiry = { subjectId: 'p-1', scope: 'healthcare.claims', rule: 'r', dueAt: 'd', legalBasis: 'b', approver: 'a', erasedBy: 'e', erasedAt: 'x' };
    await manager.react(recorded<ErasureEvent>('PersonalDataExpired', expiry), ctx);
    assert.deepEqual([...schedule.keys()], ['p-1#healthcare.records']);
    const erasure = (subjectId: string) => recorded<ErasureEvent>('PersonalDataErased', { subjectId, legalBasis: 'b', approver: 'a', erasedBy: 'e', erasedAt: 'x' });
    await manager.react(erasure('p-1'), ctx);
    await manager.react(erasure('p-2'), ctx);
    await manager.react(death('p-2'), ctx);
    assert.deepEqual([...schedule.keys()], []);
  });

  it('is rebuilt when the rules change (its version follows them)', () => {
    assert.equal(retentionManager(parseRetentionRules('healthcare.claims=10y after death, healthcare.records=30y after death').rules).version, manager.version);
    assert.notEqual(retentionManager(parseRetentionRules('healthcare.records=31y after death').rules).version, manager.version);
  });
});
