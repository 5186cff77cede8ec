/*
 * Build of the conclave web client.
 *
 * The server serves build/web from its own origin under a strict CSP
 * (script-src 'self'; style-src 'self'; no inline anything), and returns the
 * same index.html for "/" and every "/m/<room>" path. So: absolute asset URLs
 * under /assets/, no inlined assets (a data: font or script would be blocked),
 * no module-preload polyfill, and nothing fetched from another origin.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: '/',
  build: {
    outDir: '../build/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
    cssCodeSplit: false,
  },
  // the MLS and SFrame workers are ES modules (ts-mls splits its code with
  // dynamic imports, which the default worker format cannot)
  worker: { format: 'es' },
  // `npm run dev`: hot-reloading UI in front of a local `conclave serve`
  // (default https://127.0.0.1:8443, self-signed) for the API and signaling.
  server: {
    strictPort: true,
    proxy: {
      '/api': { target: 'https://127.0.0.1:8443', secure: false },
      '/healthz': { target: 'https://127.0.0.1:8443', secure: false },
      '/ws': { target: 'wss://127.0.0.1:8443', secure: false, ws: true },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
