/**
 * The demo tax data on PGlite and PostgreSQL, over a small seeded population and legal-person
 * register: a second run appends nothing; after projection and one deadline tick the undeclared
 * transactions carry risks, and the shell cluster is what the screening finds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { EventRegistry } from '../../events/registry.ts';
import type { SqlDatabase } from '../../events/sql/database.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { ProcessManagerRuntime } from '../../projections/processManager.ts';
import { SqlReadModels } from '../../projections/sql/readModels.ts';
import { ProjectionRunner } from '../../projections/runner.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { readCommitted, waitUntilVisible } from '../../test/helpers/events.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { legalPersonModule } from '../legal-person/index.ts';
import { seedLegalPersons } from '../legal-person/seed.ts';
import { createShellCompanyResolvers, shellCompanyFactsProjection, type ShellCompanyAssessment } from '../legal-person/shellCompany/index.ts';
import { populationModule } from '../population/index.ts';
import { seedPopulation } from '../population/seed.ts';
import { taxModule } from './index.ts';
import { RISKS, TAX_REGISTER, TRANSACTIONS } from './readModels/taxRegister.ts';
import { SHELL_CLUSTER_ADDRESS } from './seed.ts';

for (const makeBackend of BACKENDS) {
  describe(`demo tax data on ${makeBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let db: SqlDatabase;
    let store: SqlEventStore;
    let runtime: SubgraphRuntime;

    before(async () => {
      backend = await makeBackend();
      db = await backend.fresh();
      const registry = new EventRegistry();
      for (const module of [populationModule, legalPersonModule, taxModule]) registry.registerAll(module.eventTypes);
      store = await SqlEventStore.open(db, registry);
      runtime = { store, readModels: new SqlReadModels(db, 0), now: () => new Date(), logger: pino({ level: 'silent' }) };
      await seedPopulation(runtime, { people: 300 });
      await seedLegalPersons(runtime, { count: 40, people: 300 });
    });
    after(async () => {
      await store.close();
      await backend.dispose();
    });

    it('seeds once, raises risks for the undeclared transactions, and leaves a cluster for the screening', async () => {
      await taxModule.seed!(runtime);
      // Counted once every committed event is readable: a transaction open elsewhere on the server holds readAll back.
      const seeded = await readCommitted(store, { filter: { streamPrefixes: ['tax.'] }, limit: 100_000 });
      const head = seeded.at(-1)?.position ?? '0:0';
      await taxModule.seed!(runtime);
      assert.equal((await readCommitted(store, { filter: { streamPrefixes: ['tax.'] }, limit: 100_000 })).length, seeded.length, 'a second run appends nothing');

      const projector = new ProjectionRunner(db, store, [...taxModule.projections, shellCompanyFactsProjection]);
      await projector.catchUp();
      const [report] = await new ProcessManagerRuntime(runtime, taxModule.processManagers!).tick();
      assert.ok(report && report.issued.length > 0 && report.failed.length === 0, JSON.stringify(report));
      const flagged = await store.readAll({ filter: { types: ['TaxRiskFlagged'] } });
      await waitUntilVisible(store, flagged.at(-1)?.position ?? head);
      await projector.catchUp();
      await projector.stop();

      const register = runtime.readModels.of(TAX_REGISTER);
      const transactions = (await register.collection(TRANSACTIONS).find({ first: 100 })).items.map((i) => i.node.doc);
      const risks = (await register.collection(RISKS).find({ first: 100 })).items.map((i) => i.node.doc);
      assert.ok(transactions.some((t) => t.deedTaxStatus === 'DECLARED') && transactions.some((t) => t.deedTaxStatus === 'EXEMPT'));
      assert.ok(risks.length > 0);
      for (const risk of risks) assert.equal(transactions.find((t) => t.id === risk.transactionId)?.deedTaxStatus, 'PENDING');

      const shell = createShellCompanyResolvers(runtime, { legalPerson: (_ctx, id) => ({ id }) });
      const screen = (shell.Query as Record<string, (...args: unknown[]) => Promise<{ edges: { node: ShellCompanyAssessment }[] }>>).suspectedShellCompanies!;
      const suspects = (await screen(null, { divisionCode: '370102', first: 100 })).edges.map((e) => e.node);
      const sharing = suspects.filter((a) => a.signals.find((s) => s.kind === 'SHARED_ADDRESS')?.triggered);
      assert.ok(sharing.length >= 5, `the cluster at ${SHELL_CLUSTER_ADDRESS} is suspected`);
    });
  });
}
