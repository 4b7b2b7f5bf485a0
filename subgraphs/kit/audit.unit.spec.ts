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
import { AccessRecorder, accessRecordOf, type AccessRecord } from './audit.ts';
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

/** The rows one batch of records is written as. */
async function rowsOf(records: { caller: Caller; access: RequestAccess; operation?: OperationInfo; requestId: string }[]): Promise<AccessRecord[]> {
  const rows: AccessRecord[] = [];
  const store = {
    append: async (_streamId: string, events: NewEvent<'DataAccessed', AccessRecord>[]) => {
      rows.push(...events.map((e) => JSON.parse(JSON.stringify(e.data)) as AccessRecord));
      return {};
    },
  } as unknown as EventStore;
  const recorder = new AccessRecorder(store, { maxDelayMs: 1 });
  await Promise.all(
    records.map(({ caller, access, operation, requestId }) => {
      const record = accessRecordOf({ access, caller, requestId, subgraph: 'governance', operation: operation ?? FEED, at: new Date() })!;
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
