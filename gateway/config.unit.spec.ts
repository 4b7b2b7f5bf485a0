import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../events/errors.ts';
import { clientTokenConfig, gatewayConfigFromEnv, parseGatewayOptions } from './config.ts';

const SECRET = 'a-client-token-secret-of-32-chars!!';
const ASSERTION = 'an-assertion-secret-of-32-characters';

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.message;
  }
  assert.fail('expected a ValidationError');
}

describe('gateway configuration', () => {
  test('defaults apply: limits on, development mode off', () => {
    const options = parseGatewayOptions({ auth: { jwtSecret: SECRET, assertionSecret: ASSERTION } });
    assert.equal(options.devMode, false);
    assert.equal(options.limits.maxDepth, 12);
    assert.equal(options.limits.maxBodyBytes, 262_144);
    assert.equal(options.limits.maxSubscriptionBuffer, 500);
    assert.deepEqual(clientTokenConfig(options.auth), { secret: SECRET, clockToleranceSeconds: 5 });
  });

  test('a JWKS URL is accepted instead of a secret', () => {
    const options = parseGatewayOptions({ auth: { jwksUrl: 'https://idp.example/jwks.json', jwtAlgorithms: ['ES256'], assertionSecret: ASSERTION } });
    assert.deepEqual(clientTokenConfig(options.auth), { jwksUrl: 'https://idp.example/jwks.json', algorithms: ['ES256'], clockToleranceSeconds: 5 });
  });

  test('each mistake is reported, naming the option', () => {
    const cases: [string, Parameters<typeof parseGatewayOptions>[0], RegExp][] = [
      ['no keys', { auth: { assertionSecret: ASSERTION } }, /auth\.jwtSecret: set either an HS256 secret or a JWKS URL/],
      ['both keys', { auth: { jwtSecret: SECRET, jwksUrl: 'https://idp.example/jwks', assertionSecret: ASSERTION } }, /auth\.jwksUrl: .*not both/],
      ['short secret', { auth: { jwtSecret: 'short', assertionSecret: ASSERTION } }, /auth\.jwtSecret: must be at least 32 characters/],
      ['plain http JWKS', { auth: { jwksUrl: 'http://idp.example/jwks', assertionSecret: ASSERTION } }, /auth\.jwksUrl: must use https/],
      ['same secrets', { auth: { jwtSecret: SECRET, assertionSecret: SECRET } }, /auth\.assertionSecret: must differ/],
      ['bad limit', { auth: { jwtSecret: SECRET, assertionSecret: ASSERTION }, limits: { maxDepth: 0 } }, /limits\.maxDepth/],
      ['bad subgraph URL', { auth: { jwtSecret: SECRET, assertionSecret: ASSERTION }, subgraphUrls: { tax: 'tax:4106' } }, /subgraphUrls\.tax/],
      ['no subscription buffer', { auth: { jwtSecret: SECRET, assertionSecret: ASSERTION }, limits: { maxSubscriptionBuffer: 0 } }, /limits\.maxSubscriptionBuffer/],
    ];
    for (const [label, input, expected] of cases) assert.match(problems(() => parseGatewayOptions(input)), expected, label);
  });

  test('from the environment, every mistake is listed under its variable', () => {
    const message = problems(() =>
      gatewayConfigFromEnv({
        JWT_SECRET: 'short',
        GATEWAY_MAX_DEPTH: 'deep',
        GATEWAY_MAX_SUBSCRIPTION_BUFFER: '0',
        GATEWAY_DEV_MODE: 'yes',
        GATEWAY_PORT: '70000',
        SUBGRAPH_TAX_URL: 'nowhere',
        GATEWAY_QUERY_PLANNER: 'go',
      }),
    );
    for (const name of ['JWT_SECRET', 'GATEWAY_ASSERTION_SECRET: is required', 'GATEWAY_MAX_DEPTH', 'GATEWAY_MAX_SUBSCRIPTION_BUFFER', 'GATEWAY_DEV_MODE', 'GATEWAY_PORT', 'SUBGRAPH_TAX_URL', 'GATEWAY_QUERY_PLANNER: must be rust or js']) {
      assert.ok(message.includes(name), `${name} missing from:\n${message}`);
    }
  });

  test('from the environment, a valid configuration parses', () => {
    const config = gatewayConfigFromEnv({
      JWT_SECRET: SECRET,
      GATEWAY_ASSERTION_SECRET: ASSERTION,
      GATEWAY_MAX_COST: '1_000',
      GATEWAY_MAX_SUBSCRIPTION_BUFFER: '2_000',
      GATEWAY_DEV_MODE: 'true',
      GATEWAY_PORT: '4400',
      GATEWAY_QUERY_PLANNER: 'js',
    });
    assert.equal(config.port, 4400);
    assert.equal(config.options.queryPlanner, 'js');
    assert.equal(gatewayConfigFromEnv({ JWT_SECRET: SECRET, GATEWAY_ASSERTION_SECRET: ASSERTION }).options.queryPlanner, 'rust');
    assert.equal(config.options.limits.maxCost, 1000);
    assert.equal(config.options.limits.maxSubscriptionBuffer, 2000);
    assert.equal(config.options.devMode, true);
    assert.equal(config.options.subgraphUrls.population, 'http://127.0.0.1:4101/graphql');
  });
});
