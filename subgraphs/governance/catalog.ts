/**
 * The data catalog as code (数据目录, DESIGN §2 governance): every resource a subgraph field can
 * belong to (`@resource(name:)`), its sharing classification and the department answerable for it.
 * Grants name these resources; a grant naming anything else is refused, and a test fails when a
 * subgraph schema names a resource that is not here.
 */
import { ValidationError } from '../../events/errors.ts';

/** Public data sharing types: 无条件共享 / 有条件共享 / 不予共享 (restricted: only under a specific grant). */
export const CLASSIFICATIONS = ['PUBLIC', 'CONDITIONAL', 'RESTRICTED'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export interface CatalogResource {
  name: string;
  classification: Classification;
  /** The providing department answerable for the data (数据提供方). */
  department: string;
  title: string;
  description: string;
}

/** Departments by the short names used in grants, provenance and usage reports. */
export const DEPARTMENTS = {
  'big-data-bureau': '市大数据局',
  'public-security': '市公安局',
  'market-regulation': '市市场监管局',
  'urban-management': '市城市管理局',
  'ecology-environment': '市生态环境局',
  'health-commission': '市卫生健康委员会',
  'healthcare-security': '市医疗保障局',
  taxation: '市税务局',
} as const;
export type Department = keyof typeof DEPARTMENTS;

const resource = (
  name: string,
  classification: Classification,
  department: Department,
  title: string,
  description: string,
): CatalogResource => ({ name, classification, department, title, description });

export const CATALOG: readonly CatalogResource[] = [
  resource('public', 'PUBLIC', 'big-data-bureau', '公开数据', 'Codes and names of divisions, enum catalogs, cursors, page info and counts: open to every authenticated consumer.'),
  resource('population.basic', 'CONDITIONAL', 'public-security', '人口基础信息', "A person's name, gender, birth year and age band, residence and status (the exact birth date and age are part of the ID number: served only with `population.identity` in clear)."),
  resource('population.identity', 'RESTRICTED', 'public-security', '居民身份号码', 'Resident ID numbers (served masked under a masked grant).'),
  resource('population.household', 'CONDITIONAL', 'public-security', '户籍信息', 'Households: members, head, address.'),
  resource('population.statistics', 'CONDITIONAL', 'public-security', '人口统计', 'Aggregate population figures per division.'),
  resource('population.verify', 'CONDITIONAL', 'public-security', '人口核验', 'Verify-only operations (数据可用不可见): alive, identity pair, age at least; booleans only.'),
  resource('population.write', 'RESTRICTED', 'public-security', '人口登记', 'Registering and changing persons and households.'),
  resource('legal-person.basic', 'CONDITIONAL', 'market-regulation', '法人基础信息', "A legal person's name, type, representative, address, capital, industry, dates and status."),
  resource('legal-person.identity', 'CONDITIONAL', 'market-regulation', '统一社会信用代码', 'Unified social credit codes.'),
  resource('legal-person.write', 'RESTRICTED', 'market-regulation', '法人登记', 'Registering and changing legal persons.'),
  resource('urban.incidents', 'CONDITIONAL', 'urban-management', '城市运行事件', 'City incidents and their four-level closed loop.'),
  resource('urban.reporters', 'RESTRICTED', 'urban-management', '事件报告人', 'Who reported an incident: a citizen’s name (third parties’ personal data; served masked under a masked grant), a sensor or grid worker id.'),
  resource('urban.metrics', 'CONDITIONAL', 'urban-management', '城市运行指标', 'Closure, on-time and rework rates per division and level.'),
  resource('urban.write', 'RESTRICTED', 'urban-management', '事件处置', 'Reporting, dispatching, handling and closing incidents.'),
  resource('environment.air', 'PUBLIC', 'ecology-environment', '空气质量', 'Monitoring stations, hourly observations, AQI and rankings.'),
  resource('environment.emissions', 'CONDITIONAL', 'ecology-environment', '排污监管', 'Emission permits, online monitoring and exceedance alarms.'),
  resource('environment.write', 'RESTRICTED', 'ecology-environment', '环境数据写入', 'Recording observations, permits and alarm handling.'),
  resource('healthcare.records', 'RESTRICTED', 'health-commission', '健康档案', 'Visits, exam results and vaccinations (sensitive personal information, PIPL art. 28).'),
  resource('healthcare.claims', 'RESTRICTED', 'healthcare-security', '医保结算', 'Medical-insurance claims and their screening.'),
  resource('tax.declarations', 'RESTRICTED', 'taxation', '纳税申报', 'Taxpayers, declarations and payments.'),
  resource('tax.risks', 'RESTRICTED', 'taxation', '税收风险', 'Tax risks raised from shared property-transaction data.'),
  resource('audit.log', 'RESTRICTED', 'big-data-bureau', '访问审计日志', 'Who accessed which data, under which grant, for what purpose.'),
  resource('governance.admin', 'RESTRICTED', 'big-data-bureau', '授权管理', 'Consumers and grants administration.'),
  resource('events.feed', 'CONDITIONAL', 'big-data-bureau', '事件订阅', 'The generic event subscription across domains.'),
];

const byName = new Map(CATALOG.map((r) => [r.name, r]));

export function catalogResource(name: string): CatalogResource | undefined {
  return byName.get(name);
}

/** Refuses resource names the catalog does not hold, naming each and the way to find valid ones. */
export function assertCataloged(names: readonly string[], field: string): void {
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length) {
    throw new ValidationError(
      `${field}: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not in the data catalog; query \`catalog\` for the resource names`,
      { field, unknown },
    );
  }
}
