/** An event type given as fields validates exactly as its `z.object`; one given as a schema keeps its cross-field rules. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { eventFields, eventType } from './eventTypes.ts';

const { id, instant } = eventFields;

describe('eventType', () => {
  const byFields = eventType('ThingRecorded', { thingId: id, recordedAt: instant });

  it('declares a version-1 type whose schema parses the fields and drops unknown ones', () => {
    assert.equal(byFields.type, 'ThingRecorded');
    assert.equal(byFields.schemaVersion, 1);
    assert.deepEqual(byFields.schema.parse({ thingId: 't-1', recordedAt: '2026-03-01T08:00:00+08:00', injected: '<script>' }), {
      thingId: 't-1',
      recordedAt: '2026-03-01T08:00:00+08:00',
    });
  });

  it('refuses data that breaks a field: empty id, an instant without offset, a missing field', () => {
    for (const data of [{ thingId: '', recordedAt: '2026-03-01T08:00:00+08:00' }, { thingId: 't-1', recordedAt: '2026-03-01 08:00' }, { thingId: 't-1' }]) {
      assert.equal(byFields.schema.safeParse(data).success, false, JSON.stringify(data));
    }
  });

  it('keeps the rule of a schema given whole', () => {
    const bySchema = eventType(
      'RangeSet',
      z.object({ from: z.int(), to: z.int() }).refine((d) => d.from <= d.to, 'from must not pass to'),
    );
    assert.equal(bySchema.schema.safeParse({ from: 1, to: 2 }).success, true);
    const refused = bySchema.schema.safeParse({ from: 3, to: 2 });
    assert.equal(refused.success, false);
    assert.match(refused.error?.issues[0]?.message ?? '', /from must not pass to/);
  });
});
