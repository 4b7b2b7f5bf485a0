import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../events/errors.ts';
import { findDuplicate, haversineMeters, type DuplicateCandidate } from './duplicates.ts';

const manhole = { category: 'MUNICIPAL_FACILITY', subcategory: 'MISSING_MANHOLE_COVER' };
const origin = { longitude: 117.0211, latitude: 36.6651 };
/** About `meters` north of the origin (one degree of latitude ≈ 111,195 m). */
const north = (meters: number) => ({ longitude: origin.longitude, latitude: origin.latitude + meters / 111_195.08 });
const T = '2026-03-01T01:00:00.000Z';
const minutesAfter = (m: number) => new Date(Date.parse(T) + m * 60_000).toISOString();

const openCase = (incidentId: string, meters: number, minutes = 0, kind = manhole): DuplicateCandidate => ({
  incidentId,
  ...kind,
  location: north(meters),
  reportedAt: minutesAfter(minutes),
});
const report = { ...manhole, location: origin, reportedAt: minutesAfter(30) };
const options = { radiusMeters: 50, windowMinutes: 60 };

describe('duplicates: haversine distance', () => {
  it('measures one degree of latitude as about 111.2 km and a point to itself as 0', () => {
    assert.ok(Math.abs(haversineMeters({ longitude: 0, latitude: 0 }, { longitude: 0, latitude: 1 }) - 111_195.08) < 0.01);
    assert.equal(haversineMeters(origin, origin), 0);
    assert.ok(Math.abs(haversineMeters(origin, north(30)) - 30) < 0.001);
  });

  it('shrinks a degree of longitude with latitude (about half at 60°)', () => {
    const d = haversineMeters({ longitude: 0, latitude: 60 }, { longitude: 0.01, latitude: 60 });
    assert.ok(Math.abs(d - 555.97) < 0.5, String(d));
  });
});

describe('duplicates: findDuplicate', () => {
  it('finds the nearest open case of the same kind within the radius and window', () => {
    assert.deepEqual(findDuplicate(report, [openCase('far', 45), openCase('near', 10)], options), {
      incidentId: 'near',
      distanceMeters: haversineMeters(origin, north(10)),
      minutesApart: 30,
    });
  });

  it('ignores another subcategory, a case too far, and one outside the window either way', () => {
    const cases = [
      openCase('light', 5, 0, { category: 'MUNICIPAL_FACILITY', subcategory: 'STREET_LIGHT_OUT' }),
      openCase('far', 51),
      openCase('old', 5, -31),
      openCase('later', 5, 91),
    ];
    assert.equal(findDuplicate(report, cases, options), null);
  });

  it('includes the bounds of the window', () => {
    assert.equal(findDuplicate(report, [openCase('edge', 5, -30)], options)?.incidentId, 'edge');
    assert.equal(findDuplicate(report, [openCase('edge', 5, 90)], options)?.incidentId, 'edge');
  });

  it('breaks a tie in distance by the earlier report, then the id, whatever the order given', () => {
    const cases = [openCase('b', 10, 20), openCase('c', 10, 10), openCase('a', 10, 10)];
    assert.equal(findDuplicate(report, cases, options)?.incidentId, 'a');
    assert.equal(findDuplicate(report, [...cases].reverse(), options)?.incidentId, 'a');
  });

  it('never matches the report itself', () => {
    assert.equal(findDuplicate({ ...report, incidentId: 'self' }, [openCase('self', 0, 30)], options), null);
  });

  it('refuses a radius or window that is not positive', () => {
    assert.throws(() => findDuplicate(report, [], { radiusMeters: 0, windowMinutes: 60 }), ValidationError);
    assert.throws(() => findDuplicate(report, [], { radiusMeters: 50, windowMinutes: -1 }), /windowMinutes must be a positive number/);
    assert.throws(() => findDuplicate({ ...report, reportedAt: 'soon' }, [], options), /reportedAt must be an ISO 8601 instant/);
  });
});
