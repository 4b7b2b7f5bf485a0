import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import type { Caller } from '../platform/auth.ts';
import type { CallSources } from '../subgraphs/kit/answerReads.ts';
import type { KeptAccessRecord } from '../subgraphs/kit/audit.ts';
import { SubgraphCredentials } from './credentials.ts';
import { SharedSubgraphCalls, type SubgraphCall } from './sharedCalls.ts';

const URL_ = 'http://127.0.0.1:4001/graphql';
const BODY = JSON.stringify({ query: '{ people(first: 50) { id idNumber } }' });
const SECRET = 'unit-test-assertion-secret-long-enough';
const callerOf = (consumerId: string, tokenId = `token-of-${consumerId}`): Caller => ({ consumerId, role: 'department', tokenId, expiresAt: new Date('2027-01-01') });

function recordOf(requestId: string): KeptAccessRecord {
  return {
    data: { consumerId: 'c', grantIds: ['g1'], operationName: 'Ids', operationHash: 'h', resources: ['population.identity'], subjectIds: ['p1'], purpose: 'p', requestId, subgraph: 'population', at: '' },
    metadata: { provenance: { department: 'city-brain', system: 'city-brain/population', channel: 'access-audit', collectedAt: '' }, actor: { consumerId: 'c', role: 'department' }, correlationId: requestId },
  };
}

/** Sources whose principal is what `principals` says per request id (else `grants-1`), and whose calls record one access record each. */
function harness() {
  const principals = new Map<string, string>();
  const recordedAgain: string[] = [];
  let recordFails = false;
  let principalFails = false;
  const sources: CallSources = {
    principal: async (_caller, requestId) => {
      if (principalFails) throw new Error('grants could not be read');
      return principals.get(requestId) ?? 'grants-1';
    },
    now: () => new Date('2026-12-06T10:00:00Z'),
    // Stands in for the recorder's collection: the call "writes" one record for the request it runs for.
    async trackCall(execute) {
      const value = await execute();
      return { value, records: [recordOf(currentRequest)] };
    },
    async recordAgain(records, requestId) {
      if (recordFails) throw new Error('not written');
      for (const r of records) recordedAgain.push(`${r.data.subgraph}:${requestId}`);
    },
  };
  let currentRequest = '';
  const shared = new Counter({ name: 'shared', help: 'shared', registers: [new Registry()] });
  const calls = new SharedSubgraphCalls(sources, shared);
  const fetched: string[] = [];
  let failNext = false;
  let errorsNext = false;
  /** Asks `body` as `credentials`; the subgraph takes 5 ms and answers with the request id that ran it. */
  const ask = async (credentials: SubgraphCredentials, overrides: Partial<SubgraphCall> = {}) => {
    const response = await calls.fetch({ url: URL_, body: BODY, credentials, minPosition: undefined, ...overrides }, async () => {
      fetched.push(credentials.requestId);
      currentRequest = credentials.requestId;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (failNext) {
        failNext = false;
        throw new Error('subgraph unreachable');
      }
      if (errorsNext) {
        errorsNext = false;
        return new Response(JSON.stringify({ data: { ranFor: credentials.requestId }, errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: credentials.requestId } }] }), { status: 200 });
      }
      return new Response(JSON.stringify({ data: { ranFor: credentials.requestId } }), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    return (await response.json()) as { data: { ranFor: string } };
  };
  const credentials = (caller: Caller, requestId: string) => new SubgraphCredentials(caller, 'token', SECRET, requestId);
  /** Requests `requestIds` of one caller asking the same call at once. */
  const askTogether = (requestIds: readonly string[]) => {
    const caller = callerOf('screen');
    return Promise.all(requestIds.map((id) => ask(credentials(caller, id))));
  };
  return {
    principals,
    recordedAgain,
    fetched,
    ask,
    askTogether,
    calls,
    credentials,
    shared: async () => (await shared.get()).values[0]?.value ?? 0,
    failRecords: () => (recordFails = true),
    failPrincipals: () => (principalFails = true),
    failNextCall: () => (failNext = true),
    errorsNextCall: () => (errorsNext = true),
  };
}

/** Nothing was shared: r1 and r2 each made their own call and got its answer. */
function assertEachRanItsOwnCall(fetched: readonly string[], answers: readonly { data: { ranFor: string } }[]): void {
  assert.deepEqual(fetched, ['r1', 'r2']);
  assert.deepEqual(answers.map((a) => a.data.ranFor), ['r1', 'r2']);
}

describe('SharedSubgraphCalls', () => {
  it('runs identical calls of one caller in flight at once once, and writes the access records again as each other request’s', async () => {
    const h = harness();
    const answers = await h.askTogether(['r1', 'r2', 'r3']);
    assert.deepEqual(h.fetched, ['r1']);
    assert.deepEqual(answers.map((a) => a.data.ranFor), ['r1', 'r1', 'r1']);
    assert.deepEqual(h.recordedAgain.sort(), ['population:r2', 'population:r3']);
    assert.equal(await h.shared(), 2);
  });

  it('shares nothing once the call has answered: the next identical call runs again', async () => {
    const h = harness();
    const caller = callerOf('screen');
    await h.ask(h.credentials(caller, 'r1'));
    await h.ask(h.credentials(caller, 'r2'));
    assert.deepEqual(h.fetched, ['r1', 'r2']);
    assert.deepEqual(h.recordedAgain, []);
  });

  it('never shares between consumers, tokens or principals', async () => {
    const h = harness();
    // The same consumer whose grants changed between its two requests: the second is read under the new grants.
    h.principals.set('after-revocation', 'grants-2');
    await Promise.all([
      h.ask(h.credentials(callerOf('masked'), 'm1')),
      h.ask(h.credentials(callerOf('clear'), 'c1')),
      h.ask(h.credentials(callerOf('masked', 'another-token'), 'm2')),
      h.ask(h.credentials(callerOf('masked'), 'after-revocation')),
    ]);
    assert.deepEqual(h.fetched.sort(), ['after-revocation', 'c1', 'm1', 'm2']);
    assert.deepEqual(h.recordedAgain, []);
  });

  it('never shares between operation names (the access record names the client’s), read-after-write positions, URLs or bodies', async () => {
    const h = harness();
    const caller = callerOf('screen');
    const named = h.credentials(caller, 'named');
    named.nameOperation('Other', true);
    await Promise.all([
      h.ask(h.credentials(caller, 'plain')),
      h.ask(named),
      h.ask(h.credentials(caller, 'waits'), { minPosition: '42' }),
      h.ask(h.credentials(caller, 'elsewhere'), { url: 'http://127.0.0.1:4002/graphql' }),
      h.ask(h.credentials(caller, 'other-body'), { body: JSON.stringify({ query: '{ people(first: 1) { id } }' }) }),
    ]);
    assert.equal(h.fetched.length, 5);
  });

  it('a request whose records cannot be written again makes its own call', async () => {
    const h = harness();
    h.failRecords();
    const answers = await h.askTogether(['r1', 'r2']);
    assertEachRanItsOwnCall(h.fetched, answers);
    assert.equal(await h.shared(), 0);
  });

  it('within an execution that holds them, records are awaited at its end: its call answers at once, and its end says whether they were written', async () => {
    const h = harness();
    const caller = callerOf('screen');
    const leader = h.credentials(caller, 'r1');
    const held = h.credentials(caller, 'r2');
    h.calls.hold(held);
    const answers = await Promise.all([h.ask(leader), h.ask(held)]);
    assert.deepEqual(answers.map((a) => a.data.ranFor), ['r1', 'r1']);
    assert.equal(await h.calls.release(held), true);
    assert.deepEqual(h.recordedAgain, ['population:r2']);

    h.failRecords();
    const failing = h.credentials(caller, 'r4');
    h.calls.hold(failing);
    const [, shared] = await Promise.all([h.ask(h.credentials(caller, 'r3')), h.ask(failing)]);
    // The call was shared (no call of its own), and its end says nothing of it may be served.
    assert.equal(shared.data.ranFor, 'r3');
    assert.deepEqual(h.fetched, ['r1', 'r3']);
    assert.equal(await h.calls.release(failing), false);
    // Released: nothing is held for it any more, and an execution that held nothing releases true.
    assert.equal(await h.calls.release(failing), true);
  });

  it('when the shared call fails, its caller gets the failure and the others make their own calls', async () => {
    const h = harness();
    h.failNextCall();
    const caller = callerOf('screen');
    const [first, second] = await Promise.allSettled(['r1', 'r2'].map((id) => h.ask(h.credentials(caller, id))));
    assert.equal(first?.status, 'rejected');
    assert.deepEqual(second?.status === 'fulfilled' && second.value.data.ranFor, 'r2');
    assert.deepEqual(h.fetched, ['r1', 'r2']);
  });

  it('an answer with errors is not shared (an internal error names its own request): the others make their own calls', async () => {
    const h = harness();
    h.errorsNextCall();
    const answers = await h.askTogether(['r1', 'r2']);
    assertEachRanItsOwnCall(h.fetched, answers);
    assert.deepEqual(h.recordedAgain, []);
  });

  it('when the grants cannot be read, each call goes to its subgraph unshared (which answers the failure)', async () => {
    const h = harness();
    h.failPrincipals();
    await h.askTogether(['r1', 'r2']);
    assert.deepEqual(h.fetched, ['r1', 'r2']);
  });
});
