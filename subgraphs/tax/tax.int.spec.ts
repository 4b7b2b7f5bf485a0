/**
 * The tax subgraph over HTTP on PGlite and PostgreSQL: the command path (bad input refused with
 * nothing appended, a period declared twice is a CONFLICT, one taxpayer per subject), the read
 * models and entity extensions, the access directives, and the deed-tax deadline process in
 * virtual time (each risk raised exactly once, across a restart, and resolved by a declaration or
 * an exemption).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { comparePositions } from '../../events/position.ts';
import type { Position } from '../../events/types.ts';
import { ProcessManagerRuntime } from '../../projections/processManager.ts';
import { enterpriseRegistration } from '../../test/fixtures/legalPersons.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { backendForSuite } from '../../test/helpers/suiteBackend.ts';
import { testMetadata, waitUntilVisible } from '../../test/helpers/events.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { addDays, chinaDate } from '../kit/calendar.ts';
import { createLegalPersonHandlers } from '../legal-person/handlers.ts';
import { makeCreditCode } from '../legal-person/identity/creditCode.ts';
import { legalPersonModule } from '../legal-person/index.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { createTaxModule } from './index.ts';
import { propertyTransactionStreamId } from './propertyTransaction/events.ts';
import { taxpayerStreamId } from './taxpayer/events.ts';
import { type Body, failure, only, partialWithErrorAt } from '../../test/helpers/graphqlBody.ts';
import { answeredOnceOnRetry, refusedNaming } from '../../test/helpers/commandChecks.ts';

const DAY = 86_400_000;
const COMMUNITY = '370102001001';
const DEADLINE_DAYS = 30;
const ALL_TAX = ['tax.declarations', 'tax.risks', 'audit.log'];
const GRANTS = {
  officer: [grantOf(ALL_TAX, ['READ', 'WRITE'])],
  reader: [grantOf(['tax.declarations'])],
  // An auditor reading histories under masked grants: a history shows no more than the taxpayer's fields.
  'masked-auditor': [grantOf(['tax.declarations', 'audit.log'], ['READ'], true)],
};

type Money = { yuan: string; fen: string };

const DECLARATION = 'id taxType period taxableAmount { yuan } tax { yuan } paid { yuan } outstanding { yuan } amendments';

function taxSuite(makeBackend: () => Promise<TestBackend>): void {
  const backend = backendForSuite(makeBackend);
  let harness: SubgraphHarness;
  let clock: number;
  let latest: Position = '0:0';
  let company: string;
  let buyer: string;
  const module = createTaxModule({ deedTaxDeadlineDays: DEADLINE_DAYS });
  const manager = module.processManagers![0]!;

  const today = () => chinaDate(new Date(clock).toISOString());
  const ask = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, consumer = 'officer') => harness.ask<T>(consumer, query, variables) as Promise<Body<T>>;
  const seen = (positions: readonly Position[]) => {
    for (const p of positions) if (comparePositions(p, latest) > 0) latest = p;
  };
  async function mutate<T = Record<string, unknown>>(name: string, input: Record<string, unknown>, selection: string, consumer = 'officer'): Promise<Body<T>> {
    const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
    const body = await ask<T>(`mutation M($input: ${inputType}!) { ${name}(input: $input) { positions ${selection} } }`, { input }, consumer);
    const payload = body.data?.[name as keyof T] as { positions?: string[] } | undefined;
    seen(payload?.positions ?? []);
    return body;
  }
  /** Waits until every event written so far is visible (PostgreSQL's horizon is cluster-wide), then projects it. */
  async function project(): Promise<void> {
    await waitUntilVisible(harness.store, latest);
    await harness.catchUp();
  }
  /** A process manager runtime as a freshly started process has it: nothing in memory. */
  const deadlines = () => new ProcessManagerRuntime({ store: harness.store, readModels: harness.runtime.readModels, now: () => new Date(clock) }, [manager]);

  async function tick() {
    const [report] = await deadlines().tick();
    assert.ok(report);
    for (const id of [...report.issued, ...report.replayed]) {
      const events = await harness.store.readStream(propertyTransactionStreamId(id.split(':')[0]!));
      seen(events.map((e) => e.position));
    }
    return report;
  }

  async function registerTaxpayer(kind: 'LEGAL_PERSON' | 'PERSON', id: string): Promise<string> {
    const body = await mutate<{ registerTaxpayer: { taxpayer: { id: string } } }>('registerTaxpayer', { subject: { kind, id } }, 'taxpayer { id }');
    return only(body).registerTaxpayer.taxpayer.id;
  }

  async function recordTransaction(contractDate: string, price = '1000000.00'): Promise<string> {
    const input = {
      property: { unitNumber: `370102001001GB${Math.floor(Math.random() * 1e6)}`, address: '历下区经十路100号1-1-101', divisionCode: COMMUNITY },
      seller: { kind: 'LEGAL_PERSON', id: company },
      buyer: { kind: 'PERSON', id: buyer },
      price,
      contractDate,
      provenance: { department: '市自然资源和规划局', system: '不动产登记系统' },
    };
    const body = await mutate<{ recordPropertyTransaction: { transaction: { id: string; sourceDepartment: string; deedTaxStatus: string; deedTaxDueOn: string } } }>(
      'recordPropertyTransaction',
      input,
      'transaction { id sourceDepartment deedTaxStatus deedTaxDueOn }',
    );
    const { transaction } = only(body).recordPropertyTransaction;
    assert.equal(transaction.sourceDepartment, '市自然资源和规划局');
    assert.equal(transaction.deedTaxStatus, 'PENDING');
    assert.equal(transaction.deedTaxDueOn, addDays(contractDate, DEADLINE_DAYS));
    return transaction.id;
  }

  beforeEach(async () => {
    const db = await backend.fresh();
    clock = Date.now();
    latest = '0:0';
    harness = await startSubgraphHarness(db, { module, with: [populationModule, legalPersonModule], grants: GRANTS, now: () => new Date(clock) });
    const ctx = { metadata: testMetadata, now: new Date(clock).toISOString() };
    const residence = { address: '经十路1号', divisionCode: COMMUNITY };
    const population = createPopulationHandlers(harness.store);
    const representative = await population.registerResident(
      { personId: randomUUID(), idNumber: makeIdNumber('370102', '1980-01-01', 11), name: '张建国', gender: 'MALE', birthDate: '1980-01-01', residence },
      ctx,
    );
    const person = await population.registerResident(
      { personId: randomUUID(), idNumber: makeIdNumber('370102', '1985-05-05', 22), name: '李红', gender: 'FEMALE', birthDate: '1985-05-05', residence },
      ctx,
    );
    buyer = person.id;
    const registered = await createLegalPersonHandlers(harness.store).registerLegalPerson(
      enterpriseRegistration(representative.id, 'MA3C0001', {
        name: '济南示例置业有限公司',
        registeredCapitalFen: 10_000_000_00,
        industry: { section: 'K', name: '房地产开发经营' },
      }),
      ctx,
    );
    company = registered.id;
    seen([...representative.events, ...person.events, ...registered.events].map((e) => e.position));
  });
  afterEach(async () => {
    await harness.close();
  });

  describe('taxpayers', () => {
    it('serves a history\'s payloads through the same policy as the fields: a masked reader never sees the clear taxpayer number', async () => {
      const taxpayerId = await registerTaxpayer('PERSON', buyer);
      await project();
      type Read = { taxpayer: { taxpayerNumber: string; name: string; history: { type: string; data: { taxpayerNumber?: string; name?: string } }[] } };
      const query = 'query T($id: ID!) { taxpayer(id: $id) { taxpayerNumber name history { type data } } }';
      const clear = only(await ask<Read>(query, { id: taxpayerId })).taxpayer;
      const masked = only(await ask<Read>(query, { id: taxpayerId }, 'masked-auditor')).taxpayer;
      assert.match(clear.taxpayerNumber, /^3701\d{13}[\dX]$/);
      assert.equal(clear.history[0]?.data.taxpayerNumber, clear.taxpayerNumber, 'an unmasked reader sees it in the history too');
      assert.match(masked.taxpayerNumber, /^3701\*{10}.{4}$/);
      assert.equal(masked.history[0]?.type, 'TaxpayerRegistered');
      assert.equal(masked.history[0]?.data.taxpayerNumber, masked.taxpayerNumber, 'the history masks it as the field does');
      assert.equal(masked.history[0]?.data.name, masked.name);
      assert.ok(!JSON.stringify(masked).includes(clear.taxpayerNumber), 'the clear number appears nowhere in the answer');
    });

    it('registers a legal person and a person from their registers, one taxpayer each', async () => {
      const body = only(
        await mutate<{ registerTaxpayer: { revision: number; taxpayer: { kind: string; name: string; taxpayerNumber: string; divisionCode: string } } }>(
          'registerTaxpayer',
          { subject: { kind: 'LEGAL_PERSON', id: company } },
          'revision taxpayer { kind name taxpayerNumber divisionCode }',
        ),
      );
      assert.deepEqual(body.registerTaxpayer.taxpayer, {
        kind: 'LEGAL_PERSON',
        name: '济南示例置业有限公司',
        taxpayerNumber: makeCreditCode({ divisionCode: '370102', organizationCode: 'MA3C0001' }),
        divisionCode: '370102001',
      });
      const personTaxpayer = await registerTaxpayer('PERSON', buyer);

      const again = failure(await mutate('registerTaxpayer', { subject: { kind: 'LEGAL_PERSON', id: company } }, 'taxpayer { id }'), 'CONFLICT');
      assert.match(again.message, /already registered to another taxpayer/);
      const ghost = randomUUID();
      assert.equal(failure(await mutate('registerTaxpayer', { subject: { kind: 'LEGAL_PERSON', id: ghost } }, 'taxpayer { id }'), 'BAD_USER_INPUT').extensions?.field, 'subject.id');
      assert.equal(await harness.store.streamRevision(`tax.taxpayer-subject-legal-person.${ghost}`), undefined, 'a refused registration leaves no claim');

      await project();
      const entities = only(
        await ask<{ _entities: { taxpayer: { id: string; kind: string } | null }[] }>(
          `query E($r: [_Any!]!) { _entities(representations: $r) { ... on LegalPerson { taxpayer { id kind } } ... on Person { taxpayer { id kind } } } }`,
          { r: [{ __typename: 'LegalPerson', id: company }, { __typename: 'Person', id: buyer }, { __typename: 'Person', id: randomUUID() }] },
        ),
      );
      assert.equal(entities._entities[0]?.taxpayer?.kind, 'LEGAL_PERSON');
      assert.deepEqual(entities._entities[1]?.taxpayer, { id: personTaxpayer, kind: 'PERSON' });
      assert.equal(entities._entities[2]?.taxpayer, null);
    });
  });

  describe('references and retries', () => {
    it('refuses every reference to a party, transaction or division that does not exist as BAD_USER_INPUT naming the field, appending nothing', async () => {
      const taxpayerId = await registerTaxpayer('PERSON', buyer);
      const nobody = randomUUID();
      const send = (name: string, input: Record<string, unknown>) => () => mutate(name, input, 'revision');
      const transaction = (overrides: Record<string, unknown>) => ({
        property: { unitNumber: '370102001001GB1', address: '历下区经十路100号1-1-101', divisionCode: COMMUNITY },
        seller: { kind: 'LEGAL_PERSON', id: company },
        buyer: { kind: 'PERSON', id: buyer },
        price: '1000000.00',
        contractDate: today(),
        ...overrides,
      });
      const cases: [field: string, send: () => Promise<Body>][] = [
        ['subject.id', send('registerTaxpayer', { subject: { kind: 'LEGAL_PERSON', id: nobody } })],
        ['subject.id', send('registerTaxpayer', { subject: { kind: 'PERSON', id: nobody } })],
        ['propertyTransactionId', send('declareTax', { taxpayerId, taxType: 'DEED_TAX', period: today().slice(0, 7), taxableAmount: '1000000.00', tax: '10000.00', propertyTransactionId: nobody })],
        ['seller.id', send('recordPropertyTransaction', transaction({ seller: { kind: 'LEGAL_PERSON', id: nobody } }))],
        ['buyer.id', send('recordPropertyTransaction', transaction({ buyer: { kind: 'PERSON', id: nobody } }))],
        ['buyer.id', send('recordPropertyTransaction', transaction({ buyer: { kind: 'LEGAL_PERSON', id: buyer } }))],
        ['property.divisionCode', send('recordPropertyTransaction', transaction({ property: { unitNumber: 'x', address: 'y', divisionCode: '370102001999' } }))],
      ];
      for (const [field, sendIt] of cases) await refusedNaming(harness.store, field, sendIt);
      // The mutation's own target is another matter: a declaration for an unknown taxpayer is NOT_FOUND.
      failure(await mutate('declareTax', { taxpayerId: nobody, taxType: 'VAT', period: today().slice(0, 7), taxableAmount: '1.00', tax: '0.13' }, 'revision'), 'NOT_FOUND');
    });

    it('answers a create re-sent with the same idempotency key with its first result, appending nothing; the same key naming another subject is a CONFLICT', async () => {
      type Registered = { registerTaxpayer: { positions: string[]; taxpayer: { id: string } } };
      const register = (id: string) => () => mutate<Registered>('registerTaxpayer', { subject: { kind: 'PERSON', id }, idempotencyKey: 'taxpayer-1' }, 'taxpayer { id }');
      const registered = await answeredOnceOnRetry(harness.store, register(buyer), (d) => d.registerTaxpayer);
      assert.equal(registered.positions.length, 2, 'the subject claim and the registration, both times');
      const before = await harness.store.committedHead();
      assert.match(failure(await register(company)(), 'CONFLICT').message, /idempotency key|already/);
      assert.equal(await harness.store.committedHead(), before, 'nothing appended for the other subject');
      const taxpayerId = registered.taxpayer.id;

      const month = today().slice(0, 7);
      type Declared = { declareTax: { positions: string[]; declaration: { id: string } } };
      const declare = (tax: string) => () => mutate<Declared>('declareTax', { taxpayerId, taxType: 'VAT', period: month, taxableAmount: '100.00', tax, idempotencyKey: 'declare-1' }, 'declaration { id }');
      const declared = await answeredOnceOnRetry(harness.store, declare('13.00'), (d) => d.declareTax);
      // The key names the command, not its content: changed input with the same key answers the first result.
      await answeredOnceOnRetry(harness.store, declare('12.00'), (d) => assert.deepEqual(d.declareTax, declared));
      type Paid = { payTax: { positions: string[] } };
      const pay = () => mutate<Paid>('payTax', { taxpayerId, declarationId: declared.declaration.id, amount: '13.00', idempotencyKey: 'pay-1' }, 'revision');
      await answeredOnceOnRetry(harness.store, pay, (d) => d.payTax.positions);

      type Recorded = { recordPropertyTransaction: { positions: string[]; transaction: { id: string } } };
      const record = () =>
        mutate<Recorded>(
          'recordPropertyTransaction',
          {
            property: { unitNumber: '370102001001GB7', address: '历下区经十路100号1-1-701', divisionCode: COMMUNITY },
            seller: { kind: 'LEGAL_PERSON', id: company },
            buyer: { kind: 'PERSON', id: buyer },
            price: '1000000.00',
            contractDate: today(),
            idempotencyKey: 'transaction-1',
          },
          'transaction { id }',
        );
      await answeredOnceOnRetry(harness.store, record, (d) => d.recordPropertyTransaction);
    });
  });

  describe('old data', () => {
    it('serves a transaction recorded in a division the catalog no longer holds, with an error at that field only', async () => {
      // Old data: a transaction recorded before codes were checked, in a community since retired.
      const transactionId = randomUUID();
      await harness.store.append(propertyTransactionStreamId(transactionId), [
        {
          type: 'PropertyTransactionRecorded',
          data: {
            transactionId,
            property: { unitNumber: 'GB-OLD', address: '旧址', divisionCode: '370102001999' },
            seller: { kind: 'LEGAL_PERSON', id: company },
            buyer: { kind: 'PERSON', id: buyer },
            priceFen: 100_000_000,
            contractDate: today(),
          },
          metadata: testMetadata,
        },
      ]);
      await harness.catchUp();
      type One = { propertyTransaction: { id: string; property: { address: string; division: { code: string } | null } } };
      const body = await ask<One>('query T($id: ID!) { propertyTransaction(id: $id) { id property { address division { code } } } }', { id: transactionId });
      const data = partialWithErrorAt(body, ['propertyTransaction', 'property', 'division']);
      assert.deepEqual(data.propertyTransaction, { id: transactionId, property: { address: '旧址', division: null } });
    });
  });

  describe('declarations', () => {
    it('refuses malformed or impossible amounts and periods, and appends nothing', async () => {
      const taxpayerId = await registerTaxpayer('LEGAL_PERSON', company);
      const revision = await harness.store.streamRevision(taxpayerStreamId(taxpayerId));
      const month = today().slice(0, 7);
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ taxableAmount: '1.234' }, /taxableAmount "1.234" is not an amount/],
        [{ taxableAmount: 'NaN' }, /taxableAmount "NaN" is not an amount/],
        [{ tax: '-5.00' }, /tax must not be negative/],
        [{ tax: '200.01' }, /exceeds the taxable amount 200.00/],
        [{ period: '2026-13' }, /not a tax period/],
        [{ period: `${Number(month.slice(0, 4)) + 1}-01` }, /has not begun/],
        [{ taxType: 'INDIVIDUAL_INCOME_TAX' }, /not declared by a LEGAL_PERSON/],
      ];
      for (const [change, message] of cases) {
        const input = { taxpayerId, taxType: 'VAT', period: month, taxableAmount: '200.00', tax: '26.00', ...change };
        assert.match(failure(await mutate('declareTax', input, 'declaration { id }'), 'BAD_USER_INPUT').message, message);
      }
      failure(await mutate('declareTax', { taxpayerId: randomUUID(), taxType: 'VAT', period: month, taxableAmount: '1.00', tax: '0.13' }, 'declaration { id }'), 'NOT_FOUND');
      const literal = await ask(`mutation { declareTax(input: { taxpayerId: "${taxpayerId}", taxType: VAT, period: "${month}", taxableAmount: 1.5, tax: "0.10" }) { positions } }`);
      assert.ok(literal.errors?.length, 'a number literal is not an amount');
      assert.equal(await harness.store.streamRevision(taxpayerStreamId(taxpayerId)), revision);
    });

    it('declares once per tax type and period, amends, takes payments up to what is outstanding', async () => {
      const taxpayerId = await registerTaxpayer('LEGAL_PERSON', company);
      const period = addDays(`${today().slice(0, 7)}-01`, -1).slice(0, 7);
      type Declared = { declareTax: { declaration: { id: string; taxableAmount: Money; tax: Money; outstanding: Money } } };
      const declared = only(await mutate<Declared>('declareTax', { taxpayerId, taxType: 'VAT', period, taxableAmount: '100000.00', tax: '13000.00' }, `declaration { ${DECLARATION} }`));
      const { id: declarationId } = declared.declareTax.declaration;
      assert.deepEqual(declared.declareTax.declaration.tax, { yuan: '13000.00' });

      const twice = failure(await mutate('declareTax', { taxpayerId, taxType: 'VAT', period, taxableAmount: '0', tax: '0' }, 'declaration { id }'), 'CONFLICT');
      assert.match(twice.message, new RegExp(`VAT for ${period} has already been declared.*amendDeclaration`));
      assert.equal(await harness.store.streamRevision(taxpayerStreamId(taxpayerId)), 1, 'the conflicting declaration appended nothing');

      type Changed = { declaration: { tax: Money; paid: Money; outstanding: Money; amendments: number } };
      const amended = only(await mutate<{ amendDeclaration: Changed }>('amendDeclaration', { taxpayerId, declarationId, taxableAmount: '120000.10', tax: '15600.01', reason: '漏报收入' }, `declaration { ${DECLARATION} }`));
      assert.deepEqual(amended.amendDeclaration.declaration.tax, { yuan: '15600.01' });
      assert.equal(amended.amendDeclaration.declaration.amendments, 1);
      const paid = only(await mutate<{ payTax: Changed }>('payTax', { taxpayerId, declarationId, amount: '15000.00' }, `declaration { ${DECLARATION} }`));
      assert.deepEqual(paid.payTax.declaration.outstanding, { yuan: '600.01' });
      assert.match(failure(await mutate('payTax', { taxpayerId, declarationId, amount: '600.02' }, 'declaration { id }'), 'BAD_USER_INPUT').message, /exceeds the 600.01 outstanding/);

      await project();
      type Read = { taxpayer: { declaredTotal: Money; paidTotal: Money; outstanding: Money; declarations: { totalCount: number; edges: { node: { id: string } }[] }; history: { type: string }[] } };
      const read = only(await ask<Read>(`query T($id: ID!) { taxpayer(id: $id) { declaredTotal { yuan fen } paidTotal { yuan } outstanding { yuan } declarations(taxType: VAT) { totalCount edges { node { id } } } history { type } } }`, { id: taxpayerId }));
      assert.deepEqual(read.taxpayer.declaredTotal, { yuan: '15600.01', fen: '1560001' });
      assert.deepEqual(read.taxpayer.outstanding, { yuan: '600.01' });
      assert.equal(read.taxpayer.declarations.totalCount, 1);
      assert.deepEqual(read.taxpayer.history.map((e) => e.type), ['TaxpayerRegistered', 'TaxDeclared', 'TaxDeclarationAmended', 'TaxPaid']);
      const division = only(await ask<{ _entities: { tax: { declaredTotal: Money } }[] }>(`query { _entities(representations: [{ __typename: "Division", code: "370102" }]) { ... on Division { tax { declaredTotal { yuan } } } } }`));
      assert.deepEqual(division._entities[0]?.tax.declaredTotal, { yuan: '15600.01' });
    });
  });

  describe('the deed-tax deadline', () => {
    it('flags an undeclared transaction once after the deadline, across a restart, and the declaration resolves it', async () => {
      const contractDate = addDays(today(), -5);
      const transactionId = await recordTransaction(contractDate);
      await project();
      assert.deepEqual((await tick()).issued, [], 'not overdue yet');

      clock += (DEADLINE_DAYS - 4) * DAY; // the day after the last allowed day, in China time at least
      const first = await tick();
      assert.deepEqual(first.issued, [`${transactionId}:deadline`]);
      const restarted = await tick(); // a new process, before the projector has seen the flag
      assert.deepEqual(restarted.issued, []);
      assert.deepEqual(restarted.replayed, [`${transactionId}:deadline`]);
      const flags = (await harness.store.readStream(propertyTransactionStreamId(transactionId))).filter((e) => e.type === 'TaxRiskFlagged');
      assert.equal(flags.length, 1);
      assert.equal((flags[0]?.data as { transactionId: string }).transactionId, transactionId);
      assert.equal(flags[0]?.metadata.actor.consumerId, `process-manager:${manager.name}`);

      await project();
      assert.deepEqual((await tick()).issued, [], 'the flag took the deadline off the schedule');
      type Risks = { taxRisks: { totalCount: number; edges: { node: { id: string; status: string; transaction: { id: string }; dueOn: string; evidence: { eventId: string }[] } }[] } };
      const open = only(await ask<Risks>(`{ taxRisks(filter: { divisionCode: "370102", status: OPEN }) { totalCount edges { node { id status dueOn transaction { id } evidence { eventId } } } } }`));
      assert.equal(open.taxRisks.totalCount, 1);
      assert.equal(open.taxRisks.edges[0]?.node.transaction.id, transactionId);
      assert.equal(open.taxRisks.edges[0]?.node.dueOn, addDays(contractDate, DEADLINE_DAYS));
      assert.deepEqual(open.taxRisks.edges[0]?.node.evidence, [{ eventId: flags[0]?.eventId }]);
      const riskOpen = async () =>
        only(await ask<{ _entities: { tax: { riskOpen: number } }[] }>(`query { _entities(representations: [{ __typename: "Division", code: "${COMMUNITY}" }]) { ... on Division { tax { riskOpen } } } }`))._entities[0]?.tax.riskOpen;
      assert.equal(await riskOpen(), 1);

      const taxpayerId = await registerTaxpayer('PERSON', buyer);
      const wrongBuyer = await registerTaxpayer('LEGAL_PERSON', company);
      const deed = { taxType: 'DEED_TAX', period: today().slice(0, 7), taxableAmount: '1000000.00', tax: '30000.00', propertyTransactionId: transactionId };
      assert.match(failure(await mutate('declareTax', { ...deed, taxpayerId: wrongBuyer }, 'declaration { id }'), 'BAD_USER_INPUT').message, /declared by its buyer/);
      const declared = only(await mutate<{ declareTax: { declaration: { id: string } } }>('declareTax', { ...deed, taxpayerId }, 'declaration { id }'));
      await project();
      clock += 60_000; // a moment after the declaration, the manager matches it
      assert.deepEqual((await tick()).issued, [`${transactionId}:match`]);
      await project();

      type Resolved = { taxRisks: { edges: { node: { status: string; resolution: string; resolvedByDeclaration: { id: string }; evidence: { eventId: string }[]; transaction: { deedTaxStatus: string } } }[] } };
      const resolved = only(await ask<Resolved>(`{ taxRisks(filter: { buyerId: "${buyer}" }) { edges { node { status resolution resolvedByDeclaration { id } evidence { eventId } transaction { deedTaxStatus } } } } }`));
      const risk = resolved.taxRisks.edges[0]?.node;
      assert.equal(risk?.status, 'RESOLVED');
      assert.equal(risk.resolution, 'DECLARED');
      assert.equal(risk.resolvedByDeclaration.id, declared.declareTax.declaration.id);
      assert.equal(risk.evidence.length, 2, 'the flag and the resolution');
      assert.equal(risk.transaction.deedTaxStatus, 'DECLARED');
      assert.equal(await riskOpen(), 0);
      clock += 60 * DAY;
      assert.deepEqual((await tick()).issued, []);
    });

    it('raises no risk for a declaration in time, and an exemption resolves a risk', async () => {
      const declaredInTime = await recordTransaction(addDays(today(), -3));
      const undeclared = await recordTransaction(addDays(today(), -3), '2500000.00');
      const taxpayerId = await registerTaxpayer('PERSON', buyer);
      only(await mutate('declareTax', { taxpayerId, taxType: 'DEED_TAX', period: today().slice(0, 7), taxableAmount: '1000000.00', tax: '10000.00', propertyTransactionId: declaredInTime }, 'declaration { id }'));
      await project();
      clock += 60_000;
      assert.deepEqual((await tick()).issued, [`${declaredInTime}:match`]);
      await project();

      clock += DEADLINE_DAYS * DAY;
      assert.deepEqual((await tick()).issued, [`${undeclared}:deadline`]);
      await project();
      const exemption = { transactionId: undeclared, basis: '《中华人民共和国契税法》第七条', documentNo: '济历税减〔2026〕101号', reason: '征收拆迁安置住房' };
      type Exempted = { recordTaxExemption: { transaction: { deedTaxStatus: string; exemption: { documentNo: string } } } };
      const exempted = only(await mutate<Exempted>('recordTaxExemption', exemption, 'transaction { deedTaxStatus exemption { documentNo } }'));
      assert.equal(exempted.recordTaxExemption.transaction.deedTaxStatus, 'EXEMPT');
      failure(await mutate('recordTaxExemption', exemption, 'transaction { id }'), 'CONFLICT');
      failure(await mutate('recordTaxExemption', { ...exemption, transactionId: declaredInTime }, 'transaction { id }'), 'INVALID_TRANSITION');
      await project();

      type Risks = { taxRisks: { totalCount: number; edges: { node: { transaction: { id: string }; status: string; resolution: string; exemptionDocumentNo: string } }[] } };
      const risks = only(await ask<Risks>(`{ taxRisks { totalCount edges { node { status resolution exemptionDocumentNo transaction { id } } } } }`));
      assert.equal(risks.taxRisks.totalCount, 1, 'the transaction declared in time raised none');
      assert.deepEqual(risks.taxRisks.edges[0]?.node, { status: 'RESOLVED', resolution: 'EXEMPTED', exemptionDocumentNo: exemption.documentNo, transaction: { id: undeclared } });
    });
  });

  describe('access', () => {
    it('serves only granted resources and refuses writes without a WRITE grant', async () => {
      const taxpayerId = await registerTaxpayer('LEGAL_PERSON', company);
      await project();
      const body = await ask<{ taxpayer: { name: string } | null; taxRisks: unknown }>(`query { taxpayer(id: "${taxpayerId}") { name } taxRisks { totalCount } }`, undefined, 'reader');
      assert.equal(body.data?.taxpayer?.name, '济南示例置业有限公司');
      const refused = body.errors?.find((e) => e.path?.[0] === 'taxRisks');
      assert.equal(refused?.extensions?.code, 'FORBIDDEN');
      assert.equal(refused.extensions.resource, 'tax.risks');
      failure(await mutate('registerTaxpayer', { subject: { kind: 'PERSON', id: buyer } }, 'taxpayer { id }', 'reader'), 'FORBIDDEN');
      assert.equal(await harness.store.streamRevision(`tax.taxpayer-subject-person.${buyer}`), undefined);
    });
  });
}

for (const makeBackend of BACKENDS) {
  describe(`tax subgraph on ${makeBackend.name.replace('Backend', '')}`, () => taxSuite(makeBackend));
}
