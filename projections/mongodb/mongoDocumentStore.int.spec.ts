/**
 * The projection runner and document store contract with read models in a real MongoDB, when
 * `MONGODB_URL` names one (e.g. `mongodb://127.0.0.1:27017/?replicaSet=rs0`), opened as
 * `READ_MODELS=mongodb` opens them. Events live in an
 * in-memory PGlite store; each test gets its own MongoDB database, dropped afterwards. On a replica
 * set the suite runs twice: with transactions, and with the standalone fallback forced.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { openMongoReadModelBackend, readModelConfigSchema, type ReadModelBackend } from '../../bin/backends.ts';
import { parseConfig } from '../../events/config.ts';
import { SqlEventStore } from '../../events/sql/sqlEventStore.ts';
import { runnerContract, type RunnerHarness } from '../runner.contract.ts';
import { pgliteBackend } from '../../test/helpers/databases.ts';
import { createTestRegistry } from '../../test/helpers/events.ts';
import { BUILDS, MongoReadModels, openMongoDocumentStore, type MongoBuild, type MongoReadModelDatabase } from './mongoDocumentStore.ts';
import { MongoProjectionRunner } from './mongoProjectionRunner.ts';

const MONGODB_URL = process.env.MONGODB_URL;

function mongoHarness(url: string, transactions?: boolean): () => Promise<RunnerHarness> {
  return async () => {
    const sql = await pgliteBackend();
    let store: SqlEventStore | undefined;
    let mongo: MongoReadModelDatabase | undefined;
    let backend: ReadModelBackend | undefined;
    const others: MongoClient[] = [];
    const current = () => {
      if (!store || !mongo || !backend) throw new Error('call fresh() first');
      return { store, mongo, backend };
    };
    const cleanUp = async () => {
      for (const client of others.splice(0)) await client.close().catch(() => undefined);
      await store?.close();
      if (mongo) {
        await mongo.db.dropDatabase().catch(() => undefined);
        await mongo.close();
      }
    };
    return {
      async fresh() {
        await cleanUp();
        store = await SqlEventStore.open(await sql.fresh(), createTestRegistry());
        const database = `cb_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
        // Through the configuration path `bin/platform.ts` takes.
        const config = parseConfig(readModelConfigSchema, { READ_MODELS: 'mongodb', MONGODB_URL: url });
        const opened = await openMongoReadModelBackend(config, { database, ...(transactions !== undefined && { transactions }) });
        [backend, mongo] = [opened, opened.mongo];
        return store;
      },
      runner: (projections, options) => current().backend.projector(current().store, projections, options),
      readModels: () => new MongoReadModels(current().mongo.db, 0),
      async builds() {
        const rows = await current().mongo.db.collection<MongoBuild>(BUILDS).find().sort({ createdAt: 1, _id: 1 }).toArray();
        return rows.map((r) => ({ version: r.version, status: r.status, location: r.prefix }));
      },
      otherProcess(projections, options) {
        const { mongo: own, store: events } = current();
        const client = new MongoClient(url);
        others.push(client);
        const db = client.db(own.db.databaseName);
        const other: MongoReadModelDatabase = { client, db, transactions: own.transactions, readModels: new MongoReadModels(db), close: () => client.close() };
        return new MongoProjectionRunner(other, events, projections, options);
      },
      get atomicBatches() {
        return current().mongo.transactions;
      },
      async dispose() {
        await cleanUp();
        await sql.dispose();
      },
    };
  };
}

if (MONGODB_URL) {
  describe('projection runner with read models in MongoDB', () => runnerContract(mongoHarness(MONGODB_URL)));
  describe('projection runner with read models in MongoDB, position-guarded fallback', () => runnerContract(mongoHarness(MONGODB_URL, false)));
} else {
  describe('projection runner with read models in MongoDB', () => {
    it('runs the runner and document store contract', { skip: 'MONGODB_URL is not set: no MongoDB server to run the contract against' }, () => undefined);
  });
}

describe('opening the MongoDB read-model store', () => {
  it('refuses a connection string of another database before connecting', async () => {
    await assert.rejects(openMongoDocumentStore('postgres://127.0.0.1:5432/postgres'), /MONGODB_URL: must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string/);
  });

  it('reports a server that does not answer in one line, without the password', async () => {
    // Port 1 on the loopback interface: nothing listens there.
    await assert.rejects(
      openMongoDocumentStore('mongodb://reader:secret@127.0.0.1:1/citybrain?serverSelectionTimeoutMS=300'),
      (err: unknown) => err instanceof Error && /^MongoDB at mongodb:\/\/reader:\*\*\*@127\.0\.0\.1:1\/citybrain\S* did not answer/.test(err.message) && !err.message.includes('secret'),
    );
  });
});
