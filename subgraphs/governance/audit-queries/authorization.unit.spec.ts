import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedEvent } from '../../../events/types.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import type { DataAccessed } from '../../kit/dataAccessed.ts';
import type { ConsumerEvent } from '../consumer/events.ts';
import { authorizeAccess } from './authorization.ts';

let revision = 0;
function recorded(event: ConsumerEvent, recordedAt: string): RecordedEvent {
  revision++;
  return { ...event, eventId: `e-${revision}`, streamId: 'governance.consumer-app', revision, position: `1:${revision}`, sequence: revision, schemaVersion: 1, recordedAt, metadata: testMetadata };
}

const registered = recorded({ type: 'ConsumerRegistered', data: { consumerId: 'app', name: 'app', kind: 'PARTNER_APP', department: '合作企业' } }, '2026-01-01T00:00:00.000Z');
const grant = (grantId: string, resources: string[], validFrom: string, validUntil: string, recordedAt: string) =>
  recorded({ type: 'AccessGranted', data: { grantId, consumerId: 'app', resources, actions: ['READ'], purpose: `purpose of ${grantId}`, validFrom, validUntil, masked: false, approver: 'approver' } }, recordedAt);

const access = (at: string, resources: string[], grantIds: string[] = []): DataAccessed['data'] => ({
  consumerId: 'app', grantIds, operationName: null, operationHash: '0'.repeat(64), resources, subjectIds: [], purpose: 'p', requestId: 'r', subgraph: 'population', at,
});

describe('authorizeAccess', () => {
  const yearGrant = grant('g-year', ['population.basic'], '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z');
  const laterGrant = grant('g-later', ['tax.risks'], '2026-06-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z', '2026-01-01T00:00:02.000Z');
  const revoked = recorded({ type: 'AccessRevoked', data: { grantId: 'g-year', reason: 'done', revokedBy: 'admin' } }, '2026-03-01T00:00:00.000Z');
  const stream = [registered, yearGrant, laterGrant, revoked];

  it('covers an access made before the revocation by the grant then valid, and says it was revoked since', () => {
    const result = authorizeAccess(access('2026-02-01T00:00:00.000Z', ['population.basic', 'public'], ['g-year']), stream);
    assert.equal(result.authorized, true);
    assert.deepEqual(result.resources[0]?.grant, {
      id: 'g-year', purpose: 'purpose of g-year', actions: ['READ'], validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2027-01-01T00:00:00.000Z', approver: 'approver', revokedSince: true,
    });
    assert.deepEqual(result.resources[1], { resource: 'public', covered: true, public: true, grant: null });
  });

  it('does not cover an access after the revocation, before a grant is valid, or after it expired', () => {
    assert.equal(authorizeAccess(access('2026-03-02T00:00:00.000Z', ['population.basic']), stream).resources[0]?.covered, false);
    assert.equal(authorizeAccess(access('2026-05-31T23:59:59.999Z', ['tax.risks']), stream).resources[0]?.covered, false);
    assert.equal(authorizeAccess(access('2026-06-15T00:00:00.000Z', ['tax.risks']), stream).resources[0]?.grant?.id, 'g-later');
    assert.equal(authorizeAccess(access('2026-07-01T00:00:00.000Z', ['tax.risks']), stream).authorized, false);
  });

  it('covers nothing for a consumer with no stream', () => {
    assert.deepEqual(authorizeAccess(access('2026-02-01T00:00:00.000Z', ['population.basic']), []).resources, [{ resource: 'population.basic', covered: false, public: false, grant: null }]);
  });
});
