/**
 * The group commit writes the deliveries of one event to the subscriptions of one principal as one
 * record listing their requests (audit.ts `mergeDeliveries`), by a key `accessRecordOf` makes: any
 * difference but the request's own keeps two deliveries apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventStore, NewEvent } from '../../events/types.ts';
import type { Caller } from '../../platform/auth.ts';
import type { RequestAccess, ServedData } from './access.ts';
import { AccessRecorder, accessRecordOf, recordedAgain, type AccessRecord } from './audit.ts';
import type { OperationInfo } from './server.ts';

const served = (eventId: string): ServedData => ({
  resources: new Set(['events.feed', 'population.basic']),
  grantIds: new Set(['g-2', 'g-1']),
  purposes: new Set(['partner app']),
  subjectIds: new Set(),
  eventIds: new Set([eventId]),
});
const accessOf = (s: ServedData) => ({ servedAnything: true, served: s, knownJurisdiction: undefined }) as unknown as RequestAccess;
const partner: Caller = { consumerId: 'partner-app', role: 'partner' } as Caller;
const FEED: OperationInfo = { name: 'Feed', hash: 'a'.repeat(64) } as OperationInfo;

/** The rows one batch of records is written as; `again`: the record is written again for that request from the one of `from`. */
async function rowsOf(records: { caller: Caller; access: RequestAccess; operation?: OperationInfo; requestId: string; again?: string }[]): Promise<AccessRecord[]> {
  const rows: AccessRecord[] = [];
  const store = {
    append: async (_streamId: string, events: NewEvent<'DataAccessed', AccessRecord>[]) => {
      rows.push(...events.map((e) => JSON.parse(JSON.stringify(e.data)) as AccessRecord));
      return {};
    },
  } as unknown as EventStore;
  const recorder = new AccessRecorder(store, { maxDelayMs: 1 });
  await Promise.all(
    records.map(({ caller, access, operation, requestId, again }) => {
      const built = accessRecordOf({ access, caller, requestId: again ?? requestId, subgraph: 'governance', operation: operation ?? FEED, at: new Date() })!;
      const record = again === undefined ? built : recordedAgain(built, requestId, new Date());
      return recorder.record(record.data, record.metadata);
    }),
  );
  return rows;
}

describe('access records of feed deliveries', () => {
  it('one row for the deliveries of one event to one principal, holding one served set or equal ones', async () => {
    const shared = accessOf(served('e-1'));
    const rows = await rowsOf([
      { caller: partner, access: shared, requestId: 'r-1' },
      { caller: partner, access: shared, requestId: 'r-2' },
      { caller: partner, access: accessOf(served('e-1')), requestId: 'r-3' },
    ]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.requestId, 'r-1');
    assert.deepEqual(rows[0]!.otherRequestIds, ['r-2', 'r-3']);
    assert.deepEqual(rows[0]!.grantIds, ['g-1', 'g-2']);
  });

  it('apart when the event, the user, the role or the operation differ', async () => {
    const shared = accessOf(served('e-1'));
    const rows = await rowsOf([
      { caller: partner, access: shared, requestId: 'r-1' },
      { caller: partner, access: accessOf(served('e-2')), requestId: 'r-2' },
      { caller: { ...partner, userId: 'u-1' } as Caller, access: shared, requestId: 'r-3' },
      { caller: { ...partner, role: 'auditor' } as Caller, access: shared, requestId: 'r-4' },
      { caller: partner, access: shared, operation: { name: null, hash: 'b'.repeat(64) } as OperationInfo, requestId: 'r-5' },
    ]);
    assert.deepEqual(
      rows.map((row) => [row.requestId, row.otherRequestIds]),
      ['r-1', 'r-2', 'r-3', 'r-4', 'r-5'].map((id) => [id, undefined]),
    );
  });
});

describe('access records written again (one answer served to many requests of one caller at once)', () => {
  const query = (): ServedData => ({ ...served('unused'), eventIds: new Set() });
  it('one row for those written again from equal records in one batch; the record they were written from, and other reads, stay rows of their own', async () => {
    const access = accessOf(query());
    const rows = await rowsOf([
      { caller: partner, access, requestId: 'leader' },
      { caller: partner, access, requestId: 'r-1', again: 'leader' },
      { caller: partner, access, requestId: 'r-2', again: 'leader' },
      { caller: partner, access: accessOf(query()), requestId: 'other-read' },
    ]);
    assert.deepEqual(
      rows.map((row) => [row.requestId, row.otherRequestIds]),
      [
        ['leader', undefined],
        ['r-1', ['r-2']],
        ['other-read', undefined],
      ],
    );
  });

  it('apart when what was served, the caller or the operation differ', async () => {
    const access = accessOf(query());
    const rows = await rowsOf([
      { caller: partner, access, requestId: 'r-1', again: 'a' },
      { caller: { ...partner, userId: 'u-1' } as Caller, access, requestId: 'r-2', again: 'b' },
      { caller: partner, access: accessOf({ ...query(), subjectIds: new Set(['p-1']) }), requestId: 'r-3', again: 'c' },
      { caller: partner, access, operation: { name: 'Other', hash: 'b'.repeat(64) } as OperationInfo, requestId: 'r-4', again: 'd' },
    ]);
    assert.deepEqual(
      rows.map((row) => [row.requestId, row.otherRequestIds]),
      ['r-1', 'r-2', 'r-3', 'r-4'].map((id) => [id, undefined]),
    );
  });
});
