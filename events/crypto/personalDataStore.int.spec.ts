/**
 * The personal-data store's write path: an append, single or a batch, stores its new subjects' keys in
 * its own statement or transaction, so keys and events commit or roll back together, and a key is kept
 * in memory only once stored (never across an erasure).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { backendForSuite } from '../../test/helpers/suiteBackend.ts';
import { personalFieldRules } from '../../subgraphs/kit/personalData.ts';
import { makeIdNumber } from '../../subgraphs/population/identity/idNumber.ts';
import { populationModule } from '../../subgraphs/population/index.ts';
import { personStreamId } from '../../subgraphs/population/person/events.ts';
import { ConcurrencyError, ConflictError, ValidationError } from '../errors.ts';
import { EventRegistry } from '../registry.ts';
import { SqlEventStore } from '../sql/sqlEventStore.ts';
import type { QueryOptions, SqlDatabase, SqlExecutor } from '../sql/database.ts';
import type { NewEvent, StreamAppend } from '../types.ts';
import { openPersonalDataStore, type PersonalDataEventStore } from './personalDataStore.ts';
import { ENCRYPTED, ERASED, keyIdOf } from './personalFields.ts';

const registry = new EventRegistry().registerAll(populationModule.eventTypes);
const rules = personalFieldRules();
const registrationKeyOf = (personId: string): string => keyIdOf(personId, rules.get('PersonRegistered')!.scope);

function registration(personId: string, name: string, eventId?: string): NewEvent {
  return {
    ...(eventId && { eventId }),
    type: 'PersonRegistered',
    data: {
      personId,
      idNumber: makeIdNumber('370102', '1980-01-02', Number.parseInt(personId.slice(0, 2), 16) % 999),
      name,
      gender: 'MALE',
      birthDate: '1980-01-02',
      residence: { address: `${name} 路 1 号`, divisionCode: '370102001001' },
      reason: 'HOUSEHOLD_REGISTRATION',
    },
    metadata: {
      provenance: { department: 'test', system: 'test', channel: 'test', collectedAt: '2026-01-01T00:00:00.000Z' },
      actor: { consumerId: 'test', role: 'admin' },
      correlationId: 'personal-data-store',
    },
  };
}

/** A move of a registered person (registered by `registration`, so their previous address is known). */
function moving(person: { id: string; name: string }, address: string): NewEvent {
  const personId = person.id;
  const { data, metadata } = registration(personId, person.name);
  return { type: 'ResidenceChanged', data: { personId, residence: { address, divisionCode: '370102001001' }, previousResidence: (data as { residence: unknown }).residence, movedOn: '2026-01-01' }, metadata };
}

const registering = (persons: readonly { id: string; name: string; eventId?: string }[]): StreamAppend[] =>
  persons.map((p) => ({ streamId: personStreamId(p.id), events: [registration(p.id, p.name, p.eventId)], options: { expectedRevision: 'no_stream' } }));

const nameOf = (event: { data: unknown } | undefined): unknown => (event?.data as { name?: unknown } | undefined)?.name;

for (const openBackend of BACKENDS) {
  describe('personal-data store: keys stored with the batch that uses them', () => {
    let db: SqlDatabase;
    let masterKey: Buffer;
    const opened: PersonalDataEventStore[] = [];
    /** Another process of the same deployment: same database and master key, keys in memory of its own. */
    const open = async (): Promise<PersonalDataEventStore> => {
      const store = await openPersonalDataStore(db, registry, masterKey, rules);
      opened.push(store);
      return store;
    };
    const keyRows = async (): Promise<Map<string, boolean>> => {
      const { rows } = await db.query<{ subject_id: string; live: boolean }>('SELECT subject_id, wrapped_key IS NOT NULL AS live FROM pd_subject_keys');
      return new Map(rows.map((r) => [r.subject_id, r.live]));
    };
    const eventCount = async (): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM es_events')).rows[0]!.n;

    const closeOpened = async () => {
      for (const store of opened.splice(0)) await store.close();
    };
    // Registered before the backend's hooks, so the stores close before the backend is disposed.
    after(closeOpened);
    const backend = backendForSuite(openBackend);
    beforeEach(async () => {
      await closeOpened();
      db = await backend.fresh();
      masterKey = randomBytes(32);
    });

    it('stores a key per new subject in the batch\'s transaction and returns the events in clear, as a read gives them', async () => {
      const store = await open();
      const persons = Array.from({ length: 5 }, (_, i) => ({ id: randomUUID(), name: `王${i}` }));
      const results = await store.appendMany(registering(persons));
      assert.deepEqual(results.map((r) => nameOf(r.events[0])), persons.map((p) => p.name));
      assert.deepEqual([...(await keyRows())].sort(), persons.map((p): [string, boolean] => [registrationKeyOf(p.id), true]).sort());
      const { rows } = await db.query<{ data: unknown }>('SELECT data FROM es_events');
      assert.ok(rows.every((r) => !JSON.stringify(r.data).includes('王') && (r.data as { name: string }).name === ENCRYPTED), 'no name is stored in clear');
      // Another process reads them with the keys stored: what the append returned is what a reader sees.
      const reader = await open();
      for (const [i, p] of persons.entries()) assert.deepEqual((await reader.readStream(personStreamId(p.id)))[0]!.data, results[i]!.events[0]!.data);
    });


    it('upgrades a key table made before its key ids were in byte order, keeping its keys readable and its erasures', async () => {
      const first = await open();
      const [kept, erased] = [randomUUID(), randomUUID()];
      await first.appendMany(registering([{ id: kept, name: '王一' }, { id: erased, name: '王二' }]));
      await first.codec.keys.erase([registrationKeyOf(erased)]);
      // The key table as an older version made it: key ids under the database's own collation.
      await db.exec('ALTER TABLE pd_subject_keys ALTER COLUMN subject_id TYPE text COLLATE "default"');
      const collation = async () =>
        (await db.query<{ collation: string }>(`SELECT c.collname AS collation FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
          WHERE a.attrelid = 'pd_subject_keys'::regclass AND a.attname = 'subject_id'`)).rows[0]!.collation;
      assert.equal(await collation(), 'default');
      const upgraded = await open();
      assert.equal(await collation(), 'C');
      assert.equal(nameOf((await upgraded.readStream(personStreamId(kept)))[0]), '王一');
      assert.equal(nameOf((await upgraded.readStream(personStreamId(erased)))[0]), ERASED);
      assert.deepEqual([...(await keyRows())].sort(), [[registrationKeyOf(kept), true], [registrationKeyOf(erased), false]].sort());
    });
    it('keeps appends a store runs at once apart: each seals its events under, and stores, its own subjects\' keys', async () => {
      const store = await open();
      const persons = Array.from({ length: 8 }, (_, i) => ({ id: randomUUID(), name: `孔${i}` }));
      // Batches and single appends in flight together, every one with new subjects.
      await Promise.all([
        store.appendMany(registering(persons.slice(0, 3))),
        ...persons.slice(3, 5).map((p) => store.append(personStreamId(p.id), [registration(p.id, p.name)], { expectedRevision: 'no_stream' })),
        store.appendMany(registering(persons.slice(5))),
      ]);
      assert.deepEqual([...(await keyRows())].sort(), persons.map((p): [string, boolean] => [registrationKeyOf(p.id), true]).sort());
      const reader = await open();
      assert.deepEqual((await reader.readStreams(persons.map((p) => personStreamId(p.id)))).map((stream) => nameOf(stream[0])), persons.map((p) => p.name));
    });

    it('rolls a refused batch\'s new keys back with its events, and keeps none of them in memory', async () => {
      const store = await open();
      const taken = { id: randomUUID(), name: '李先' };
      await store.append(personStreamId(taken.id), [registration(taken.id, taken.name)], { expectedRevision: 'no_stream' });
      const before = { keys: await keyRows(), events: await eventCount() };
      const fresh = { id: randomUUID(), name: '张新' };
      // The taken stream makes the whole batch stale: nothing of it may stay, its fresh subject's key included.
      await assert.rejects(store.appendMany(registering([fresh, { id: taken.id, name: '李后' }])), ConcurrencyError);
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, before);
      // Had the writer kept the key it offered, this event would be sealed under a key no one stored.
      await store.append(personStreamId(fresh.id), [registration(fresh.id, fresh.name)], { expectedRevision: 'no_stream' });
      assert.equal(nameOf((await (await open()).readStream(personStreamId(fresh.id)))[0]), fresh.name);
    });

    it('refuses an event whose sealed payload passes the size limit though its clear one does not, with no key and no event stored', async () => {
      const person = { id: randomUUID(), name: '赵长' };
      const other = { id: randomUUID(), name: '钱短' };
      const clearBytes = Buffer.byteLength(JSON.stringify(registration(person.id, person.name).data));
      // The limit bounds what is stored: the sealed payload (ciphertext, IV, tag, key id) is larger than the clear one.
      const store = await openPersonalDataStore(db, registry, masterKey, rules, { maxEventBytes: clearBytes + 8 });
      opened.push(store);
      await assert.rejects(store.appendMany(registering([other, person])), (error: unknown) => error instanceof ValidationError && /PersonRegistered data is \d+ bytes; the limit is \d+ bytes per event/.test(error.message));
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, { keys: new Map(), events: 0 });
      // No key was kept for the refused event: a store with room writes it under a key it stores.
      const roomy = await open();
      await roomy.append(personStreamId(person.id), [registration(person.id, person.name)], { expectedRevision: 'no_stream' });
      assert.equal(nameOf((await (await open()).readStream(personStreamId(person.id)))[0]), person.name);
    });

    it('seals a batch\'s events and wraps its new keys while its first statement is at the server, not before', async () => {
      const sent: string[] = [];
      // The store's database, noting each statement of a transaction as it is sent.
      const noting: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
        transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
          db.transaction((tx) => fn({ query: (sql, params, options) => (sent.push('statement'), tx.query(sql, params, options)) })),
      });
      const store = await openPersonalDataStore(noting, registry, masterKey, rules);
      opened.push(store);
      const wrapOffered = store.codec.keys.wrapOffered.bind(store.codec.keys);
      store.codec.keys.wrapOffered = (keys, id) => (sent.push('wrap'), wrapOffered(keys, id));
      const persons = Array.from({ length: 3 }, (_, i) => ({ id: randomUUID(), name: `陶${i}` }));
      const results = await store.appendMany(registering(persons));
      assert.deepEqual(sent, ['statement', 'wrap', 'wrap', 'wrap', 'statement']);
      assert.deepEqual(results.map((r) => nameOf(r.events[0])), persons.map((p) => p.name));
      assert.deepEqual([...(await keyRows())].sort(), persons.map((p): [string, boolean] => [registrationKeyOf(p.id), true]).sort());
      for (const p of persons) assert.equal(nameOf((await (await open()).readStream(personStreamId(p.id)))[0]), p.name);
    });

    it('stores no key for a refused single append of a new subject, stale or oversize, and seals a later one under a key it stores', async () => {
      const store = await open();
      const taken = { id: randomUUID(), name: '蒋先' };
      await store.append(personStreamId(taken.id), [registration(taken.id, taken.name)], { expectedRevision: 'no_stream' });
      const before = { keys: await keyRows(), events: await eventCount() };
      // A new subject's event on a stream whose expected revision is stale: its key must roll back with it.
      const stranger = randomUUID();
      await assert.rejects(store.append(personStreamId(taken.id), [registration(stranger, '沈错')], { expectedRevision: 'no_stream' }), ConcurrencyError);
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, before);
      const person = { id: randomUUID(), name: '韩长' };
      const clearBytes = Buffer.byteLength(JSON.stringify(registration(person.id, person.name).data));
      const small = await openPersonalDataStore(db, registry, masterKey, rules, { maxEventBytes: clearBytes + 8 });
      opened.push(small);
      await assert.rejects(small.append(personStreamId(person.id), [registration(person.id, person.name)], { expectedRevision: 'no_stream' }), ValidationError);
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, before);
      // No key was kept for either refused append: the subjects' next events are sealed under keys stored with them.
      for (const [id, name] of [[stranger, '沈对'], [person.id, person.name]] as const) {
        await store.append(personStreamId(id), [registration(id, name)], { expectedRevision: 'no_stream' });
        assert.equal(nameOf((await (await open()).readStream(personStreamId(id)))[0]), name);
      }
      assert.equal((await keyRows()).size, before.keys.size + 2);
    });

    it('redoes a batch with the stored key of a subject another process keyed, leaving one key', async () => {
      const other = await open();
      const known = { id: randomUUID(), name: '赵甲' };
      await other.append(personStreamId(known.id), [registration(known.id, known.name)], { expectedRevision: 'no_stream' });
      const store = await open();
      const fresh = { id: randomUUID(), name: '钱乙' };
      const moved: StreamAppend = { streamId: personStreamId(known.id), events: [moving(known, '新 路 2 号')], options: { expectedRevision: 0 } };
      const results = await store.appendMany([...registering([fresh]), moved]);
      assert.equal((results[1]!.events[0]!.data as { residence: { address: string } }).residence.address, '新 路 2 号');
      assert.deepEqual((await keyRows()).size, 2);
      const reader = await open();
      assert.deepEqual((await reader.readStream(personStreamId(known.id))).map((e) => e.data), [registration(known.id, known.name).data, moved.events[0]!.data]);
      assert.equal(nameOf((await reader.readStream(personStreamId(fresh.id)))[0]), fresh.name);
    });

    it('stores a new value of an erased subject as erased, with no new key, when the batch met the erasure\'s tombstone', async () => {
      const store = await open();
      const erased = { id: randomUUID(), name: '孙丙' };
      await (await open()).codec.keys.erase([registrationKeyOf(erased.id)]);
      const results = await store.appendMany(registering([erased, { id: randomUUID(), name: '周丁' }]));
      assert.equal(nameOf(results[0]!.events[0]), ERASED);
      assert.equal((await keyRows()).get(registrationKeyOf(erased.id)), false);
      assert.equal(nameOf((await store.readStream(personStreamId(erased.id)))[0]), ERASED);
      const { rows } = await db.query<{ data: unknown }>('SELECT data FROM es_events WHERE stream_id = $1', [personStreamId(erased.id)]);
      assert.ok(!JSON.stringify(rows[0]!.data).includes(erased.name));
    });

    it('never seals with a key a batch stored once this process erased it', async () => {
      const store = await open();
      const person = { id: randomUUID(), name: '吴戊' };
      await store.appendMany(registering([person, { id: randomUUID(), name: '郑己' }]));
      assert.equal(await store.codec.keys.erase([registrationKeyOf(person.id)]), 1);
      const again = { ...person, id: person.id };
      const results = await store.appendMany([
        { streamId: personStreamId(again.id), events: [{ ...registration(again.id, '吴戊二'), type: 'PersonRegistered' }], options: { expectedRevision: 0 } },
        ...registering([{ id: randomUUID(), name: '冯庚' }]),
      ]);
      assert.equal(nameOf(results[0]!.events[0]), ERASED);
      const { rows } = await db.query<{ data: unknown }>('SELECT data FROM es_events WHERE stream_id = $1 ORDER BY stream_revision', [personStreamId(person.id)]);
      assert.ok(rows.every((r) => !JSON.stringify(r.data).includes('吴戊')), 'no value of the erased subject is stored');
    });

    it('reads every event with its key in the read\'s own statement, and shows an erasure by another process at the next read', async () => {
      const statements: string[] = [];
      // The store's database, counting the statements its reads send.
      const counted: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
        query: (sql: string, params?: readonly unknown[], options?: QueryOptions) => {
          statements.push(sql);
          return db.query(sql, params, options);
        },
      });
      const reader = await openPersonalDataStore(counted, registry, masterKey, rules);
      opened.push(reader);
      const persons = Array.from({ length: 3 }, (_, i) => ({ id: randomUUID(), name: `褚${i}` }));
      const [written] = await (await open()).appendMany(registering(persons));
      const streams = persons.map((p) => personStreamId(p.id));
      const reads = {
        readStream: async () => (await reader.readStream(streams[0]!)).map(nameOf),
        readStreams: async () => (await reader.readStreams(streams)).map((stream) => nameOf(stream[0])),
        readEventsById: async () => (await reader.readEventsById([written!.events[0]!.eventId])).map(nameOf),
        readAll: async () => (await reader.readAll()).map(nameOf),
      };
      for (const [name, read] of Object.entries(reads)) {
        statements.length = 0;
        assert.ok((await read()).includes(persons[0]!.name), `${name} in clear`);
        assert.equal(statements.length, 1, `${name}: one statement, keys included (${statements.join(' | ')})`);
      }
      await (await open()).codec.keys.erase([registrationKeyOf(persons[0]!.id)]);
      for (const [name, read] of Object.entries(reads)) {
        const names = await read();
        assert.ok(names.includes(ERASED) && !names.includes(persons[0]!.name), `${name} after the erasure: ${names.join(', ')}`);
      }
      assert.deepEqual((await reader.readStreams(streams)).map((stream) => nameOf(stream[0])), [ERASED, persons[1]!.name, persons[2]!.name]);
    });

    it('writes nothing, key or event, for a batch re-sent to another process (its offered keys meet the stored ones)', async () => {
      const persons = Array.from({ length: 3 }, (_, i) => ({ id: randomUUID(), name: `陈${i}`, eventId: randomUUID() }));
      await (await open()).appendMany(registering(persons));
      const before = { keys: await keyRows(), events: await eventCount() };
      // Whether the re-send is then told a replay or a conflict is the SQL store's comparison (its own
      // spec): here, that the retry offered no key of its own.
      const resender = await open();
      await resender.appendMany(registering(persons)).catch(() => undefined);
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, before);
      // Had it kept the keys it offered, its next event of the person would be sealed under a key no one stored.
      const [person] = persons;
      await resender.append(personStreamId(person!.id), [moving(person!, '新 路 9 号')], { expectedRevision: 0 });
      const read = await (await open()).readStream(personStreamId(person!.id));
      assert.deepEqual(read.map((e) => [nameOf(e), (e.data as { residence: { address: string } }).residence.address]), [[person!.name, `${person!.name} 路 1 号`], [undefined, '新 路 9 号']]);
    });

    it('tells a single append re-sent to another process a replay, writing no key or event (its offered key met the stored one)', async () => {
      const person = { id: randomUUID(), name: '卫辛', eventId: randomUUID() };
      const [append] = registering([person]);
      await (await open()).append(append!.streamId, append!.events, append!.options);
      const before = { keys: await keyRows(), events: await eventCount() };
      const result = await (await open()).append(append!.streamId, append!.events, append!.options);
      assert.deepEqual({ replayed: result.replayed, name: nameOf(result.events[0]) }, { replayed: true, name: person.name });
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, before);
    });

    it('refuses as a conflict an event id re-sent with another, unkeyed subject, single or in a batch, storing no key for it', async () => {
      const person = { id: randomUUID(), name: '蒋壬', eventId: randomUUID() };
      const [append] = registering([person]);
      await (await open()).append(append!.streamId, append!.events, append!.options);
      const before = { keys: await keyRows(), events: await eventCount() };
      // The stored event was sealed under the first subject's key: the re-send's subject has none, and gets none.
      const other = { ...append!, events: [registration(randomUUID(), '蒋癸', person.eventId)] };
      await assert.rejects((await open()).append(other.streamId, other.events, other.options), ConflictError);
      await assert.rejects((await open()).appendMany([other, other]), ConflictError);
      assert.deepEqual({ keys: await keyRows(), events: await eventCount() }, before);
    });

    it('tells a batch re-sent to another process beside a new append a replay for the stored one, storing the new subject\'s key only', async () => {
      const stored = { id: randomUUID(), name: '秦存', eventId: randomUUID() };
      await (await open()).appendMany(registering([stored]));
      const before = await keyRows();
      const fresh = { id: randomUUID(), name: '尤新' };
      // The other process offers the stored subject a key too: checked, not stored, it meets the stored one and the batch is redone with it.
      const results = await (await open()).appendMany(registering([stored, fresh]));
      assert.deepEqual(results.map((r) => [r.replayed, nameOf(r.events[0])]), [[true, stored.name], [false, fresh.name]]);
      assert.deepEqual([...(await keyRows())].sort(), [...before, [registrationKeyOf(fresh.id), true]].sort());
    });

    it('stores no key for a replayed append\'s subject when a batch re-delivers an event stored before the upgrade beside a new one', async () => {
      const old = { id: randomUUID(), name: '沈旧', eventId: randomUUID() };
      // Stored in clear by the store before personal data was encrypted: its subject has no key.
      const [oldAppend] = registering([old]);
      await (await SqlEventStore.open(db, registry)).append(oldAppend!.streamId, oldAppend!.events, oldAppend!.options);
      const fresh = { id: randomUUID(), name: '韩新' };
      // The re-delivered event is sealed and so differs from the clear one stored: a conflict, as a single re-send is told,
      // while the batch's new append is written (the SQL store's partial replay) with the key of its own subject only.
      await assert.rejects((await open()).appendMany(registering([old, fresh])), ConflictError);
      assert.deepEqual([...(await keyRows())], [[registrationKeyOf(fresh.id), true]]);
      assert.equal(nameOf((await (await open()).readStream(personStreamId(fresh.id)))[0]), fresh.name);
    });
  });
}

describe('personal-data store on PostgreSQL: concurrent appends sharing new subjects and streams', () => {
  let backend: TestBackend | undefined;
  const stores: PersonalDataEventStore[] = [];
  before(async () => {
    if (BACKENDS.length && process.env.TEST_BACKENDS !== 'pglite') backend = await BACKENDS[BACKENDS.length - 1]!();
  });
  after(async () => {
    for (const store of stores.splice(0)) await store.close();
    await backend?.dispose();
  });

  it('ends every pair of racing batches in success or a ConcurrencyError, never a deadlock, with nothing of a refused batch stored', async (t) => {
    if (backend?.name !== 'postgres') return t.skip('PostgreSQL only: PGlite is one session, its transactions never overlap');
    const db = await backend.fresh();
    const masterKey = randomBytes(32);
    // Two processes of one deployment, each with a pool of its own.
    const [a, b] = [await openPersonalDataStore(db, registry, masterKey, rules), await openPersonalDataStore(backend.connectAgain!(), registry, masterKey, rules)];
    stores.push(a, b);
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 60; round++) {
      // A subject new to both (its key created by whichever batch commits first), registered in two streams
      // each batch writes with `any`, missing at first, listed in opposite orders; and a stream of its own per batch.
      const subject = randomUUID();
      const [x, y] = [personStreamId(randomUUID()), personStreamId(randomUUID())];
      const shared = (streamId: string, name: string): StreamAppend => ({ streamId, events: [registration(subject, name)], options: { expectedRevision: 'any' } });
      const own = (name: string): StreamAppend => registering([{ id: randomUUID(), name }])[0]!;
      const batches = [
        [shared(x, '甲一'), own('甲二'), { ...shared(y, '甲三'), options: { expectedRevision: 'no_stream' } }],
        [shared(y, '乙一'), shared(x, '乙二'), own('乙三')],
      ] satisfies StreamAppend[][];
      const settled = await Promise.allSettled([a.appendMany(batches[0]!), b.appendMany(batches[1]!)]);
      // The second expects nothing of a stream it shares: it waits for a concurrent creator and is written after it, never refused.
      assert.equal(settled[1]!.status, 'fulfilled', `round ${round}: a batch of \`any\` appends and a new stream of its own was refused: ${String((settled[1] as { reason?: unknown }).reason)}`);
      for (const [i, s] of settled.entries()) {
        if (s.status === 'rejected') assert.ok(s.reason instanceof ConcurrencyError, `round ${round}, batch ${i}: ${String(s.reason)} (${(s.reason as { code?: string }).code}) ${(s.reason as { detail?: string }).detail}`);
        const outcome = s.status === 'fulfilled' ? 'written' : 'refused';
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM es_events WHERE data->>\'personId\' = ANY($1::text[])', [
          batches[i]!.flatMap((append) => append.events.map((e) => (e.data as { personId: string }).personId)).filter((id) => id !== subject),
        ]);
        assert.equal(rows[0]!.n, s.status === 'fulfilled' ? 1 : 0, `round ${round}, batch ${i}: its own person stored once if written, never if refused`);
      }
      // Whatever was written reads back in clear: no stored ciphertext lacks its key.
      for (const streamId of [x, y]) for (const event of await a.readStream(streamId)) assert.ok(!String(nameOf(event)).startsWith('['), `${streamId}: ${String(nameOf(event))}`);
    }
    assert.ok((outcomes.get('written') ?? 0) > 0, 'some batches were written');
  });

  it('writes every one of racing single appends and a batch on the same new subjects and streams, never a deadlock, one key per subject', async (t) => {
    if (backend?.name !== 'postgres') return t.skip('PostgreSQL only: PGlite is one session, its transactions never overlap');
    const db = await backend.fresh();
    const masterKey = randomBytes(32);
    // Three processes of one deployment: each offers its own key for a subject new to it.
    const [a, b, c] = [
      await openPersonalDataStore(db, registry, masterKey, rules),
      await openPersonalDataStore(backend.connectAgain!(), registry, masterKey, rules),
      await openPersonalDataStore(backend.connectAgain!(), registry, masterKey, rules),
    ];
    stores.push(a, b, c);
    for (let round = 0; round < 60; round++) {
      // Two subjects new to all, in two streams missing at first: a batch writes both streams and a stream
      // of its own; one single append writes each stream; another writes both subjects to a third stream
      // (its keys stored in key order, the batch's too), listed in the opposite order.
      const [first, second] = [randomUUID(), randomUUID()];
      const [x, y, z] = [personStreamId(randomUUID()), personStreamId(randomUUID()), personStreamId(randomUUID())];
      const any = { expectedRevision: 'any' } as const;
      const settled = await Promise.allSettled([
        a.appendMany([{ streamId: x, events: [registration(first, '甲')], options: any }, ...registering([{ id: randomUUID(), name: '乙' }]), { streamId: y, events: [registration(second, '丙')], options: any }]),
        b.append(y, [registration(second, '丁')], any),
        c.append(x, [registration(first, '戊')], any),
        b.append(z, [registration(second, '己'), registration(first, '庚')], any),
      ]);
      for (const [i, s] of settled.entries()) {
        assert.equal(s.status, 'fulfilled', `round ${round}, append ${i}: ${String((s as { reason?: unknown }).reason)} (${(s as { reason?: { code?: string } }).reason?.code})`);
      }
      const keys = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pd_subject_keys WHERE subject_id = ANY($1::text[])', [[first, second].map(registrationKeyOf)]);
      assert.equal(keys.rows[0]!.n, 2, `round ${round}: one key per subject`);
      // No stored ciphertext lacks its key: every event reads back in clear, whichever process reads it.
      for (const streamId of [x, y, z]) for (const event of await a.readStream(streamId)) assert.ok(!String(nameOf(event)).startsWith('['), `round ${round}, ${streamId}: ${String(nameOf(event))}`);
      assert.equal((await a.readStream(z)).length, 2);
    }
  });
});
