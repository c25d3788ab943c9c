import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../tools/dev/console.ts';

const DIST = join(import.meta.dirname, '..', '..', 'console', 'dist');

describe('console build', () => {
  beforeAll(async () => {
    await buildConsole();
  }, 60_000);

  it('loads at most 250 KB of gzipped JavaScript on first paint', () => {
    const html = readFileSync(join(DIST, 'console', 'index.html'), 'utf8');
    // The entry script and every module it preloads: what the browser fetches before the app runs.
    const scripts = [
      ...html.matchAll(/<script[^>]+src="([^"]+)"/g),
      ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
    ].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const src of scripts) {
      expect(src.startsWith('/console/')).toBe(true);
      gzipped += gzipSync(readFileSync(join(DIST, src))).length;
    }
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(250 * 1024);
  });

  it('serves the console pages with a strict Content-Security-Policy', () => {
    const headers = readFileSync(join(DIST, '_headers'), 'utf8');
    expect(headers).toMatch(/^\/console\/\*$/m);
    const csp = headers.match(/Content-Security-Policy: (.*)/)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
