/**
 * Tax end to end, through the gateway with the real governance, population, legal-person and tax
 * subgraphs, on a virtual clock: a legal person becomes a taxpayer and declares; the same period
 * again is a CONFLICT that writes nothing; a property transaction whose buyer never declares deed
 * tax becomes a tax risk once the deadline has passed (the deadline process ticked at the virtual
 * now); and a cluster of companies at one address shows in `LegalPerson.shellCompanyAssessment`
 * with each signal's evidence.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProcessManagerRuntime } from '../projections/processManager.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { makeCreditCode } from '../subgraphs/legal-person/identity/creditCode.ts';
import { legalPersonModule } from '../subgraphs/legal-person/index.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { DEFAULT_DEED_TAX_DEADLINE_DAYS } from '../subgraphs/tax/processes/deedTaxDeadlines.ts';
import { taxModule } from '../subgraphs/tax/index.ts';
import { addMonths } from '../subgraphs/kit/period.ts';
import { propertyTransactionStreamId } from '../subgraphs/tax/propertyTransaction/events.ts';
import { openTestRuntime, startTestGraph, type GqlResponse, type TestGraph, type TestRuntime } from './helpers/graph.ts';

const MODULES = [governanceModule, populationModule, legalPersonModule, taxModule];
const DAY = 24 * 3600_000;
const chinaDate = (instant: Date) => new Date(instant.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
const STREET = '370102002';
const CLUSTER_ADDRESS = '历下区经十路17703号华特广场B座1808室';
/** The default SHARED_ADDRESS threshold (shellCompany/config.ts): this many legal persons at one address. */
const CLUSTER_SIZE = 5;

interface Evidence {
  type: string;
  eventId: string;
  position: string;
  streamId?: string;
}

const data = <Data>(response: GqlResponse<Data>): Data => {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  assert.ok(response.body.data);
  return response.body.data;
};

describe('tax through the gateway, on a virtual clock', () => {
  let base: TestRuntime;
  let graph: TestGraph;
  let clock = new Date();
  let deadlines: ProcessManagerRuntime;
  let registrar: string;
  let officer: string;
  let representativeId: string;
  let buyerId: string;
  const cluster: string[] = [];
  let taxpayerId: string;

  const mutate = async <Data>(token: string, name: string, input: Record<string, unknown>, selection: string) =>
    graph.gql<Data>(`mutation ($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { ${selection} } }`, { input }, token);

  before(async () => {
    base = await openTestRuntime(MODULES);
    base.runtime.now = () => clock;
    graph = await startTestGraph({ modules: MODULES, runtime: base });
    deadlines = new ProcessManagerRuntime(base.runtime, MODULES.flatMap((m) => m.processManagers ?? []));
    // Valid across the virtual months the test moves through.
    const validity = { validFrom: new Date(clock.getTime() - DAY), validUntil: new Date(clock.getTime() + 120 * DAY) };
    await graph.grant('registrar', ['population.write', 'population.basic', 'legal-person.write', 'legal-person.basic'], validity);
    await graph.grant('tax-officer', ['tax.declarations', 'tax.risks', 'legal-person.basic', 'population.basic'], validity);
    registrar = await graph.tokenFor('registrar');
    officer = await graph.tokenFor('tax-officer');

    const person = async (name: string, birthDate: string, sequence: number) =>
      data(
        await mutate<{ registerResident: { person: { id: string } } }>(
          registrar,
          'registerResident',
          { idNumber: makeIdNumber('370102', birthDate, sequence), name, gender: 'MALE', birthDate, residence: { address: '历下区泉城路 8 号', divisionCode: `${STREET}001` } },
          'person { id }',
        ),
      ).registerResident.person.id;
    representativeId = await person('王某', '1970-01-01', 11);
    buyerId = await person('赵某', '1985-06-15', 13);
    for (let i = 0; i < CLUSTER_SIZE; i++) {
      const registered = await mutate<{ registerLegalPerson: { legalPerson: { id: string } } }>(
        registrar,
        'registerLegalPerson',
        {
          creditCode: makeCreditCode({ divisionCode: '370102', organizationCode: `KT5500${i}${i}` }),
          name: `济南测试${i}商务信息咨询有限公司`,
          type: 'ENTERPRISE',
          legalRepresentativeId: representativeId,
          registeredAddress: { address: CLUSTER_ADDRESS, divisionCode: STREET },
          registeredCapital: '1000000.00',
          industry: { section: 'L', name: '企业管理咨询' },
          establishedOn: '2023-01-10',
        },
        'legalPerson { id }',
      );
      cluster.push(data(registered).registerLegalPerson.legalPerson.id);
    }
    await graph.catchUp();
  });

  after(async () => {
    await graph?.close();
    await base?.close();
  });

  const DECLARE = 'declaration { id taxType period taxableAmount { fen yuan } tax { fen yuan } taxpayer { id declaredTotal { yuan } } } positions';
  const lastMonth = () => addMonths(chinaDate(clock).slice(0, 7), -1);

  it("registers a legal person's taxpayer and takes its declaration, in exact money", async () => {
    const registered = data(await mutate<{ registerTaxpayer: { taxpayer: { id: string; kind: string; name: string; legalPerson: { id: string } } } }>(
      officer,
      'registerTaxpayer',
      { subject: { kind: 'LEGAL_PERSON', id: cluster[0] } },
      'taxpayer { id kind name legalPerson { id } }',
    )).registerTaxpayer.taxpayer;
    assert.equal(registered.kind, 'LEGAL_PERSON');
    assert.equal(registered.name, '济南测试0商务信息咨询有限公司');
    assert.deepEqual(registered.legalPerson, { id: cluster[0] });
    taxpayerId = registered.id;

    const declared = data(await mutate<{ declareTax: { declaration: { taxType: string; period: string; taxableAmount: { fen: string; yuan: string }; tax: { yuan: string }; taxpayer: { declaredTotal: { yuan: string } } } } }>(
      officer,
      'declareTax',
      { taxpayerId, taxType: 'VAT', period: lastMonth(), taxableAmount: '100000.10', tax: '13000.01' },
      DECLARE,
    )).declareTax.declaration;
    assert.equal(declared.period, lastMonth());
    assert.deepEqual(declared.taxableAmount, { fen: '10000010', yuan: '100000.10' });
    assert.equal(declared.tax.yuan, '13000.01');
    assert.equal(declared.taxpayer.declaredTotal.yuan, '13000.01');
  });

  it('refuses the same tax type and period declared twice with CONFLICT, and writes nothing', async () => {
    const head = await base.runtime.store.headPosition();
    const again = await mutate<{ declareTax: unknown }>(officer, 'declareTax', { taxpayerId, taxType: 'VAT', period: lastMonth(), taxableAmount: '5.00', tax: '0.65' }, DECLARE);
    assert.equal(again.body.errors?.[0]?.extensions?.code, 'CONFLICT', JSON.stringify(again.body.errors));
    assert.equal(again.body.data?.declareTax ?? null, null);
    assert.deepEqual(await base.runtime.store.readAll({ fromPosition: head, filter: { types: ['TaxDeclared'] } }), []);
  });

  it('flags a property transaction without a deed-tax declaration as a tax risk once the deadline has passed', async () => {
    const contractDate = chinaDate(clock);
    const recorded = data(await mutate<{ recordPropertyTransaction: { transaction: { id: string; deedTaxStatus: string; deedTaxDueOn: string }; positions: string[] } }>(
      officer,
      'recordPropertyTransaction',
      {
        property: { unitNumber: '370102-0008-1-1201', address: '历下区泉城路 8 号 1 单元 1201', divisionCode: `${STREET}001` },
        seller: { kind: 'LEGAL_PERSON', id: cluster[1] },
        buyer: { kind: 'PERSON', id: buyerId },
        price: '1500000.00',
        contractDate,
      },
      'transaction { id deedTaxStatus deedTaxDueOn } positions',
    )).recordPropertyTransaction;
    const { transaction } = recorded;
    assert.equal(transaction.deedTaxStatus, 'PENDING');
    await graph.catchUp();

    const risks = async () =>
      data(await graph.gql<{ taxRisks: { totalCount: number; edges: { node: { type: string; status: string; dueOn: string; deadlineDays: number; transaction: { id: string }; buyer: { id: string; kind: string }; evidence: Evidence[] } }[] } }>(
        `query ($buyer: ID!) { taxRisks(filter: { buyerId: $buyer }, first: 5) { totalCount edges { node { type status dueOn deadlineDays transaction { id } buyer { id kind } evidence { type eventId position } } } } }`,
        { buyer: buyerId },
        officer,
      )).taxRisks;

    // On the last allowed day nothing is due yet.
    clock = new Date(`${transaction.deedTaxDueOn}T23:59:00+08:00`);
    const onTime = await deadlines.tick();
    assert.deepEqual(onTime.flatMap((r) => r.issued), []);
    await graph.catchUp();
    assert.equal((await risks()).totalCount, 0);

    // The day after, the deadline process raises the risk.
    clock = new Date(clock.getTime() + 2 * DAY);
    const overdue = await deadlines.tick();
    assert.deepEqual(overdue.flatMap((r) => r.issued), [`${transaction.id}:deadline`]);
    await graph.catchUp();
    const { totalCount, edges } = await risks();
    assert.equal(totalCount, 1);
    const risk = edges[0]!.node;
    assert.equal(risk.type, 'DEED_TAX_NOT_DECLARED');
    assert.equal(risk.status, 'OPEN');
    assert.equal(risk.dueOn, transaction.deedTaxDueOn);
    assert.equal(risk.deadlineDays, DEFAULT_DEED_TAX_DEADLINE_DAYS);
    assert.deepEqual(risk.transaction, { id: transaction.id });
    assert.deepEqual(risk.buyer, { id: buyerId, kind: 'PERSON' });
    // The risk cites the flag, an event of the transaction's own stream naming it.
    const stream = await base.runtime.store.readStream(propertyTransactionStreamId(transaction.id));
    assert.ok(recorded.positions.includes(stream[0]!.position), 'the stream begins with the recorded transaction');
    const flag = stream.find((e) => e.type === 'TaxRiskFlagged');
    assert.ok(flag);
    assert.deepEqual(risk.evidence, [{ type: 'TaxRiskFlagged', eventId: flag.eventId, position: flag.position }]);
    assert.equal((flag.data as { transactionId: string }).transactionId, transaction.id);

    // Ticking again issues nothing more.
    assert.deepEqual((await deadlines.tick()).flatMap((r) => r.issued), []);
  });

  it('lists the shell-company signals, with their evidence, of a cluster sharing an address', async () => {
    type Signal = { kind: string; triggered: boolean; threshold: number; observed: number; explanation: string; evidence: (Evidence & { streamId: string })[] };
    const { legalPerson } = data(await graph.gql<{ legalPerson: { shellCompanyAssessment: { score: number; signals: Signal[]; legalPerson: { id: string } } } }>(
      `query ($id: ID!) { legalPerson(id: $id) { shellCompanyAssessment { score legalPerson { id } signals { kind triggered threshold observed explanation evidence { type eventId position streamId } } } } }`,
      { id: cluster[2] },
      officer,
    ));
    const assessment = legalPerson.shellCompanyAssessment;
    assert.equal(assessment.legalPerson.id, cluster[2]);
    const byKind = new Map(assessment.signals.map((s) => [s.kind, s]));
    const shared = byKind.get('SHARED_ADDRESS');
    assert.ok(shared?.triggered, JSON.stringify(assessment.signals));
    assert.equal(shared.observed, CLUSTER_SIZE);
    assert.ok(shared.observed >= shared.threshold);
    const representative = byKind.get('REPRESENTATIVE_OF_MANY');
    assert.ok(representative?.triggered);
    assert.equal(representative.observed, CLUSTER_SIZE);
    assert.ok(assessment.score > 0);

    // Every company of the cluster is cited by the event that registered it at the address.
    const registrations = (await base.runtime.store.readAll({ filter: { types: ['LegalPersonRegistered'] } })).filter((e) => cluster.includes((e.data as { legalPersonId: string }).legalPersonId));
    assert.equal(registrations.length, CLUSTER_SIZE);
    for (const event of registrations) {
      assert.ok(
        shared.evidence.some((e) => e.eventId === event.eventId && e.position === event.position && e.streamId === event.streamId && e.type === 'LegalPersonRegistered'),
        `the registration ${event.eventId} is cited`,
      );
    }
    for (const signal of assessment.signals.filter((s) => s.triggered)) assert.ok(signal.evidence.length > 0, `${signal.kind} cites its events`);
  });
});
