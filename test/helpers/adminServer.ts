/** The admin routes of a platform (cli/admin.ts) on a port of their own, as a running service serves them. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Platform } from '../../bin/platform.ts';
import { createAdminRoutes } from '../../cli/admin.ts';

export async function serveAdminRoutes(platform: Platform, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const routes = createAdminRoutes(platform, token);
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) void route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
