/**
 * The production topology (docs/deployment.md, Procfile): one process per subgraph, the gateway,
 * and two projectors, each with the environment it needs. `npm run start:prod` spawns it; the
 * deployment test spawns the same processes one by one so it can kill them.
 */
import { fileURLToPath } from 'node:url';
import { FIRST_PROJECTOR_PORT, SUBGRAPHS, subgraphUrlVariable, type SubgraphName } from '../platform/subgraphs.ts';

export interface ProcessSpec {
  /** `gateway`, `projector-1`, `subgraph-population`… (the output prefix). */
  name: string;
  /** The entry point, relative to the repository root. */
  entry: string;
  env: Record<string, string>;
}

export interface TopologyOptions {
  /** @default every subgraph */
  subgraphs?: readonly SubgraphName[];
  /** @default 2 */
  projectors?: number;
  /** Ports of the subgraphs not listening where `SUBGRAPH_<NAME>_URL` (or the default) says. */
  subgraphPorts?: Partial<Record<SubgraphName, number>>;
  /** Where each projector serves `/healthz`, `/readyz` and `/metrics`. @default 4108, 4109, … */
  projectorPorts?: readonly number[];
}


export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Each subgraph listens on the port of its `SUBGRAPH_<NAME>_URL` when that is set (so one variable
 * tells the gateway where to route and the subgraph where to listen), else on its default port; the
 * gateway is given every subgraph's URL. Everything else (`DATABASE_URL`, secrets, `LOG_LEVEL`…)
 * comes from `env` unchanged.
 */
export function productionTopology(env: Record<string, string | undefined>, options: TopologyOptions = {}): ProcessSpec[] {
  const base = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const hosted = options.subgraphs ?? SUBGRAPHS.map((s) => s.name);
  const urls: Record<string, string> = {};
  const processes: ProcessSpec[] = [];
  for (const { name, port: defaultPort } of SUBGRAPHS) {
    const variable = subgraphUrlVariable(name);
    const configured = env[variable] ? new URL(env[variable]) : undefined;
    const port = options.subgraphPorts?.[name] ?? (configured?.port ? Number(configured.port) : defaultPort);
    urls[variable] = configured && !options.subgraphPorts?.[name] ? configured.toString() : `http://127.0.0.1:${port}/graphql`;
    if (hosted.includes(name)) {
      processes.push({ name: `subgraph-${name}`, entry: 'bin/subgraph.ts', env: { ...base, SUBGRAPH: name, PORT: String(port) } });
    }
  }
  processes.push({ name: 'gateway', entry: 'gateway/main.ts', env: { ...base, ...urls } });
  for (let i = 1; i <= (options.projectors ?? 2); i++) {
    const port = options.projectorPorts?.[i - 1] ?? FIRST_PROJECTOR_PORT + i - 1;
    processes.push({ name: `projector-${i}`, entry: 'bin/projector.ts', env: { ...base, PORT: String(port) } });
  }
  return processes;
}

/**
 * V8 flags every served process runs with (`npm start`, the Procfile and the bench say the same).
 * A larger young generation: serving a subscription makes short-lived garbage per delivery, and with
 * the default 16 MB semi-space a broadcast spent ~20 % of its CPU in scavenges; at 64 MB the server CPU
 * per delivery fell from ~123 to ~94 µs (docs/eventFeed.md). It costs memory only under allocation
 * pressure: up to ~3 × 64 MB of young generation per process.
 */
export const SERVED_NODE_FLAGS = ['--max-semi-space-size=64'] as const;

/** How a spec is started: Node with tsx's loader, so the process is Node itself (signals reach it directly). */
export function commandOf(spec: ProcessSpec): { command: string; args: string[] } {
  return { command: process.execPath, args: [...SERVED_NODE_FLAGS, '--import', 'tsx', spec.entry] };
}
