/**
 * Starting an HTTP server on a port and host, shared by the gateway, the subgraphs and the ops
 * endpoint: each then builds its URL from the origin.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0: any free one) and `host`, and answers the port taken and its origin, an IPv6 host bracketed. */
export async function listenOn(server: Server, port: number, host: string): Promise<{ origin: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { origin: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`, port: actual };
}

/** A server once listening: where it answers, and how to stop it (also by `await using`). */
export interface Listening {
  /** `http://host:port/graphql` (graphql-ws: the same URL with `ws://`). */
  url: string;
  port: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
