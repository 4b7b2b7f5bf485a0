/** The shape every ingest kind's record schema shares: NDJSON and CSV give one record, bad shapes name the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ingestMetadata } from '../../test/helpers/ingest.ts';
import { householdsKind } from '../population/ingest.ts';
import { entityIdOf, exactlyOne, integer, jsonCell, number, recordSchema, yuan } from './ingestSchema.ts';

const schema = recordSchema({
  count: integer(),
  amount: number().optional(),
  price: yuan(),
  place: z.object({ address: z.string(), code: z.string() }),
  tags: jsonCell(z.array(z.string())).optional(),
}).refine(...exactlyOne('count', 'amount'));

const issuesOf = (value: unknown) => {
  const result = schema.safeParse(value);
  assert.equal(result.success, false, 'the schema accepted a bad record');
  return result.error!.issues.map((i) => i.path.join('.'));
};

describe('ingest record schemas', () => {
  it('read a CSV row (strings, dotted columns, empty cells) and an NDJSON object as the same record', () => {
    const csv = schema.parse({ sourceRecordId: ' r1 ', count: '3', amount: '', price: '12.50', 'place.address': '经十路1号', 'place.code': '370102', tags: '["a","b"]' });
    const ndjson = schema.parse({ sourceRecordId: 'r1', count: 3, amount: null, price: 12.5, place: { address: '经十路1号', code: '370102' }, tags: ['a', 'b'] });
    assert.deepEqual(csv, { sourceRecordId: 'r1', count: 3, price: '12.50', place: { address: '经十路1号', code: '370102' }, tags: ['a', 'b'] });
    assert.deepEqual(ndjson, { ...csv, price: '12.5' });
  });

  it('name the field of a missing, malformed or doubly given value', () => {
    assert.deepEqual(issuesOf({ count: '1', price: '1', place: { address: 'x', code: 'y' } }), ['sourceRecordId']);
    assert.deepEqual(issuesOf({ sourceRecordId: 'r', count: 'three', price: '1', place: { address: 'x', code: 'y' } }), ['count']);
    assert.deepEqual(issuesOf({ sourceRecordId: 'r', count: '1', price: '1', 'place.address': 'x' }), ['place.code']);
    assert.deepEqual(issuesOf({ sourceRecordId: 'r', count: '1', price: '1', place: { address: 'x', code: 'y' }, tags: '[not json' }), ['tags']);
    assert.deepEqual(issuesOf({ sourceRecordId: 'r', count: '1', amount: '2', price: '1', place: { address: 'x', code: 'y' } }), ['count']);
  });

  it('drop fields a kind does not take, so a record cannot name the entity it writes', () => {
    const parsed = householdsKind.schema.parse({ sourceRecordId: 'H1', householdId: 'someone-else', headId: 'p1', address: 'x', divisionCode: '370102001001' });
    assert.equal('householdId' in (parsed as object), false);
  });

  it('derive entity ids from department, kind and source id: another department’s equal source id names another entity', () => {
    const of = (department: string, kind: string, sourceRecordId: string) => entityIdOf({ metadata: ingestMetadata(householdsKind, sourceRecordId, department), sourceRecordId }, kind);
    assert.equal(of('public-security', 'persons', 'P1'), of('public-security', 'persons', 'P1'));
    assert.notEqual(of('public-security', 'persons', 'P1'), of('civil-affairs', 'persons', 'P1'));
    assert.notEqual(of('public-security', 'persons', 'P1'), of('public-security', 'households', 'P1'));
  });
});
