/**
 * The register of handling units (处置单位): one stream per unit (`governance.unit-<unitId>`), written
 * when governance first assigns a consumer to act as the unit. Reading that one stream answers "does
 * this unit exist, and which division does it belong to", which a dispatch asks before it names the
 * unit: the register is the store, not a read model, so a unit assigned a moment ago is known.
 */
import { assertNever, type Decider } from '../../../events/decider.ts';
import { ConflictError, ValidationError } from '../../../events/errors.ts';
import type { Jurisdiction } from '../../kit/access.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { handle, type CommandMetadata } from '../../kit/command.ts';
import { UNIT_ID, unitStreamId, type UnitRegistered } from './events.ts';

/** Registers the unit, or confirms it: a unit belongs to one division for good. */
export type RegisterUnit = { type: 'registerUnit'; data: UnitRegistered['data']; metadata: CommandMetadata };

export type UnitState = { unit: Required<Jurisdiction> | null };

function decide(command: RegisterUnit, state: UnitState): UnitRegistered[] {
  switch (command.type) {
    case 'registerUnit': {
      const unitId = command.data.unitId.trim();
      if (!UNIT_ID.test(unitId)) {
        throw new ValidationError(`unitId "${unitId}" must be 1–63 lowercase letters, digits or hyphens, starting with a letter or digit`, { field: 'unitId' });
      }
      const unitName = command.data.unitName.trim();
      if (!unitName) throw new ValidationError(`unitName must not be empty for unit ${unitId}`, { field: 'unitName' });
      const divisionCode = assertDivision(command.data.divisionCode.trim(), undefined, 'divisionCode').code;
      if (state.unit === null) return [{ type: 'UnitRegistered', data: { unitId, unitName, divisionCode, registeredBy: command.data.registeredBy } }];
      if (state.unit.divisionCode !== divisionCode) {
        throw new ConflictError(`unit ${unitId} belongs to division ${state.unit.divisionCode}, not ${divisionCode}; a unit acts for its own division only`, {
          field: 'unitId',
          unitId,
          divisionCode: state.unit.divisionCode,
        });
      }
      return [];
    }
    default:
      return assertNever(command.type);
  }
}

export const unitDecider: Decider<RegisterUnit, UnitRegistered, UnitState> = {
  initialState: () => ({ unit: null }),
  decide,
  evolve: (_state, { data: { unitId, unitName, divisionCode } }) => ({ unit: { unitId, unitName, divisionCode } }),
};

export const handleUnit = handle(unitDecider, (command: RegisterUnit) => unitStreamId(command.data.unitId.trim()));
