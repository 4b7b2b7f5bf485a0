/**
 * The legal-person subgraph end to end over HTTP on PGlite and PostgreSQL: credit-code validation
 * and uniqueness under concurrency, representatives from the population register, transitions,
 * optimistic concurrency, the read model against its events, connections, `asOf`, history and
 * `Person.representedLegalPersons` batched per request.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { assertDivisionGone } from '../../test/helpers/divisionGone.ts';
import { backendForSuite } from '../../test/helpers/suiteBackend.ts';
import { readCommitted, testMetadata } from '../../test/helpers/events.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { makeCreditCode } from './identity/creditCode.ts';
import { legalPersonModule } from './index.ts';
import { legalPersonStreamId } from './legalPerson/events.ts';
import { LEGAL_PERSONS, LEGAL_PERSONS_PROJECTION, type LegalPersonDoc } from './readModels/legalPersons.ts';
import { legalPersonDecider } from './legalPerson/decider.ts';
import { legalPersonFromDoc, legalPersonFromState } from './views.ts';
import { viewFromEvents } from '../kit/entityViews.ts';
import { type Body, failure, only } from '../../test/helpers/graphqlBody.ts';
import { refusedNaming } from '../../test/helpers/commandChecks.ts';

const GRANTS = {
  registrar: [grantOf(['legal-person.basic', 'legal-person.identity', 'legal-person.write', 'audit.log'], ['READ', 'WRITE'])],
  reader: [grantOf(['legal-person.basic'])],
  // VERIFY on every legal-person resource beside a masked identity grant: still no lookup by credit code.
  verifier: [grantOf(['legal-person.basic', 'legal-person.identity'], ['VERIFY']), grantOf(['legal-person.basic']), grantOf(['legal-person.identity'], ['READ'], true)],
};


const LP_FIELDS = 'id creditCode name type status revision legalRepresentative { id } registeredAddress { address division { code } } registeredCapital { fen yuan currency } industry { section sectionName name } establishedOn annualReports { year employees revenue { yuan } }';

interface LegalPersonResult {
  id: string;
  creditCode: string;
  status: string;
  revision: number;
  legalRepresentative: { id: string };
  registeredCapital: { fen: string; yuan: string; currency: string };
  industry: { section: string; sectionName: string; name: string };
  annualReports: { year: number; employees: number; revenue: { yuan: string } }[];
}

const code = (organization: string, division = '370102') => makeCreditCode({ divisionCode: division, organizationCode: organization });

function legalPersonSuite(makeBackend: () => Promise<TestBackend>): void {
  const backend = backendForSuite(makeBackend);
  let db: SqlDatabase;
  let harness: SubgraphHarness;
  let representative: string;
  let successor: string;

  const ask = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, consumer = 'registrar') => harness.ask<T>(consumer, query, variables) as Promise<Body<T>>;
  const mutate = <T = Record<string, unknown>>(name: string, input: Record<string, unknown>, selection = `revision positions legalPerson { ${LP_FIELDS} }`) =>
    ask<T>(`mutation M($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { ${selection} } }`, { input });

  function registration(creditCode: string, overrides: Record<string, unknown> = {}) {
    return {
      creditCode,
      name: '济南泉城软件科技有限公司',
      type: 'ENTERPRISE',
      legalRepresentativeId: representative,
      registeredAddress: { address: '经十路88号', divisionCode: '370102001001' },
      registeredCapital: '1000000.00',
      industry: { section: 'I', name: '软件开发' },
      establishedOn: '2015-03-01',
      ...overrides,
    };
  }

  async function register(creditCode: string, overrides: Record<string, unknown> = {}): Promise<LegalPersonResult> {
    return only(await mutate<{ registerLegalPerson: { legalPerson: LegalPersonResult } }>('registerLegalPerson', registration(creditCode, overrides))).registerLegalPerson.legalPerson;
  }

  beforeEach(async () => {
    db = await backend.fresh();
    harness = await startSubgraphHarness(db, { module: legalPersonModule, with: [populationModule], grants: GRANTS });
    const population = createPopulationHandlers(harness.store);
    const ctx = { metadata: testMetadata, now: new Date().toISOString() };
    const residence = { address: '解放路1号', divisionCode: '370102001001' };
    representative = (await population.registerResident({ personId: crypto.randomUUID(), idNumber: makeIdNumber('370102', '1980-01-01', 11), name: '张建国', gender: 'MALE', birthDate: '1980-01-01', residence }, ctx)).id;
    successor = (await population.registerResident({ personId: crypto.randomUUID(), idNumber: makeIdNumber('370102', '1982-02-02', 12), name: '李红', gender: 'FEMALE', birthDate: '1982-02-02', residence }, ctx)).id;
  });
  afterEach(async () => {
    await harness.close();
  });

  describe('the command path', () => {
    it('answers a registration re-sent with the same idempotency key with its first result, appending nothing', async () => {
      const input = registration(code('MA3C0009'), { idempotencyKey: 'register-1' });
      const first = only(await mutate<{ registerLegalPerson: { positions: string[]; legalPerson: LegalPersonResult } }>('registerLegalPerson', input)).registerLegalPerson;
      const appended = (await readCommitted(harness.store)).length;
      const again = only(await mutate<{ registerLegalPerson: { positions: string[]; legalPerson: LegalPersonResult } }>('registerLegalPerson', input)).registerLegalPerson;
      assert.equal(again.legalPerson.id, first.legalPerson.id);
      assert.deepEqual(again.positions, first.positions, 'the credit code claim and the registration, both times');
      assert.equal((await readCommitted(harness.store)).length, appended, 'nothing appended');
    });

    it('registers a legal person with exact money, its provenance and the caller as actor', async () => {
      const creditCode = code('MA3C0001');
      const body = only(await mutate<{ registerLegalPerson: { revision: number; positions: string[]; legalPerson: LegalPersonResult } }>('registerLegalPerson', registration(creditCode, { registeredCapital: '12345678.9' })));
      const { legalPerson, positions } = body.registerLegalPerson;
      assert.equal(legalPerson.creditCode, creditCode);
      assert.equal(legalPerson.status, 'ACTIVE');
      assert.equal(legalPerson.legalRepresentative.id, representative);
      assert.deepEqual(legalPerson.registeredCapital, { fen: '1234567890', yuan: '12345678.90', currency: 'CNY' });
      assert.deepEqual(legalPerson.industry, { section: 'I', sectionName: '信息传输、软件和信息技术服务业', name: '软件开发' });
      assert.equal(positions.length, 2, 'the credit code claim and the registration');
      const [registered] = await harness.store.readStream(legalPersonStreamId(legalPerson.id));
      assert.equal(registered?.metadata.provenance.department, '市市场监管局');
      assert.equal(registered.metadata.actor.consumerId, 'registrar');
      assert.equal(registered.metadata.grantId, GRANTS.registrar[0]!.grantId);
    });

    it('refuses a wrong credit code, amount, type or representative with a clear error, and appends nothing', async () => {
      const valid = code('MA3C0002');
      const wrongCheck = valid.slice(0, 17) + (valid.endsWith('0') ? '1' : '0');
      const checkError = failure(await mutate('registerLegalPerson', registration(wrongCheck)), 'BAD_USER_INPUT');
      assert.equal(checkError.extensions?.rule, 'CHECK_CHARACTER');
      assert.equal(failure(await mutate('registerLegalPerson', registration(`${valid.slice(0, 5)}I${valid.slice(6)}`)), 'BAD_USER_INPUT').extensions?.rule, 'CHARACTERS');
      assert.match(failure(await mutate('registerLegalPerson', registration(valid, { registeredCapital: '1,000.00' })), 'BAD_USER_INPUT').message, /registeredCapital must be an amount of yuan/);
      assert.match(failure(await mutate('registerLegalPerson', registration(valid, { registeredCapital: '10.005' })), 'BAD_USER_INPUT').message, /at most two decimals/);
      assert.match(failure(await mutate('registerLegalPerson', registration(valid, { type: 'SOCIAL_ORGANIZATION' })), 'BAD_USER_INPUT').message, /credit code starting with 5/);
      const unknownRepresentative = failure(await mutate('registerLegalPerson', registration(valid, { legalRepresentativeId: crypto.randomUUID() })), 'BAD_USER_INPUT');
      assert.match(unknownRepresentative.message, /not a registered person/);
      assert.equal(unknownRepresentative.extensions?.field, 'legalRepresentativeId');
      assert.deepEqual(await readCommitted(harness.store, { filter: { streamPrefixes: ['legal-person.'] } }), []);
    });

    it('refuses every reference to a person or division that does not exist as BAD_USER_INPUT naming the field, appending nothing', async () => {
      const company = await register(code('MA3C0009'));
      const nobody = crypto.randomUUID();
      const unknownDivision = { address: '经十路1号', divisionCode: '370102001999' };
      const cases: [field: string, send: () => Promise<Body>][] = [
        ['legalRepresentativeId', () => mutate('registerLegalPerson', registration(code('MA3C0010'), { legalRepresentativeId: nobody }))],
        ['registeredAddress.divisionCode', () => mutate('registerLegalPerson', registration(code('MA3C0010'), { registeredAddress: unknownDivision }))],
        ['legalRepresentativeId', () => mutate('changeLegalRepresentative', { legalPersonId: company.id, legalRepresentativeId: nobody, changedOn: '2025-01-01' })],
        ['registeredAddress.divisionCode', () => mutate('changeRegisteredAddress', { legalPersonId: company.id, registeredAddress: unknownDivision, changedOn: '2025-01-01' })],
      ];
      for (const [field, send] of cases) await refusedNaming(harness.store, field, send);
      // The mutation's own target is another matter: an unknown legal person changed is NOT_FOUND.
      failure(await mutate('changeLegalRepresentative', { legalPersonId: nobody, legalRepresentativeId: successor, changedOn: '2025-01-01' }), 'NOT_FOUND');
    });

    it('refuses a second legal person with the same credit code as a CONFLICT, also when registrations race', async () => {
      const creditCode = code('MA3C0003');
      await register(creditCode);
      assert.match(failure(await mutate('registerLegalPerson', registration(creditCode)), 'CONFLICT').message, /credit code .* already registered/);
      const racing = code('MA3C0004');
      const results = await Promise.all(Array.from({ length: 6 }, () => mutate('registerLegalPerson', registration(racing))));
      assert.equal(results.filter((r) => !r.errors).length, 1);
      for (const r of results.filter((r) => r.errors)) failure(r, 'CONFLICT');
      const registrations = (await readCommitted(harness.store, { filter: { types: ['LegalPersonRegistered'] } })).filter((e) => (e.data as { creditCode: string }).creditCode === racing);
      assert.equal(registrations.length, 1);
    });

    it('refuses steps a revoked or deregistered legal person cannot take, and stale revisions', async () => {
      const lp = await register(code('MA3C0005'));
      only(await mutate('fileAnnualReport', { legalPersonId: lp.id, year: 2024, employees: 12, revenue: '250000.50' }));
      const stale = failure(await mutate('changeLegalRepresentative', { legalPersonId: lp.id, legalRepresentativeId: successor, changedOn: '2025-01-01', expectedRevision: 0 }), 'CONFLICT');
      assert.equal(stale.extensions?.actualRevision, 1);
      only(await mutate('revokeLegalPerson', { legalPersonId: lp.id, reason: '未按规定报送年度报告', revokedOn: '2025-02-01', expectedRevision: 1 }));
      const report = failure(await mutate('fileAnnualReport', { legalPersonId: lp.id, year: 2025, employees: 0, revenue: '0' }), 'INVALID_TRANSITION');
      assert.deepEqual([report.extensions?.status, report.extensions?.allowed], ['REVOKED', ['deregisterLegalPerson']]);
      only(await mutate('deregisterLegalPerson', { legalPersonId: lp.id, deregisteredOn: '2025-03-01' }));
      failure(await mutate('changeRegisteredAddress', { legalPersonId: lp.id, registeredAddress: { address: 'x', divisionCode: '370103' }, changedOn: '2025-04-01' }), 'INVALID_TRANSITION');
      assert.equal(await harness.store.streamRevision(legalPersonStreamId(lp.id)), 3);
      failure(await mutate('revokeLegalPerson', { legalPersonId: crypto.randomUUID(), reason: 'x', revokedOn: '2025-01-01' }), 'NOT_FOUND');
    });
  });

  describe('queries', () => {
    it('serves a list holding a legal person recorded in a division the catalog no longer holds, with an error at that field only', async () => {
      await register(code('MA3C0011'));
      // Old data: a registration recorded before codes were checked, in a community since retired.
      const legalPersonId = '00000000-0000-4000-8000-0000000000ff';
      await harness.store.append(legalPersonStreamId(legalPersonId), [
        {
          type: 'LegalPersonRegistered',
          data: {
            ...registration(code('MA3C0012'), { registeredAddress: { address: '旧址', divisionCode: '370102001999' } }),
            legalPersonId,
            registeredCapitalFen: 100_000_000,
            registeredCapital: undefined,
          },
          metadata: testMetadata,
        },
      ]);
      await harness.catchUp();
      await assertDivisionGone(ask, 'legalPersons', 'registeredAddress', legalPersonId, '370102001001');
    });

    it('keeps the read model equal to its events and pages through it with filters', async () => {
      const ids: string[] = [];
      ids.push((await register(code('MA3C0010'))).id);
      ids.push((await register(code('MA3C0011'), { industry: { section: 'F', name: '日用品零售' } })).id);
      ids.push((await register(code('MA3C0012'), { registeredAddress: { address: '槐荫区1号', divisionCode: '370104' } })).id);
      ids.push((await register(code('MA3C0013'), { industry: { section: 'F', name: '日用品零售' } })).id);
      ids.push((await register(code('MA3C0014'))).id);
      only(await mutate('fileAnnualReport', { legalPersonId: ids[0], year: 2023, employees: 3, revenue: '1000' }));
      only(await mutate('changeRegisteredAddress', { legalPersonId: ids[1], registeredAddress: { address: '市中区2号', divisionCode: '370103001001' }, changedOn: '2024-01-01' }));
      only(await mutate('revokeLegalPerson', { legalPersonId: ids[3], reason: '成立后无正当理由超过六个月未开业', revokedOn: '2024-06-01' }));
      await harness.catchUp();

      const collection = harness.runtime.readModels.of(LEGAL_PERSONS_PROJECTION).collection<LegalPersonDoc>(LEGAL_PERSONS);
      for (const id of ids) {
        const doc = await collection.get(id);
        assert.deepEqual(legalPersonFromDoc(doc!.doc), viewFromEvents({ decider: legalPersonDecider, absent: 'UNREGISTERED', fromState: legalPersonFromState }, await harness.store.readStream(legalPersonStreamId(id)), null), id);
      }

      type Page = { legalPersons: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { id: string } }[] } };
      const page = (filter: Record<string, unknown>, first?: number, after?: string | null) =>
        ask<Page>('query($f: LegalPersonFilter, $first: Int, $after: String) { legalPersons(filter: $f, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }', { f: filter, first, after });
      const inLixia: string[] = [];
      let after: string | null = null;
      do {
        const { legalPersons }: Page = only(await page({ divisionCode: '370102' }, 2, after));
        assert.equal(legalPersons.totalCount, 3);
        inLixia.push(...legalPersons.edges.map((e) => e.node.id));
        after = legalPersons.pageInfo.hasNextPage ? legalPersons.pageInfo.endCursor : null;
      } while (after);
      assert.deepEqual(inLixia, [ids[0], ids[3], ids[4]].sort());
      assert.equal(only(await page({ industry: 'F' })).legalPersons.totalCount, 2);
      assert.deepEqual(only(await page({ status: 'REVOKED' })).legalPersons.edges.map((e) => e.node.id), [ids[3]]);
      assert.equal(only(await page({ divisionCode: '370103' })).legalPersons.totalCount, 1);
      failure(await page({}, 5, 'bm9wZQ'), 'BAD_USER_INPUT');

      const byCode = only(await ask<{ legalPersonByCreditCode: { id: string } }>(`{ legalPersonByCreditCode(creditCode: "${code('MA3C0012').toLowerCase()}") { id } }`));
      assert.equal(byCode.legalPersonByCreditCode.id, ids[2]);
      const verifierLookup = await ask<{ legalPersonByCreditCode: unknown }>(`{ legalPersonByCreditCode(creditCode: "${code('MA3C0012')}") { id } }`, undefined, 'verifier');
      assert.equal(verifierLookup.data?.legalPersonByCreditCode, null);
      assert.match(failure(verifierLookup, 'FORBIDDEN').message, /legal-person\.identity in clear/);
      assert.equal(failure(await ask('{ legalPersonByCreditCode(creditCode: "91350100M000100Y44") { id } }'), 'BAD_USER_INPUT').extensions?.rule, 'CHECK_CHARACTER');
      const reader = await ask<{ legalPerson: { name: string; creditCode: string | null } }>(`{ legalPerson(id: "${ids[0]}") { name creditCode } }`, undefined, 'reader');
      assert.equal(reader.data?.legalPerson.creditCode, null);
      failure(reader, 'FORBIDDEN');
    });

    it('answers asOf and history, and lists what each person represents in one batch', async () => {
      const lp = await register(code('MA3C0020'));
      const other = await register(code('MA3C0021'));
      await new Promise((r) => setTimeout(r, 30));
      const before = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 30));
      only(await mutate('changeLegalRepresentative', { legalPersonId: lp.id, legalRepresentativeId: successor, changedOn: '2025-05-01', expectedRevision: 0 }));
      await harness.catchUp();

      type AsOf = { legalPerson: { legalRepresentative: { id: string }; revision: number; history: { type: string; provenance: { channel: string } }[] } };
      const query = 'query($id: ID!, $asOf: DateTime) { legalPerson(id: $id, asOf: $asOf) { revision legalRepresentative { id } history { type provenance { channel } } } }';
      const then = only(await ask<AsOf>(query, { id: lp.id, asOf: before })).legalPerson;
      assert.deepEqual([then.legalRepresentative.id, then.revision, then.history.map((e) => e.type)], [representative, 0, ['LegalPersonRegistered']]);
      const now = only(await ask<AsOf>(query, { id: lp.id })).legalPerson;
      assert.deepEqual([now.legalRepresentative.id, now.history.map((e) => e.type)], [successor, ['LegalPersonRegistered', 'LegalRepresentativeChanged']]);

      const represented = only(
        await ask<{ _entities: { id: string; representedLegalPersons: { totalCount: number; edges: { node: { id: string } }[] } }[] }>(
          'query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id representedLegalPersons(first: 10) { totalCount edges { node { id } } } } } }',
          { r: [representative, successor, crypto.randomUUID()].map((id) => ({ __typename: 'Person', id })) },
        ),
      )._entities;
      assert.deepEqual(represented[0]?.representedLegalPersons.edges.map((e) => e.node.id), [other.id]);
      assert.deepEqual(represented[1]?.representedLegalPersons.edges.map((e) => e.node.id), [lp.id]);
      assert.equal(represented[2]?.representedLegalPersons.totalCount, 0);
      failure(await mutate('changeLegalRepresentative', { legalPersonId: lp.id, legalRepresentativeId: successor, changedOn: '2025-05-02' }), 'BAD_USER_INPUT');
    });
  });
}

for (const makeBackend of BACKENDS) describe(`legal-person subgraph on ${makeBackend.name.replace('Backend', '')}`, () => legalPersonSuite(makeBackend));
