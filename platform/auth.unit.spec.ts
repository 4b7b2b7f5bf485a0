/**
 * Verified tokens are remembered until they expire — attacks on that memo: a forged or altered token, a
 * token verified under another key, a token past its expiry, an assertion for another token.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, it, mock } from 'node:test';
import { ASSERTION_HEADER, authenticateSubgraphRequest, createGatewayAssertion, issueToken, rememberedAssertionCount, verifyClientToken, type SubgraphAuthConfig } from './auth.ts';
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

describe('a gateway assertion is accepted only as the gateway signs it, fresh', () => {
  const auth: SubgraphAuthConfig = { client: { secret: SECRET }, assertionSecret: ASSERTION_SECRET };
  const encode = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const signed = (header: unknown, claims: unknown, secret = ASSERTION_SECRET) => {
    const input = `${encode(header)}.${encode(claims)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const HEADER = { alg: 'HS256', typ: 'JWT' };
  const relayed = async (consumerId: string) => {
    const token = await issueToken({ consumerId, role: 'department', secret: SECRET });
    const caller = await verifyClientToken(token, auth.client);
    const now = Math.floor(Date.now() / 1000);
    const claims = { role: 'department', tid: caller.tokenId, tokenHash: createHash('sha256').update(token).digest('base64url'), rid: 'r', iss: 'city-brain-gateway', aud: 'city-brain-subgraphs', sub: consumerId, iat: now, exp: now + 30 };
    const present = (assertion: string) => authenticateSubgraphRequest({ authorization: `Bearer ${token}`, [ASSERTION_HEADER]: assertion }, auth);
    return { token, caller, claims, present };
  };
  afterEach(() => mock.timers.reset());

  it('accepts one signed by hand exactly as the gateway signs (so the cases below differ only in what they name)', async () => {
    const { claims, present } = await relayed('app-g');
    assert.equal((await present(signed(HEADER, claims))).requestId, 'r');
  });

  it('refuses the algorithm "none", another header, a changed payload and a re-encoded signature', async () => {
    const { claims, present } = await relayed('app-h');
    const genuine = signed(HEADER, claims);
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const cases: [string, string][] = [
      ['alg none without signature', `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      ['alg none with the genuine signature', `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`],
      ['another header, validly signed', signed({ alg: 'HS256', typ: 'JWT', kid: 'x' }, claims)],
      ['payload changed (admin role), signature kept', `${header}.${encode({ ...claims, role: 'admin' })}.${signature}`],
      ['signature with a character appended', `${genuine}A`],
      ['signature cut short', genuine.slice(0, -4)],
      ['two parts', `${header}.${payload}`],
      ['payload that is not JSON', (() => { const input = `${header}.${Buffer.from('not json').toString('base64url')}`; return `${input}.${createHmac('sha256', ASSERTION_SECRET).update(input).digest('base64url')}`; })()],
      ['payload that is JSON but not an object', signed(HEADER, 42)],
    ];
    for (const [label, assertion] of cases) await assert.rejects(present(assertion), refusedFor('invalid_assertion'), label);
  });

  it('refuses another issuer or audience, a missing or non-numeric time, and a lifetime over the maximum', async () => {
    const { claims, present } = await relayed('app-i');
    const cases: [string, unknown][] = [
      ['another issuer', { ...claims, iss: 'city-brain' }],
      ['another audience', { ...claims, aud: 'city-brain' }],
      ['audience as a list', { ...claims, aud: ['city-brain-subgraphs'] }],
      ['no expiry', { ...claims, exp: undefined }],
      ['issue time as text', { ...claims, iat: String(claims.iat) }],
      ['valid for two minutes', { ...claims, exp: claims.iat + 120 }],
    ];
    for (const [label, changed] of cases) await assert.rejects(present(signed(HEADER, changed)), refusedFor('invalid_assertion'), label);
  });

  it('refuses one past its expiry (beyond 5 s of clock difference) and one issued in the future', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { claims, present } = await relayed('app-j');
    await assert.rejects(present(signed(HEADER, { ...claims, iat: claims.iat + 60, exp: claims.exp + 60 })), refusedFor('invalid_assertion'), 'issued a minute ahead');
    const expiring = signed(HEADER, { ...claims, rid: 'r-late' });
    mock.timers.tick(34_000);
    assert.equal((await present(expiring)).requestId, 'r-late', 'within the clock tolerance');
    mock.timers.tick(2_000);
    await assert.rejects(present(signed(HEADER, { ...claims, rid: 'r-later' })), refusedFor('invalid_assertion'), 'expired 6 s ago');
  });
});

describe('the memo of verified assertions keeps nothing of requests that are over', () => {
  afterEach(() => mock.timers.reset());

  it('forgets the assertions of ended subscriptions once they expired, though none is presented again', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    // Its own assertion secret: a memo of its own, whatever the other cases left in theirs.
    const auth: SubgraphAuthConfig = { client: { secret: SECRET }, assertionSecret: 'an-assertion-secret-of-the-memo-case-alone' };
    const token = await issueToken({ consumerId: 'app-m', role: 'partner', secret: SECRET });
    const caller = await verifyClientToken(token, auth.client);
    const subscribe = (requestId: string) =>
      authenticateSubgraphRequest({ authorization: `Bearer ${token}`, [ASSERTION_HEADER]: createGatewayAssertion({ caller, token, requestId, secret: auth.assertionSecret }) }, auth);
    const before = rememberedAssertionCount();
    // A thousand subscriptions, as the gateway relays them: each its own assertion, verified once, never again.
    for (let i = 0; i < 1000; i++) await subscribe(`subscription-${i}`);
    assert.equal(rememberedAssertionCount(), before + 1000, 'each assertion is remembered while it may come again');
    // They all ended; their assertions expire (30 s) and the reuse bound (60 s) passes.
    mock.timers.tick(61_000);
    assert.equal((await subscribe('the-next-one')).requestId, 'the-next-one');
    assert.equal(rememberedAssertionCount(), before + 1, 'only the live request is remembered');
  });
});
