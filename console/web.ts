import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { projectPath } from '../core/paths';

/**
 * The browser UI: `/` is the single page, `/assets/app/*` its ES modules and stylesheet (served as
 * written, from console/web/), `/assets/app/vendor/*` the few libraries it loads from node_modules
 * (console/web/vendor/ holds only their type declarations, for tsc). No
 * CDN and no bundler: Preact, its hooks, htm and ECharts ship ES module builds the browser loads
 * as they are. The page is built for CSP `default-src 'self'`: no inline script, no inline style,
 * no import map (an import map is an inline script), so modules import each other by URL.
 *
 * Every file is read once at registration into a fixed table: a request can only name a file in
 * the table, so no path from the client ever reaches the file system.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * URL under /assets/app/vendor/ → file under node_modules. Preact's hooks import the bare specifier
 * "preact", which a browser cannot resolve without an import map, so it is rewritten to the sibling URL.
 */
const VENDOR: Record<string, { file: string; rewrite?: (text: string) => string }> = {
  'preact.mjs': { file: 'preact/dist/preact.mjs' },
  'hooks.mjs': { file: 'preact/hooks/dist/hooks.mjs', rewrite: (text) => text.replace(/from\s*["']preact["']/g, 'from"./preact.mjs"') },
  'htm.mjs': { file: 'htm/dist/htm.mjs' },
  'echarts.mjs': { file: 'echarts/dist/echarts.esm.min.mjs' },
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, name: string): Asset {
  const type = TYPES[extname(name)];
  if (!type) throw new Error(`console/web: no content type for ${name}`);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

/** The UI's files, keyed by URL path. Exported for the test that checks every module resolves. */
export function loadWebAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const webDir = projectPath('console', 'web');
  for (const path of listFiles(webDir)) {
    const name = relative(webDir, path).split(sep).join('/');
    // Type declarations are for tsc only.
    if (/\.d\.m?ts$/.test(name)) continue;
    if (name === 'index.html') assets.set('/', asset(readFileSync(path), name));
    else assets.set(`/assets/app/${name}`, asset(readFileSync(path), name));
  }
  for (const [name, { file, rewrite }] of Object.entries(VENDOR)) {
    const text = readFileSync(projectPath('node_modules', file));
    assets.set(`/assets/app/vendor/${name}`, asset(rewrite ? Buffer.from(rewrite(text.toString('utf8'))) : text, name));
  }
  return assets;
}

export const consoleWeb: FastifyPluginAsync = async (app) => {
  const assets = loadWebAssets();
  const serve = (url: string) => async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const found = assets.get(url);
    if (!found) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    // Revalidated on every load (cheap: 304 by ETag), so an upgraded daemon never serves stale modules.
    reply.header('cache-control', 'no-cache').header('etag', found.etag).header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
    return reply.type(found.type).send(found.body);
  };
  app.get('/', serve('/'));
  app.get('/assets/*', async (request, reply) => serve(request.url.split('?')[0]!)(request, reply));
};
