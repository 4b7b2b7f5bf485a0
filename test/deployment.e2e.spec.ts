/**
 * The production topology (scripts/topology.ts, docs/deployment.md) as real OS processes on a fresh
 * PostgreSQL database: the governance, population and legal-person subgraphs, the gateway and two
 * projectors. A projector that owns projections is SIGKILLed and the other takes them over within
 * 5 s with the read models still exactly the fold of the log; a subgraph is killed under load and
 * the gateway answers with partial data and a clear error, then fully once it is back.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { MODULES } from '../bin/modules.ts';
import { openPlatform, type Platform } from '../bin/platform.ts';
import { comparePositions } from '../events/position.ts';
import { START, type Position } from '../events/types.ts';
import type { SubgraphName } from '../platform/subgraphs.ts';
import { issueToken } from '../gateway/tokens.ts';
import { BatchDocumentStore, readModelTableSql } from '../projections/sql/documentStore.ts';
import { ADMIN, DEMO_CONSUMER_ROLES, DEMO_DASHBOARD } from '../subgraphs/governance/index.ts';
import { seedDemoConsumers } from '../subgraphs/governance/seed.ts';
import { seedLegalPersons } from '../subgraphs/legal-person/seed.ts';
import { seedPopulation } from '../subgraphs/population/seed.ts';
import { commandOf, productionTopology, REPOSITORY_ROOT, type ProcessSpec } from '../scripts/topology.ts';
import { createTestPostgresDatabase } from './helpers/databases.ts';
import { cleanupOnSignal, killAll as killOwned, spawnOwned } from './helpers/processes.ts';
import { freePort } from './helpers/ports.ts';

const HOSTED: SubgraphName[] = ['governance', 'population', 'legal-person'];
const PROJECTIONS = MODULES.flatMap((m) => m.projections);
const COMPARED = MODULES.filter((m) => (HOSTED as string[]).includes(m.name)).flatMap((m) => m.projections);

interface LogLine {
  msg?: string;
  projections?: string[];
  [key: string]: unknown;
}

/** One process of the topology, in its own process group, with its JSON log lines kept. */
class RunningProcess {
  readonly lines: LogLine[] = [];
  child!: ChildProcess;
  exited!: Promise<void>;

  constructor(readonly spec: ProcessSpec) {
    this.start();
  }

  start(): void {
    const { command, args } = commandOf(this.spec);
    this.child = spawnOwned(command, args, { cwd: REPOSITORY_ROOT, env: this.spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line });
        }
        if (process.env.DEPLOYMENT_TEST_LOGS) console.log(`${this.spec.name} | ${line}`);
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** The projections it said it owns last (`projections owned` lines of bin/projector.ts). */
  owned(): string[] {
    return this.lines.filter((l) => l.msg === 'projections owned').at(-1)?.projections ?? [];
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const healthy = (url: string) => fetch(url).then((r) => (r.ok ? true : undefined), () => undefined);

interface GqlBody<Data> {
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

describe('the production deployment: separate processes on PostgreSQL', { timeout: 180_000 }, () => {
  const processes: RunningProcess[] = [];
  let database: { url: string; drop(): Promise<void> };
  let forgetDatabase: (() => void) | undefined;
  let platform: Platform;
  let gatewayUrl: string;
  let subgraphUrls: Record<string, string>;
  let adminToken: string;
  let dashboardToken: string;
  let personIds: string[];
  const processNamed = (name: string) => processes.find((p) => p.spec.name === name)!;
  const projectors = () => processes.filter((p) => p.spec.name.startsWith('projector-'));

  async function gql<Data>(query: string, token: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GqlBody<Data> }> {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, ...(variables && { variables }) }),
    });
    return { status: response.status, body: (await response.json()) as GqlBody<Data> };
  }

  // Whatever happens to the test, no process it started outlives it.
  const killAll = () => {
    for (const p of processes) p.kill('SIGKILL');
  };
  process.on('exit', killAll);

  before(async () => {
    database = await createTestPostgresDatabase('cb_deploy');
    // Stopped by a signal (a cancelled run), the test still ends its processes and drops its database.
    forgetDatabase = cleanupOnSignal(async () => {
      killOwned();
      await database?.drop();
    });
    platform = await openPlatform({ modules: MODULES, env: { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '4' }, chain: false, logger: pino({ level: 'silent' }) });
    await seedDemoConsumers(platform.runtime);
    personIds = (await seedPopulation(platform.runtime, { people: 30 })).persons.map((p) => p.personId);
    await seedLegalPersons(platform.runtime, { count: 6, people: 30 });

    const secrets = { JWT_SECRET: randomBytes(32).toString('base64url'), GATEWAY_ASSERTION_SECRET: randomBytes(32).toString('base64url') };
    const gatewayPort = await freePort();
    const subgraphPorts: Partial<Record<SubgraphName, number>> = {};
    for (const name of HOSTED) subgraphPorts[name] = await freePort();
    const env = { PATH: process.env.PATH, DATABASE_URL: database.url, DATABASE_POOL_SIZE: '4', LOG_LEVEL: 'info', GATEWAY_PORT: String(gatewayPort), ...secrets };
    const projectorPorts = [await freePort(), await freePort()];
    for (const spec of productionTopology(env, { subgraphs: HOSTED, subgraphPorts, projectorPorts })) processes.push(new RunningProcess(spec));
    gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    subgraphUrls = Object.fromEntries(HOSTED.map((name) => [name, `http://127.0.0.1:${subgraphPorts[name]}`]));

    for (const base of [...Object.values(subgraphUrls), `http://127.0.0.1:${gatewayPort}`]) await waitFor(`${base}/healthz`, () => healthy(`${base}/healthz`));
    // Between them the two projectors own every projection once each has reported.
    await waitFor('every projection owned', () => projectors().reduce((n, p) => n + p.owned().length, 0) === PROJECTIONS.length || undefined);
    adminToken = await issueToken({ consumerId: ADMIN, role: DEMO_CONSUMER_ROLES[ADMIN]!, secret: secrets.JWT_SECRET, ttl: '1h' });
    dashboardToken = await issueToken({ consumerId: DEMO_DASHBOARD, role: DEMO_CONSUMER_ROLES[DEMO_DASHBOARD]!, secret: secrets.JWT_SECRET, ttl: '1h' });
  });

  after(async () => {
    for (const p of processes) p.kill('SIGTERM');
    await Promise.race([Promise.all(processes.map((p) => p.exited)), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    killAll();
    process.off('exit', killAll);
    await platform?.close();
    await database?.drop();
    forgetDatabase?.();
  });

  /**
   * The read model as the projector left it, against a rebuild from the log up to the same checkpoint
   * (one REPEATABLE READ snapshot for the table and its checkpoint, so both are of one instant).
   */
  async function assertExact(projectionName: string): Promise<void> {
    const projection = COMPARED.find((p) => p.name === projectionName)!;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    let checkpoint: Position;
    let actual: unknown[];
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const { rows } = await client.query<{ table_name: string; checkpoint: Position }>(`SELECT table_name, checkpoint FROM proj_builds WHERE name = $1 AND status = 'active'`, [projection.name]);
      assert.equal(rows.length, 1, `${projection.name} has one active build`);
      checkpoint = rows[0]!.checkpoint;
      actual = (await client.query(`SELECT collection, id, doc, sources FROM ${rows[0]!.table_name} ORDER BY collection, id`)).rows;
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const scratch = `scratch_${randomBytes(6).toString('hex')}`;
    await platform.db!.exec(readModelTableSql(scratch));
    try {
      let from: Position = START;
      await platform.db!.transaction(async (tx) => {
        const docs = new BatchDocumentStore(tx, scratch);
        for (;;) {
          const events = (await platform.store.readAll({ fromPosition: from, limit: 500, filter: { types: projection.eventTypes } })).filter(
            (e) => comparePositions(e.position, checkpoint) <= 0,
          );
          for (const event of events) await projection.apply(event, docs);
          if (events.length < 500) break;
          from = events.at(-1)!.position;
        }
        await docs.flush();
      });
      const { rows: rebuilt } = await platform.db!.query(`SELECT collection, id, doc, sources FROM ${scratch} ORDER BY collection, id`);
      assert.deepEqual(actual, rebuilt, `${projection.name}: the read model differs from a rebuild up to ${checkpoint}`);
    } finally {
      await platform.db!.exec(`DROP TABLE ${scratch}`);
    }
  }

  it('a surviving projector takes over the projections of a SIGKILLed one within 5 s, and the read models stay exact', async () => {
    const victim = projectors().find((p) => p.owned().includes('population.registry'))!;
    const survivor = projectors().find((p) => p !== victim)!;
    const taken = victim.owned();
    const killedAt = Date.now();
    victim.kill('SIGKILL');

    // Events keep arriving through the gateway while nobody projects them.
    const newConsumers = Array.from({ length: 3 }, () => `failover-${randomUUID().slice(0, 8)}`);
    for (const id of newConsumers) {
      const { body } = await gql<{ registerConsumer: { consumer: { id: string } } }>(
        'mutation($input: RegisterConsumerInput!) { registerConsumer(input: $input) { consumer { id } } }',
        adminToken,
        { input: { id, name: id, kind: 'DEPARTMENT', department: 'failover-test' } },
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      assert.equal(body.data?.registerConsumer.consumer.id, id);
    }
    const confirmedAt = new Date().toISOString();
    for (const personId of personIds.slice(0, 3)) {
      const { body } = await gql('mutation($input: ConfirmSurvivalInput!) { confirmSurvival(input: $input) { positions } }', dashboardToken, {
        input: { personId, method: 'COMMUNITY_VISIT', source: 'failover test', confirmedAt },
      });
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    }

    await waitFor('the survivor to own every projection', () => (survivor.owned().length === PROJECTIONS.length ? true : undefined), 10_000, 50);
    const tookOverIn = Date.now() - killedAt;
    assert.ok(tookOverIn <= 5_000, `took ${tookOverIn} ms to take over ${taken.join(', ')}`);

    // The new events are projected by the survivor: the read models serve them.
    for (const id of newConsumers) {
      await waitFor(`consumer ${id} in the read model`, async () => {
        const { body } = await gql<{ consumer: { id: string } | null }>('query($id: ID!) { consumer(id: $id) { id } }', adminToken, { id });
        return body.data?.consumer?.id === id || undefined;
      }, 15_000, 200);
    }
    await waitFor('the survival proofs in the read model', async () => {
      const { body } = await gql<{ person: { survival: { lastProofOfLifeAt: string | null } } | null }>(
        'query($id: ID!) { person(id: $id) { survival { lastProofOfLifeAt } } }',
        dashboardToken,
        { id: personIds[0] },
      );
      const at = body.data?.person?.survival.lastProofOfLifeAt;
      return (at !== null && at !== undefined && Date.parse(at) === Date.parse(confirmedAt)) || undefined;
    }, 15_000, 200);
    for (const projection of COMPARED) await assertExact(projection.name);
  });

  it('a killed subgraph leaves partial data with a clear error at the gateway, and full answers once it is back', async () => {
    const QUERY = 'query($id: ID!) { consumer(id: "admin") { id } person(id: $id) { id name } }';
    type Answer = { consumer: { id: string } | null; person: { id: string; name: string } | null };
    const ask = () => gql<Answer>(QUERY, dashboardToken, { id: personIds[1] });
    const whole = await ask();
    assert.equal(whole.body.errors, undefined, JSON.stringify(whole.body.errors));
    assert.equal(whole.body.data?.person?.id, personIds[1]);

    // Load while the population subgraph dies: every answer keeps the governance half.
    const population = processNamed('subgraph-population');
    let loading = true;
    const answers: Awaited<ReturnType<typeof ask>>[] = [];
    const workers = Array.from({ length: 4 }, async () => {
      while (loading) answers.push(await ask());
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    population.kill('SIGKILL');
    await population.exited;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    loading = false;
    await Promise.all(workers);

    assert.ok(answers.length > 4, 'the load ran');
    for (const { status, body } of answers) {
      assert.equal(status, 200);
      assert.equal(body.data?.consumer?.id, 'admin', JSON.stringify(body));
    }
    const partial = await ask();
    assert.equal(partial.status, 200);
    assert.equal(partial.body.data?.consumer?.id, 'admin');
    assert.equal(partial.body.data?.person, null);
    const error = partial.body.errors?.[0];
    assert.ok(error, 'an error says what is missing');
    assert.deepEqual(error.path, ['person']);
    // Other failures stay masked outside development mode; an unreachable subgraph is named.
    assert.equal(error.extensions?.code, 'SUBGRAPH_UNAVAILABLE', JSON.stringify(error));
    assert.equal(error.extensions?.subgraph, 'population');
    assert.match(error.message, /the population subgraph is unavailable/);
    assert.ok(answers.some((a) => a.body.errors !== undefined && a.body.data?.person === null), 'answers during the load turned partial');

    population.start();
    await waitFor('the population subgraph back', () => healthy(`${subgraphUrls.population}/healthz`));
    const again = await waitFor('full answers again', async () => {
      const answer = await ask();
      return answer.body.errors === undefined ? answer : undefined;
    }, 10_000, 200);
    assert.equal(again.body.data?.consumer?.id, 'admin');
    assert.equal(again.body.data?.person?.id, personIds[1]);
  });
});
