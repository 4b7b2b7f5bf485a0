import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import type { AssignJurisdiction, GrantAccess, RegisterConsumer, RevokeAccess } from './commands.ts';
import { consumerDecider, grantStatus, grantsValidAt } from './decider.ts';
import { consumerEventDefinitions, type AccessGranted, type ConsumerEvent, type ConsumerRegistered } from './events.ts';

const metadata = { now: '2026-03-01T02:00:00.000Z' };

const register = (data: Partial<RegisterConsumer['data']> = {}): RegisterConsumer => ({
  type: 'registerConsumer',
  data: { consumerId: 'partner-app', name: '便民服务', kind: 'PARTNER_APP', department: '合作企业', ...data },
  metadata,
});

const registered: ConsumerRegistered = {
  type: 'ConsumerRegistered',
  data: { consumerId: 'partner-app', name: '便民服务', kind: 'PARTNER_APP', department: '合作企业' },
};

const grantAccess = (data: Partial<GrantAccess['data']> = {}): GrantAccess => ({
  type: 'grantAccess',
  data: {
    grantId: 'g-1',
    consumerId: 'partner-app',
    resources: ['population.basic', 'population.identity'],
    actions: ['READ'],
    purpose: 'resident self-service',
    validFrom: '2026-03-01T08:00:00+08:00',
    validUntil: '2027-03-01T08:00:00+08:00',
    masked: true,
    approver: '王主任',
    ...data,
  },
  metadata,
});

const granted: AccessGranted = {
  type: 'AccessGranted',
  // The terms granted, their instants as the decider records them (UTC).
  data: { ...grantAccess().data, validFrom: '2026-03-01T00:00:00.000Z', validUntil: '2027-03-01T00:00:00.000Z' },
};

const revokeAccess = (data: Partial<RevokeAccess['data']> = {}): RevokeAccess => ({
  type: 'revokeAccess',
  data: { consumerId: 'partner-app', grantId: 'g-1', reason: 'contract ended', revokedBy: 'admin', ...data },
  metadata,
});

const revoked: ConsumerEvent = { type: 'AccessRevoked', data: { grantId: 'g-1', reason: 'contract ended', revokedBy: 'admin' } };

describe('consumer: registerConsumer', () => {
  it('registers a consumer', () => {
    given(consumerDecider).when(register()).then([registered]);
  });

  it('refuses to register the same consumer twice (CONFLICT)', () => {
    given(consumerDecider, [registered]).when(register()).thenThrows(ConflictError, /partner-app is already registered/);
  });

  it('refuses a consumer id that cannot be a token subject or stream id', () => {
    given(consumerDecider).when(register({ consumerId: 'Partner App' })).thenThrows(ValidationError, /lowercase letters, digits or hyphens/);
  });

  it('refuses an empty name or department', () => {
    given(consumerDecider).when(register({ name: '  ' })).thenThrows(ValidationError, /name must not be empty/);
    given(consumerDecider).when(register({ department: '' })).thenThrows(ValidationError, /department must not be empty/);
  });
});

describe('consumer: grantAccess', () => {
  it('grants, storing the validity window in UTC', () => {
    given(consumerDecider, [registered]).when(grantAccess()).then([granted]);
  });

  it('refuses to grant to an unknown consumer (NOT_FOUND)', () => {
    given(consumerDecider).when(grantAccess()).thenThrows(NotFoundError, /consumer partner-app is not registered/);
  });

  it('refuses a resource the catalog does not hold, naming it', () => {
    given(consumerDecider, [registered])
      .when(grantAccess({ resources: ['population.basic', 'population.secrets'] }))
      .thenThrows(ValidationError, /"population\.secrets" is not in the data catalog/);
  });

  it('refuses no resources or no actions', () => {
    given(consumerDecider, [registered]).when(grantAccess({ resources: [] })).thenThrows(ValidationError, /at least one catalog resource/);
    given(consumerDecider, [registered]).when(grantAccess({ actions: [] })).thenThrows(ValidationError, /at least one of READ/);
  });

  it('refuses validUntil before (or at) validFrom', () => {
    given(consumerDecider, [registered])
      .when(grantAccess({ validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-05-01T00:00:00Z' }))
      .thenThrows(ValidationError, /validUntil 2026-05-01T00:00:00Z must be after validFrom/);
    given(consumerDecider, [registered])
      .when(grantAccess({ validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' }))
      .thenThrows(ValidationError, /must be after validFrom/);
  });

  it('refuses a grant that has already ended', () => {
    given(consumerDecider, [registered])
      .when(grantAccess({ validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-02-01T00:00:00Z' }))
      .thenThrows(ValidationError, /already past/);
  });

  it('refuses a malformed instant, naming the field', () => {
    given(consumerDecider, [registered]).when(grantAccess({ validUntil: 'next year' })).thenThrows(ValidationError, /validUntil must be an ISO 8601 instant/);
  });

  it('refuses a grant id the consumer already holds (CONFLICT)', () => {
    given(consumerDecider, [registered, granted]).when(grantAccess()).thenThrows(ConflictError, /grant g-1 already exists/);
  });

  it('removes repeated resources and orders actions canonically', () => {
    const [event] = consumerDecider.decide(
      grantAccess({ resources: ['public', 'public'], actions: ['SUBSCRIBE', 'READ', 'READ'] }),
      given(consumerDecider, [registered]).state,
    );
    assert.deepEqual(event?.data, { ...granted.data, resources: ['public'], actions: ['READ', 'SUBSCRIBE'] });
  });
});

describe('consumer: revokeAccess', () => {
  it('revokes a grant', () => {
    given(consumerDecider, [registered, granted]).when(revokeAccess()).then([revoked]);
  });

  it('refuses to revoke an unknown grant (NOT_FOUND)', () => {
    given(consumerDecider, [registered, granted]).when(revokeAccess({ grantId: 'g-404' })).thenThrows(NotFoundError, /has no grant g-404/);
  });

  it('refuses to revoke a grant twice (CONFLICT)', () => {
    given(consumerDecider, [registered, granted, revoked]).when(revokeAccess()).thenThrows(ConflictError, /already revoked by admin \(contract ended\)/);
  });

  it('refuses to revoke for an unknown consumer (NOT_FOUND)', () => {
    given(consumerDecider).when(revokeAccess()).thenThrows(NotFoundError, /not registered/);
  });

  it('refuses an empty reason', () => {
    given(consumerDecider, [registered, granted]).when(revokeAccess({ reason: ' ' })).thenThrows(ValidationError, /reason must not be empty/);
  });
});

describe('consumer: the grants valid at an instant', () => {
  const later: AccessGranted = {
    type: 'AccessGranted',
    data: { ...granted.data, grantId: 'g-2', masked: false, validFrom: '2026-06-01T00:00:00.000Z', validUntil: '2026-07-01T00:00:00.000Z' },
  };
  const state = given(consumerDecider, [registered, granted, later]).state;
  const ids = (at: string) => grantsValidAt(state, new Date(at)).map((g) => g.grantId);

  it('counts a grant from validFrom inclusive to validUntil exclusive', () => {
    assert.deepEqual(ids('2026-02-28T23:59:59.999Z'), []);
    assert.deepEqual(ids('2026-03-01T00:00:00.000Z'), ['g-1']);
    assert.deepEqual(ids('2026-06-15T00:00:00.000Z'), ['g-1', 'g-2']);
    assert.deepEqual(ids('2026-07-01T00:00:00.000Z'), ['g-1']);
    assert.deepEqual(ids('2027-03-01T00:00:00.000Z'), []);
  });

  it('drops a revoked grant at once', () => {
    const afterRevocation = given(consumerDecider, [registered, granted, later, revoked]).state;
    assert.deepEqual(grantsValidAt(afterRevocation, new Date('2026-06-15T00:00:00Z')).map((g) => g.grantId), ['g-2']);
  });

  it('hands the kit what it enforces and nothing else', () => {
    assert.deepEqual(grantsValidAt(state, new Date('2026-04-01T00:00:00Z')), [
      { grantId: 'g-1', resources: ['population.basic', 'population.identity'], actions: ['READ'], masked: true, purpose: 'resident self-service' },
    ]);
  });

  it('names each standing', () => {
    const window = { validFrom: '2026-03-01T00:00:00.000Z', validUntil: '2026-04-01T00:00:00.000Z' };
    assert.equal(grantStatus({ ...window, revoked: false }, new Date('2026-02-01T00:00:00Z')), 'NOT_YET_VALID');
    assert.equal(grantStatus({ ...window, revoked: false }, new Date('2026-03-15T00:00:00Z')), 'ACTIVE');
    assert.equal(grantStatus({ ...window, revoked: false }, new Date('2026-04-01T00:00:00Z')), 'EXPIRED');
    assert.equal(grantStatus({ ...window, revoked: true }, new Date('2026-03-15T00:00:00Z')), 'REVOKED');
  });
});

describe('consumer events: schemas', () => {
  const registry = new EventRegistry();
  for (const definition of consumerEventDefinitions) registry.register(definition);

  it('accepts the events the decider emits', () => {
    assertAcceptedAsEmitted(registry, [registered, granted, revoked]);
  });

  it('refuses an unknown action', () => {
    assert.throws(() => registry.validateForAppend('AccessGranted', { ...granted.data, actions: ['DELETE'] }, testMetadata), ValidationError);
  });
});

describe('consumer: assignJurisdiction', () => {
  const assign = (data: Partial<AssignJurisdiction['data']> = {}): AssignJurisdiction => ({
    type: 'assignJurisdiction',
    data: { consumerId: 'partner-app', divisionCode: '370102', assignedBy: 'admin', ...data },
    metadata,
  });
  it('assigns a centre, and a unit of a division, replacing the earlier one', () => {
    given(consumerDecider, [registered])
      .when(assign())
      .then([{ type: 'JurisdictionAssigned', data: { consumerId: 'partner-app', divisionCode: '370102', assignedBy: 'admin' } }]);
    const unit = { type: 'JurisdictionAssigned', data: { consumerId: 'partner-app', divisionCode: '370102', unitId: 'lixia-water', unitName: '排水处', assignedBy: 'admin' } } as const;
    given(consumerDecider, [registered]).when(assign({ unitId: 'lixia-water', unitName: '排水处' })).then([unit]);
    const state = given(consumerDecider, [registered, unit]).state;
    assert.deepEqual(state.status === 'REGISTERED' && state.jurisdiction, { divisionCode: '370102', unitId: 'lixia-water', unitName: '排水处' });
  });
  it('refuses a division not in the catalog, naming the field', () => {
    given(consumerDecider, [registered]).when(assign({ divisionCode: '379999' })).thenThrows(ValidationError, /divisionCode 379999 is not in the division catalog/);
    given(consumerDecider, [registered]).when(assign({ divisionCode: 'lixia' })).thenThrows(ValidationError, /is not a division code/);
  });
  it('refuses a unit without a name, a malformed unit id, or a name without a unit', () => {
    given(consumerDecider, [registered]).when(assign({ unitId: 'lixia-water' })).thenThrows(ValidationError, /unitName must not be empty/);
    given(consumerDecider, [registered]).when(assign({ unitId: 'Lixia Water', unitName: '排水处' })).thenThrows(ValidationError, /unitId "Lixia Water" must be/);
    given(consumerDecider, [registered]).when(assign({ unitName: '排水处' })).thenThrows(ValidationError, /give its unitId too/);
  });
  it('refuses an unknown consumer (NOT_FOUND)', () => {
    given(consumerDecider).when(assign()).thenThrows(NotFoundError, /not registered/);
  });
});
