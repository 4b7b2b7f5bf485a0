/** What the gateway and every subgraph do alike with their graphql-ws endpoint. */
import type { WebSocketServer } from 'ws';

/**
 * Closes a graphql-ws endpoint so that nothing of it is left when this returns: every open socket
 * is ended at once (a subscriber does not keep the process alive), the protocol handler disposed
 * of, then the server closed.
 */
export async function closeWebSocketEndpoint(wss: WebSocketServer, handler: { dispose(): void | Promise<void> }): Promise<void> {
  for (const socket of wss.clients) socket.terminate();
  await handler.dispose();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
