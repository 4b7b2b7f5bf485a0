import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, parse, type ExecutionResult, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import { RequestAccess } from './access.ts';
import { markShared, sharedExecutionStats, subscribeSharing } from './sharedEvents.ts';

const logger = pino({ level: 'silent' });
const COVERAGE = { grantIds: ['g-1'], purposes: ['testing'], masked: false };

interface Tick {
  n: number;
}

/** `Subscription.ticks` yields the given root values; the root resolver marks what it served, `secret` refuses callers named in `refused`. */
function schemaOver(values: readonly object[], refused: ReadonlySet<string> = new Set()): GraphQLSchema {
  const schema = buildSchema('type Query { ok: String } type Subscription { ticks: Tick } type Tick { n: Int secret: String }');
  const ticks = schema.getSubscriptionType()!.getFields().ticks!;
  ticks.subscribe = async function* () {
    yield* values;
  };
  ticks.resolve = (root: { ticks: Tick }, _args, ctx: { access: RequestAccess }) => {
    ctx.access.markServed('ticks', COVERAGE);
    ctx.access.markSubjectId(`subject-${root.ticks.n}`);
    return root.ticks;
  };
  (schema.getType('Tick') as GraphQLObjectType).getFields().secret!.resolve = (_: Tick, _args: unknown, ctx: { caller: string }) => {
    if (refused.has(ctx.caller)) throw new Error(`${ctx.caller} may not read secret`);
    return 'secret';
  };
  return schema;
}

/** One subscription: every result, and each one's served subjects as its access record would take them (then reset). */
async function follow(schema: GraphQLSchema, query: string, caller: string, before?: (access: RequestAccess) => void) {
  const access = new RequestAccess(async () => ({ grants: [], jurisdiction: null }), logger);
  before?.(access);
  const stream = await subscribeSharing({ schema, document: parse(query), contextValue: { access, caller } }, query, access);
  assert.ok(Symbol.asyncIterator in stream);
  const results: { result: ExecutionResult; subjects: string[]; resources: string[] }[] = [];
  for await (const result of stream) {
    // graphql's data objects have no prototype: compared as plain JSON.
    results.push({ result: JSON.parse(JSON.stringify(result)) as ExecutionResult, subjects: [...access.served.subjectIds], resources: [...access.served.resources] });
    access.reset();
  }
  return results;
}

describe('subscription events shared by many subscriptions (sharedEvents)', () => {
  it('executes a shared event once per operation and gives every subscription the result and what it served', async () => {
    const values = [1, 2, 3].map((n) => markShared({ ticks: { n } }));
    const schema = schemaOver(values);
    const query = 'subscription { ticks { n } }';
    const before = { ...sharedExecutionStats };
    const first = await follow(schema, query, 'a');
    const second = await follow(schema, query, 'b');
    assert.equal(sharedExecutionStats.executed - before.executed, 3);
    assert.equal(sharedExecutionStats.reused - before.reused, 3);
    for (const results of [first, second]) {
      assert.deepEqual(
        results.map((r) => r.result.data),
        [1, 2, 3].map((n) => ({ ticks: { n } })),
      );
      assert.deepEqual(
        results.map((r) => r.subjects),
        [['subject-1'], ['subject-2'], ['subject-3']],
        'each event recorded as its own execution would have',
      );
      assert.ok(results.every((r) => r.resources.includes('ticks')));
    }
    // Another operation on the same events: executed on its own.
    const other = await follow(schema, 'subscription { ticks { n secret } }', 'a');
    assert.deepEqual(other[0]!.result.data, { ticks: { n: 1, secret: 'secret' } });
  });

  it('never reuses a result with errors: a refusal is the refused caller’s alone', async () => {
    const values = [markShared({ ticks: { n: 1 } })];
    const schema = schemaOver(values, new Set(['refused']));
    const query = 'subscription { ticks { n secret } }';
    const [refused] = await follow(schema, query, 'refused');
    assert.match(String(refused!.result.errors?.[0]?.message), /refused may not read secret/);
    const [allowed] = await follow(schema, query, 'allowed');
    assert.equal(allowed!.result.errors, undefined);
    assert.deepEqual(allowed!.result.data, { ticks: { n: 1, secret: 'secret' } });
  });

  it('does not hand on marks the subscription had taken before the event', async () => {
    const values = [markShared({ ticks: { n: 1 } })];
    const schema = schemaOver(values);
    const query = 'subscription { ticks { n } }';
    await follow(schema, query, 'a', (access) => access.markSubjectId('taken-at-subscribe'));
    const [later] = await follow(schema, query, 'b');
    assert.deepEqual(later!.subjects, ['subject-1']);
  });

  it('executes values not marked shared for each subscription', async () => {
    const schema = schemaOver([{ ticks: { n: 1 } }]);
    const before = { ...sharedExecutionStats };
    await follow(schema, 'subscription { ticks { n } }', 'a');
    assert.deepEqual(sharedExecutionStats, before);
  });
});
