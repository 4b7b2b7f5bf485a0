/**
 * The demo city's tax data, on top of the seeded legal persons and population:
 * - a cluster of shell-like companies (空壳公司) registered at one office address with one legal
 *   representative, reporting no employees and declaring nothing or zero revenue;
 * - a taxpayer for every legal person still in existence, with monthly VAT for the last four
 *   finished months and corporate income tax for the last finished quarter, most of it paid;
 * - property transactions shared by the housing and land departments: buyers who declared deed
 *   tax, buyers who did not (the deadline process raises risks for them), recent ones still within
 *   the allowed days, and one documented exemption.
 * Everything goes through the command handlers; ids, choices and idempotency keys come from a seeded
 * generator, so a second run appends nothing.
 */
import { seededRandom, type Random } from '../kit/random.ts';
import { deterministicEventId } from '../../events/append.ts';
import type { DomainEvent } from '../../events/decider.ts';
import { isEventOf } from '../../events/typedReads.ts';
import type { EventStore, Recorded } from '../../events/types.ts';
import { START } from '../../events/types.ts';
import { addDays, chinaDate } from '../kit/calendar.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import type { ProvenanceDefaults } from '../kit/provenance.ts';
import { createLegalPersonHandlers, makeCreditCode, registrationSource, SUPERVISION_SOURCE, type RegisterLegalPerson } from '../legal-person/public.ts';
import { legalPersonStreamId, type LegalPersonDeregistered, type LegalPersonRegistered } from '../legal-person/legalPerson/events.ts';
import { childrenOf } from '../kit/divisions/catalog.ts';
import type { PersonDeceased, PersonRegistered } from '../population/person/events.ts';
import { demoMetadata, inParallel } from '../kit/demoCity.ts';
import { applyRate } from '../kit/money.ts';
import { addMonths } from '../kit/period.ts';
import { declareTax, registerTaxpayer, runPropertyTransactionCommand, runTaxpayerCommand } from './taxCommands.ts';
import type { SubjectRef } from './taxpayer/events.ts';

export interface TaxSeedOptions {
  /** @default 20220519 */
  seed?: number;
  /** @default 24 */
  propertyTransactions?: number;
}

const PARALLEL = 8;
const TAX_SOURCE: ProvenanceDefaults = { department: 'taxation', system: '金税三期税收管理系统' };
const TRANSACTION_SOURCES: readonly ProvenanceDefaults[] = [
  { department: '市住房和城乡建设局', system: '房屋网签备案系统' },
  { department: '市自然资源和规划局', system: '不动产登记系统' },
];
/** One office floor, six companies, one representative: what shell-company screening looks for. */
export const SHELL_CLUSTER_ADDRESS = '历下区经十路17703号华特广场B座1808室';
const SHELL_CLUSTER_SIZE = 6;
const SHELL_NAMES = ['鑫源', '博瑞', '通达', '汇金', '聚丰', '恒远'];

const seedId = (kind: string, key: string): string => deterministicEventId(`city-brain:demo:tax:${kind}:${key}`, 0);

/** Every event of these types in the log, in order. */
/** Every stored event of `types` (the names of `E`'s members), in log order. */
async function eventsOfTypes<E extends DomainEvent>(store: EventStore, types: readonly E['type'][]): Promise<Recorded<E>[]> {
  const events: Recorded<E>[] = [];
  let fromPosition = START;
  for (;;) {
    const page = await store.readAll({ fromPosition, limit: 1000, filter: { types } });
    events.push(...page.filter((e) => isEventOf<E>(types, e)));
    const last = page.at(-1);
    if (!last || page.length < 1000) return events;
    fromPosition = last.position;
  }
}

/**
 * Registers the shell cluster through the legal-person handlers (credit codes claimed, representative
 * checked); returns the companies it registered (the seed's writes are not in the log until flushed).
 */
async function seedShellCluster(runtime: SubgraphRuntime, representativeId: string, now: Date): Promise<RegisterLegalPerson['data'][]> {
  const handlers = createLegalPersonHandlers(runtime.store);
  const at = now.toISOString();
  const street = childrenOf('370102')[0];
  const registered: RegisterLegalPerson['data'][] = [];
  if (!street) return registered;
  const today = chinaDate(at);
  const thisYear = Number(today.slice(0, 4));
  for (let i = 0; i < SHELL_CLUSTER_SIZE; i++) {
    const legalPersonId = seedId('shell-company', String(i));
    if ((await runtime.store.streamRevision(legalPersonStreamId(legalPersonId))) !== undefined) continue;
    const establishedOn = addDays(today, -(1000 + i * 15));
    const ctx = (daysAgo: number) => ({ metadata: demoMetadata(registrationSource('ENTERPRISE'), now, daysAgo, `demo-seed:shell:${i}`), now: at });
    const company: RegisterLegalPerson['data'] = {
      legalPersonId,
      creditCode: makeCreditCode({ divisionCode: '370102', organizationCode: `KT22010${i}` }),
      name: `济南${SHELL_NAMES[i % SHELL_NAMES.length]}商务信息咨询有限公司`,
      type: 'ENTERPRISE',
      legalRepresentativeId: representativeId,
      registeredAddress: { address: SHELL_CLUSTER_ADDRESS, divisionCode: street.code },
      registeredCapitalFen: 5_000_000_00,
      industry: { section: 'L', name: '企业管理咨询' },
      establishedOn,
    };
    await handlers.registerLegalPerson(company, ctx(1000));
    registered.push(company);
    // Reports with nobody employed and nothing earned; the last two companies stopped reporting.
    const firstYear = Number(establishedOn.slice(0, 4));
    for (let year = firstYear; year < thisYear && i < SHELL_CLUSTER_SIZE - 2; year++) {
      await handlers.fileAnnualReport({ legalPersonId, year, employees: 0, revenueFen: 0 }, { metadata: demoMetadata(SUPERVISION_SOURCE, now, 200, `demo-seed:shell:${i}`), now: at });
    }
  }
  return registered;
}

interface SeedContext {
  store: EventStore;
  now: Date;
  random: Random;
}

async function seedTaxpayer(ctx: SeedContext, subject: SubjectRef): Promise<string> {
  const taxpayerId = seedId('taxpayer', `${subject.kind}:${subject.id}`);
  await registerTaxpayer(
    ctx.store,
    { taxpayerId, subject },
    { metadata: demoMetadata(TAX_SOURCE, ctx.now, 400, `demo-seed:taxpayer:${subject.id}`), now: ctx.now.toISOString(), idempotencyKey: `demo:tax:register:${taxpayerId}` },
  );
  return taxpayerId;
}

async function declareAndPay(
  ctx: SeedContext,
  taxpayerId: string,
  declaration: { taxType: string; period: string; taxableAmountFen: number; taxFen: number; propertyTransactionId?: string },
  paidShare: number,
): Promise<void> {
  const key = `${taxpayerId}:${declaration.taxType}:${declaration.propertyTransactionId ?? declaration.period}`;
  const declarationId = seedId('declaration', key);
  const metadata = demoMetadata(TAX_SOURCE, ctx.now, 5, `demo-seed:declaration:${key}`);
  const now = ctx.now.toISOString();
  await declareTax(ctx.store, { taxpayerId, declarationId, propertyTransactionId: null, ...declaration }, { metadata, now, idempotencyKey: `demo:tax:declare:${key}` });
  const amountFen = Math.floor(declaration.taxFen * paidShare);
  if (amountFen <= 0) return;
  await runTaxpayerCommand(
    ctx.store,
    { type: 'payTax', data: { taxpayerId, declarationId, paymentId: seedId('payment', key), amountFen }, metadata: { now } },
    metadata,
    { idempotencyKey: `demo:tax:pay:${key}` },
  );
}

/** VAT for the last four finished months and corporate income tax for the last finished quarter. */
async function seedCompanyDeclarations(ctx: SeedContext, taxpayerId: string, shell: boolean): Promise<void> {
  const today = chinaDate(ctx.now.toISOString());
  const thisMonth = today.slice(0, 7);
  for (let back = 4; back >= 1; back--) {
    const period = addMonths(thisMonth, -back);
    if (shell && ctx.random.next() < 0.5) continue; // declares nothing some months, zero in the others
    const taxableAmountFen = shell ? 0 : ctx.random.int(50_000, 2_000_000) * 100;
    await declareAndPay(ctx, taxpayerId, { taxType: 'VAT', period, taxableAmountFen, taxFen: applyRate(taxableAmountFen, 1300) }, ctx.random.next() < 0.85 ? 1 : 0.5);
  }
  if (shell) return;
  const month = Number(thisMonth.slice(5, 7));
  const quarter = Math.floor((month - 1) / 3); // the last finished quarter (0: the previous year's fourth)
  const period = quarter === 0 ? `${Number(thisMonth.slice(0, 4)) - 1}Q4` : `${thisMonth.slice(0, 4)}Q${quarter}`;
  const profitFen = ctx.random.int(0, 800_000) * 100;
  await declareAndPay(ctx, taxpayerId, { taxType: 'CORPORATE_INCOME_TAX', period, taxableAmountFen: profitFen, taxFen: applyRate(profitFen, 2500) }, 1);
}

async function seedPropertyTransactions(ctx: SeedContext, sellers: readonly string[], buyers: readonly string[], count: number): Promise<void> {
  const today = chinaDate(ctx.now.toISOString());
  const communities = childrenOf('370102').flatMap((street) => childrenOf(street.code));
  for (let i = 0; i < count && buyers.length > 0 && sellers.length > 0; i++) {
    const transactionId = seedId('property-transaction', String(i));
    const buyer: SubjectRef = { kind: 'PERSON', id: buyers[i % buyers.length]! };
    const seller: SubjectRef = { kind: 'LEGAL_PERSON', id: ctx.random.pick(sellers) };
    // Every third is recent (within the allowed days); of the older ones, two in three were declared.
    const recent = i % 3 === 0;
    const contractDate = addDays(today, -(recent ? ctx.random.int(2, 20) : ctx.random.int(40, 150)));
    const priceFen = ctx.random.int(600_000, 4_000_000) * 100;
    const community = communities.length ? ctx.random.pick(communities) : undefined;
    const source = TRANSACTION_SOURCES[i % TRANSACTION_SOURCES.length]!;
    const metadata = demoMetadata(source, ctx.now, 1, `demo-seed:property-transaction:${i}`);
    const now = ctx.now.toISOString();
    await runPropertyTransactionCommand(
      ctx.store,
      {
        type: 'recordPropertyTransaction',
        data: {
          transactionId,
          property: {
            unitNumber: `370102${String(100 + i).padStart(6, '0')}GB${String(10_000 + i)}F0001${String(1000 + i)}`,
            address: `历下区${ctx.random.pick(['经十路', '历山路', '解放路', '山大路'])}${ctx.random.int(1, 300)}号${ctx.random.int(1, 30)}-${ctx.random.int(1, 4)}-${ctx.random.int(101, 2802)}`,
            divisionCode: community?.code ?? '370102',
          },
          seller,
          buyer,
          priceFen,
          contractDate,
        },
        metadata: { now },
      },
      metadata,
      { idempotencyKey: `demo:tax:property-transaction:${transactionId}` },
    );
    const declared = recent ? i % 2 === 0 : i % 3 !== 2;
    if (declared) {
      const taxpayerId = await seedTaxpayer(ctx, buyer);
      const firstHome = ctx.random.next() < 0.5;
      await declareAndPay(
        ctx,
        taxpayerId,
        { taxType: 'DEED_TAX', period: today.slice(0, 7), taxableAmountFen: priceFen, taxFen: applyRate(priceFen, firstHome ? 100 : 300), propertyTransactionId: transactionId },
        1,
      );
    } else if (i === 5) {
      // 法定减免: relocation compensation housing, documented by the tax office.
      await runPropertyTransactionCommand(
        ctx.store,
        {
          type: 'recordTaxExemption',
          data: { transactionId, basis: '《中华人民共和国契税法》第七条', documentNo: `济历税减〔${today.slice(0, 4)}〕${100 + i}号`, reason: '征收拆迁安置住房' },
          metadata: { now },
        },
        demoMetadata(TAX_SOURCE, ctx.now, 1, `demo-seed:exemption:${i}`),
        { idempotencyKey: `demo:tax:exemption:${transactionId}` },
      );
    }
  }
}

export async function seedTax(runtime: SubgraphRuntime, options: TaxSeedOptions = {}): Promise<void> {
  const started = Date.now();
  const now = runtime.now();
  const ctx: SeedContext = { store: runtime.store, now, random: seededRandom(options.seed ?? 20220519) };
  const today = chinaDate(now.toISOString());

  const gone = new Set(
    (await eventsOfTypes<PersonDeceased | LegalPersonDeregistered>(runtime.store, ['PersonDeceased', 'LegalPersonDeregistered'])).map((e) =>
      e.type === 'PersonDeceased' ? e.data.personId : e.data.legalPersonId,
    ),
  );
  const adults = (await eventsOfTypes<PersonRegistered>(runtime.store, ['PersonRegistered']))
    .map((e) => e.data)
    .filter((p) => !gone.has(p.personId) && p.birthDate <= addDays(today, -25 * 365))
    .map((p) => p.personId);
  const registered = (await eventsOfTypes<LegalPersonRegistered>(runtime.store, ['LegalPersonRegistered'])).map((e) => e.data);
  const representative = adults[0];
  const shellCluster = representative ? await seedShellCluster(runtime, representative, now) : [];
  const legalPersons = [...registered, ...shellCluster].filter((lp) => !gone.has(lp.legalPersonId));
  const shellIds = new Set(Array.from({ length: SHELL_CLUSTER_SIZE }, (_, i) => seedId('shell-company', String(i))));
  const companies = legalPersons.filter((lp) => lp.type === 'ENTERPRISE' || lp.type === 'INDIVIDUAL_BUSINESS');
  await inParallel(companies, PARALLEL, async (lp) => {
    const taxpayerId = await seedTaxpayer(ctx, { kind: 'LEGAL_PERSON', id: lp.legalPersonId });
    await seedCompanyDeclarations({ ...ctx, random: seededRandom(Number.parseInt(taxpayerId.slice(0, 8), 16)) }, taxpayerId, shellIds.has(lp.legalPersonId));
  });

  const developers = companies.filter((lp) => lp.industry.section === 'K' && !shellIds.has(lp.legalPersonId)).map((lp) => lp.legalPersonId);
  const sellers = developers.length ? developers : companies.filter((lp) => !shellIds.has(lp.legalPersonId)).map((lp) => lp.legalPersonId);
  await seedPropertyTransactions(ctx, sellers, adults.slice(1), options.propertyTransactions ?? 24);
  runtime.logger.info({ legalPersons: companies.length, ms: Date.now() - started }, 'seeded the demo tax register');
}
