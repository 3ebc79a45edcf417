import type { SourceConfig } from '../config';
import type { FetchOptions } from '../http';

/** The per-source HTTP overrides (user agent, proxy, headers, timeout) as fetch options. */
export function fetchOptionsFor(source: SourceConfig, signal: AbortSignal, extra: FetchOptions = {}): FetchOptions {
  return {
    signal,
    ...(source.http.user_agent ? { userAgent: source.http.user_agent } : {}),
    ...(source.http.proxy ? { proxy: source.http.proxy } : {}),
    ...(source.http.timeout_ms ? { timeoutMs: source.http.timeout_ms } : {}),
    ...extra,
    headers: { ...(source.http.headers ?? {}), ...(extra.headers ?? {}) },
  };
}
