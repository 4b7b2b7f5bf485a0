/**
 * The shell-company assessment over HTTP on PGlite and PostgreSQL, hosted the way the legal-person
 * subgraph hosts it (its schema plus the snippet, its projections plus the facts projection, its
 * resolvers merged with these), fed by real legal-person, tax and population events: each signal
 * cites events that exist in the log, and the screening lists the cluster and nobody else.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { comparePositions } from '../../../events/position.ts';
import type { Position, RecordedEvent } from '../../../events/types.ts';
import { BACKENDS, type TestBackend } from '../../../test/helpers/databases.ts';
import { testMetadata, waitUntilVisible } from '../../../test/helpers/events.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../../test/helpers/subgraphHarness.ts';
import { chinaDate } from '../../kit/calendar.ts';
import type { SubgraphContext } from '../../kit/context.ts';
import type { SubgraphModule } from '../../kit/module.ts';
import { createPopulationHandlers } from '../../population/handlers.ts';
import { makeIdNumber } from '../../population/identity/idNumber.ts';
import { populationModule } from '../../population/index.ts';
import { createTaxModule } from '../../tax/index.ts';
import { addMonths } from '../../kit/period.ts';
import { declareTax, registerTaxpayer } from '../../tax/taxCommands.ts';
import { createLegalPersonHandlers } from '../handlers.ts';
import { makeCreditCode } from '../identity/creditCode.ts';
import { legalPersonModule } from '../index.ts';
import { createShellCompanyResolvers, parseShellCompanyConfig } from './index.ts';
import { type Body, only } from '../../../test/helpers/graphqlBody.ts';

const STREET = '370102001';
const SHARED_ADDRESS = '历下区经十路17703号华特广场B座1808室';
const GRANTS = { screener: [grantOf(['legal-person.basic', 'tax.risks'])], basic: [grantOf(['legal-person.basic'])] };
const CONFIG = parseShellCompanyConfig({ SHARED_ADDRESS: { threshold: 5 }, REPRESENTATIVE_OF_MANY: { threshold: 5 }, REPRESENTATIVE_DECEASED: { threshold: 0 } });

/** The legal-person module with the assessment under a test configuration (lower thresholds). */
const hosted: SubgraphModule = {
  ...legalPersonModule,
  resolvers(runtime) {
    const base = legalPersonModule.resolvers(runtime);
    const resolveLegalPerson = (base.LegalPerson as { __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => unknown }).__resolveReference;
    const shell = createShellCompanyResolvers(runtime, { config: CONFIG, legalPerson: (ctx, id) => resolveLegalPerson({ id }, ctx) });
    return { ...base, ...shell, Query: { ...base.Query, ...shell.Query }, LegalPerson: { ...base.LegalPerson, ...shell.LegalPerson } };
  },
};

type Signal = { kind: string; triggered: boolean; observed: number; weight: number; evidence: { eventId: string; type: string; position: string }[] };
type Assessment = { score: number; suspected: boolean; signals: Signal[]; legalPerson: { id: string; name: string } };

const ASSESSMENT = 'score suspected legalPerson { id name } signals { kind triggered observed weight evidence { eventId type position } }';

function shellSuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let harness: SubgraphHarness;
  let latest: Position = '0:0';
  let shells: string[];
  let honest: string;
  let deregistered: string;

  const seen = (events: readonly RecordedEvent[]) => {
    for (const e of events) if (comparePositions(e.position, latest) > 0) latest = e.position;
  };
  const ask = <T>(query: string, consumer = 'screener') => harness.ask<T>(consumer, query) as Promise<Body<T>>;
  const signal = (assessment: Assessment, kind: string): Signal => {
    const found = assessment.signals.find((s) => s.kind === kind);
    assert.ok(found, kind);
    return found;
  };

  before(async () => {
    backend = await makeBackend();
  });
  after(async () => {
    await backend.dispose();
  });
  beforeEach(async () => {
    latest = '0:0';
    harness = await startSubgraphHarness(await backend.fresh(), { module: hosted, with: [populationModule, createTaxModule()], grants: GRANTS });
    const now = new Date().toISOString();
    const today = chinaDate(now);
    const ctx = { metadata: testMetadata, now };
    const population = createPopulationHandlers(harness.store);
    const legalPersons = createLegalPersonHandlers(harness.store);
    const residence = { address: '经十路1号', divisionCode: `${STREET}001` };
    const person = async (birthDate: string, sequence: number, name: string) => {
      const outcome = await population.registerResident({ personId: randomUUID(), idNumber: makeIdNumber('370102', birthDate, sequence), name, gender: 'MALE', birthDate, residence }, ctx);
      seen(outcome.events);
      return outcome.id;
    };
    const nominee = await person('1970-01-01', 11, '王某');
    const ordinary = await person('1975-01-01', 13, '赵某');
    const company = async (index: number, representative: string, address: string) => {
      const outcome = await legalPersons.registerLegalPerson(
        {
          legalPersonId: randomUUID(),
          creditCode: makeCreditCode({ divisionCode: '370102', organizationCode: `KT5500${index}${index}` }),
          name: `济南测试${index}商务信息咨询有限公司`,
          type: 'ENTERPRISE',
          legalRepresentativeId: representative,
          registeredAddress: { address, divisionCode: STREET },
          registeredCapitalFen: 1_000_000_00,
          industry: { section: 'L', name: '企业管理咨询' },
          establishedOn: '2023-01-10',
        },
        ctx,
      );
      seen(outcome.events);
      return outcome.id;
    };
    // Six at one address (one written with full-width characters) under one nominee; one later deregistered.
    shells = [];
    for (let i = 0; i < 6; i++) shells.push(await company(i, nominee, i === 3 ? '历下区经十路17703号华特广场Ｂ座 1808室' : SHARED_ADDRESS));
    deregistered = shells.pop()!;
    seen((await legalPersons.deregisterLegalPerson({ legalPersonId: deregistered, deregisteredOn: today }, ctx)).events);
    seen((await legalPersons.fileAnnualReport({ legalPersonId: shells[0]!, year: 2023, employees: 0, revenueFen: 0 }, ctx)).events);
    const shellTaxpayer = randomUUID();
    seen((await registerTaxpayer(harness.store, { taxpayerId: shellTaxpayer, subject: { kind: 'LEGAL_PERSON', id: shells[0]! } }, { metadata: testMetadata, now })).appended);
    const lastMonth = addMonths(today.slice(0, 7), -1);
    const zero = { taxType: 'VAT', period: lastMonth, taxableAmountFen: 0, taxFen: 0, propertyTransactionId: null };
    seen((await declareTax(harness.store, { taxpayerId: shellTaxpayer, declarationId: randomUUID(), ...zero }, { metadata: testMetadata, now })).events);

    // An ordinary company: its own address, staff, reports filed, revenue declared last month.
    honest = await company(7, ordinary, '历下区泉城路1号');
    for (const year of [2023, 2024, 2025]) seen((await legalPersons.fileAnnualReport({ legalPersonId: honest, year, employees: 12, revenueFen: 3_000_000_00 }, ctx)).events);
    const honestTaxpayer = randomUUID();
    seen((await registerTaxpayer(harness.store, { taxpayerId: honestTaxpayer, subject: { kind: 'LEGAL_PERSON', id: honest } }, { metadata: testMetadata, now })).appended);
    seen((await declareTax(harness.store, { taxpayerId: honestTaxpayer, declarationId: randomUUID(), ...zero, taxableAmountFen: 250_000_00, taxFen: 32_500_00 }, { metadata: testMetadata, now })).events);
    // The nominee dies; nobody replaces them.
    seen((await population.registerDeath({ personId: nominee, dateOfDeath: today }, ctx)).events);

    await waitUntilVisible(harness.store, latest);
    await harness.catchUp();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('assesses a shell company with every signal citing events that are in the log', async () => {
    const { legalPerson } = only(await ask<{ legalPerson: { shellCompanyAssessment: Assessment } }>(`{ legalPerson(id: "${shells[0]}") { shellCompanyAssessment { ${ASSESSMENT} } } }`));
    const assessment = legalPerson.shellCompanyAssessment;
    assert.equal(assessment.legalPerson.id, shells[0]);
    assert.equal(assessment.signals.length, 6);
    assert.deepEqual(
      assessment.signals.filter((s) => s.triggered).map((s) => s.kind),
      ['NO_TAX_ACTIVITY', 'NO_EMPLOYEES', 'SHARED_ADDRESS', 'REPRESENTATIVE_OF_MANY', 'ANNUAL_REPORTS_MISSED', 'REPRESENTATIVE_DECEASED'],
    );
    assert.equal(assessment.score, 100);
    assert.equal(signal(assessment, 'SHARED_ADDRESS').observed, 5, 'the full-width spelling is the same address; the deregistered one left');
    assert.equal(signal(assessment, 'REPRESENTATIVE_OF_MANY').observed, 5);
    assert.ok(signal(assessment, 'NO_TAX_ACTIVITY').evidence.some((e) => e.type === 'TaxDeclared'), 'the zero declaration is cited');
    assert.deepEqual(signal(assessment, 'REPRESENTATIVE_DECEASED').evidence.map((e) => e.type), ['PersonDeceased', 'LegalPersonRegistered']);

    const cited = assessment.signals.flatMap((s) => s.evidence);
    const events = await harness.store.readEventsById(cited.map((e) => e.eventId));
    events.forEach((event, i) => {
      assert.ok(event, `evidence ${cited[i]?.eventId} is an event of the log`);
      assert.equal(event.type, cited[i]?.type);
      assert.equal(event.position, cited[i]?.position);
    });
  });

  it('screens a division: the cluster, highest score first, nobody else; refuses a bad score', async () => {
    type Screen = { suspectedShellCompanies: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: Assessment }[] } };
    const first = only(await ask<Screen>(`{ suspectedShellCompanies(divisionCode: "370102", minScore: 50, first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${ASSESSMENT} } } } }`));
    assert.equal(first.suspectedShellCompanies.totalCount, 5);
    assert.equal(first.suspectedShellCompanies.pageInfo.hasNextPage, true);
    assert.equal(first.suspectedShellCompanies.edges[0]?.node.legalPerson.id, shells[0], 'the one with zero employees and a zero declaration scores highest');
    const rest = only(await ask<Screen>(`{ suspectedShellCompanies(divisionCode: "${STREET}", minScore: 50, after: "${first.suspectedShellCompanies.pageInfo.endCursor}") { edges { node { ${ASSESSMENT} } } } }`));
    const listed = [...first.suspectedShellCompanies.edges, ...rest.suspectedShellCompanies.edges].map((e) => e.node.legalPerson.id);
    assert.deepEqual([...listed].sort(), [...shells].sort());
    assert.ok(!listed.includes(honest) && !listed.includes(deregistered));

    const { legalPerson } = only(await ask<{ legalPerson: { shellCompanyAssessment: Assessment } }>(`{ legalPerson(id: "${honest}") { shellCompanyAssessment { ${ASSESSMENT} } } }`));
    assert.equal(legalPerson.shellCompanyAssessment.score, 0);
    assert.equal(legalPerson.shellCompanyAssessment.suspected, false);

    const bad = await ask(`{ suspectedShellCompanies(divisionCode: "370102", minScore: 101) { totalCount } }`);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const forbidden = await ask<{ legalPerson: { name: string; shellCompanyAssessment: unknown } }>(`{ legalPerson(id: "${shells[0]}") { name shellCompanyAssessment { score } } }`, 'basic');
    assert.equal(forbidden.data?.legalPerson.name, '济南测试0商务信息咨询有限公司');
    assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });
}

for (const makeBackend of BACKENDS) {
  describe(`shell-company assessment on ${makeBackend.name.replace('Backend', '')}`, () => shellSuite(makeBackend));
}
