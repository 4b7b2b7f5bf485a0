/**
 * The demo city's legal persons: enterprises, individual businesses, social organisations and
 * public institutions registered in Jinan's districts with valid credit codes, their legal
 * representatives drawn from the demo population's living adults (a few of them representing many
 * entities, as shell-company screening expects to find), annual reports with gaps, some licences
 * revoked and some legal persons deregistered. Deterministic, like the population plan, and
 * written through the legal-person command handlers.
 */
import { addDays } from '../kit/calendar.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { divisionCatalog, getDivision, type Division } from '../kit/divisions/catalog.ts';
import { seededRandom } from '../kit/random.ts';
import { ageOn, planDemoPopulation } from '../population/public.ts';
import { DEFAULT_DEMO_CITY, DEMO_REFERENCE_DATE, demoId, demoMetadata, inParallel } from '../kit/demoCity.ts';
import { createLegalPersonHandlers, registrationSource, SUPERVISION_SOURCE, type LegalPersonHandlers } from './handlers.ts';
import { CREDIT_CODE_ALPHABET, makeCreditCode } from './identity/creditCode.ts';
import type { LegalPersonRegistered, LegalPersonRevoked, LegalPersonType } from './legalPerson/events.ts';
import type { AnnualReportEntry } from './readModels/legalPersons.ts';
import type { IndustrySection } from './legalPerson/industry.ts';

const PARALLEL_LEGAL_PERSONS = 12;

export type DemoLegalPerson = LegalPersonRegistered['data'] & {
  index: number;
  annualReports: AnnualReportEntry[];
  revocation: Omit<LegalPersonRevoked['data'], 'legalPersonId'> | null;
  deregisteredOn: string | null;
};

const LINES: readonly { section: IndustrySection; name: string; word: string; shop: string }[] = [
  { section: 'I', name: '软件开发', word: '软件科技', shop: '电脑维修部' },
  { section: 'I', name: '信息技术咨询服务', word: '信息技术', shop: '网络服务部' },
  { section: 'C', name: '通用设备制造', word: '机械制造', shop: '五金加工部' },
  { section: 'F', name: '日用品零售', word: '商贸', shop: '便利店' },
  { section: 'H', name: '正餐服务', word: '餐饮管理', shop: '小吃店' },
  { section: 'E', name: '房屋建筑', word: '建筑工程', shop: '装饰工作室' },
  { section: 'K', name: '房地产开发经营', word: '置业', shop: '房产信息部' },
  { section: 'L', name: '企业管理咨询', word: '企业管理咨询', shop: '咨询服务部' },
  { section: 'M', name: '工程技术研究和试验发展', word: '科技发展', shop: '技术服务部' },
  { section: 'G', name: '道路货物运输', word: '物流', shop: '货运部' },
  { section: 'O', name: '家政服务', word: '家政服务', shop: '家政服务部' },
  { section: 'N', name: '环境卫生管理', word: '环境工程', shop: '保洁服务部' },
];
const BRANDS = [...'泉城鲁信齐鲁华信金泰恒通瑞丰明湖汇泉舜耕历山千佛大明趵突黄河华山鹊山融创安泰鸿运'.match(/../g)!];
const ROADS = ['经十路', '经七路', '经一路', '纬二路', '历山路', '解放路', '二环东路', '工业南路', '花园路', '舜华路'];
const TOPICS = ['软件行业', '物流行业', '餐饮行业', '个体劳动者', '志愿者', '老年人体育', '书法家', '青年企业家'];
const INSTITUTIONS = ['公共就业人才服务中心', '城市管理指挥中心', '不动产登记中心', '公共资源交易中心', '社会福利院', '大数据服务中心'];
/** GB 32100 registration authority and institution type of each kind of legal person. */
const CODE_PREFIX: Record<LegalPersonType, { registrationAuthority: string; institutionType: string }> = {
  ENTERPRISE: { registrationAuthority: '9', institutionType: '1' },
  INDIVIDUAL_BUSINESS: { registrationAuthority: '9', institutionType: '2' },
  SOCIAL_ORGANIZATION: { registrationAuthority: '5', institutionType: '1' },
  PUBLIC_INSTITUTION: { registrationAuthority: '1', institutionType: '2' },
};
const COMMUNITIES: readonly Division[] = divisionCatalog.filter((d) => d.level === 'COMMUNITY');
const LAST_REPORT_YEAR = Number(DEMO_REFERENCE_DATE.slice(0, 4));

export function planDemoLegalPersons(options: { count?: number; people?: number; seed?: number } = {}): DemoLegalPerson[] {
  const count = options.count ?? DEFAULT_DEMO_CITY.legalPersons;
  const { next: random, int, pick } = seededRandom(options.seed ?? 32100);
  const adults = planDemoPopulation({ people: options.people ?? DEFAULT_DEMO_CITY.people }).persons.filter((p) => {
    const age = ageOn(p.birthDate, DEMO_REFERENCE_DATE);
    return p.dateOfDeath === null && age >= 25 && age <= 70;
  });
  if (adults.length === 0) throw new Error('the demo population has no living adults to represent legal persons');
  // A few people represent many entities: a signal the shell-company assessment looks for.
  const serial = adults.slice(0, Math.max(1, Math.floor(adults.length / 100)));
  const usedCodes = new Set<string>();
  const plans: DemoLegalPerson[] = [];
  for (let index = 0; index < count; index++) {
    const kind = random();
    const type: LegalPersonType = kind < 0.77 ? 'ENTERPRISE' : kind < 0.92 ? 'INDIVIDUAL_BUSINESS' : kind < 0.97 ? 'SOCIAL_ORGANIZATION' : 'PUBLIC_INSTITUTION';
    const community = pick(COMMUNITIES);
    const district = getDivision(community.code.slice(0, 6))!;
    const line = pick(LINES);
    let creditCode: string;
    do {
      const body = `MA${Array.from({ length: 6 }, () => pick([...CREDIT_CODE_ALPHABET])).join('')}`;
      creditCode = makeCreditCode({ ...CODE_PREFIX[type], divisionCode: district.code, organizationCode: body });
    } while (usedCodes.has(creditCode));
    usedCodes.add(creditCode);
    const nonProfit = type === 'SOCIAL_ORGANIZATION' || type === 'PUBLIC_INSTITUTION';
    const name =
      type === 'ENTERPRISE'
        ? `济南${pick(BRANDS)}${line.word}有限公司`
        : type === 'INDIVIDUAL_BUSINESS'
          ? `${district.name}${pick(BRANDS)}${line.shop}`
          : type === 'SOCIAL_ORGANIZATION'
            ? `济南市${pick(TOPICS)}协会`
            : `济南市${district.name}${pick(INSTITUTIONS)}`;
    const industry = nonProfit ? { section: 'S' as const, name: type === 'SOCIAL_ORGANIZATION' ? '社会团体' : '公共服务' } : { section: line.section, name: line.name };
    const establishedOn = addDays('2005-01-01', int(0, 7_480));
    const annualReports: DemoLegalPerson['annualReports'] = [];
    for (let year = Math.max(Number(establishedOn.slice(0, 4)), 2019); year <= LAST_REPORT_YEAR; year++) {
      if (random() < 0.85) annualReports.push({ year, employees: random() < 0.1 ? 0 : int(1, 200), revenueFen: random() < 0.1 ? 0 : int(10_000, 500_000_000) * 100 });
    }
    const fate = random();
    const lastDay = (date: string) => (date > DEMO_REFERENCE_DATE ? DEMO_REFERENCE_DATE : date);
    const revocation = fate < 0.05 ? { revokedOn: lastDay(addDays(establishedOn, int(200, 3_000))), reason: pick(['未按规定报送年度报告', '成立后无正当理由超过六个月未开业']) } : null;
    const deregisteredOn = (revocation && random() < 0.4) || (fate >= 0.05 && fate < 0.08) ? lastDay(addDays(revocation?.revokedOn ?? establishedOn, int(30, 2_000))) : null;
    plans.push({
      index,
      legalPersonId: demoId('legal-person', index),
      creditCode,
      name,
      type,
      legalRepresentativeId: (random() < 0.1 ? pick(serial) : pick(adults)).personId,
      registeredAddress: { address: `${community.name}附近${pick(ROADS)}${int(1, 999)}号`, divisionCode: community.code },
      registeredCapitalFen: type === 'INDIVIDUAL_BUSINESS' ? int(1, 50) * 1_000_000 : int(10, 5_000) * 10_000_00,
      industry,
      establishedOn,
      annualReports,
      revocation,
      deregisteredOn,
    });
  }
  return plans;
}

async function seedLegalPerson(handlers: LegalPersonHandlers, plan: DemoLegalPerson, now: Date): Promise<void> {
  const at = now.toISOString();
  const correlationId = `demo-seed:legal-person:${plan.index}`;
  const { legalPersonId } = plan;
  const daysAgo = (date: string) => Math.max(1, Math.floor((now.getTime() - Date.parse(`${date}T12:00:00+08:00`)) / 86_400_000));
  const ctx = (date: string, source = SUPERVISION_SOURCE) => ({ metadata: demoMetadata(source, now, daysAgo(date), correlationId), now: at });
  const { creditCode, name, type, legalRepresentativeId, registeredAddress, registeredCapitalFen, industry, establishedOn } = plan;
  await handlers.registerLegalPerson(
    { legalPersonId, creditCode, name, type, legalRepresentativeId, registeredAddress, registeredCapitalFen, industry, establishedOn },
    ctx(establishedOn, registrationSource(type)),
  );
  for (const report of plan.annualReports) {
    if (plan.revocation && `${report.year + 1}-06-30` > plan.revocation.revokedOn) break;
    await handlers.fileAnnualReport({ legalPersonId, ...report }, ctx(`${report.year + 1}-06-30` > DEMO_REFERENCE_DATE ? DEMO_REFERENCE_DATE : `${report.year + 1}-06-30`));
  }
  if (plan.revocation) await handlers.revokeLegalPerson({ legalPersonId, ...plan.revocation }, ctx(plan.revocation.revokedOn));
  if (plan.deregisteredOn) await handlers.deregisterLegalPerson({ legalPersonId, deregisteredOn: plan.deregisteredOn }, ctx(plan.deregisteredOn));
}

/** Seeds the planned legal persons (after the population, whose people represent them). */
export async function seedLegalPersons(runtime: SubgraphRuntime, options: { count?: number; people?: number } = {}): Promise<DemoLegalPerson[]> {
  const plans = planDemoLegalPersons(options);
  const handlers = createLegalPersonHandlers(runtime.store);
  const now = runtime.now();
  const started = Date.now();
  await inParallel(plans, PARALLEL_LEGAL_PERSONS, (plan) => seedLegalPerson(handlers, plan, now));
  runtime.logger.info({ legalPersons: plans.length, ms: Date.now() - started }, 'seeded the demo legal persons');
  return plans;
}
