import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

/**
 * A loopback reverse proxy that lets the unmodified official @elastic/elasticsearch 8.x client
 * talk to OpenSearch, for tests and local development only (production runs real Elasticsearch).
 *
 * The 8.x client sends `application/vnd.elasticsearch+json; compatible-with=8` (and the x-ndjson
 * variant for bulk), which OpenSearch answers with 406, and it rejects any 2xx response without
 * `x-elastic-product: Elasticsearch`. It checks nothing else about the server: not the version
 * in GET /, so OpenSearch's `2.19.x` passes through as is.
 */

export interface EsCompatProxyOptions {
  /** The raw engine, e.g. http://127.0.0.1:19201. */
  target: string;
  /** 0 or undefined: any free port. */
  port?: number;
}

export interface EsCompatProxy {
  url: string;
  port: number;
  /** Safe to call twice. */
  close(): Promise<void>;
}

const VENDOR_MEDIA_TYPE = /application\/vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with\s*=\s*\d+/gi;

/** Only these request headers carry media types the engine must understand. */
const MEDIA_TYPE_HEADERS = ['content-type', 'accept'] as const;

/** RFC 9110 §7.6.1: meaningful for one connection only, so never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

export function toPlainMediaType(value: string): string {
  return value.replace(VENDOR_MEDIA_TYPE, 'application/$1');
}

export async function startEsCompatProxy(opts: EsCompatProxyOptions): Promise<EsCompatProxy> {
  const target = new URL(opts.target);
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const headers = withoutHopByHop(req.headers);
    for (const name of MEDIA_TYPE_HEADERS) {
      const value = headers[name];
      if (typeof value === 'string') headers[name] = toPlainMediaType(value);
    }
    headers.host = target.host;

    const upstream = http.request(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, { ...withoutHopByHop(upstreamRes.headers), 'x-elastic-product': 'Elasticsearch' });
        upstreamRes.pipe(res);
        upstreamRes.once('error', (err) => res.destroy(err));
      },
    );
    upstream.once('error', (err) => {
      req.unpipe(upstream);
      // Once the status line is out, cutting the connection is the only honest signal left.
      if (res.headersSent) res.destroy(err);
      else sendUnavailable(res, opts.target, err);
    });
    // The client gave up (its request timeout): stop waiting on the engine too.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    });
    return closing;
  };
  return { url: `http://127.0.0.1:${port}`, port, close };
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const copy: http.OutgoingHttpHeaders = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

/**
 * Elasticsearch's error shape, so the client raises a ResponseError with this reason at once
 * (after its usual retries on 502) and the store sees the engine as unavailable.
 */
function sendUnavailable(res: http.ServerResponse, target: string, err: Error): void {
  const cause = { type: 'es_compat_proxy_target_unavailable', reason: `the search engine at ${target} is unreachable: ${err.message}` };
  // root_cause is what the client's ResponseError puts into its message.
  const body = JSON.stringify({ error: { ...cause, root_cause: [cause] }, status: 502 });
  res.writeHead(502, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(body),
    'x-elastic-product': 'Elasticsearch',
  });
  res.end(body);
}

/** `node dist/infra/es-compat-proxy.js --target URL --port N`: how `infra up` runs it detached. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { target: { type: 'string' }, port: { type: 'string', default: '0' } } });
  if (!values.target) throw new Error('usage: es-compat-proxy --target URL [--port N]');
  const proxy = await startEsCompatProxy({ target: values.target, port: Number(values.port) });
  process.stdout.write(`es-compat-proxy listening on ${proxy.url}, forwarding to ${values.target}\n`);
  const shutdown = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
