/**
 * The incident catalog (事部件分类): what a case can be about, how long the unit has to handle it
 * (处置时限, counted from dispatch) and whether it is urgent. The manhole (2 h) and street-light
 * (1 working day, taken as 24 h) limits are the local rules' typical values (DESIGN §8); the others
 * are representative values for a demo city, kept here as data so a city can replace them.
 */
import { ValidationError } from '../../events/errors.ts';

export const URGENCIES = ['URGENT', 'NORMAL'] as const;
export type Urgency = (typeof URGENCIES)[number];

export interface SubcategoryDefinition {
  subcategory: string;
  /** Chinese name as shown to case handlers. */
  name: string;
  /** Handling time limit in minutes, from dispatch to closure. */
  limitMinutes: number;
  urgency: Urgency;
}

export interface CategoryDefinition {
  category: string;
  name: string;
  /** Two letters used in case numbers. */
  code: string;
  subcategories: readonly SubcategoryDefinition[];
}

/** One catalog entry, as a case carries it. */
export interface IncidentCategory extends SubcategoryDefinition {
  category: string;
  categoryName: string;
  categoryCode: string;
}

const HOUR = 60;
const DAY = 24 * HOUR;

export const INCIDENT_CATALOG: readonly CategoryDefinition[] = [
  {
    category: 'MUNICIPAL_FACILITY',
    name: '市政设施',
    code: 'MF',
    subcategories: [
      { subcategory: 'MISSING_MANHOLE_COVER', name: '井盖缺失', limitMinutes: 2 * HOUR, urgency: 'URGENT' },
      { subcategory: 'STREET_LIGHT_OUT', name: '路灯不亮', limitMinutes: DAY, urgency: 'NORMAL' },
    ],
  },
  {
    category: 'ROAD',
    name: '道路',
    code: 'RD',
    subcategories: [
      { subcategory: 'ROAD_DAMAGE', name: '道路破损', limitMinutes: 2 * DAY, urgency: 'NORMAL' },
      { subcategory: 'ROAD_COLLAPSE', name: '路面塌陷', limitMinutes: 2 * HOUR, urgency: 'URGENT' },
    ],
  },
  {
    category: 'SANITATION',
    name: '市容环卫',
    code: 'SN',
    subcategories: [
      { subcategory: 'GARBAGE_OVERFLOW', name: '垃圾满溢', limitMinutes: 4 * HOUR, urgency: 'NORMAL' },
      { subcategory: 'EXPOSED_GARBAGE', name: '暴露垃圾', limitMinutes: 4 * HOUR, urgency: 'NORMAL' },
    ],
  },
  {
    category: 'TRAFFIC',
    name: '交通秩序',
    code: 'TR',
    subcategories: [
      { subcategory: 'ILLEGAL_PARKING', name: '违章停车', limitMinutes: HOUR, urgency: 'NORMAL' },
      { subcategory: 'ABANDONED_VEHICLE', name: '废弃车辆', limitMinutes: 5 * DAY, urgency: 'NORMAL' },
    ],
  },
  {
    category: 'CONSTRUCTION',
    name: '违法建设',
    code: 'CN',
    subcategories: [{ subcategory: 'ILLEGAL_CONSTRUCTION', name: '违法建设', limitMinutes: 3 * DAY, urgency: 'NORMAL' }],
  },
  {
    category: 'WATER',
    name: '供排水',
    code: 'WT',
    subcategories: [
      { subcategory: 'WATER_LEAK', name: '供水管道漏水', limitMinutes: 4 * HOUR, urgency: 'URGENT' },
      { subcategory: 'WATERLOGGING', name: '道路积水', limitMinutes: 2 * HOUR, urgency: 'URGENT' },
    ],
  },
  {
    category: 'GREENING',
    name: '园林绿化',
    code: 'GR',
    subcategories: [
      { subcategory: 'DAMAGED_GREENERY', name: '绿地损坏', limitMinutes: 3 * DAY, urgency: 'NORMAL' },
      { subcategory: 'FALLEN_TREE', name: '树木倒伏', limitMinutes: 2 * HOUR, urgency: 'URGENT' },
    ],
  },
  {
    category: 'NOISE',
    name: '噪声扰民',
    code: 'NS',
    subcategories: [
      { subcategory: 'CONSTRUCTION_NOISE', name: '施工噪声', limitMinutes: 4 * HOUR, urgency: 'NORMAL' },
      { subcategory: 'COMMERCIAL_NOISE', name: '商业噪声', limitMinutes: 8 * HOUR, urgency: 'NORMAL' },
    ],
  },
  {
    category: 'STREET_ORDER',
    name: '街面秩序',
    code: 'SO',
    subcategories: [
      { subcategory: 'ILLEGAL_STREET_VENDING', name: '占道经营', limitMinutes: 2 * HOUR, urgency: 'NORMAL' },
      { subcategory: 'ILLEGAL_ADVERTISING', name: '违规张贴广告', limitMinutes: DAY, urgency: 'NORMAL' },
    ],
  },
];

export const INCIDENT_CATEGORIES: readonly string[] = INCIDENT_CATALOG.map((c) => c.category);

/** Every category/subcategory pair, flattened. */
export function listCategories(): IncidentCategory[] {
  return INCIDENT_CATALOG.flatMap((c) =>
    c.subcategories.map((s) => ({ ...s, category: c.category, categoryName: c.name, categoryCode: c.code })),
  );
}

/** The catalog entry; a ValidationError names the valid choices when the pair is unknown. */
export function getCategory(category: string, subcategory: string): IncidentCategory {
  const definition = INCIDENT_CATALOG.find((c) => c.category === category);
  if (!definition) {
    throw new ValidationError(
      `category "${category}" is not in the incident catalog; use one of ${INCIDENT_CATEGORIES.join(', ')}`,
      { field: 'category', valid: INCIDENT_CATEGORIES },
    );
  }
  const entry = definition.subcategories.find((s) => s.subcategory === subcategory);
  if (!entry) {
    const valid = definition.subcategories.map((s) => s.subcategory);
    throw new ValidationError(
      `subcategory "${subcategory}" is not in category ${category} (${definition.name}); use one of ${valid.join(', ')}`,
      { field: 'subcategory', valid },
    );
  }
  return { ...entry, category: definition.category, categoryName: definition.name, categoryCode: definition.code };
}
