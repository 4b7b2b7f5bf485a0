import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BACKWARDS,
  END,
  FORWARDS,
  START as KURRENT_START,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import { parseConfig } from '../config.ts';
import { ConcurrencyError, ValidationError } from '../errors.ts';
import { comparePositions } from '../position.ts';
import { START } from '../types.ts';
import { testMetadata } from '../../test/helpers/events.ts';
import {
  fromKurrentPosition, isPositionRejection, isStreamNotFound, isWrongExpectedVersion, matchesFilter, planStreamRead,
  serverFilter, toConcurrencyError, toKurrentPosition, toRecordedEvent, toStoredMetadata, toStreamState, type KurrentRecord,
} from './mapping.ts';
import { kurrentConfigSchema } from './config.ts';

describe('KurrentDB configuration', () => {
  it('accepts single-node, cluster-discovery and legacy esdb connection strings', () => {
    for (const url of ['kurrentdb://127.0.0.1:2113?tls=false', 'kurrentdb+discover://admin:changeit@node1:2113,node2:2113,node3:2113', 'esdb://localhost:2113?tls=false']) {
      assert.equal(parseConfig(kurrentConfigSchema, { KURRENTDB_URL: url }).KURRENTDB_URL, url);
    }
    assert.equal(parseConfig(kurrentConfigSchema, { KURRENTDB_URL: 'kdb://h:2113', KURRENTDB_STREAM_PREFIX: 'jinan/' }).KURRENTDB_STREAM_PREFIX, 'jinan/');
  });

  it('refuses another scheme or a bad namespace, one line per variable', () => {
    assert.throws(
      () => parseConfig(kurrentConfigSchema, { KURRENTDB_URL: 'postgres://localhost/db', KURRENTDB_STREAM_PREFIX: '$system' }),
      (err: unknown) =>
        err instanceof ValidationError &&
        /KURRENTDB_URL: must be a KurrentDB connection string/.test(err.message) &&
        /KURRENTDB_STREAM_PREFIX: must be lowercase letters/.test(err.message),
    );
    assert.throws(() => parseConfig(kurrentConfigSchema, {}), /KURRENTDB_URL/);
  });
});

describe('positions', () => {
  it('maps START to the client START and "<commit>:<prepare>" to a $all position, both ways', () => {
    assert.equal(toKurrentPosition(START), KURRENT_START);
    assert.deepEqual(toKurrentPosition('1250:1180'), { commit: 1250n, prepare: 1180n });
    assert.equal(fromKurrentPosition({ commit: 18446744073709551615n, prepare: 42n }), '18446744073709551615:42');
    assert.deepEqual(toKurrentPosition(fromKurrentPosition({ commit: 7n, prepare: 3n })), { commit: 7n, prepare: 3n });
  });

  it('orders positions as $all does: by commit, then prepare', () => {
    const sorted = [fromKurrentPosition({ commit: 900n, prepare: 950n }), fromKurrentPosition({ commit: 900n, prepare: 900n }), fromKurrentPosition({ commit: 1000n, prepare: 10n }), START];
    sorted.sort(comparePositions);
    assert.deepEqual(sorted, ['0:0', '900:900', '900:950', '1000:10']);
  });

  it('refuses a malformed position with the store-wide message', () => {
    assert.throws(() => toKurrentPosition('yesterday'), (err: unknown) => err instanceof ValidationError && /position "yesterday" is malformed/.test(err.message));
  });
});

describe('expected revisions and conflicts', () => {
  it('maps every expected revision one to one onto a client stream state', () => {
    assert.equal(toStreamState('any'), 'any');
    assert.equal(toStreamState('no_stream'), 'no_stream');
    assert.equal(toStreamState('stream_exists'), 'stream_exists');
    assert.equal(toStreamState(0), 0n);
    assert.equal(toStreamState(41), 41n);
    assert.equal(toStreamState(-1), 'no_stream');
  });

  it("turns the client's WrongExpectedVersionError into a ConcurrencyError naming stream, expected and actual", () => {
    const wrong = new WrongExpectedVersionError(undefined, { streamName: 'jinan/test.counter-1', expected: 0n, current: 1n });
    assert.ok(isWrongExpectedVersion(wrong));
    const error = toConcurrencyError('test.counter-1', 0, wrong.actualState);
    assert.ok(error instanceof ConcurrencyError);
    assert.equal(error.code, 'CONFLICT');
    assert.deepEqual([error.streamId, error.expected, error.actual], ['test.counter-1', '0', 1]);
    assert.match(error.message, /test\.counter-1: expected revision 0 but the stream is at revision 1/);
    const missing = toConcurrencyError('test.counter-2', 'stream_exists', new WrongExpectedVersionError(undefined, { streamName: 'x', expected: 'stream_exists', current: 'no_stream' }).actualState);
    assert.equal(missing.actual, undefined);
    assert.match(missing.message, /expected revision stream_exists but the stream is at no_stream/);
  });

  it('tells a missing stream and a refused position apart from an unreachable server', () => {
    assert.equal(isStreamNotFound(new StreamNotFoundError(undefined, 'test.counter-1')), true);
    assert.equal(isWrongExpectedVersion(new StreamNotFoundError(undefined, 'test.counter-1')), false);
    assert.equal(isPositionRejection(new UnknownError(undefined, 'invalid position')), true);
    assert.equal(isPositionRejection(new UnavailableError(undefined, 'connection refused')), false);
    assert.equal(isPositionRejection(new Error('plain')), false);
  });
});

describe('filters', () => {
  it('filters on event types server-side with an anchored, escaped regex', () => {
    const filter = serverFilter('', { types: ['CounterIncremented', 'A.B+'], streamPrefixes: ['test.counter-'] });
    assert.equal(filter.filterOn, 'eventType');
    assert.ok('regex' in filter);
    const regex = new RegExp(filter.regex);
    assert.equal(regex.test('CounterIncremented'), true);
    assert.equal(regex.test('A.B+'), true);
    assert.equal(regex.test('AxBB'), false, 'dots and pluses are literal');
    assert.equal(regex.test('CounterIncrementedTwice'), false, 'anchored');
  });

  it('filters on stream prefixes when no types are given, and excludes system events when nothing is', () => {
    assert.deepEqual(serverFilter('', { streamPrefixes: ['test.counter-'] }), { filterOn: 'streamName', checkpointInterval: 1, checkpointReached: undefined, prefixes: ['test.counter-'] });
    const none = serverFilter('', { types: [] });
    assert.ok('regex' in none);
    assert.equal(new RegExp(none.regex).test('$stats-127.0.0.1:2113'), false);
    assert.equal(new RegExp(none.regex).test('CounterReset'), true);
  });

  it('inside a namespace always filters on the namespaced stream prefix', () => {
    const all = serverFilter('jinan/', { types: ['CounterReset'] });
    assert.ok('prefixes' in all);
    assert.deepEqual([all.filterOn, all.prefixes], ['streamName', ['jinan/']]);
    const some = serverFilter('jinan/', { streamPrefixes: ['test.counter-', 'test.note-'] });
    assert.ok('prefixes' in some);
    assert.deepEqual(some.prefixes, ['jinan/test.counter-', 'jinan/test.note-']);
  });

  it('re-checks both dimensions of the filter on every event', () => {
    const filter = { types: ['CounterReset'], streamPrefixes: ['test.counter-'] };
    assert.equal(matchesFilter(filter, 'test.counter-1', 'CounterReset'), true);
    assert.equal(matchesFilter(filter, 'test.note-1', 'CounterReset'), false);
    assert.equal(matchesFilter(filter, 'test.counter-1', 'CounterIncremented'), false);
    assert.equal(matchesFilter(undefined, 'test.note-1', 'NoteWritten'), true);
  });
});

describe('envelopes', () => {
  const record = (overrides: Partial<KurrentRecord> = {}): KurrentRecord => ({
    streamId: 'jinan/test.counter-7',
    id: '0B5E4C1E-7A1B-4C61-9D1A-2F9B1C3D4E5F',
    revision: 3n,
    type: 'CounterIncremented',
    created: new Date('2026-02-01T08:00:00.123Z'),
    isJson: true,
    data: { amount: 5 },
    metadata: toStoredMetadata({ ...testMetadata, causationId: 'cause-1' }, 1),
    position: { commit: 5000n, prepare: 5000n },
    ...overrides,
  });
  const upcast = (type: string, version: number, data: unknown) => (version === 1 ? { by: (data as { amount: number }).amount, from: type } : data);

  it('stores schema version and KurrentDB correlation ids in the metadata, and reads back exactly our metadata', () => {
    const stored = toStoredMetadata({ ...testMetadata, causationId: 'cause-1' }, 2);
    assert.equal(stored.schemaVersion, 2);
    assert.equal(stored.$correlationId, testMetadata.correlationId);
    assert.equal(stored.$causationId, 'cause-1');
    assert.equal('$causationId' in toStoredMetadata(testMetadata, 1), false);
    const event = toRecordedEvent(record(), 'jinan/', upcast);
    assert.deepEqual(event, {
      eventId: '0b5e4c1e-7a1b-4c61-9d1a-2f9b1c3d4e5f',
      streamId: 'test.counter-7',
      revision: 3,
      position: '5000:5000',
      sequence: 5000,
      type: 'CounterIncremented',
      schemaVersion: 1,
      recordedAt: '2026-02-01T08:00:00.123Z',
      data: { by: 5, from: 'CounterIncremented' },
      metadata: { ...testMetadata, causationId: 'cause-1' },
    });
  });

  it('skips what this store did not write: other namespaces, system events, binary or foreign metadata', () => {
    assert.equal(toRecordedEvent(record({ streamId: 'other/test.counter-7' }), 'jinan/', upcast), undefined);
    assert.equal(toRecordedEvent(record({ type: '$metadata' }), 'jinan/', upcast), undefined);
    assert.equal(toRecordedEvent(record({ isJson: false }), 'jinan/', upcast), undefined);
    assert.equal(toRecordedEvent(record({ metadata: { correlationId: 'x' } }), 'jinan/', upcast), undefined);
    assert.equal(toRecordedEvent(record({ metadata: undefined }), 'jinan/', upcast), undefined);
  });

  it('says which server feature is missing when an event comes without its position', () => {
    assert.throws(() => toRecordedEvent(record({ position: undefined }), 'jinan/', upcast), /without its \$all position/);
  });
});

describe('stream reads', () => {
  const at = (revision: number, position: string, recordedAt = '2026-01-01T00:00:00.000Z') => ({ revision, position, recordedAt });

  it('reads forwards from the start and lets the server stop at the limit', () => {
    const plan = planStreamRead({ limit: 2 });
    assert.deepEqual([plan.direction, plan.fromRevision, plan.maxCount, plan.limit], [FORWARDS, KURRENT_START, 2, 2]);
    assert.equal(plan.step(at(0, '10:10')), 'yield');
  });

  it('stops forwards at toRevision or toPosition, and skips events after toTime', () => {
    const plan = planStreamRead({ fromRevision: 1, toRevision: 3, toPosition: '40:40', toTime: '2026-01-01T00:00:05.000Z' });
    assert.equal(plan.fromRevision, 1n);
    assert.equal(plan.maxCount, undefined, 'a skipping read cannot let the server count');
    assert.equal(plan.step(at(2, '30:30')), 'yield');
    assert.equal(plan.step(at(4, '35:35')), 'stop');
    assert.equal(plan.step(at(3, '50:50')), 'stop');
    assert.equal(plan.step(at(3, '39:39', '2026-01-01T00:00:06.000Z')), 'skip');
  });

  it('reads backwards from the end down to toRevision, skipping events after toPosition', () => {
    const plan = planStreamRead({ direction: 'backwards', toRevision: 2, toPosition: '40:40', limit: 5 });
    assert.deepEqual([plan.direction, plan.fromRevision, plan.maxCount], [BACKWARDS, END, undefined]);
    assert.equal(plan.step(at(5, '60:60')), 'skip');
    assert.equal(plan.step(at(3, '40:40')), 'yield');
    assert.equal(plan.step(at(1, '20:20')), 'stop');
    assert.equal(planStreamRead({ direction: 'backwards', fromRevision: 3, limit: 2 }).maxCount, 2);
  });

  it('refuses a bad instant, position, revision or limit before reading anything', () => {
    assert.throws(() => planStreamRead({ toTime: 'last tuesday' }), /toTime "last tuesday" is not an ISO 8601 instant/);
    assert.throws(() => planStreamRead({ toPosition: 'x' }), /position "x" is malformed/);
    assert.throws(() => planStreamRead({ limit: -1 }), (err: unknown) => err instanceof ValidationError && /limit -1 is not a non-negative integer/.test(err.message));
    assert.throws(() => planStreamRead({ fromRevision: 1.5 }), /fromRevision 1.5/);
  });
});
