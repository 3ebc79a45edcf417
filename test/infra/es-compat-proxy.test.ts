import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../infra/ports';
import { startEsCompatProxy, toPlainMediaType, type EsCompatProxy } from '../../infra/es-compat-proxy';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in engine that records what reached it and answers like OpenSearch (no product header). */
async function startTarget(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json; charset=UTF-8' });
        res.end('{"error":"not found"}');
        return;
      }
      if (req.url === '/stream') {
        // Chunked, in two writes: the proxy must pass it through, not buffer it to a length.
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
        res.write('{"part":');
        setTimeout(() => res.end('2}'), 20);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ version: { number: '2.19.6', distribution: 'opensearch' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe('toPlainMediaType', () => {
  it('turns the 8.x vendor media types into plain ones, inside lists too', () => {
    expect(toPlainMediaType('application/vnd.elasticsearch+json; compatible-with=8')).toBe('application/json');
    expect(toPlainMediaType('application/vnd.elasticsearch+x-ndjson; compatible-with=8')).toBe('application/x-ndjson');
    expect(toPlainMediaType('application/vnd.elasticsearch+json; compatible-with=8,text/plain')).toBe('application/json,text/plain');
    expect(toPlainMediaType('application/json')).toBe('application/json');
  });
});

describe('es-compat-proxy', () => {
  let target: Awaited<ReturnType<typeof startTarget>>;
  let proxy: EsCompatProxy;

  beforeEach(async () => {
    target = await startTarget();
    proxy = await startEsCompatProxy({ target: target.url });
  });

  afterEach(async () => {
    await proxy.close();
    await target.close();
  });

  it('rewrites the vendor Content-Type and Accept and forwards method, path and body', async () => {
    const body = '{"index":{"_index":"a"}}\n{"x":1}\n';
    const res = await fetch(`${proxy.url}/_bulk?refresh=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
        accept: 'application/vnd.elasticsearch+json; compatible-with=8,text/plain',
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(target.seen).toHaveLength(1);
    const [req] = target.seen;
    expect(req).toMatchObject({ method: 'POST', url: '/_bulk?refresh=true', body });
    expect(req?.headers['content-type']).toBe('application/x-ndjson');
    expect(req?.headers.accept).toBe('application/json,text/plain');
  });

  it('adds x-elastic-product and passes the body through', async () => {
    const res = await fetch(`${proxy.url}/`);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(await res.json()).toEqual({ version: { number: '2.19.6', distribution: 'opensearch' } });
  });

  it('passes status codes through', async () => {
    const res = await fetch(`${proxy.url}/missing`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });

  it('streams a chunked response', async () => {
    const res = await fetch(`${proxy.url}/stream`);
    expect(await res.json()).toEqual({ part: 2 });
  });

  it('answers 502 with a JSON error at once when the target is down', async () => {
    await target.close();
    const startedAt = Date.now();
    const res = await fetch(`${proxy.url}/_search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { status: number; error: { type: string; reason: string } };
    expect(body.status).toBe(502);
    expect(body.error.type).toBe('es_compat_proxy_target_unavailable');
    expect(body.error.reason).toContain(target.url);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('answers 502 for a target port nothing listens on, and close() is safe twice', async () => {
    const nowhere = await startEsCompatProxy({ target: `http://127.0.0.1:${await freePort()}` });
    try {
      const res = await fetch(`${nowhere.url}/`);
      expect(res.status).toBe(502);
    } finally {
      await nowhere.close();
      await nowhere.close();
    }
  });
});
