/**
 * A gateway process on its own (production: each subgraph, the gateway and the projector run
 * separately, DESIGN §4): configuration from the environment (gateway/README.md), the checked-in
 * `schema/supergraph.graphql`, subgraph URLs from `SUBGRAPH_<NAME>_URL`.
 *
 *   JWT_SECRET=… GATEWAY_ASSERTION_SECRET=… npx tsx gateway/main.ts
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { CityBrainError } from '../events/errors.ts';
import { gatewayConfigFromEnv } from './config.ts';
import { closeOnSignals, createGatewayServer } from './server.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
try {
  const { options, port, host } = gatewayConfigFromEnv();
  const supergraph = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
  const gateway = await createGatewayServer({ ...options, supergraph, logger }).listen(port, host);
  closeOnSignals(gateway, logger);
} catch (error) {
  // A configuration mistake is the operator's to fix: say what it is, without a stack trace.
  console.error(error instanceof CityBrainError ? error.message : error);
  process.exitCode = 1;
}
