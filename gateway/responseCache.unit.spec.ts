import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import type { Caller } from '../platform/auth.ts';
import { ExecutionReads, type AnswerSources } from '../subgraphs/kit/answerReads.ts';
import type { KeptAccessRecord } from '../subgraphs/kit/audit.ts';
import { ResponseCache, type ExecutedAnswer } from './responseCache.ts';

const caller: Caller = { consumerId: 'screen', role: 'department', tokenId: 't1', expiresAt: new Date('2027-01-01') };
const record: KeptAccessRecord = {
  data: { consumerId: 'screen', grantIds: [], operationName: 'Q', operationHash: 'h', resources: ['public'], subjectIds: [], purpose: 'public data', requestId: 'r0', subgraph: 'environment', at: '' },
  metadata: { provenance: { department: 'city-brain', system: 'city-brain/environment', channel: 'access-audit', collectedAt: '' }, actor: { consumerId: 'screen', role: 'department' }, correlationId: 'r0' },
};

/** Sources whose executions read what `reads` says; the clock and read-model versions are set by the test. */
interface HarnessState {
  ms: number;
  version: string;
  principal: string;
  /** The revision of every stream, now. */
  streamRevision: number;
  recordFails: boolean;
}

function harness(reads: (reads: ExecutionReads, state: HarnessState) => void = (r) => r.readModels.add('stations')) {
  const state: HarnessState = { ms: Date.parse('2026-12-05T10:00:00.100Z'), version: 'v1', principal: 'grants-1', streamRevision: 3, recordFails: false };
  const recorded: string[] = [];
  let versionReads = 0;
  const sources: AnswerSources = {
    principal: async () => state.principal,
    versions: async () => {
      versionReads++;
      return new Map([['stations', state.version]]);
    },
    streamRevisions: async (ids) => ids.map(() => state.streamRevision),
    now: () => new Date(state.ms),
    async track(requestId, execute) {
      const noted = new ExecutionReads();
      reads(noted, state);
      const value = await execute();
      return { value, reads: noted, records: [{ ...record, data: { ...record.data, requestId } }] };
    },
    trackCall: async (execute) => ({ value: await execute(), records: [] }),
    async recordAgain(records, requestId) {
      if (state.recordFails) throw new Error('not written');
      for (const r of records) recorded.push(`${r.data.subgraph}:${requestId}`);
    },
  };
  const cache = new ResponseCache(sources, new Counter({ name: 'hits', help: 'hits', registers: [new Registry()] }));
  let executions = 0;
  let result: ExecutedAnswer['result'] = { data: { n: 1 } } as ExecutedAnswer['result'];
  const ask = async (requestId: string, body: unknown = { query: '{ n }' }) => {
    let sent: string | undefined;
    await cache.serve(
      { body, accept: undefined, origin: undefined, caller, requestId },
      async () => {
        executions++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { status: 200, headers: [['content-type', 'application/json']], operation: 'query', result };
      },
      (answer) => (sent = answer.body),
    );
    return sent;
  };
  return { state, recorded, ask, executions: () => executions, versionReads: () => versionReads, setResult: (r: ExecutedAnswer['result']) => (result = r) };
}

describe('ResponseCache', () => {
  it('serves an identical query again, recording it as its own request, and executes once for requests arriving together', async () => {
    const h = harness();
    const answers = await Promise.all(['r1', 'r2', 'r3'].map((id) => h.ask(id)));
    assert.equal(h.executions(), 1);
    assert.deepEqual(answers, [undefined, '{"data":{"n":1}}', '{"data":{"n":1}}']);
    assert.equal(await h.ask('r4'), '{"data":{"n":1}}');
    assert.deepEqual(h.recorded, ['environment:r2', 'environment:r3', 'environment:r4']);
  });

  it('executes again when a read model it read moved, the principal changed, or the body differs', async () => {
    const h = harness();
    await h.ask('r1');
    h.state.version = 'v2';
    await h.ask('r2');
    h.state.principal = 'grants-2';
    await h.ask('r3');
    await h.ask('r4', { query: '{ n }', variables: { x: 1 } });
    assert.equal(h.executions(), 4);
  });

  it('holds an answer that folded a stream while the stream stays at the revision it folded', async () => {
    const h = harness((r, state) => r.streams.set('governance.consumer-screen', state.streamRevision));
    await h.ask('r1');
    await h.ask('r2');
    assert.equal(h.executions(), 1);
    h.state.streamRevision = 4;
    await h.ask('r3');
    await h.ask('r4');
    assert.equal(h.executions(), 2, 'executed again once the stream moved, then held at its new revision');
  });

  it('holds an answer that read the clock for its second only, one that did not across seconds', async () => {
    const clock = harness((r, state) => r.readClock(state.ms));
    await clock.ask('r1');
    await clock.ask('r2');
    clock.state.ms += 1000;
    await clock.ask('r3');
    await clock.ask('r4');
    assert.equal(clock.executions(), 2);
    const timeless = harness();
    await timeless.ask('r1');
    timeless.state.ms += 60_000;
    await timeless.ask('r2');
    assert.equal(timeless.executions(), 1);
  });

  it('holds an answer whose clock figures say when they next change until then, and one that also read the clock plainly for its second only', async () => {
    const changes = Date.parse('2026-12-05T10:00:30Z');
    const h = harness((r, state) => r.readClock(state.ms).holdsUntil(changes));
    await h.ask('r1');
    h.state.ms += 20_000;
    assert.equal(await h.ask('r2'), '{"data":{"n":1}}', 'served twenty seconds later');
    h.state.ms = changes;
    assert.equal(await h.ask('r3'), undefined, 'executed once the figure changes');
    assert.equal(h.executions(), 2);
    const mixed = harness((r, state) => {
      r.readClock(state.ms).holdsUntil(changes);
      r.readClock(state.ms);
    });
    await mixed.ask('r1');
    mixed.state.ms += 1000;
    await mixed.ask('r2');
    assert.equal(mixed.executions(), 2);
  });

  it('requests waiting for an execution whose second has passed execute once more, not each on its own', async () => {
    const h = harness((r, state) => r.readClock(state.ms));
    const first = h.ask('r1');
    await new Promise((resolve) => setTimeout(resolve, 2));
    h.state.ms += 1000;
    const later = await Promise.all(['r2', 'r3', 'r4'].map((id) => h.ask(id)));
    await first;
    assert.equal(h.executions(), 2);
    assert.deepEqual(later, [undefined, '{"data":{"n":1}}', '{"data":{"n":1}}']);
  });

  it('keeps no answer read beyond the read models, with errors, or whose records could not be written again', async () => {
    const log = harness((r) => (r.beyondReadModels = true));
    await log.ask('r1');
    await log.ask('r2');
    assert.equal(log.executions(), 2);
    assert.equal(log.versionReads(), 1, 'the second is executed without a lookup');
    const failed = harness();
    failed.setResult({ errors: [{ message: 'refused' }] });
    await failed.ask('r1');
    await failed.ask('r2');
    assert.equal(failed.executions(), 2);
    const unrecorded = harness();
    await unrecorded.ask('r1');
    unrecorded.state.recordFails = true;
    assert.equal(await unrecorded.ask('r2'), undefined, 'executed instead of served');
    assert.equal(unrecorded.executions(), 2);
  });
});
