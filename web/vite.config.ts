/**
 * The operations screen's build: `npm run build:web` (run by `npm install` / `npm ci` through the
 * root `prepare` script) writes `web/dist/`, which the gateway serves at `/` (gateway/pages.ts).
 * Everything the page needs is bundled there: it loads nothing from any other host.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // ECharts alone is ~1 MB unminified; the page is served from the same machine, so one chunk is fine.
    chunkSizeWarningLimit: 1500,
    modulePreload: { polyfill: false },
  },
});
