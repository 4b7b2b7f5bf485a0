import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../events/errors.ts';
import { INCIDENT_CATALOG, getCategory, listCategories } from './categories.ts';

describe('categories: the incident catalog', () => {
  it('gives a missing manhole cover 2 hours, urgent, and a dark street light one working day', () => {
    assert.deepEqual(getCategory('MUNICIPAL_FACILITY', 'MISSING_MANHOLE_COVER'), {
      category: 'MUNICIPAL_FACILITY',
      categoryName: '市政设施',
      categoryCode: 'MF',
      subcategory: 'MISSING_MANHOLE_COVER',
      name: '井盖缺失',
      limitMinutes: 120,
      urgency: 'URGENT',
    });
    assert.deepEqual(
      [getCategory('MUNICIPAL_FACILITY', 'STREET_LIGHT_OUT').limitMinutes, getCategory('MUNICIPAL_FACILITY', 'STREET_LIGHT_OUT').urgency],
      [24 * 60, 'NORMAL'],
    );
    assert.equal(getCategory('STREET_ORDER', 'ILLEGAL_STREET_VENDING').name, '占道经营');
  });

  it('names the valid subcategories when the subcategory is wrong', () => {
    assert.throws(
      () => getCategory('ROAD', 'POTHOLE'),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /subcategory "POTHOLE" is not in category ROAD \(道路\); use one of ROAD_DAMAGE, ROAD_COLLAPSE/);
        assert.deepEqual(err.details.valid, ['ROAD_DAMAGE', 'ROAD_COLLAPSE']);
        return true;
      },
    );
  });

  it('names the valid categories when the category is wrong', () => {
    assert.throws(() => getCategory('FIRE', 'X'), /category "FIRE" is not in the incident catalog; use one of MUNICIPAL_FACILITY, ROAD/);
  });

  it('keeps names, codes and subcategories unique, with positive whole-minute limits and Chinese names', () => {
    const entries = listCategories();
    assert.equal(new Set(entries.map((e) => e.subcategory)).size, entries.length);
    assert.equal(new Set(INCIDENT_CATALOG.map((c) => c.code)).size, INCIDENT_CATALOG.length);
    for (const entry of entries) {
      assert.ok(Number.isInteger(entry.limitMinutes) && entry.limitMinutes > 0, entry.subcategory);
      assert.match(entry.name, /\p{Script=Han}/u, entry.subcategory);
    }
    for (const required of ['ROAD_DAMAGE', 'GARBAGE_OVERFLOW', 'ILLEGAL_PARKING', 'ILLEGAL_CONSTRUCTION', 'WATER_LEAK', 'ABANDONED_VEHICLE']) {
      assert.ok(entries.some((e) => e.subcategory === required), required);
    }
  });
});
