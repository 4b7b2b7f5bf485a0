/**
 * Verified tokens are remembered (issue #19) — attacks on that memo: a forged or altered token, a
 * token verified under another key, a token past its expiry, an assertion for another token.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { ASSERTION_HEADER, authenticateSubgraphRequest, createGatewayAssertion, issueToken, verifyClientToken, type SubgraphAuthConfig } from './auth.ts';
import { UnauthenticatedError } from '../events/errors.ts';

const SECRET = 'a-client-token-secret-long-enough-for-hs256';
const OTHER_SECRET = 'another-client-token-secret-long-enough-too';
const ASSERTION_SECRET = 'a-gateway-assertion-secret-long-enough-too';

const refusedFor = (reason: string) => (error: unknown) => error instanceof UnauthenticatedError && error.details.reason === reason;

describe('verified tokens are reused only for the very token, key and lifetime they were verified for', () => {
  afterEach(() => mock.timers.reset());

  it('refuses a token whose signature was altered after the genuine one was accepted', async () => {
    const config = { secret: SECRET };
    const token = await issueToken({ consumerId: 'app-a', role: 'department', secret: SECRET });
    assert.equal((await verifyClientToken(token, config)).consumerId, 'app-a');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const altered = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await assert.rejects(verifyClientToken(altered, config), refusedFor('bad_signature'));
  });

  it('refuses a claims-swapped token (another consumer) signed with a key it does not know', async () => {
    const config = { secret: SECRET };
    const genuine = await issueToken({ consumerId: 'app-a', role: 'partner', secret: SECRET });
    await verifyClientToken(genuine, config);
    const forged = await issueToken({ consumerId: 'app-a', role: 'admin', secret: OTHER_SECRET });
    await assert.rejects(verifyClientToken(forged, config), refusedFor('bad_signature'));
  });

  it('does not accept under one key a token it verified under another', async () => {
    const token = await issueToken({ consumerId: 'app-b', role: 'department', secret: OTHER_SECRET });
    assert.equal((await verifyClientToken(token, { secret: OTHER_SECRET })).consumerId, 'app-b');
    await assert.rejects(verifyClientToken(token, { secret: SECRET }), refusedFor('bad_signature'));
  });

  it('refuses a remembered token once it has expired', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const config = { secret: SECRET, clockToleranceSeconds: 0 };
    const token = await issueToken({ consumerId: 'app-c', role: 'department', secret: SECRET, expiresIn: 30 });
    assert.equal((await verifyClientToken(token, config)).consumerId, 'app-c');
    mock.timers.tick(31_000);
    await assert.rejects(verifyClientToken(token, config), refusedFor('expired'));
  });

  it('hands out a caller no request can change for the next one', async () => {
    const token = await issueToken({ consumerId: 'app-d', role: 'partner', secret: SECRET });
    const caller = await verifyClientToken(token, { secret: SECRET });
    assert.throws(() => Object.assign(caller, { role: 'admin' }), TypeError);
    assert.equal((await verifyClientToken(token, { secret: SECRET })).role, 'partner');
  });

  it('refuses a remembered assertion presented with another client token', async () => {
    const auth: SubgraphAuthConfig = { client: { secret: SECRET }, assertionSecret: ASSERTION_SECRET };
    const mine = await issueToken({ consumerId: 'app-e', role: 'department', secret: SECRET });
    const caller = await verifyClientToken(mine, auth.client);
    const assertion = createGatewayAssertion({ caller, token: mine, requestId: 'r-1', secret: ASSERTION_SECRET });
    const relayed = await authenticateSubgraphRequest({ authorization: `Bearer ${mine}`, [ASSERTION_HEADER]: assertion }, auth);
    assert.equal(relayed.requestId, 'r-1');
    const theirs = await issueToken({ consumerId: 'app-e', role: 'department', secret: SECRET });
    await assert.rejects(authenticateSubgraphRequest({ authorization: `Bearer ${theirs}`, [ASSERTION_HEADER]: assertion }, auth), refusedFor('assertion_mismatch'));
  });

  it('refuses a remembered assertion under another assertion secret', async () => {
    const token = await issueToken({ consumerId: 'app-f', role: 'department', secret: SECRET });
    const caller = await verifyClientToken(token, { secret: SECRET });
    const assertion = createGatewayAssertion({ caller, token, requestId: 'r-2', secret: ASSERTION_SECRET });
    const headers = { authorization: `Bearer ${token}`, [ASSERTION_HEADER]: assertion };
    await authenticateSubgraphRequest(headers, { client: { secret: SECRET }, assertionSecret: ASSERTION_SECRET });
    await assert.rejects(authenticateSubgraphRequest(headers, { client: { secret: SECRET }, assertionSecret: `${ASSERTION_SECRET}-rotated` }), refusedFor('invalid_assertion'));
  });
});
