/**
 * One subgraph process of the production deployment (docs/deployment.md): `SUBGRAPH=<name>` hosts
 * that module only, against `DATABASE_URL` (or the servers `EVENT_STORE`/`READ_MODELS` choose), with the governance access control (grants folded from
 * the store, access records appended by this process). Read models are kept by the projector
 * processes (bin/projector.ts); this process only reads them. `GET /healthz` answers while it is up,
 * `GET /metrics` with its requests by operation, access-record commits and process stats.
 *
 *   SUBGRAPH=population DATABASE_URL=postgres://… JWT_SECRET=… GATEWAY_ASSERTION_SECRET=… npx tsx bin/subgraph.ts
 */
import { CityBrainError, ValidationError } from '../events/errors.ts';
import { clientTokenConfig, gatewayConfigFromEnv } from '../gateway/config.ts';
import { closeOnSignals } from '../gateway/server.ts';
import { defaultSubgraphPort, isSubgraphName, SUBGRAPH_NAMES } from '../platform/subgraphs.ts';
import { createGovernanceAccess } from '../subgraphs/governance/index.ts';
import { createSubgraphServer } from '../subgraphs/kit/server.ts';
import { MODULES } from './modules.ts';
import { createLogger, openPlatform } from './platform.ts';
import { listenAddressFromEnv } from '../platform/opsServer.ts';

const env = process.env;
const logger = createLogger(env);

/** Which module, on which port and host: every mistake at once, one line each. */
function subgraphConfigFromEnv() {
  const problems: string[] = [];
  const name = env.SUBGRAPH ?? '';
  if (!isSubgraphName(name)) problems.push(`  SUBGRAPH: "${name}" is not one of ${SUBGRAPH_NAMES.join(', ')}`);
  const module = MODULES.find((m) => m.name === name);
  const { port, host } = listenAddressFromEnv(env, isSubgraphName(name) ? defaultSubgraphPort(name) : 0, problems);
  // On KurrentDB (read models in MongoDB, `backends.ts`) no process opens an SQL database.
  if (!env.DATABASE_URL && env.EVENT_STORE !== 'kurrentdb') problems.push('  DATABASE_URL: required (the subgraph processes share one PostgreSQL database, unless EVENT_STORE=kurrentdb)');
  if (problems.length > 0 || !module) throw new ValidationError(`invalid configuration:\n${problems.join('\n')}`);
  return { module, port, host };
}

try {
  const { module, port, host } = subgraphConfigFromEnv();
  // The subgraph verifies the same client tokens and gateway assertions the gateway issues and checks.
  const { options } = gatewayConfigFromEnv(env);
  const platform = await openPlatform({ modules: [module], env, logger, chain: false });
  const access = createGovernanceAccess(platform.runtime);
  try {
    const server = createSubgraphServer({
      name: module.name,
      typeDefs: module.typeDefs,
      resolvers: module.resolvers(platform.runtime),
      auth: { client: clientTokenConfig(options.auth), assertionSecret: options.auth.assertionSecret },
      access,
      now: platform.runtime.now,
      logger,
      devMode: options.devMode,
      readAfterWrite: { readModels: platform.runtime.readModels, projections: module.projections.map((p) => p.name) },
    });
    const listening = await server.listen(port, host);
    closeOnSignals(
      {
        async close() {
          await listening.close();
          await access.recorder?.close();
          await platform.close();
        },
      },
      logger,
    );
  } catch (error) {
    await access.recorder?.close();
    await platform.close();
    throw error;
  }
} catch (error) {
  // A configuration mistake is the operator's to fix: say what it is, without a stack trace.
  console.error(error instanceof CityBrainError ? `subgraph: ${error.message}` : error);
  process.exitCode = 1;
}
