/**
 * The operational endpoints of a process that serves no GraphQL (the projector): `/healthz` while
 * it is up, `/readyz` while it does its work, `/metrics` (platform/metrics.ts). The gateway and the
 * subgraphs serve the same paths beside `/graphql`.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenOn } from './listen.ts';
import { serveMetrics } from './metrics.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, or what it is doing: shown as is. */
  [detail: string]: unknown;
}

export interface OpsServer {
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
  res.end(text);
}

/** `PORT` and `HOST` of a process's environment; a wrong port is added to `problems`. */
export function listenAddressFromEnv(env: Record<string, string | undefined>, defaultPort: number, problems: string[]): { port: number; host: string } {
  let port = defaultPort;
  if (env.PORT) {
    port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) problems.push(`  PORT: "${env.PORT}" is not a port number`);
  }
  return { port, host: env.HOST || '127.0.0.1' };
}

export async function listenOps(port: number, host: string, readiness: () => Promise<Readiness>): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://ops');
    const answer = async () => {
      if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (pathname === '/metrics') return serveMetrics(res);
      if (pathname !== '/readyz') return sendJson(res, 404, { error: 'not found; this process serves /healthz, /readyz and /metrics' });
      const { ready, ...detail } = await readiness();
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...detail });
    };
    answer().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  const { origin } = await listenOn(server, port, host);
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
