/**
 * Every example delivery under examples/ (one per kind) imported through the channel, in order, into
 * a fresh embedded store holding only what the demo city has and the files do not deliver (the
 * monitoring station, the emission permit, the taxpayer registration): each file is accepted whole, no record rejected.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MODULES } from '../bin/modules.ts';
import { registryOf } from '../bin/platform.ts';
import { importFile } from '../cli/import.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { ingestKindsOf } from '../ingest/runner.ts';
import { issueEmissionPermit } from '../subgraphs/environment/emission/handlers.ts';
import { registerMonitoringStation } from '../subgraphs/environment/station/handlers.ts';
import { entityIdOf } from '../subgraphs/kit/ingestSchema.ts';
import { registerTaxpayer } from '../subgraphs/tax/taxCommands.ts';
import { pgliteBackend, type TestBackend } from './helpers/databases.ts';
import { testGrants } from './helpers/grants.ts';
import { ingestMetadata } from './helpers/ingest.ts';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
/** In the order a city delivers them: the register before what refers to it. */
const ORDER = ['persons', 'households', 'legal-persons', 'annual-reports', 'incidents', 'station-readings', 'emission-readings', 'health-visits', 'claims', 'property-transactions', 'tax-declarations'];
const KINDS = ingestKindsOf(MODULES);
const fileOf = (kind: string) => readdirSync(EXAMPLES).find((f) => f.startsWith(`${kind}.`) && !f.includes('.rejects.'));

describe('the example deliveries', () => {
  let backend: TestBackend;
  let store: SqlEventStore;
  before(async () => {
    backend = await pgliteBackend();
    store = await SqlEventStore.open(await backend.fresh(), registryOf(MODULES));
    const grants = testGrants(store);
    await grants.register('bureau-feeds', 'DEPARTMENT', 'big-data-bureau');
    await grants.grant('bureau-feeds', [...new Set(KINDS.map((k) => k.resource))], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
    const kind = KINDS.find((k) => k.name === 'station-readings')!;
    // As the demo city registers it (subgraphs/environment/seed.ts).
    await registerMonitoringStation({ store, metadata: ingestMetadata(kind, 'station'), now: new Date().toISOString() }, { stationId: 'aq-370102-national-0', code: 'N0', name: '历下国控站', kind: 'NATIONAL', divisionCode: '370102', location: { longitude: 117.05, latitude: 36.67 } });
  });
  after(async () => {
    await store.close();
    await backend.dispose();
  });

  it('has one file per kind', () => {
    assert.deepEqual(KINDS.map((k) => k.name).filter((k) => !fileOf(k)), []);
    assert.deepEqual([...ORDER].sort(), KINDS.map((k) => k.name).sort());
  });

  for (const kindName of ORDER) {
    it(`${kindName}: every record accepted`, async () => {
      const file = fileOf(kindName);
      assert.ok(file, `examples/ has no ${kindName} file`);
      const kind = KINDS.find((k) => k.name === kindName)!;
      if (kindName === 'emission-readings') {
        // Permits are issued by the ecology bureau's own mutation, not delivered: one for the legal person of legal-persons.ndjson, as the demo city names them.
        const legalPersonId = entityIdOf({ metadata: ingestMetadata(kind, 'MR-0001', 'market-regulation'), sourceRecordId: 'MR-0001' }, 'legal-persons');
        const outlets = [{ outletId: 'DA001', name: '1号排气筒', pollutants: [{ pollutant: 'SO2' as const, limit: 35, unit: 'mg/m3' as const }] }];
        await issueEmissionPermit({ store, metadata: ingestMetadata(kind, 'permit'), now: new Date().toISOString() }, { permitId: `ep-${legalPersonId}`, legalPersonId, permitNo: 'P-EXAMPLE-001', outlets, validFrom: '2025-01-01', validUntil: '2029-12-31' });
      }
      if (kindName === 'tax-declarations') {
        // Taxpayers are registered by the tax bureau's own mutation (registerTaxpayer), not delivered: the person of persons.ndjson.
        const person = entityIdOf({ metadata: ingestMetadata(kind, 'PS-0001', 'public-security'), sourceRecordId: 'PS-0001' }, 'persons');
        await registerTaxpayer(store, { taxpayerId: 'tp-ps-0001', subject: { kind: 'PERSON', id: person } }, { metadata: ingestMetadata(kind, 'taxpayer'), now: new Date().toISOString() });
      }
      const { report, rejectsFile } = await importFile({ store, kinds: KINDS, now: () => new Date() }, { file: join(EXAMPLES, file), kind: kindName, department: kind.department, actor: { consumerId: 'bureau-feeds', role: 'department' } });
      assert.deepEqual(report.rejects.map((r) => `${r.line} ${r.field}: ${r.message}`), []);
      assert.ok(report.received > 0 && report.created === report.received, JSON.stringify(report));
      assert.equal(rejectsFile, null);
      assert.equal(existsSync(join(EXAMPLES, file.replace(/\.(\w+)$/, '.rejects.$1'))), false);
    });
  }
});
