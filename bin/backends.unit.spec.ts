/**
 * Choosing the event store and the read models from the environment: defaults, every supported
 * selection, and each mistake refused with a line naming its variable (no server is contacted).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../events/config.ts';
import { eventStoreConfigSchema, platformConfigSchema, readModelConfigSchema } from './backends.ts';
import { openPlatform, sqlLogOf } from './platform.ts';

const KURRENT = 'kurrentdb://admin:changeit@127.0.0.1:2113?tls=false';
const MONGO = 'mongodb://127.0.0.1:27017/citybrain?replicaSet=rs0';
const parse = (env: Record<string, string | undefined>) => parseConfig(platformConfigSchema, env);

describe('choosing the backends', () => {
  it('keeps events and read models in the SQL database when nothing is chosen', () => {
    const config = parse({});
    assert.equal(config.EVENT_STORE, 'sql');
    assert.equal(config.READ_MODELS, 'sql');
    assert.equal(config.DATA_DIR, './data/pglite');
    assert.equal(config.DATABASE_URL, undefined);
  });

  it('selects MongoDB read models beside the SQL log', () => {
    const config = parse({ DATABASE_URL: 'postgres://127.0.0.1:5432/city', READ_MODELS: 'mongodb', MONGODB_URL: MONGO });
    assert.deepEqual([config.EVENT_STORE, config.READ_MODELS, config.MONGODB_URL], ['sql', 'mongodb', MONGO]);
  });

  it('selects KurrentDB with MongoDB read models, with a stream namespace', () => {
    const config = parse({ EVENT_STORE: 'kurrentdb', KURRENTDB_URL: KURRENT, KURRENTDB_STREAM_PREFIX: 'jinan/', READ_MODELS: 'mongodb', MONGODB_URL: MONGO });
    assert.deepEqual([config.EVENT_STORE, config.KURRENTDB_URL, config.KURRENTDB_STREAM_PREFIX, config.READ_MODELS], ['kurrentdb', KURRENT, 'jinan/', 'mongodb']);
  });

  it('lets a URL of a backend not chosen lie unused (the contract specs read the same variables)', () => {
    const config = parse({ KURRENTDB_URL: KURRENT, MONGODB_URL: MONGO });
    assert.deepEqual([config.EVENT_STORE, config.READ_MODELS], ['sql', 'sql']);
  });

  it('refuses a backend it does not know, naming the ones it does', () => {
    assert.throws(() => parse({ EVENT_STORE: 'postgres' }), /^ValidationError: invalid configuration:\n {2}EVENT_STORE: must be sql \(PGlite, or PostgreSQL when DATABASE_URL is set\) or kurrentdb$/);
    assert.throws(() => parse({ READ_MODELS: 'redis' }), /READ_MODELS: must be sql \(in the SQL event store's database\) or mongodb/);
    assert.throws(() => parse({ EVENT_STORE: 'KurrentDB', KURRENTDB_URL: KURRENT }), /EVENT_STORE: must be sql/, 'names are lower case');
  });

  it("refuses a chosen backend without its server's URL", () => {
    assert.throws(() => parse({ EVENT_STORE: 'kurrentdb', READ_MODELS: 'mongodb', MONGODB_URL: MONGO }), /^ValidationError: invalid configuration:\n {2}KURRENTDB_URL: required when EVENT_STORE=kurrentdb/);
    assert.throws(() => parse({ READ_MODELS: 'mongodb' }), /^ValidationError: invalid configuration:\n {2}MONGODB_URL: required when READ_MODELS=mongodb/);
    assert.throws(() => parse({ READ_MODELS: 'mongodb', MONGODB_URL: '' }), /MONGODB_URL: must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string/);
  });

  it('refuses a URL of the wrong kind for the chosen backend', () => {
    assert.throws(() => parse({ EVENT_STORE: 'kurrentdb', KURRENTDB_URL: 'postgres://127.0.0.1/city', READ_MODELS: 'mongodb', MONGODB_URL: MONGO }), /KURRENTDB_URL: must be a KurrentDB connection string/);
    assert.throws(() => parse({ READ_MODELS: 'mongodb', MONGODB_URL: 'http://127.0.0.1:27017' }), /MONGODB_URL: must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string/);
    assert.throws(() => parse({ EVENT_STORE: 'kurrentdb', KURRENTDB_URL: KURRENT, KURRENTDB_STREAM_PREFIX: 'Jinan', READ_MODELS: 'mongodb', MONGODB_URL: MONGO }), /KURRENTDB_STREAM_PREFIX: must be lowercase/);
  });

  it('refuses KurrentDB with SQL read models, saying what to choose instead', () => {
    assert.throws(
      () => parse({ EVENT_STORE: 'kurrentdb', KURRENTDB_URL: KURRENT }),
      /^ValidationError: invalid configuration:\n {2}READ_MODELS: sql read models need EVENT_STORE=sql \(the SQL projector follows the SQL log\); with EVENT_STORE=kurrentdb set READ_MODELS=mongodb$/,
    );
  });

  it('reports every mistake of a selection at once, one line each', () => {
    assert.throws(
      () => parse({ EVENT_STORE: 'kurrentdb', READ_MODELS: 'mongodb' }),
      (err: Error) => /KURRENTDB_URL: required/.test(err.message) && /MONGODB_URL: required/.test(err.message) && err.message.split('\n').length === 3,
    );
  });

  it('parses the event store and the read models each on their own, as the contract specs do', () => {
    assert.equal(parseConfig(eventStoreConfigSchema, { EVENT_STORE: 'kurrentdb', KURRENTDB_URL: KURRENT }).KURRENTDB_URL, KURRENT);
    assert.throws(() => parseConfig(eventStoreConfigSchema, { EVENT_STORE: 'kurrentdb' }), /KURRENTDB_URL: required/);
    assert.equal(parseConfig(readModelConfigSchema, { READ_MODELS: 'mongodb', MONGODB_URL: MONGO }).MONGODB_URL, MONGO);
    assert.throws(() => parseConfig(readModelConfigSchema, { READ_MODELS: 'mongodb' }), /MONGODB_URL: required/);
  });
});

describe('what only the SQL log has', () => {
  it('refuses the hash chain where the events are in KurrentDB instead of verifying an empty one', () => {
    assert.throws(() => sqlLogOf({ db: undefined }, 'verify'), /^ValidationError: verify needs the hash chain, which only the SQL event store keeps; this deployment keeps its events in KurrentDB \(EVENT_STORE=kurrentdb\)$/);
  });
});

describe('retention rules at start', () => {
  it('stops the platform on a malformed rule or a resource no personal data is sealed under, before opening anything', async () => {
    await assert.rejects(openPlatform({ modules: [], env: { PERSONAL_DATA_RETENTION: 'healthcare.records=30 years' } }), /PERSONAL_DATA_RETENTION: "healthcare.records=30 years" is not a retention rule/);
    await assert.rejects(openPlatform({ modules: [], env: { PERSONAL_DATA_RETENTION: 'legal-person.basic=5y after death' } }), /PERSONAL_DATA_RETENTION: unknown resource "legal-person.basic"/);
  });
});
