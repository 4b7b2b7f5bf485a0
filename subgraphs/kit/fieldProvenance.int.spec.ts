/**
 * `provenance` and `fieldProvenance(field:)` of Person and LegalPerson over HTTP on PGlite and
 * PostgreSQL: each field names the event that last set it, with where its fact came from, from the
 * read model's per-field sources and one batched read of events by id (no stream folding).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import type { EventMetadata } from '../../events/types.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { testMetadata } from '../../test/helpers/events.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { createLegalPersonHandlers } from '../legal-person/handlers.ts';
import { makeCreditCode } from '../legal-person/identity/creditCode.ts';
import { legalPersonModule } from '../legal-person/index.ts';
import { createPopulationHandlers } from '../population/handlers.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import type { Body } from '../../test/helpers/graphqlBody.ts';
import type { FieldProvenance } from './fieldProvenance.ts';

const GRANTS = {
  auditor: [grantOf(['population.basic', 'legal-person.basic', 'audit.log'])],
  reader: [grantOf(['population.basic', 'legal-person.basic'])],
};


/** What PROVENANCE selects. */
type FieldProvenanceResult = Omit<FieldProvenance, 'collectedAt'>;

const PROVENANCE = 'field eventId type position recordedAt department system channel sourceRecordId';

const source = (department: string, system: string, sourceRecordId: string): EventMetadata => ({
  ...testMetadata,
  provenance: { department, system, channel: 'batch-file', collectedAt: '2026-01-01T00:00:00.000Z', sourceRecordId },
});

const residence = { address: '解放路1号', divisionCode: '370102001001' };
const now = () => new Date().toISOString();

function provenanceSuite(makeBackend: () => Promise<TestBackend>): void {
  let backend: TestBackend;
  let harness: SubgraphHarness | undefined;

  before(async () => {
    backend = await makeBackend();
  });
  after(async () => {
    await backend.dispose();
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function registeredPerson(h: SubgraphHarness) {
    const population = createPopulationHandlers(h.store);
    const personId = randomUUID();
    const registered = await population.registerResident(
      { personId, idNumber: makeIdNumber('370102', '1980-01-01', 11), name: '张建国', gender: 'MALE', birthDate: '1980-01-01', residence },
      { metadata: source('市公安局', 'hukou-system', 'HK-1'), now: now() },
    );
    const moved = await population.changeResidence(
      { personId, residence: { address: '经十路88号', divisionCode: '370102001001' }, movedOn: '2025-06-01' },
      { metadata: source('街道办', 'grid-system', 'GRID-7'), now: now() },
    );
    return { personId, registered: registered.events.at(-1)!, moved: moved.events.at(-1)! };
  }

  describe('Person', () => {
    it('names, for each field, the event that last set it and its source', async () => {
      harness = await startSubgraphHarness(await backend.fresh(), { module: populationModule, grants: GRANTS });
      const { personId, registered, moved } = await registeredPerson(harness);
      await harness.catchUp();

      const body = (await harness.ask('auditor', `query P($id: ID!) { person(id: $id) { name provenance { ${PROVENANCE} } residence: fieldProvenance(field: "residence") { ${PROVENANCE} } } }`, { id: personId })) as Body<{
        person: { name: string; provenance: FieldProvenanceResult[]; residence: FieldProvenanceResult };
      }>;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const person = body.data!.person;
      const byField = new Map(person.provenance.map((p) => [p.field, p]));
      assert.deepEqual(byField.get('name'), {
        field: 'name',
        eventId: registered.eventId,
        type: 'PersonRegistered',
        position: registered.position,
        recordedAt: registered.recordedAt,
        department: '市公安局',
        system: 'hukou-system',
        channel: 'batch-file',
        sourceRecordId: 'HK-1',
      });
      assert.deepEqual(person.residence, { ...byField.get('residence'), field: 'residence' });
      assert.equal(person.residence.eventId, moved.eventId);
      assert.equal(person.residence.type, 'ResidenceChanged');
      assert.equal(person.residence.department, '街道办');
      assert.equal(person.residence.sourceRecordId, 'GRID-7');
      assert.equal(byField.get('age')?.eventId, registered.eventId, 'age rests on the birth date');
    });

    it('refuses an unknown field with BAD_USER_INPUT naming the known ones, and a caller without audit.log', async () => {
      harness = await startSubgraphHarness(await backend.fresh(), { module: populationModule, grants: GRANTS });
      const { personId } = await registeredPerson(harness);
      await harness.catchUp();

      const unknown = (await harness.ask('auditor', `query P($id: ID!) { person(id: $id) { name fieldProvenance(field: "shoeSize") { field } } }`, { id: personId })) as Body<{
        person: { name: string; fieldProvenance: null };
      }>;
      const error = unknown.errors?.[0];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(unknown));
      assert.match(error.message, /Person has no field "shoeSize".*name, gender, birthDate/);
      assert.equal(unknown.data?.person.name, '张建国', 'the rest of the response is served');

      const refused = (await harness.ask('reader', `query P($id: ID!) { person(id: $id) { name provenance { field } } }`, { id: personId })) as Body<{ person: { name: string } | null }>;
      assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(refused));
      assert.match(refused.errors[0]!.message, /audit\.log/);
    });
  });

  describe('LegalPerson', () => {
    it('names the event that last set each field, all fields of a page in one batched read', async () => {
      harness = await startSubgraphHarness(await backend.fresh(), { module: legalPersonModule, with: [populationModule], grants: GRANTS });
      const { personId } = await registeredPerson(harness);
      const legalPersons = createLegalPersonHandlers(harness.store);
      const legalPersonId = randomUUID();
      const registered = await legalPersons.registerLegalPerson(
        {
          legalPersonId,
          creditCode: makeCreditCode({ divisionCode: '370102', organizationCode: 'MA3C0001' }),
          name: '济南泉城软件科技有限公司',
          type: 'ENTERPRISE',
          legalRepresentativeId: personId,
          registeredAddress: { address: '经十路88号', divisionCode: '370102001001' },
          registeredCapitalFen: 100_000_000,
          industry: { section: 'I', name: '软件开发' },
          establishedOn: '2015-03-01',
        },
        { metadata: source('市市场监管局', 'enterprise-registry', 'SCJG-42'), now: now() },
      );
      const moved = await legalPersons.changeRegisteredAddress(
        { legalPersonId, registeredAddress: { address: '历山路1号', divisionCode: '370102001001' }, changedOn: '2025-01-02' },
        { metadata: source('市市场监管局', 'enterprise-registry', 'SCJG-43'), now: now() },
      );
      await harness.catchUp();
      const store = harness.store;
      const readEventsById = store.readEventsById.bind(store);
      let reads = 0;
      store.readEventsById = (ids) => (reads++, readEventsById(ids));

      const body = (await harness.ask('auditor', `query L($id: ID!) { legalPerson(id: $id) { provenance { ${PROVENANCE} } fieldProvenance(field: "registeredAddress") { ${PROVENANCE} } } }`, { id: legalPersonId })) as Body<{
        legalPerson: { provenance: FieldProvenanceResult[]; fieldProvenance: FieldProvenanceResult };
      }>;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      const { provenance, fieldProvenance } = body.data!.legalPerson;
      const registration = registered.events.at(-1)!;
      const byField = new Map(provenance.map((p) => [p.field, p]));
      assert.equal(byField.get('name')?.eventId, registration.eventId);
      assert.equal(byField.get('creditCode')?.sourceRecordId, 'SCJG-42');
      assert.equal(byField.get('registeredCapital')?.type, 'LegalPersonRegistered');
      assert.equal(fieldProvenance.eventId, moved.events.at(-1)!.eventId);
      assert.equal(fieldProvenance.type, 'RegisteredAddressChanged');
      assert.equal(fieldProvenance.sourceRecordId, 'SCJG-43');
      assert.equal(fieldProvenance.department, '市市场监管局');
      assert.equal(reads, 1, 'every field of the response from one read of events by id');

      const unknown = (await harness.ask('auditor', `query L($id: ID!) { legalPerson(id: $id) { fieldProvenance(field: "turnover") { field } } }`, { id: legalPersonId })) as Body<unknown>;
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(unknown.errors[0]!.message, /LegalPerson has no field "turnover".*creditCode/);
    });
  });
}

for (const makeBackend of BACKENDS) {
  describe(`field provenance (${makeBackend.name.replace(/Backend$/, '')})`, () => provenanceSuite(makeBackend));
}
