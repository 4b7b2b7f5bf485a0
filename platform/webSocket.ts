/** What the gateway and every subgraph do alike with their graphql-ws endpoint. */
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';

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

/**
 * The messages `webSocket` sends in one run of JavaScript (a callback and the promise reactions it
 * sets off) leave in one write: its socket is corked at the first send and uncorked on the next tick.
 * For a connection that carries many subscriptions (the gateway's, shared by its callers), one event
 * reaches them all in one such run: one system call and one read at the other end instead of one
 * per subscription, and each write's callback (graphql-ws waits for it) still comes at once.
 */
export function coalesceSendsPerTurn(webSocket: WebSocket, socket: Duplex): void {
  const send = webSocket.send.bind(webSocket) as (...args: unknown[]) => void;
  let corked = false;
  webSocket.send = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    send(...args);
  }) as WebSocket['send'];
}
