import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../events/config.ts';
import { ValidationError } from '../../events/errors.ts';
import { decodeCursor, encodeCursor } from '../sql/documentStore.ts';
import { mongoConfigSchema } from './config.ts';
import { databaseName } from './mongoDocumentStore.ts';
import { assertStorableFields, buildCollectionName, buildPrefix, keysetFilter, olderThan, positionKey, sortSpec, whereToFilter } from './query.ts';

const NOT_ARRAY = { $not: { $type: 'array' } };

describe('where → MongoDB filter', () => {
  it('compares whole values for equality, in and ranges, so an array never matches a scalar', () => {
    assert.deepEqual(whereToFilter({ total: 3, status: 'open', flagged: false }), {
      'doc.total': { $eq: 3, ...NOT_ARRAY },
      'doc.status': { $eq: 'open', ...NOT_ARRAY },
      'doc.flagged': { $eq: false, ...NOT_ARRAY },
    });
    assert.deepEqual(whereToFilter({ total: { in: [1, 11] } }), { 'doc.total': { $in: [1, 11], ...NOT_ARRAY } });
    assert.deepEqual(whereToFilter({ total: { gte: 4, lt: 8 } }), { 'doc.total': { $gte: 4, $lt: 8, ...NOT_ARRAY } });
  });

  it('matches a missing field with null, and an array element with contains', () => {
    assert.deepEqual(whereToFilter({ resetReason: null }), { 'doc.resetReason': { $eq: null, ...NOT_ARRAY } });
    assert.deepEqual(whereToFilter({ tags: { contains: 'flood' } }), { 'doc.tags': { $elemMatch: { $eq: 'flood' } } });
  });

  it('ignores an empty range, as the SQL store does, and matches everything without a where', () => {
    assert.deepEqual(whereToFilter({ total: {} as { gt?: number } }), {});
    assert.deepEqual(whereToFilter(undefined), {});
  });

  it('refuses field names that would address something other than a top-level field', () => {
    for (const name of ['$where', 'doc.total', 'a b', '']) {
      assert.throws(() => whereToFilter({ [name]: 1 }), (err: unknown) => err instanceof ValidationError && /is not a filterable field name/.test(err.message));
    }
    assert.throws(() => sortSpec('$natural', 'asc'), /is not a filterable field name/);
  });
});

describe('sorting and keyset pages', () => {
  it('sorts by the field, ties broken by id in the same direction; by id alone without a field', () => {
    assert.deepEqual(sortSpec('total', 'desc'), { 'doc.total': -1, _id: -1 });
    assert.deepEqual(sortSpec('total', undefined), { 'doc.total': 1, _id: 1 });
    assert.deepEqual(sortSpec(undefined, 'desc'), { _id: -1 });
  });

  it('continues strictly after the cursor ascending: greater values, or the same value with a greater id', () => {
    assert.deepEqual(keysetFilter('total', 'asc', 5, 'b'), {
      $or: [{ 'doc.total': { $gt: 5 } }, { 'doc.total': { $eq: 5, ...NOT_ARRAY }, _id: { $gt: 'b' } }],
    });
    assert.deepEqual(keysetFilter(undefined, 'asc', null, 'b'), { _id: { $gt: 'b' } });
  });

  it('continues descending into smaller values, then the null (or missing) ones that sort last', () => {
    assert.deepEqual(keysetFilter('total', 'desc', 5, 'b'), {
      $or: [{ 'doc.total': { $lt: 5 } }, { 'doc.total': null }, { 'doc.total': { $eq: 5, ...NOT_ARRAY }, _id: { $lt: 'b' } }],
    });
  });

  it('after a null cursor value: ascending every non-null value follows; descending only smaller ids among nulls', () => {
    assert.deepEqual(keysetFilter('closedAt', 'asc', null, 'b'), {
      $or: [{ 'doc.closedAt': { $ne: null } }, { 'doc.closedAt': { $eq: null, ...NOT_ARRAY }, _id: { $gt: 'b' } }],
    });
    assert.deepEqual(keysetFilter('closedAt', 'desc', undefined, 'b'), { 'doc.closedAt': { $eq: null, ...NOT_ARRAY }, _id: { $lt: 'b' } });
  });

  it('shares the SQL store cursor format, so a cursor means the same on both backends', () => {
    assert.deepEqual(decodeCursor(encodeCursor(7, 'test.counter-07')), [7, 'test.counter-07']);
    assert.throws(() => decodeCursor('not-a-cursor'), /is not one this list returned/);
  });
});

describe('position-guarded writes (standalone fallback)', () => {
  it('turns positions into keys that sort as the positions do', () => {
    const positions = ['10:9', '9:10', '9:9', '0:0', '18446744073709551615:1'];
    const byKey = [...positions].sort((a, b) => (positionKey(a) < positionKey(b) ? -1 : 1));
    assert.deepEqual(byKey, ['0:0', '9:9', '9:10', '10:9', '18446744073709551615:1']);
    assert.equal(positionKey('9:10'), '00000000000000000009:00000000000000000010');
    assert.throws(() => positionKey('soon'), /position "soon" is malformed/);
  });

  it('writes only over documents that no newer event has written', () => {
    assert.deepEqual(olderThan('k'), { $or: [{ pos: { $lt: 'k' } }, { pos: { $exists: false } }] });
  });
});

describe('names and configuration', () => {
  it('names one MongoDB collection per read-model collection of a build', () => {
    const prefix = buildPrefix('population.persons', 3, 'm1abcd');
    assert.equal(prefix, 'rm.population_persons.v3.m1abcd');
    assert.equal(buildCollectionName(prefix, 'persons'), 'rm.population_persons.v3.m1abcd.persons');
    assert.throws(() => buildCollectionName(prefix, 'system.profile'), /is not a valid read-model collection name/);
  });

  it('refuses document fields MongoDB would read as operators or paths', () => {
    assert.doesNotThrow(() => assertStorableFields({ total: 1, lastBy: null }));
    assert.throws(() => assertStorableFields({ 'a.b': 1 }), /read-model field "a\.b" cannot be stored in MongoDB/);
    assert.throws(() => assertStorableFields({ $set: 1 }), ValidationError);
  });

  it('accepts mongodb:// and mongodb+srv:// URLs and finds the database they name', () => {
    for (const url of ['mongodb://127.0.0.1:27017/citybrain?replicaSet=rs0', 'mongodb+srv://user:pw@cluster0.example.net/']) {
      assert.equal(parseConfig(mongoConfigSchema, { MONGODB_URL: url }).MONGODB_URL, url);
    }
    assert.throws(() => parseConfig(mongoConfigSchema, { MONGODB_URL: 'http://localhost' }), /MONGODB_URL: must be a mongodb:\/\//);
    assert.equal(databaseName('mongodb://h1:27017,h2:27017/citybrain?replicaSet=rs0'), 'citybrain');
    assert.equal(databaseName('mongodb://h1:27017/?replicaSet=rs0'), undefined);
    assert.equal(databaseName('mongodb://h1:27017'), undefined);
  });
});
