/**
 * The gateway's WebSocket transport to the subgraphs: one lazy graphql-ws client per subgraph, which
 * every subscription shares (each subscribe message carries its own caller's credentials:
 * `useSubgraphCredentials`), and which never re-subscribes on its own. Mesh's ws transport leaves the
 * client's retries on (graphql-ws retries 5 times by default, and the executor it builds forwards no
 * retry option): after the connection to a subgraph dropped, it sent each subscription again with
 * its first variables, so a feed started from a position delivered everything since that position
 * a second time, and a live subscription skipped what happened in the gap. Here the subscriptions
 * end with an error instead, and a client resumes from the last position it received.
 */
import type wsTransport from '@graphql-mesh/transport-ws';
import { buildGraphQLWSExecutor } from '@graphql-tools/executor-graphql-ws';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** How long an idle connection (no subscription left) stays open, as Mesh's transport keeps it. */
const LAZY_CLOSE_MS = 3000;

export const subgraphWebSocketTransport: typeof wsTransport = {
  getSubgraphExecutor({ transportEntry }) {
    if (!transportEntry.location) throw new Error(`subgraph ${transportEntry.subgraph}: its WebSocket transport needs a location`);
    const url = transportEntry.location.replace(/^http/, 'ws');
    return buildGraphQLWSExecutor(createClient({ url, webSocketImpl: WebSocket, lazy: true, lazyCloseTimeout: LAZY_CLOSE_MS, retryAttempts: 0 }));
  },
};
