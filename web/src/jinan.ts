/**
 * A schematic of Jinan's twelve county-level divisions (GB/T 2260): one tile each, placed roughly
 * where the division lies (商河 and 济阳 north of the Yellow River, 长清 and 平阴 to the south-west,
 * 莱芜 and 钢城 to the south-east). It is not a boundary map: the page says so, and no map tiles are
 * fetched from anywhere.
 */
export interface Tile {
  code: string;
  /** Column and row on the schematic grid. */
  col: number;
  row: number;
}

export const CITY_CODE = '370100';

export const DISTRICT_TILES: readonly Tile[] = [
  { code: '370126', col: 3, row: 0 }, // 商河县
  { code: '370115', col: 3, row: 1 }, // 济阳区
  { code: '370104', col: 1, row: 2 }, // 槐荫区
  { code: '370105', col: 2, row: 2 }, // 天桥区
  { code: '370112', col: 3, row: 2 }, // 历城区
  { code: '370114', col: 4, row: 2 }, // 章丘区
  { code: '370113', col: 0, row: 3 }, // 长清区
  { code: '370103', col: 1, row: 3 }, // 市中区
  { code: '370102', col: 2, row: 3 }, // 历下区
  { code: '370116', col: 4, row: 3 }, // 莱芜区
  { code: '370124', col: 0, row: 4 }, // 平阴县
  { code: '370117', col: 4, row: 4 }, // 钢城区
];

/** The district a station or incident division code (6, 9 or 12 digits) belongs to. */
export const districtOf = (divisionCode: string): string => divisionCode.slice(0, 6);
