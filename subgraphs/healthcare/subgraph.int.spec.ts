/**
 * The healthcare subgraph served by the kit's server over HTTP, with grants and access records from
 * the governance events, on both SQL backends: records and claims through the mutations, the claim
 * list, statistics and entity fields, and refusals with their codes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { BACKENDS } from '../../test/helpers/databases.ts';
import { testMetadata, waitForCommitted } from '../../test/helpers/events.ts';
import { testGrants } from '../../test/helpers/grants.ts';
import { startSubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { answeredOnceOnRetry, refusedNaming } from '../../test/helpers/commandChecks.ts';
import type { Body } from '../../test/helpers/graphqlBody.ts';
import { addDays, chinaDate } from '../kit/calendar.ts';
import { personEventDefinitions, personStreamId } from '../population/person/events.ts';
import { healthcareModule } from './index.ts';

type Errors = { message: string; extensions?: Record<string, unknown> }[] | undefined;

const SUBMIT = `mutation Submit($input: SubmitClaimInput!) {
  submitClaim(input: $input) { claim { id status total { fen yuan currency } allowedNextSteps flags { ruleId explanation evidence { type eventId position } } } positions }
}`;
const VISIT = `mutation Visit($input: RecordMedicalVisitInput!) {
  recordMedicalVisit(input: $input) { healthRecord { closed revision visits(first: 5) { totalCount edges { node { hospital { code } diagnoses visitDate } } } } positions }
}`;

for (const openBackend of BACKENDS) {
  test(`healthcare subgraph on ${openBackend.name.replace('Backend', '')}`, async (t) => {
    const today = () => chinaDate(new Date().toISOString());

    const ask = <D = Record<string, unknown>>(consumerId: string, query: string, variables?: Record<string, unknown>) =>
      harness.ask<D>(consumerId, query, variables) as { data?: D | null; errors?: Errors };

    await using backend = await openBackend();
    const db = await backend.fresh();
    await using harness = await startSubgraphHarness(db, { module: healthcareModule, events: personEventDefinitions, grants: 'governance' });
    const { store, runtime, runner } = harness;
    const grants = testGrants(store, runtime.now);
    await grants.grant('insurer', ['healthcare.records', 'healthcare.claims', 'audit.log'], { actions: ['READ', 'WRITE'] });
    await grants.grant('records-only', ['healthcare.records'], { actions: ['READ'] });

    async function registerPerson(dateOfDeath?: string): Promise<string> {
      const personId = randomUUID();
      await store.append(personStreamId(personId), [
        {
          type: 'PersonRegistered',
          data: { personId, idNumber: '34052419800101001X', name: '李明', gender: 'MALE', birthDate: '1980-01-01', residence: { address: '历下区 1 号', divisionCode: '370102002001' }, reason: 'HOUSEHOLD_REGISTRATION' },
          metadata: testMetadata,
        },
        ...(dateOfDeath ? [{ type: 'PersonDeceased', data: { personId, dateOfDeath }, metadata: testMetadata }] : []),
      ]);
      await runner.catchUp();
      return personId;
    }

    await t.test('records a visit, passes a claim for it and settles it; an unvisited hospital is held with its flag', async () => {
      const personId = await registerPerson();
      const day = addDays(today(), -2);
      const visited = await ask<{ recordMedicalVisit: { healthRecord: { visits: { totalCount: number; edges: { node: { hospital: { code: string }; diagnoses: string[] } }[] } } } }>(
        'insurer',
        VISIT,
        { input: { personId, hospitalCode: 'H37010203', department: '心血管内科', diagnoses: ['i10'], visitedAt: `${day}T09:00:00+08:00` } },
      );
      assert.equal(visited.errors, undefined, JSON.stringify(visited.errors));
      assert.equal(visited.data?.recordMedicalVisit.healthRecord.visits.totalCount, 1);
      assert.deepEqual(visited.data?.recordMedicalVisit.healthRecord.visits.edges[0]?.node.diagnoses, ['I10']);
      await runner.catchUp();

      const items = [{ code: '001102000010000', name: '普通门诊诊查费', quantity: 1, unitPrice: '10.00' }];
      const passed = await ask<{ submitClaim: { claim: { id: string; status: string; total: { fen: string; yuan: string; currency: string }; allowedNextSteps: string[] } } }>('insurer', SUBMIT, {
        input: { personId, hospitalCode: 'H37010203', serviceDate: day, items },
      });
      assert.equal(passed.errors, undefined, JSON.stringify(passed.errors));
      assert.deepEqual(
        [passed.data?.submitClaim.claim.status, passed.data?.submitClaim.claim.total, passed.data?.submitClaim.claim.allowedNextSteps],
        ['PASSED', { fen: '1000', yuan: '10.00', currency: 'CNY' }, ['settleClaim']],
      );
      const settled = await ask<{ settleClaim: { claim: { status: string; settledAmount: { yuan: string } } } }>(
        'insurer',
        `mutation S($input: SettleClaimInput!) { settleClaim(input: $input) { claim { status settledAmount { yuan } } } }`,
        { input: { claimId: passed.data!.submitClaim.claim.id } },
      );
      assert.deepEqual(settled.data?.settleClaim.claim, { status: 'SETTLED', settledAmount: { yuan: '10.00' } });

      const held = await ask<{ submitClaim: { claim: { status: string; flags: { ruleId: string; evidence: { type: string }[] }[] } } }>('insurer', SUBMIT, {
        input: { personId, hospitalCode: 'H37010401', serviceDate: day, items },
      });
      assert.equal(held.data?.submitClaim.claim.status, 'HELD');
      assert.deepEqual(held.data?.submitClaim.claim.flags.map((f) => [f.ruleId, f.evidence.map((e) => e.type)]), [['NO_VISIT_AT_HOSPITAL', ['MedicalVisitRecorded']]]);

      await runner.catchUp();
      const listed = await ask<{
        claims: { totalCount: number; edges: { node: { status: string; hospital: { code: string } } }[] };
        hospitalFlagStatistics: { hospital: { code: string }; claims: number; heldNow: number; byRule: { ruleId: string; claims: number }[] }[];
        _entities: { healthRecord: { visits: { totalCount: number } } | null }[];
        division: { healthcare: { visits: number; claims: number; heldClaims: number } }[];
      }>(
        'insurer',
        `query($p: ID!) {
          claims(filter: { personId: $p, flagged: true }, first: 10) { totalCount edges { node { status hospital { code } } } }
          hospitalFlagStatistics { hospital { code } claims heldNow byRule { ruleId claims } }
          _entities(representations: [{ __typename: "Person", id: $p }]) { ... on Person { healthRecord { visits { totalCount } } } }
          division: _entities(representations: [{ __typename: "Division", code: "370102002" }]) { ... on Division { healthcare { visits claims heldClaims } } }
        }`,
        { p: personId },
      );
      assert.equal(listed.errors, undefined, JSON.stringify(listed.errors));
      assert.equal(listed.data?.claims.totalCount, 1);
      assert.deepEqual(listed.data?.claims.edges[0]?.node, { status: 'HELD', hospital: { code: 'H37010401' } });
      assert.deepEqual(listed.data?.hospitalFlagStatistics[0], { hospital: { code: 'H37010401' }, claims: 1, heldNow: 1, byRule: [{ ruleId: 'NO_VISIT_AT_HOSPITAL', claims: 1 }] });
      assert.equal(listed.data?._entities[0]?.healthRecord?.visits.totalCount, 1);
      assert.deepEqual(listed.data?.division[0]?.healthcare, { visits: 1, claims: 2, heldClaims: 1 });
    });

    await t.test('holds a claim for a person whose death was registered the week before, naming the PersonDeceased event', async () => {
      const personId = await registerPerson(addDays(today(), -7));
      const [, death] = await store.readStream(personStreamId(personId));
      const result = await ask<{ submitClaim: { claim: { status: string; flags: { ruleId: string; evidence: { type: string; eventId: string; position: string }[] }[] } } }>('insurer', SUBMIT, {
        input: { personId, hospitalCode: 'H37010201', serviceDate: addDays(today(), -1), items: [{ code: '250101015000000', name: '血常规检查', quantity: 1, unitPrice: '20.00' }] },
      });
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      const flag = result.data?.submitClaim.claim.flags.find((f) => f.ruleId === 'DECEASED_BEFORE_SERVICE');
      assert.deepEqual(flag?.evidence, [{ type: 'PersonDeceased', eventId: death!.eventId, position: death!.position }]);
    });

    const mutation = (name: string, selection: string) => `mutation M($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { ${selection} } }`;
    const at = (daysAgo: number) => `${addDays(today(), -daysAgo)}T09:00:00+08:00`;
    const ITEMS = [{ code: '001102000010000', name: '普通门诊诊查费', quantity: 1, unitPrice: '10.00' }];

    await t.test('refuses every reference to a patient or hospital that does not exist as BAD_USER_INPUT naming the field, appending nothing', async () => {
      const personId = await registerPerson();
      const stranger = randomUUID();
      const send = (name: string, input: Record<string, unknown>) => () => ask(`insurer`, mutation(name, 'positions'), { input }) as Promise<Body>;
      const visit = { hospitalCode: 'H37010203', department: '内科', diagnoses: ['I10'], visitedAt: at(1) };
      const exam = { examType: 'CBC', hospitalCode: 'H37010203', result: '正常', abnormal: false, performedAt: at(1) };
      const vaccination = { vaccine: 'HEPB', dose: 1, hospitalCode: 'H37010203', administeredAt: at(1) };
      const claim = { hospitalCode: 'H37010203', serviceDate: addDays(today(), -1), items: ITEMS };
      const cases: [field: string, send: () => Promise<Body>][] = [
        ['personId', send('recordMedicalVisit', { personId: stranger, ...visit })],
        ['hospitalCode', send('recordMedicalVisit', { personId, ...visit, hospitalCode: 'H00000000' })],
        ['personId', send('recordExamResult', { personId: stranger, ...exam })],
        ['hospitalCode', send('recordExamResult', { personId, ...exam, hospitalCode: 'H00000000' })],
        ['personId', send('recordVaccination', { personId: stranger, ...vaccination })],
        ['hospitalCode', send('recordVaccination', { personId, ...vaccination, hospitalCode: 'H00000000' })],
        ['personId', send('submitClaim', { personId: stranger, ...claim })],
        ['hospitalCode', send('submitClaim', { personId, ...claim, hospitalCode: 'H00000000' })],
      ];
      for (const [field, sendIt] of cases) await refusedNaming(store, field, sendIt);
      // The mutation's own target is another matter: an unknown claim settled is NOT_FOUND.
      assert.equal((await ask('insurer', mutation('settleClaim', 'positions'), { input: { claimId: stranger } })).errors?.[0]?.extensions?.code, 'NOT_FOUND');
    });

    await t.test('answers a create re-sent with the same idempotency key with its first result, appending nothing', async () => {
      const personId = await registerPerson();
      const send = <D>(name: string, selection: string, input: Record<string, unknown>) => () => ask<D>('insurer', mutation(name, selection), { input }) as Promise<Body<D>>;
      const entry = 'positions healthRecord { revision }';
      type Entry = { positions: string[]; healthRecord: { revision: number } };
      const visit = { personId, hospitalCode: 'H37010203', department: '内科', diagnoses: ['I10'], visitedAt: at(2), idempotencyKey: 'visit-1' };
      const visited = await answeredOnceOnRetry(store, send<{ recordMedicalVisit: Entry }>('recordMedicalVisit', entry, visit), (d) => d.recordMedicalVisit);
      // The key names the command, not its content: changed input with the same key answers the first result.
      await answeredOnceOnRetry(store, send<{ recordMedicalVisit: Entry }>('recordMedicalVisit', entry, { ...visit, diagnoses: ['J18.9'] }), (d) =>
        assert.deepEqual(d.recordMedicalVisit, visited),
      );
      const exam = { personId, examType: 'CBC', hospitalCode: 'H37010203', result: '正常', abnormal: false, performedAt: at(2), idempotencyKey: 'exam-1' };
      await answeredOnceOnRetry(store, send<{ recordExamResult: Entry }>('recordExamResult', entry, exam), (d) => d.recordExamResult);
      const vaccination = { personId, vaccine: 'HEPB', dose: 1, hospitalCode: 'H37010203', administeredAt: at(2), idempotencyKey: 'vaccination-1' };
      await answeredOnceOnRetry(store, send<{ recordVaccination: Entry }>('recordVaccination', entry, vaccination), (d) => d.recordVaccination);
      await runner.catchUp();
      const claim = { personId, hospitalCode: 'H37010203', serviceDate: addDays(today(), -2), items: ITEMS, idempotencyKey: 'claim-1' };
      type Claim = { positions: string[]; claim: { id: string } };
      const submitted = await answeredOnceOnRetry(store, send<{ submitClaim: Claim }>('submitClaim', 'positions claim { id }', claim), (d) => d.submitClaim);
      await answeredOnceOnRetry(store, send<{ submitClaim: Claim }>('submitClaim', 'positions claim { id }', { ...claim, items: [{ ...ITEMS[0]!, quantity: 2 }] }), (d) =>
        assert.deepEqual(d.submitClaim, submitted),
      );
      const settle = { claimId: submitted.claim.id, idempotencyKey: 'settle-1' };
      await answeredOnceOnRetry(store, send<{ settleClaim: Claim }>('settleClaim', 'positions claim { id }', settle), (d) => d.settleClaim);
    });

    await t.test('refuses bad input with its code and a consumer without the grant with FORBIDDEN', async () => {
      const personId = await registerPerson();
      await waitForCommitted(db, store);
      const head = await store.headPosition();
      const bad = await ask('insurer', VISIT, { input: { personId, hospitalCode: 'H37010203', department: '内科', diagnoses: ['pneumonia'], visitedAt: new Date().toISOString() } });
      assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      const fractionOfFen = await ask('insurer', SUBMIT, { input: { personId, hospitalCode: 'H37010203', serviceDate: today(), items: [{ code: '001102000010000', name: 'x', quantity: 1, unitPrice: '10.005' }] } });
      assert.equal(fractionOfFen.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(fractionOfFen.errors?.[0]?.message ?? '', /items\[0\]\.unitPrice/);
      const unknown = await ask('insurer', SUBMIT, { input: { personId: randomUUID(), hospitalCode: 'H37010203', serviceDate: today(), items: [{ code: '001102000010000', name: 'x', quantity: 1, unitPrice: '0.01' }] } });
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(unknown.errors?.[0]?.extensions?.field, 'personId');
      const forbidden = await ask('records-only', `{ claims(first: 1) { totalCount } }`);
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const write = await ask('records-only', SUBMIT, { input: { personId, hospitalCode: 'H37010203', serviceDate: today(), items: [{ code: '001102000010000', name: 'x', quantity: 1, unitPrice: '0.01' }] } });
      assert.equal(write.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      // Only access records were appended by the refused requests.
      await waitForCommitted(db, store);
      const appended = await store.readAll({ fromPosition: head });
      assert.deepEqual([...new Set(appended.map((e) => e.type))].filter((t) => t !== 'DataAccessed'), []);
    });
  });
}
