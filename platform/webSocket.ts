/** What the gateway and every subgraph do alike with their graphql-ws endpoint. */
import type { WebSocketServer } from 'ws';

/**
 * Closes a graphql-ws endpoint so that nothing of it is left when this returns: every open socket
 * is ended (a subscriber does not keep the process alive), the protocol handler disposed of, then
 * the server closed. `goingAway` closes each socket with 1001 (Going Away) so that clients know to
 * reconnect elsewhere, as the gateway does when it drains; otherwise sockets are cut at once.
 */
export async function closeWebSocketEndpoint(wss: WebSocketServer, handler: { dispose(): void | Promise<void> }, options: { goingAway?: boolean } = {}): Promise<void> {
  for (const socket of wss.clients) {
    if (options.goingAway) socket.close(1001, 'the server is shutting down');
    else socket.terminate();
  }
  await handler.dispose();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
