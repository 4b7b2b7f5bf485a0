import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { arrayConnection, DEFAULT_PAGE_SIZE, equalityWhere, MAX_PAGE_SIZE, pageSize } from './connections.ts';

const codes = Array.from({ length: 7 }, (_, i) => `37010${i}`);
const page = (first?: number | null, after?: string | null, list = 'test.codes') =>
  arrayConnection({ list, items: codes, key: (c) => c, node: (c) => ({ code: c }), first, after });

describe('pageSize', () => {
  it('defaults, and accepts 0 up to the maximum', () => {
    assert.equal(pageSize(undefined), DEFAULT_PAGE_SIZE);
    assert.equal(pageSize(null), DEFAULT_PAGE_SIZE);
    assert.equal(pageSize(0), 0);
    assert.equal(pageSize(MAX_PAGE_SIZE), MAX_PAGE_SIZE);
  });

  it('refuses a page above the maximum or below zero with BAD_USER_INPUT saying what is allowed', () => {
    assert.throws(() => pageSize(MAX_PAGE_SIZE + 1), (e: unknown) => e instanceof ValidationError && /at most 100/.test(e.message) && e.code === 'BAD_USER_INPUT');
    assert.throws(() => pageSize(-1), /from 0 to 100/);
  });
});

describe('arrayConnection', () => {
  it('pages with cursors that resume right after the last item seen', () => {
    const first = page(3);
    assert.deepEqual(first.edges.map((e) => e.node.code), codes.slice(0, 3));
    assert.deepEqual(first.pageInfo, { hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0]!.cursor, endCursor: first.edges[2]!.cursor });
    const second = page(3, first.pageInfo.endCursor);
    assert.deepEqual(second.edges.map((e) => e.node.code), codes.slice(3, 6));
    assert.equal(second.pageInfo.hasPreviousPage, true);
    const last = page(3, second.pageInfo.endCursor);
    assert.deepEqual(last.edges.map((e) => e.node.code), codes.slice(6));
    assert.equal(last.pageInfo.hasNextPage, false);
    assert.equal(last.totalCount(), codes.length);
    assert.deepEqual(page(3, last.pageInfo.endCursor).edges, []);
  });

  it('issues opaque base64url cursors', () => {
    const [edge] = page(1).edges;
    assert.match(edge!.cursor, /^[A-Za-z0-9_-]+$/);
    assert.ok(!edge!.cursor.includes('370100'));
  });

  it('refuses a cursor it did not issue, and one issued by another list', () => {
    assert.throws(() => page(2, 'garbage!'), (e: unknown) => e instanceof ValidationError && /not a cursor this service issued/.test(e.message));
    assert.throws(() => page(2, Buffer.from('{"a":1}').toString('base64url')), /not a cursor this service issued/);
    const foreign = page(1, null, 'test.other').pageInfo.endCursor;
    assert.throws(() => page(2, foreign), /belongs to another list \(test.other\)/);
  });
});

describe('equalityWhere', () => {
  it('makes an equality of each named field the filter sets, false and 0 included', () => {
    const filter = { status: 'OPEN', flagged: false, count: 0, other: 'x' };
    assert.deepEqual(equalityWhere(filter, ['status', 'flagged', 'count']), { status: 'OPEN', flagged: false, count: 0 });
  });

  it('leaves out fields that are null, undefined or empty, and a missing filter', () => {
    assert.deepEqual(equalityWhere({ status: null, personId: '', flagged: undefined }, ['status', 'personId', 'flagged']), {});
    assert.deepEqual(equalityWhere(null, ['status']), {});
    assert.deepEqual(equalityWhere(undefined, ['status']), {});
  });
});
