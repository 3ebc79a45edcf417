import { Kafka, logLevel } from 'kafkajs';

/**
 * Readiness and reachability checks, shared by the start helpers, `infra status` and the jest
 * global setup. Each resolves false instead of throwing or hanging past its timeout.
 */

/** A TCP connect succeeds before the broker serves requests, so ask it real questions. */
export async function kafkaReachable(brokers: string[], timeoutMs = 3_000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'shaobing-infra-probe',
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Yellow is as good as one node gets: replicas have nowhere to go. */
export async function openSearchReady(url: string, timeoutMs = 5_000): Promise<boolean> {
  const waitSeconds = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  const response = await get(`${url}/_cluster/health?wait_for_status=yellow&timeout=${waitSeconds}s`, timeoutMs);
  return response?.ok === true;
}

/** The compat proxy is up and in front of a live engine, as the official client would see it. */
export async function esCompatReachable(url: string, timeoutMs = 3_000): Promise<boolean> {
  const response = await get(`${url}/`, timeoutMs);
  return response?.ok === true && response.headers.get('x-elastic-product') === 'Elasticsearch';
}

async function get(url: string, timeoutMs: number): Promise<Response | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response;
  } catch {
    return undefined;
  }
}
