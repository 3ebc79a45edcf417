import { loadWebAssets } from '../../console/web';
import { startConsole, type TestConsole } from './helpers';

/**
 * The UI's files as the daemon serves them, without a browser: every module a page imports is in
 * the table, the vendor files need no import map, nothing outside the table can be named, and the
 * page carries the CSP it was written for.
 */

describe('console web assets', () => {
  const assets = loadWebAssets();

  it('serves every module the UI imports, by URL, with no bare specifier left', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const [url, asset] of assets) {
      if (!asset.type.startsWith('text/javascript')) continue;
      // Minified vendor files: import statements only; the app's: static imports at line starts and
      // dynamic import() calls (JSDoc's import('./types') sits in comments, which are dropped).
      const text = asset.body.toString('utf8');
      const pattern = url.startsWith('/assets/app/vendor/')
        ? /(?:^|;)\s*import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']/g
        : /^(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;
      const code = url.startsWith('/assets/app/vendor/') ? text : text.replace(/\/\*[\s\S]*?\*\//g, '');
      for (const match of code.matchAll(pattern)) {
        const specifier = (match[1] ?? match[2])!;
        checked++;
        if (!/^\.{1,2}\/|^\//.test(specifier)) {
          missing.push(`${url}: bare specifier "${specifier}"`);
          continue;
        }
        const target = new URL(specifier, `http://x${url}`).pathname;
        if (!assets.has(target)) missing.push(`${url}: ${specifier} → ${target} not served`);
      }
    }
    expect(missing).toEqual([]);
    // The hooks' import of preact and the app's own imports were all seen (the scan is not blind).
    expect(checked).toBeGreaterThan(40);
    expect(assets.has('/assets/app/main.js')).toBe(true);
    expect(assets.has('/assets/app/vendor/echarts.mjs')).toBe(true);
    // Type declarations are for tsc, not the browser.
    expect([...assets.keys()].filter((u) => /\.d\.m?ts$/.test(u))).toEqual([]);
  });

  it('references from the page resolve too (stylesheet, icon, entry module)', () => {
    const page = assets.get('/')!.body.toString('utf8');
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const ref of refs) expect(assets.has(ref) ? ref : `${ref} missing`).toBe(ref);
    // No inline script or style: the CSP would refuse it.
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/\sstyle=|<style/);
  });

  describe('over HTTP', () => {
    let c: TestConsole;
    beforeAll(async () => {
      c = await startConsole();
    });
    afterAll(() => c?.close());

    it('answers / with the page under a strict CSP, and revalidates by ETag', async () => {
      const page = await fetch(`${c.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      const etag = page.headers.get('etag')!;
      expect((await fetch(`${c.url}/`, { headers: { 'if-none-match': etag } })).status).toBe(304);

      const hooks = await fetch(`${c.url}/assets/app/vendor/hooks.mjs`);
      expect(hooks.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await hooks.text()).toContain('from"./preact.mjs"');
    });

    it('names nothing outside the table: traversal and unknown files are 404', async () => {
      for (const path of ['/assets/app/../../package.json', '/assets/app/%2e%2e/%2e%2e/package.json', '/assets/app/vendor/../../../core/paths.ts', '/assets/app/types.d.ts', '/assets/nope.js']) {
        const response = await fetch(`${c.url}${path}`);
        expect([path, response.status]).toEqual([path, 404]);
      }
    });
  });
});
