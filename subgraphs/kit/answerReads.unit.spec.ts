import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { EventStore } from '../../events/types.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import type { DocumentStore } from '../../projections/types.ts';
import type { AccessControl, AccessGrant } from './access.ts';
import { answerSources, notingReads } from './answerReads.ts';
import { recordedAgain } from './audit.ts';
import type { SubgraphRuntime } from './module.ts';
import type { Caller } from '../../platform/auth.ts';

const documents = { collection: () => ({ getMany: async () => [] }) } as unknown as DocumentStore;
const readModels: ReadModels = { checkpoints: async () => new Map(), of: () => documents, version: async (name) => `${name} v1` };
const runtime: SubgraphRuntime = {
  store: {
    streamRevision: async () => 3,
    aggregate: async (_decider: unknown, streamId: string) => ({ state: {}, revision: streamId.endsWith('-new') ? undefined : 7, events: [] }),
  } as unknown as EventStore,
  readModels,
  now: () => new Date('2026-12-05T10:00:00Z'),
  logger: pino({ level: 'silent' }),
};
let grants: AccessGrant[] = [];
const access: AccessControl = { principalFor: async () => ({ grants, jurisdiction: null }), unit: async () => null, recorder: null };
const sources = answerSources({ access, runtime, readModelNames: ['persons', 'companies', 'persons'] })!;
const resolverRuntime = notingReads(runtime, (streamId) => streamId.startsWith('governance.consumer-'));
const caller: Caller = { consumerId: 'screen', role: 'department', tokenId: 't1', expiresAt: new Date('2027-01-01') };

describe('answerReads', () => {
  it('notes each read model and any read of the event log in the execution that made it, not in one running beside it', async () => {
    // Taken once, before any request, as a resolver may: its reads are still noted per request.
    const persons = resolverRuntime.readModels.of('persons').collection('persons');
    const [models, log] = await Promise.all([
      sources.track('r1', async () => {
        await sleep(5);
        await persons.getMany(['p1']);
      }),
      sources.track('r2', async () => {
        await resolverRuntime.store.streamRevision('population.person-1');
      }),
    ]);
    assert.deepEqual([...models.reads.readModels], ['persons']);
    assert.equal(models.reads.beyondReadModels, false);
    assert.deepEqual([...log.reads.readModels], []);
    assert.equal(log.reads.beyondReadModels, true);
  });

  it('notes a consumer stream folded whole with the revision folded; a fold up to a revision, or of a stream that may hold personal data, is a read beyond', async () => {
    const decider = { initialState: () => ({}), evolve: (state: object) => state };
    const whole = await sources.track('r6', async () => {
      await resolverRuntime.store.aggregate(decider, 'governance.consumer-screen');
      await resolverRuntime.store.aggregate(decider, 'governance.consumer-new');
    });
    assert.deepEqual([...whole.reads.streams], [['governance.consumer-screen', 7], ['governance.consumer-new', -1]]);
    assert.equal(whole.reads.beyondReadModels, false);
    const partial = await sources.track('r7', () => resolverRuntime.store.aggregate(decider, 'governance.consumer-screen', { toRevision: 2 }));
    assert.equal(partial.reads.beyondReadModels, true);
    // A stream that may hold personal fields: erasing a key changes what it reads without moving it.
    const personal = await sources.track('r8', () => resolverRuntime.store.aggregate(decider, 'population.person-1'));
    assert.equal(personal.reads.beyondReadModels, true);
    assert.deepEqual([...personal.reads.streams], []);
    assert.deepEqual(await sources.streamRevisions(['governance.consumer-screen']), [3]);
  });

  it('counts a checkpoint read as a read beyond the documents (a checkpoint moves without their version)', async () => {
    const { reads } = await sources.track('r3', () => resolverRuntime.readModels.checkpoints(['persons']));
    assert.equal(reads.beyondReadModels, true);
  });

  it('gives the version of every hosted read model, each once', async () => {
    assert.deepEqual([...(await sources.versions())], [['persons', 'persons v1'], ['companies', 'companies v1']]);
  });

  it("tells the caller's principal apart as soon as its grants change", async () => {
    grants = [];
    const before = await sources.principal(caller, 'r4');
    grants = [{ grantId: 'g1', resources: ['population.basic'], actions: ['READ'], masked: true, purpose: 'test' }];
    assert.notEqual(await sources.principal(caller, 'r5'), before);
  });

  it('rewrites a kept access record as the record of another request, changing nothing else', () => {
    const kept = {
      data: { consumerId: 'screen', grantIds: ['g1'], operationName: 'Ids', operationHash: 'h', resources: ['population.basic'], subjectIds: ['p1'], purpose: 'test', requestId: 'r1', subgraph: 'population', at: '2026-12-05T10:00:00.000Z' },
      metadata: { provenance: { department: 'city-brain', system: 'city-brain/population', channel: 'access-audit', collectedAt: '2026-12-05T10:00:00.000Z' }, actor: { consumerId: 'screen', role: 'department' }, correlationId: 'r1' },
    };
    const again = recordedAgain(kept, 'r9', new Date('2026-12-05T10:00:00.400Z'));
    // As the store writes it (JSON): the rewrite also carries a symbol-keyed mark, for the group commit to merge rewrites.
    assert.deepEqual(JSON.parse(JSON.stringify(again.data)), { ...kept.data, requestId: 'r9', at: '2026-12-05T10:00:00.400Z' });
    assert.deepEqual(again.metadata, { ...kept.metadata, correlationId: 'r9', provenance: { ...kept.metadata.provenance, collectedAt: '2026-12-05T10:00:00.400Z' } });
  });
});
