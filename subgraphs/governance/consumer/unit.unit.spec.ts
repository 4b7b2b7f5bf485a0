import { describe, it } from 'node:test';
import { ConflictError, ValidationError } from '../../../events/errors.ts';
import { given } from '../../../test/helpers/decider.ts';
import type { UnitRegistered } from './events.ts';
import { unitDecider, type RegisterUnit } from './unit.ts';

const register = (data: Partial<RegisterUnit['data']> = {}): RegisterUnit => ({
  type: 'registerUnit',
  data: { unitId: 'lixia-water', unitName: '历下区排水管理处', divisionCode: '370102', registeredBy: 'admin', ...data },
  metadata: { now: '2026-03-01T02:00:00.000Z' },
});

const registered: UnitRegistered = {
  type: 'UnitRegistered',
  data: { unitId: 'lixia-water', unitName: '历下区排水管理处', divisionCode: '370102', registeredBy: 'admin' },
};

describe('unit register: registerUnit', () => {
  it('registers a new unit under its division', () => {
    given(unitDecider).when(register({ unitId: ' lixia-water ', divisionCode: '370102 ' })).then([registered]);
  });
  it('confirms a unit registered under the same division without a new event', () => {
    given(unitDecider, [registered]).when(register({ registeredBy: 'another-admin' })).then([]);
  });
  it('refuses a unit that belongs to another division (CONFLICT naming the field)', () => {
    given(unitDecider, [registered])
      .when(register({ divisionCode: '370103' }))
      .thenThrows(ConflictError, /unit lixia-water belongs to division 370102, not 370103/);
  });
  it('refuses a malformed unit id, an empty name and a division not in the catalog', () => {
    given(unitDecider).when(register({ unitId: 'Lixia Water' })).thenThrows(ValidationError, /unitId "Lixia Water" must be/);
    given(unitDecider).when(register({ unitName: ' ' })).thenThrows(ValidationError, /unitName must not be empty/);
    given(unitDecider).when(register({ divisionCode: '379999' })).thenThrows(ValidationError, /379999 is not in the division catalog/);
  });
});
