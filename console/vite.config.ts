import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vite';

// Workers Static Assets reads `_headers` at the assets root (console/dist): a strict
// Content-Security-Policy on every console page, no framing.
const HEADERS = `/console/*
  Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
`;

// The operator console, served by the gateway Worker as Workers Static Assets under /console
// (wrangler.toml `[assets]` directory console/dist). Built by `npm run dev` and `npm test`.
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist/console', emptyOutDir: true },
  plugins: [
    {
      name: 'assets-headers',
      writeBundle() {
        writeFileSync(join(import.meta.dirname, 'dist', '_headers'), HEADERS);
      },
    },
  ],
});
