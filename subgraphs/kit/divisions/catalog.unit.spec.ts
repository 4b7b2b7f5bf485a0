import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, ValidationError } from '../../../events/errors.ts';
import {
  ancestorsOf,
  assertDivision,
  childrenOf,
  divisionCatalog,
  getDivision,
  isWithin,
  levelOf,
} from './catalog.ts';

const JINAN_COUNTY_LEVEL = [
  ['370102', '历下区'],
  ['370103', '市中区'],
  ['370104', '槐荫区'],
  ['370105', '天桥区'],
  ['370112', '历城区'],
  ['370113', '长清区'],
  ['370114', '章丘区'],
  ['370115', '济阳区'],
  ['370116', '莱芜区'],
  ['370117', '钢城区'],
  ['370124', '平阴县'],
  ['370126', '商河县'],
];

describe('division catalog', () => {
  it('has Jinan as the only city, with its 12 real county-level divisions', () => {
    assert.deepEqual(
      divisionCatalog.filter((d) => d.level === 'CITY'),
      [{ code: '370100', name: '济南市', level: 'CITY', parentCode: null }],
    );
    assert.deepEqual(
      childrenOf('370100').map((d) => [d.code, d.name, d.level]),
      JINAN_COUNTY_LEVEL.map(([code, name]) => [code, name, 'DISTRICT']),
    );
  });

  it('gives every district 4–8 streets and every street 3–6 communities', () => {
    for (const district of childrenOf('370100')) {
      const streets = childrenOf(district.code);
      assert.ok(streets.length >= 4 && streets.length <= 8, `${district.name} has ${streets.length} streets`);
      for (const street of streets) {
        const communities = childrenOf(street.code);
        assert.ok(communities.length >= 3 && communities.length <= 6, `${street.name} has ${communities.length}`);
        assert.equal(new Set(communities.map((c) => c.name)).size, communities.length, `${street.name}: duplicate names`);
      }
    }
  });

  it('builds each code from its parent code plus three digits, with a level matching its shape', () => {
    for (const division of divisionCatalog) {
      assert.equal(levelOf(division.code), division.level, division.code);
      if (division.level === 'STREET' || division.level === 'COMMUNITY') {
        assert.equal(division.code.slice(0, -3), division.parentCode);
      }
    }
    assert.equal(new Set(divisionCatalog.map((d) => d.code)).size, divisionCatalog.length, 'codes are unique');
  });

  it('names streets and communities as such, with 历下区 using real street names', () => {
    const lixiaStreets = childrenOf('370102').map((d) => d.name);
    for (const name of ['解放路街道', '千佛山街道', '趵突泉街道', '泉城路街道', '大明湖街道']) {
      assert.ok(lixiaStreets.includes(name), name);
    }
    for (const division of divisionCatalog.filter((d) => d.level === 'COMMUNITY')) {
      assert.match(division.name, /社区$/);
    }
  });

  it('generates the same communities on every load, so stored division codes keep their names', () => {
    assert.deepEqual(
      childrenOf('370102001').map((d) => `${d.code} ${d.name}`),
      ['370102001001 祥和社区', '370102001002 泉韵社区', '370102001003 丰泽社区', '370102001004 春晖社区'],
    );
    assert.equal(divisionCatalog.length, 420);
  });
});

describe('getDivision', () => {
  it('finds a division by code and returns undefined for an unknown code', () => {
    assert.deepEqual(getDivision('370102001'), { code: '370102001', name: '解放路街道', level: 'STREET', parentCode: '370102' });
    assert.equal(getDivision('370199'), undefined);
  });
});

describe('childrenOf', () => {
  it('returns no children for a community', () => {
    assert.deepEqual(childrenOf('370102001001'), []);
  });

  it('throws NotFoundError for a code not in the catalog', () => {
    assert.throws(() => childrenOf('370199'), NotFoundError);
  });
});

describe('ancestorsOf', () => {
  it('lists a community’s street, district and city, nearest first', () => {
    assert.deepEqual(
      ancestorsOf('370102001001').map((d) => d.code),
      ['370102001', '370102', '370100'],
    );
  });

  it('returns nothing for the city and throws NotFoundError for an unknown code', () => {
    assert.deepEqual(ancestorsOf('370100'), []);
    assert.throws(() => ancestorsOf('370102999'), NotFoundError);
  });
});

describe('isWithin', () => {
  it('is true for the division itself and everything it encloses', () => {
    assert.equal(isWithin('370102001001', '370102'), true);
    assert.equal(isWithin('370102001001', '370100'), true);
    assert.equal(isWithin('370102', '370102'), true);
  });

  it('is false for a sibling, a descendant-to-ancestor inversion, or an unknown code', () => {
    assert.equal(isWithin('370102001001', '370103'), false);
    assert.equal(isWithin('370102', '370102001'), false);
    assert.equal(isWithin('370199001001', '370100'), false);
  });
});

describe('levelOf', () => {
  it('reads the level from the shape of the code, known to the catalog or not', () => {
    assert.equal(levelOf('370100'), 'CITY');
    assert.equal(levelOf('110105'), 'DISTRICT');
    assert.equal(levelOf('370102001'), 'STREET');
    assert.equal(levelOf('370102001001'), 'COMMUNITY');
  });

  it('refuses province codes and malformed codes', () => {
    assert.throws(() => levelOf('370000'), /is a province/);
    assert.throws(() => levelOf('37010'), ValidationError);
    assert.throws(() => levelOf('3701020010'), ValidationError);
  });
});

describe('assertDivision', () => {
  it('returns the division when it exists at the required level', () => {
    assert.equal(assertDivision('370102001001', 'COMMUNITY').parentCode, '370102001');
    assert.equal(assertDivision('370102').level, 'DISTRICT');
  });

  it('refuses a division of another level, naming both levels', () => {
    assert.throws(
      () => assertDivision('370102', 'COMMUNITY', 'residence.divisionCode'),
      (err: unknown) =>
        err instanceof ValidationError &&
        /residence.divisionCode 370102 is 历下区, a DISTRICT; a COMMUNITY code is required/.test(err.message),
    );
  });

  it('refuses unknown and malformed codes as bad input', () => {
    assert.throws(() => assertDivision('370102999999'), /not in the division catalog/);
    assert.throws(() => assertDivision('37-01'), /is not a division code/);
  });
});
