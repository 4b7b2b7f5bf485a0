/**
 * The gateway's web pages, every byte from this machine (a government intranet has no internet):
 * the operations screen (`web/`, built into `web/dist/` by `npm install`) at `/`, and in development
 * mode GraphiQL at `/graphql` rendered from `@graphql-yoga/render-graphiql`'s inlined bundle instead
 * of a CDN. Neither page holds data: both ask the graph with a token like any other client.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphiQLOptions } from 'graphql-yoga';

/** Where `npm run build:web` writes the screen. */
export const SCREEN_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

/** The query of the README's curl example: GraphiQL's default tab, so the first Run answers something. */
export const README_QUERY = `{
  divisions(level: DISTRICT) {
    edges {
      node {
        name
        population { residents }
        urbanOperations { closureRate }
        tax { riskOpen }
      }
    }
  }
}
`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * The screen may talk to this origin only (its scripts, styles and graphql-ws connection): a page
 * that tried to reach another host would fail loudly here rather than quietly on an intranet.
 * ECharts sets inline styles on the elements it draws.
 */
const SCREEN_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Vite names built assets by content hash: `index-DBekjyRl.js`. Anything else under /assets is refused. */
const ASSET_NAME = /^\/assets\/([A-Za-z0-9_.-]+)$/;

export interface ScreenPages {
  /** Serves `/` and `/assets/*`; false for any other path (the caller answers it). */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
}

export function createScreenPages(root: string = SCREEN_DIST): ScreenPages {
  async function send(req: IncomingMessage, res: ServerResponse, file: string, cache: string): Promise<void> {
    let body: Buffer;
    try {
      body = await readFile(join(root, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const missing = file === 'index.html';
      const text = missing ? 'The operations screen is not built: run `npm run build:web` (npm install does it).\n' : 'not found\n';
      res.writeHead(missing ? 503 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
      return;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(body.length),
      'cache-control': cache,
      ...SCREEN_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return {
    async handle(req, res, pathname) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (pathname === '/' || pathname === '/index.html') {
        await send(req, res, 'index.html', 'no-cache');
        return true;
      }
      const asset = ASSET_NAME.exec(pathname)?.[1];
      if (asset === undefined || asset.startsWith('.')) return false;
      await send(req, res, join('assets', asset), 'public, max-age=31536000, immutable');
      return true;
    },
  };
}

const HEADERS_PLACEHOLDER = '__CITY_BRAIN_AUTHORIZATION__';

/**
 * Pre-fills GraphiQL's `Authorization` header in the browser, from the `#token=…` of the link
 * `npm start` prints or from the token the screen signed in with in this tab. With the header there
 * from the start, GraphiQL's first introspection is authorised and the docs pane loads at once.
 */
const HEADERS_SCRIPT = `<script>
  function cityBrainHeaders() {
    var token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('city-brain.token');
    if (!token) return '{}';
    sessionStorage.setItem('city-brain.token', token);
    history.replaceState(null, '', location.pathname + location.search);
    return JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2);
  }
</script>`;

/**
 * GraphiQL from the locally installed bundle, the README's query as its default tab. The bundle
 * (GraphiQL inlined, a third of a second to load) is loaded when the page is first asked for, not
 * by every start.
 */
export async function renderLocalGraphiQL(options?: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const html = renderGraphiQL({ ...options, title: 'City Brain GraphiQL', defaultQuery: README_QUERY, headers: HEADERS_PLACEHOLDER, shouldPersistHeaders: false });
  return html.replace('</head>', `${HEADERS_SCRIPT}</head>`).replace(JSON.stringify(HEADERS_PLACEHOLDER), 'cityBrainHeaders()');
}
