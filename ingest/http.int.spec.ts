/**
 * `POST /ingest/<kind>` over real HTTP on PGlite and PostgreSQL with the `test-notes` kind: the
 * token, the kind and the WRITE grant are checked before anything is answered or written; a
 * delivery is answered 202 with its batch id and counted in the background (malformed and oversized
 * lines rejected, the rest counted); a batch id is resumed only with the same fingerprint; a client
 * that disconnects mid-body leaves what arrived counted.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase } from '../events/sql/database.ts';
import type { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import { issueToken } from '../gateway/tokens.ts';
import { ingestBatchDecider } from '../subgraphs/governance/ingest/decider.ts';
import { ingestBatchStreamId } from '../subgraphs/governance/ingest/events.ts';
import { BACKENDS, freshStorePerTest, type TestBackend } from '../test/helpers/databases.ts';
import { testGrants } from '../test/helpers/grants.ts';
import { ingestTestRegistry, testNotesKind } from '../test/helpers/ingestKinds.ts';
import { createIngestRoute, type IngestRoute } from './http.ts';

const SECRET = 'http-ingest-test-secret-0123456789abcdef';
const FEEDS = 'eco-feeds';
const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => JSON.stringify({ sourceRecordId: `r${from + i}`, noteId: `n${from + i}`, text: `note ${from + i}` })).join('\n') + '\n';

function suite(openBackend: () => Promise<TestBackend>): void {
  let db: SqlDatabase;
  let store: SqlEventStore;
  let route: IngestRoute;
  let server: Server;
  let base: string;
  freshStorePerTest(openBackend, ingestTestRegistry, (fresh) => ({ db, store } = fresh));

  before(async () => {
    server = createServer((req, res) => void route(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(async () => {
    route = createIngestRoute({ ingest: { store, kinds: [testNotesKind], now: () => new Date(), limits: { chunkSize: 5, maxRecordBytes: 300 } }, client: { secret: SECRET }, maxBodyBytes: 64 * 1024 });
    const grants = testGrants(store);
    await grants.register(FEEDS, 'DEPARTMENT', 'ecology-environment');
    await grants.grant(FEEDS, ['environment.write'], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
    await grants.register('eco-reader', 'DEPARTMENT', 'ecology-environment');
    await grants.grant('eco-reader', ['environment.write'], { actions: ['READ'], validUntil: new Date(Date.now() + 86_400_000) });
  });

  const tokenOf = (consumerId: string) => issueToken({ consumerId, role: 'department', secret: SECRET });
  const eventCount = async () => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events')).rows[0]!.n);
  const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', ...headers } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const batchState = async (id: string) => (await store.aggregate(ingestBatchDecider, ingestBatchStreamId(id))).state;

  it('refuses without a valid token, exactly as /graphql does, and writes nothing', async () => {
    const before = await eventCount();
    const none = await post('/ingest/test-notes?department=ecology-environment', lines(2));
    assert.equal(none.status, 401);
    const [error] = none.body.errors as { extensions: { code: string; reason: string } }[];
    assert.equal(error!.extensions.code, 'UNAUTHENTICATED');
    const forged = await post('/ingest/test-notes?department=ecology-environment', lines(2), { authorization: `Bearer ${await issueToken({ consumerId: FEEDS, role: 'department', secret: 'another-secret-another-secret-0000' })}` });
    assert.equal(forged.status, 401);
    assert.equal(await eventCount(), before);
  });

  it('refuses a consumer without WRITE (403 naming the resource), an unknown kind (404 listing the kinds) and no department, before writing anything', async () => {
    const before = await eventCount();
    const reader = await post('/ingest/test-notes?department=ecology-environment&batch=b-read', lines(2), { authorization: `Bearer ${await tokenOf('eco-reader')}` });
    assert.equal(reader.status, 403);
    assert.match(String(reader.body.error), /WRITE on environment\.write/);
    const feeds = { authorization: `Bearer ${await tokenOf(FEEDS)}` };
    const unknown = await post('/ingest/no-such-kind?department=ecology-environment', lines(2), feeds);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body.known, ['test-notes']);
    const noDepartment = await post('/ingest/test-notes', lines(2), feeds);
    assert.equal(noDepartment.status, 400);
    assert.equal(noDepartment.body.field, 'department');
    // Relaying for another department is refused too.
    const other = await post('/ingest/test-notes?department=taxation', lines(2), feeds);
    assert.equal(other.status, 403);
    assert.equal(await eventCount(), before);
    assert.equal((await batchState('b-read')).status, 'NONE');
  });

  it('answers 202 with the batch id, counts in the background: malformed and oversized lines rejected, the rest counted; the actor is the token', async () => {
    const body = `${lines(6)}{not json\n${JSON.stringify({ sourceRecordId: 'big', noteId: 'big', text: 'x'.repeat(400) })}\n${lines(3, 6)}`;
    const answer = await post('/ingest/test-notes?department=ecology-environment&batch=b-1&system=station-net', body, { authorization: `Bearer ${await tokenOf(FEEDS)}`, 'x-batch-fingerprint': 'fp-1' });
    assert.equal(answer.status, 202);
    assert.equal(answer.body.batchId, 'b-1');
    assert.match(String((answer.body.links as { query: string }).query), /ingestBatch\(id: "b-1"\)/);
    await route.running();
    const state = await batchState('b-1');
    assert.ok(state.status === 'COMPLETED');
    assert.deepEqual(state.totals, { received: 11, created: 9, changed: 0, unchanged: 0, alreadyPresent: 0, rejected: 2 });
    assert.equal(state.started.channel, 'http');
    assert.equal(state.started.consumerId, FEEDS);
    const [note] = await store.readStream('test.note-n0');
    assert.equal(note!.metadata.actor.consumerId, FEEDS);
    assert.equal(note!.metadata.provenance.channel, 'http');
    assert.equal(note!.metadata.provenance.system, 'station-net');

    // The same batch again with the same fingerprint: answered from the batch, nothing appended.
    const count = await eventCount();
    const again = await post('/ingest/test-notes?department=ecology-environment&batch=b-1', body, { authorization: `Bearer ${await tokenOf(FEEDS)}`, 'x-batch-fingerprint': 'fp-1' });
    assert.deepEqual([again.status, again.body.status], [200, 'completed']);
    // Another delivery under the same id: 409, nothing appended.
    const reused = await post('/ingest/test-notes?department=ecology-environment&batch=b-1', lines(2, 50), { authorization: `Bearer ${await tokenOf(FEEDS)}`, 'x-batch-fingerprint': 'fp-2' });
    assert.equal(reused.status, 409);
    // The same records under a new batch id: already present.
    const redelivered = await post('/ingest/test-notes?department=ecology-environment&batch=b-2', lines(9), { authorization: `Bearer ${await tokenOf(FEEDS)}` });
    assert.equal(redelivered.status, 202);
    await route.running();
    const second = await batchState('b-2');
    assert.ok(second.status === 'COMPLETED');
    assert.equal(second.totals.alreadyPresent, 9);
    assert.equal(await eventCount(), count + 4, 'b-2 started, counted two chunks and completed; no note twice');
  });

  it('refuses a body whose content-length is over the limit (413), and cuts a chunked one at the limit, rejecting the first line not read', async () => {
    const before = await eventCount();
    const token = await tokenOf(FEEDS);
    const big = lines(1200);
    assert.ok(Buffer.byteLength(big) > 64 * 1024);
    const declared = await post('/ingest/test-notes?department=ecology-environment&batch=b-big', big, { authorization: `Bearer ${token}` });
    assert.equal(declared.status, 413);
    assert.equal(await eventCount(), before);
    const status = await new Promise<number>((resolve) => {
      const req = httpRequest(`${base}/ingest/test-notes?department=ecology-environment&batch=b-chunked`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.on('error', () => undefined);
      for (let i = 0; i < 12; i++) req.write(lines(100, i * 100));
      req.end();
    });
    assert.equal(status, 202);
    await route.running();
    const state = await batchState('b-chunked');
    assert.ok(state.status === 'COMPLETED');
    const cut = state.totals.received - state.totals.created;
    assert.equal(cut, 1, 'only the line at the limit is rejected');
    assert.ok(state.totals.created > 900 && state.totals.created < 1200, `what fits in 64 KiB is counted (${state.totals.created})`);
  });

  it('a client that disconnects mid-body: what arrived is counted, the unfinished line rejected as cut off', async () => {
    const token = await tokenOf(FEEDS);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/ingest/test-notes?department=ecology-environment&batch=b-cut`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        assert.equal(res.statusCode, 202);
        req.write(`${lines(7)}{"sourceRecordId":"r7","noteId":"n7","te`, () => setTimeout(() => (req.destroy(), resolve()), 100));
      });
      req.flushHeaders();
    });
    await route.running();
    const state = await batchState('b-cut');
    assert.ok(state.status === 'COMPLETED');
    assert.deepEqual(state.totals, { received: 8, created: 7, changed: 0, unchanged: 0, alreadyPresent: 0, rejected: 1 });
  });
}

for (const openBackend of BACKENDS) describe(`POST /ingest/<kind> (${openBackend.name})`, () => suite(openBackend));
