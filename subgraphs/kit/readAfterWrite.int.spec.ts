/**
 * Read-after-write on both SQL backends: a query sent with a mutation's position in `x-min-position`
 * waits for the read models the projector is building and sees the write; a position they do not
 * reach in time is NOT_YET_PROJECTED with where they stand; a malformed one is BAD_USER_INPUT.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { comparePositions } from '../../events/position.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import { failure, only, type Body } from '../../test/helpers/graphqlBody.ts';
import { grantOf, startSubgraphHarness, type SubgraphHarness } from '../../test/helpers/subgraphHarness.ts';
import { postGraphQL, relayedHeaders } from '../../test/helpers/subgraphAuth.ts';
import { makeIdNumber } from '../population/identity/idNumber.ts';
import { populationModule } from '../population/index.ts';
import { MIN_POSITION_HEADER } from './readAfterWrite.ts';

const GRANTS = { registrar: [grantOf(['population.basic', 'population.identity', 'population.write'], ['READ', 'WRITE'])] };
const REGISTER = 'mutation R($input: RegisterResidentInput!) { registerResident(input: $input) { positions person { id } } }';
const PERSON = 'query P($id: ID!) { person(id: $id) { id name } }';

for (const makeBackend of BACKENDS) {
  describe(`read-after-write on ${makeBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let harness: SubgraphHarness;

    const query = async <T>(query: string, variables: Record<string, unknown>, minPosition?: string): Promise<Body<T>> =>
      (await postGraphQL<T>(harness.url, { ...(await relayedHeaders('registrar')), ...(minPosition && { [MIN_POSITION_HEADER]: minPosition }) }, query, variables)).body as Body<T>;

    before(async () => {
      backend = await makeBackend();
    });
    after(async () => {
      await backend.dispose();
    });
    /** The subgraph with its projector running, waiting at most `maxWaitMs` for a position. */
    const start = async (maxWaitMs: number) => {
      harness = await startSubgraphHarness(await backend.fresh(), { module: populationModule, grants: GRANTS, projector: 'running', readAfterWriteMaxWaitMs: maxWaitMs });
    };
    afterEach(async () => {
      await harness.close();
    });

    it('answers a query sent with the position of a mutation right after it with the write', async () => {
      // Ample time: on a busy machine the projector may take more than half a second to reach the write.
      await start(10_000);
      for (let i = 0; i < 5; i++) {
        const input = { idNumber: makeIdNumber('370102', '1990-03-07', 100 + i), name: `读写${i}`, gender: i % 2 ? 'MALE' : 'FEMALE', birthDate: '1990-03-07', residence: { address: '一号', divisionCode: '370102001001' } };
        const written = only(await query<{ registerResident: { positions: string[]; person: { id: string } } }>(REGISTER, { input })).registerResident;
        const last = written.positions.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
        const read = only(await query<{ person: { id: string; name: string } | null }>(PERSON, { id: written.person.id }, last));
        assert.deepEqual(read.person, { id: written.person.id, name: `读写${i}` });
      }
    });

    it('answers NOT_YET_PROJECTED with where the read models stand when they do not reach the position in time, and BAD_USER_INPUT for a malformed one', async () => {
      await start(500);
      const beyond = '999999999:999999999';
      const started = Date.now();
      const late = failure(await query(PERSON, { id: 'p-1' }, beyond), 'NOT_YET_PROJECTED');
      assert.ok(Date.now() - started >= 500, 'it waited the configured time first');
      assert.equal(late.extensions?.minPosition, beyond);
      assert.match(String(late.extensions?.position), /^\d+:\d+$/);
      const malformed = failure(await query(PERSON, { id: 'p-1' }, 'yesterday'), 'BAD_USER_INPUT');
      assert.equal(malformed.extensions?.field, MIN_POSITION_HEADER);
    });
  });
}
