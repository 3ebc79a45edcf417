import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ensureClasspath } from './maven';
import { projectRoot } from '../core/paths';
import { portOrFree } from './ports';
import { openSearchReady } from './probes';
import { startServiceProcess, type LocalService, type LocalServiceOptions } from './service-process';

export type OpenSearchOptions = LocalServiceOptions;

export interface OpenSearchService extends LocalService {
  /** The raw engine. The official Elasticsearch client needs infra/es-compat-proxy.ts in front. */
  url: string;
}

const DEFAULT_HEAP_MB = 1024;
const DEFAULT_READY_TIMEOUT_MS = 120_000;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;

/** One OpenSearch 2.19 node on 127.0.0.1, started by infra/opensearch/Launcher.java. */
export async function startOpenSearch(opts: OpenSearchOptions): Promise<OpenSearchService> {
  const libDir = await ensureClasspath('opensearch', opts);
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });

  const port = await portOrFree(opts.port);
  // Only this node talks on the transport port, so a new one on each start is harmless.
  const transportPort = await portOrFree(undefined, [port]);
  const heapMb = opts.heapMb ?? DEFAULT_HEAP_MB;
  const logFile = path.join(dataDir, 'opensearch.log');
  const url = `http://127.0.0.1:${port}`;

  const service = await startServiceProcess({
    name: 'opensearch',
    command: 'java',
    args: [
      `-Xms${heapMb}m`,
      `-Xmx${heapMb}m`,
      '-Djava.awt.headless=true',
      '-Dfile.encoding=UTF-8',
      '-XX:-OmitStackTraceInFastThrow',
      '-Dlog4j2.formatMsgNoLookups=true',
      // Keep logging alive while the launcher's shutdown hook closes the node.
      '-Dlog4j.shutdownHookEnabled=false',
      '-cp',
      path.join(libDir, '*'),
      // Single-file source mode: compiled in memory on each start (about a second).
      path.join(projectRoot(), 'infra', 'opensearch', 'Launcher.java'),
      '--home',
      dataDir,
      '--http-port',
      String(port),
      '--transport-port',
      String(transportPort),
    ],
    cwd: dataDir,
    logFile,
    detached: opts.detached ?? false,
    isReady: () => openSearchReady(url),
    readyTimeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    log: opts.log,
    progress: opts.progress,
  });
  return { url, port, pid: service.pid, dataDir, logFile, stop: service.stop };
}
